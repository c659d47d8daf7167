/// A terminal colour: the terminal's default, or an index in the 256-colour palette (0-7 are the
/// classic eight, 8-15 their bright forms).
public enum Color: Hashable, Sendable {
    case `default`
    case index(UInt8)

    public static let black = Color.index(0), red = Color.index(1), green = Color.index(2), yellow = Color.index(3)
    public static let blue = Color.index(4), magenta = Color.index(5), cyan = Color.index(6), white = Color.index(7)

    /// The nearest of the classic eight, for terminals without 256 colours.
    public var eightColorFallback: Color {
        guard case .index(let i) = self else { return self }
        switch i {
        case 0..<8: return self
        case 8..<16: return .index(i - 8)
        case 232...255: return i < 244 ? .black : .white  // the grey ramp
        default:
            // The 6x6x6 cube: each channel 0-5; a channel counts as "on" from 3.
            let v = Int(i) - 16
            let r = v / 36 >= 3, g = (v / 6) % 6 >= 3, b = v % 6 >= 3
            return .index(UInt8((r ? 1 : 0) + (g ? 2 : 0) + (b ? 4 : 0)))
        }
    }
}

public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let dim = Attributes(rawValue: 2)
    public static let reverse = Attributes(rawValue: 4)
    public static let underline = Attributes(rawValue: 8)
}

public struct Style: Hashable, Sendable {
    public var foreground: Color
    public var background: Color
    public var attributes: Attributes

    public init(foreground: Color = .default, background: Color = .default, attributes: Attributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = Style()

    public func with(_ extra: Attributes) -> Style {
        var copy = self
        copy.attributes.formUnion(extra)
        return copy
    }
}
