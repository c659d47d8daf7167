/// Makes remote text safe to write to a terminal.
///
/// Log records come from any process that can write to the topic. Escape sequences in them could
/// recolour, move the cursor, retitle the window, rewrite what is already on screen (a carriage
/// return), or reorder text (Unicode bidirectional overrides, "Trojan Source"). Every such character is
/// shown instead as visible text: C0 controls and DEL in caret notation (`^[`, `^M`, `^?`), C1 controls
/// and bidi controls as `<U+009B>`. Tab is kept. A line feed keeps its meaning but the next line is
/// indented, so a multi-line record still reads as one record. Invalid UTF-8 becomes U+FFFD.
public enum TerminalText {
    public static let continuationIndent = "    "

    public static func sanitize(_ bytes: some Collection<UInt8>) -> String {
        sanitize(String(decoding: bytes, as: UTF8.self))
    }

    /// Printable ASCII and tabs only: what `sanitize` returns unchanged.
    public static func isPlain(_ text: String) -> Bool {
        // A native string's bytes in one buffer: a plain loop, several times faster than the view's.
        if let result = text.utf8.withContiguousStorageIfAvailable(isPlain) { return result }
        return text.utf8.allSatisfy(isPlainByte)
    }

    /// The same on UTF-8 bytes: bytes that would be drawn as they are.
    public static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { bytes.allSatisfy(isPlainByte) }

    private static func isPlainByte(_ byte: UInt8) -> Bool { byte >= 0x20 && byte < 0x7f || byte == 0x09 }

    public static func sanitize(_ text: String) -> String {
        // Fast path: most log text is printable ASCII.
        if isPlain(text) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09:
                out.append(scalar)
            case 0x0a:
                out.append(contentsOf: ("\n" + continuationIndent).unicodeScalars)
            case 0x00..<0x20:
                out.append("^")
                out.append(Unicode.Scalar(UInt8(scalar.value + 0x40)))
            case 0x7f:
                out.append(contentsOf: "^?".unicodeScalars)
            case 0x80..<0xa0, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069:
                out.append(contentsOf: codePoint(scalar.value).unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "<U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ">"
    }
}
