import ConsulModels
import Foundation

/// Where `opsdeck tail` starts reading, from `--from`.
public enum TailStart: Sendable, Hashable {
    /// Only records written after the tail starts.
    case end
    /// Everything the broker still holds.
    case beginning
    /// The last N records of the merged stream (all partitions of all topics), like `tail -n N`.
    case last(Int)
    /// Records stamped at or after this time (milliseconds since the Unix epoch).
    case time(Int64)
}

/// A bad `--from` / `--until` value, with a message that says what is accepted.
public struct TailArgumentError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum TailPosition {
    static let accepted = "end, beginning, -N (the last N records), an RFC 3339 time such as "
        + "2026-11-27T14:05:00Z, or a duration ago such as 90s, 15m, 2h, 1d, 1h30m"

    /// Parses `--from`: `end`, `beginning`, `-N`, an RFC 3339 time or a duration ago.
    public static func parseStart(_ text: String, now: Date) throws -> TailStart {
        switch text {
        case "end": return .end
        case "beginning", "start": return .beginning
        default: break
        }
        if text.hasPrefix("-"), let count = Int(text.dropFirst()) {
            guard count > 0 else { throw TailArgumentError("--from \(text): N in -N must be at least 1") }
            return .last(count)
        }
        do {
            return .time(try parseInstant(text, now: now))
        } catch {
            throw TailArgumentError("--from \(text): expected \(accepted)")
        }
    }

    /// Parses `--until`: an RFC 3339 time, a duration ago, or `now`.
    public static func parseUntil(_ text: String, now: Date) throws -> Int64 {
        do {
            return try parseInstant(text, now: now)
        } catch {
            throw TailArgumentError("--until \(text): expected now, an RFC 3339 time such as "
                                    + "2026-11-27T14:05:00Z, or a duration ago such as 15m")
        }
    }

    /// An RFC 3339 time, `now`, or a duration before `now`, as milliseconds since the epoch.
    static func parseInstant(_ text: String, now: Date) throws -> Int64 {
        if text == "now" { return milliseconds(now) }
        if let seconds = parseDuration(text) { return milliseconds(now) - Int64(seconds * 1000) }
        if let date = parseRFC3339(text) { return milliseconds(date) }
        throw TailArgumentError(text)
    }

    /// `90s`, `15m`, `2h`, `1d`, `500ms`, `1h30m` (Go style, the form Consul and kubectl users know), in
    /// seconds. The package's one duration parser (`GoDuration`) with days: bounded (at most ~292 years,
    /// so no caller's arithmetic overflows), never negative here.
    public static func parseDuration(_ text: String) -> Double? {
        guard !text.hasPrefix("-"), !text.hasPrefix("+"), text != "0",
              let duration = GoDuration.parse(text, days: true), duration > .zero else { return nil }
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    static func parseRFC3339(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return withFraction.date(from: text) ?? plain.date(from: text)
    }

    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
