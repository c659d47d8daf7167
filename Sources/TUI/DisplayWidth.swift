/// How many terminal columns a character takes: 0 (combining marks, zero-width), 1, or 2 (East Asian
/// wide and fullwidth forms, most emoji). A table of the ranges that matter, rather than wcwidth(3),
/// so that rendering does not depend on the process locale and tests give the same grid everywhere.
public enum DisplayWidth {
    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        // An emoji presentation selector makes a narrow symbol wide.
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return of(first)
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return v < 0x20 || (v >= 0x7f && v < 0xa0) ? 0 : 1 }
        if isZeroWidth(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    public static func of(_ text: String) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    /// Combining marks and zero-width characters, and the bidirectional controls: a grid never holds
    /// them, so text from elsewhere cannot reorder what is drawn ("Trojan Source").
    static func isZeroWidth(_ v: UInt32) -> Bool {
        (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v) || (0x300...0x36f).contains(v) || (0x200b...0x200f).contains(v) || (0x20d0...0x20ff).contains(v)
            || (0xfe00...0xfe0f).contains(v) || v == 0x2060 || v == 0xfeff
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115f, 0x231a...0x231b, 0x2329...0x232a, 0x23e9...0x23ec, 0x23f0, 0x23f3, 0x25fd...0x25fe,
             0x2614...0x2615, 0x2648...0x2653, 0x267f, 0x2693, 0x26a1, 0x26aa...0x26ab, 0x26bd...0x26be,
             0x26c4...0x26c5, 0x26ce, 0x26d4, 0x26ea, 0x26f2...0x26f3, 0x26f5, 0x26fa, 0x26fd, 0x2705,
             0x270a...0x270b, 0x2728, 0x274c, 0x274e, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27b0, 0x27bf,
             0x2b1b...0x2b1c, 0x2b50, 0x2b55, 0x2e80...0x303e, 0x3041...0x33ff, 0x3400...0x4dbf, 0x4e00...0x9fff,
             0xa000...0xa4cf, 0xa960...0xa97f, 0xac00...0xd7a3, 0xf900...0xfaff, 0xfe10...0xfe19, 0xfe30...0xfe6f,
             0xff00...0xff60, 0xffe0...0xffe6, 0x1f004, 0x1f0cf, 0x1f18e, 0x1f191...0x1f19a, 0x1f200...0x1f251,
             0x1f300...0x1f64f, 0x1f680...0x1f6ff, 0x1f900...0x1f9ff, 0x1fa70...0x1faff, 0x20000...0x3fffd:
            return true
        default:
            return false
        }
    }
}
