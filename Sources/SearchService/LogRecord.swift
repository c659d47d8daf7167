import Foundation
import Logging

/// One log line as shipped to Kafka: a JSON object per record, keyed by instance id on the topic.
///
/// `{"ts":"2026-11-27T12:00:00.123Z","level":"info","instance":"search-service-1a2b3c4d",
///   "message":"...","source":"SearchService","meta":{"key":"value"}}`
public struct LogRecord: Sendable, Equatable, Codable {
    public var ts: String
    public var level: String
    public var instance: String
    public var message: String
    public var source: String
    public var meta: [String: String]

    public init(date: Date, level: Logger.Level, instance: String, message: String, source: String,
                meta: [String: String]) {
        self.ts = LogRecord.timestamp(date)
        self.level = level.rawValue
        self.instance = instance
        self.message = message
        self.source = source
        self.meta = meta
    }

    /// RFC 3339 in UTC with milliseconds.
    public static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var time = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }

    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// The stdout form: `2026-11-27T12:00:00.123Z info  message key=value key="two words"`.
    ///
    /// One record is one line whatever it holds: a value (a client's query text) with a newline or an
    /// escape sequence is quoted and escaped, so no client can forge a line or reach an operator's terminal.
    public func line() -> String {
        let meta = self.meta.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.value($0.value))" }.joined(separator: " ")
        let padded = level.padding(toLength: 8, withPad: " ", startingAt: 0)
        let message = Self.escaped(self.message)
        return meta.isEmpty ? "\(ts) \(padded) \(message)" : "\(ts) \(padded) \(message) \(meta)"
    }

    /// A value as logfmt writes it: bare when it is one plain word, else quoted and escaped.
    static func value(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\"
        }
        return plain ? text : "\"" + escaped(text).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Backslashes doubled, then control characters as \n, \r, \t or \u{1b}.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // Controls, and what reorders or breaks lines on a terminal: bidi marks, embeddings, overrides
            // and isolates ("Trojan Source"), and the Unicode line and paragraph separators.
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || [0x200E, 0x200F, 0x2028, 0x2029].contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
