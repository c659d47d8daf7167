import Foundation
import KafkaModels
import TerminalSafety

/// How `opsdeck tail` writes records.
public enum TailOutput: String, CaseIterable, Sendable {
    /// `time  instance  level  message`, coloured by instance when colour is on.
    case text
    /// The record value as it is, one per line (what kcat prints).
    case raw
    /// One JSON object per record with its coordinates and parsed fields.
    case json
}

/// Turns records into output bytes. Pure: the tailer decides where the bytes go.
public struct TailFormatter {
    public let output: TailOutput
    public let color: Bool
    /// Neutralise control sequences in raw values (on when stdout is a terminal; text and JSON
    /// output are always safe).
    public let sanitizeRaw: Bool
    private let highlight: [Regex<AnyRegexOutput>]
    /// Grows to the widest instance seen (up to 32); 16 fits the usual ids from the first line.
    private var instanceWidth = 16

    public init(output: TailOutput, color: Bool, sanitizeRaw: Bool, highlight: [String] = []) throws {
        self.output = output
        self.color = color && output == .text
        self.sanitizeRaw = sanitizeRaw
        self.highlight = try highlight.map { try RecordFilter.compile($0, flag: "--highlight") }
    }

    /// Appends one record's line(s); `context` marks a neighbour of a match rather than a match.
    public mutating func append(_ record: KafkaRecord, context: Bool = false, to out: inout [UInt8]) {
        switch output {
        case .raw:
            if sanitizeRaw { out.append(contentsOf: TerminalText.sanitize(record.value).utf8) } else {
                out.append(contentsOf: record.value)
            }
            out.append(0x0a)
        case .json:
            appendJSON(LogEntry(record), to: &out)
        case .text:
            appendText(LogEntry(record), context: context, to: &out)
        }
    }

    /// Appends an already decoded entry (the tailer decodes once for filtering and printing).
    public mutating func append(_ entry: LogEntry, context: Bool = false, to out: inout [UInt8]) {
        switch output {
        case .raw: append(entry.record, context: context, to: &out)
        case .json: appendJSON(entry, to: &out)
        case .text: appendText(entry, context: context, to: &out)
        }
    }

    /// The marker between groups of `--context` lines that are not adjacent.
    public func appendGap(to out: inout [UInt8]) {
        out.append(contentsOf: (color ? "\u{1B}[2m--\u{1B}[0m\n" : "--\n").utf8)
    }

    // MARK: text

    private mutating func appendText(_ entry: LogEntry, context: Bool, to out: inout [UInt8]) {
        let instance = TerminalText.sanitize(entry.instance)
        instanceWidth = min(32, max(instanceWidth, instance.count))
        let time = entry.record.timestampMilliseconds.map(Self.formatTime) ?? "-"
        let level = TerminalText.sanitize(entry.level ?? "-")
        var message = TerminalText.sanitize(entry.text)
        if color && !highlight.isEmpty { message = highlighted(message) }

        var line = ""
        if color {
            let dim = context ? "\u{1B}[2m" : ""
            line += dim + time + "  "
            line += "\u{1B}[\(Self.instanceColor(entry.instance))m" + Self.pad(instance, instanceWidth) + "\u{1B}[0m" + dim + "  "
            line += Self.levelStyle(level) + Self.pad(level, 7) + "\u{1B}[0m" + dim + "  "
            line += message + "\u{1B}[0m"
        } else {
            line = time + "  " + Self.pad(instance, instanceWidth) + "  " + Self.pad(level, 7) + "  " + message
        }
        out.append(contentsOf: line.utf8)
        out.append(0x0a)
    }

    /// Reverse video over every match of a `--highlight` pattern.
    private func highlighted(_ text: String) -> String {
        var ranges: [Range<String.Index>] = []
        for pattern in highlight { ranges += text.ranges(of: pattern).filter { !$0.isEmpty } }
        guard !ranges.isEmpty else { return text }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var result = ""
        var cursor = text.startIndex
        for range in ranges where range.lowerBound >= cursor {
            result += text[cursor..<range.lowerBound] + "\u{1B}[7m" + text[range] + "\u{1B}[27m"
            cursor = range.upperBound
        }
        return result + text[cursor...]
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// The same instance gets the same colour in every run and on every machine (FNV-1a of its name
    /// over twelve well-separated ANSI colours).
    static func instanceColor(_ instance: String) -> Int {
        let palette = [36, 33, 35, 32, 34, 96, 93, 95, 92, 94, 91, 31]
        var hash: UInt32 = 2_166_136_261
        for byte in instance.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return palette[Int(hash % UInt32(palette.count))]
    }

    static func levelStyle(_ level: String) -> String {
        switch level {
        case "critical", "error": return "\u{1B}[1;31m"
        case "warning": return "\u{1B}[33m"
        case "debug", "trace": return "\u{1B}[2m"
        default: return ""
        }
    }

    /// `2026-11-27T12:00:00.123Z` (UTC, milliseconds), without a formatter allocation per line.
    public static func formatTime(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds.dividedRoundingDown(by: 1000))
        let millis = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }

    // MARK: json

    private func appendJSON(_ entry: LogEntry, to out: inout [UInt8]) {
        let record = entry.record
        var fields: [(String, String)] = [
            ("topic", Self.jsonString(record.topic)),
            ("partition", "\(record.partition)"),
            ("offset", "\(record.offset)"),
            ("time", record.timestampMilliseconds.map { Self.jsonString(Self.formatTime($0)) } ?? "null"),
            ("timestamp_ms", record.timestampMilliseconds.map { "\($0)" } ?? "null"),
            ("key", record.key.map { Self.jsonString(String(decoding: $0, as: UTF8.self)) } ?? "null"),
            ("instance", Self.jsonString(entry.instance)),
            ("level", entry.level.map(Self.jsonString) ?? "null"),
            ("message", Self.jsonString(entry.message)),
        ]
        if let source = entry.source { fields.append(("source", Self.jsonString(source))) }
        if !entry.meta.isEmpty {
            fields.append(("meta", "{" + entry.meta.map { Self.jsonString($0.key) + ":" + Self.jsonString($0.value) }
                .joined(separator: ",") + "}"))
        }
        out.append(contentsOf: ("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n").utf8)
    }

    /// A JSON string literal that is also terminal-safe: every control character, C1 control and
    /// bidirectional override is written as a \u escape.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7f..<0xa0, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension Int64 {
    func dividedRoundingDown(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor < 0) ? q - 1 : q
    }
}
