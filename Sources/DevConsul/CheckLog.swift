import Consul
import Foundation
import TerminalSafety

/// The agent's log lines about checks, in Consul's agent log format (`<time> [LEVEL]  agent: <message>:
/// key=value`), with the probe's output added: Consul logs "Check is now critical" without it, and the
/// output is what tells a dead instance ("connection refused") from a slow probe ("deadline exceeded").
enum CheckLog {
    /// A check's result: logged for its first probe and whenever its status changes.
    static func result(checkID: String, status: HealthStatus, output: String, at time: Date = Date()) -> String {
        let level = status == .passing ? "[INFO] " : "[WARN] "
        return "\(timestamp(time)) \(level) agent: Check is now \(status.rawValue): check=\(checkID) output=\(quoted(output))"
    }

    /// A service removed for being critical past its DeregisterCriticalServiceAfter.
    static func reaped(serviceID: String, at time: Date = Date()) -> String {
        "\(timestamp(time)) [WARN]  agent: Check for service has been critical for too long; deregistered service: service=\(serviceID)"
    }

    /// Remote text (an HTTP check's body), made one safe line: controls shown as text, at most 300 characters.
    static func quoted(_ output: String) -> String {
        let line = output.split(whereSeparator: \.isNewline).joined(separator: " ")
        let safe = TerminalText.sanitize(line)
        let cut = safe.count > 300 ? safe.prefix(300) + "…" : Substring(safe)
        return "\"" + cut.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func timestamp(_ time: Date) -> String {
        time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }
}
