import Foundation
import TerminalSafety

/// A KV value as the pane can draw it: never raw. Text is text when it is UTF-8 without control
/// characters other than newline and tab; anything else is binary and shown as a hex dump.
public enum KVValue: Equatable, Sendable {
    case text(String)
    case binary([UInt8])

    public init(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self),
              !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7f...0x9f).contains($0.value) })
        else {
            self = .binary(bytes)
            return
        }
        self = .text(text)
    }

    /// One row's worth: the text's first line (tabs as spaces, "…" when there is more), or "binary, N bytes".
    public func preview(width: Int) -> String {
        switch self {
        case .binary(let bytes): return "binary, " + Self.size(bytes.count)
        case .text(let text):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var first = TerminalText.sanitize(String(lines.first ?? "")).replacingOccurrences(of: "\t", with: " ")
            if lines.count > 1 || first.count > width { first = String(first.prefix(max(0, width - 1))) + "…" }
            return first
        }
    }

    /// The value over several rows, `width` columns each, at most `limit` rows; a value cut short ends with
    /// a row saying how much was left out. Text wraps; binary is a hex dump, 8 bytes a row.
    public func lines(width: Int, limit: Int) -> [String] {
        guard width > 0, limit > 0 else { return [] }
        var rows: [String]
        let total: Int
        switch self {
        case .text(let text):
            total = text.utf8.count
            rows = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var rest = Substring(TerminalText.sanitize(String(line)).replacingOccurrences(of: "\t", with: "    "))
                repeat {
                    rows.append(String(rest.prefix(width)))
                    rest = rest.dropFirst(width)
                } while !rest.isEmpty
                if rows.count > limit { break }
            }
        case .binary(let bytes):
            total = bytes.count
            rows = stride(from: 0, to: min(bytes.count, (limit + 1) * 8), by: 8).map { offset in
                let chunk = bytes[offset..<min(offset + 8, bytes.count)]
                let hex = chunk.map { String(format: "%02x", $0) }.joined(separator: " ")
                let ascii = String(chunk.map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
                return String(format: "%06x  ", offset) + hex.padding(toLength: 24, withPad: " ", startingAt: 0) + "  " + ascii
            }
        }
        guard rows.count > limit else { return rows }
        return Array(rows.prefix(limit - 1)) + ["… \(Self.size(total)) in all (`opsdeck kv get` prints it whole)"]
    }

    public var isBinary: Bool { if case .binary = self { return true } else { return false } }

    static func size(_ bytes: Int) -> String {
        bytes < 10_000 ? "\(bytes) bytes" : String(format: "%.1f KiB", Double(bytes) / 1024)
    }
}
