import Foundation

/// Colours as data: a theme file maps each role to a style.
///
///     # comment
///     title     = 39 bold          # foreground colour, attributes
///     selection = 231 on 24        # foreground on background
///     critical  = red bold
///
/// Colours are `default`, 0-255, or black red green yellow blue magenta cyan white (and bright-*).
/// Attributes: bold dim reverse underline. A role a file leaves out is plain.
public struct Theme: Sendable, Equatable {
    public enum Role: String, CaseIterable, Sendable {
        case text, muted, border, title, selection, header, ok, warning, critical, accent, status, input, highlight
        /// Chart series, in order; a chart with more series starts over.
        case series1, series2, series3, series4, series5, series6
        /// A chart's time cursor.
        case cursor

        public static let series: [Role] = [.series1, .series2, .series3, .series4, .series5, .series6]
    }

    /// The style of a chart's `index`th series.
    public func series(_ index: Int) -> Style { self[Role.series[index % Role.series.count]] }

    public let name: String
    private var styles: [Role: Style]

    public init(name: String, styles: [Role: Style]) {
        self.name = name
        self.styles = styles
    }

    public subscript(role: Role) -> Style { styles[role] ?? .plain }

    /// No colour at all (NO_COLOR, or no theme file found): attributes only, so selection and status
    /// stay visible.
    public static let monochrome = Theme(name: "mono", styles: [
        .title: Style(attributes: .bold), .selection: Style(attributes: .reverse), .header: Style(attributes: .bold),
        .critical: Style(attributes: .bold), .status: Style(attributes: .reverse), .highlight: Style(attributes: .reverse),
        .muted: Style(attributes: .dim), .series1: Style(attributes: .bold), .series3: Style(attributes: .dim),
        .series5: Style(attributes: .underline), .cursor: Style(attributes: .reverse),
    ])

    /// The same theme with colours dropped (attributes kept), for NO_COLOR.
    public var withoutColor: Theme {
        Theme(name: name, styles: styles.mapValues { Style(attributes: $0.attributes) })
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    public static func parse(name: String, _ text: String) throws -> Theme {
        var styles: [Role: Style] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let place = "theme \(name), line \(number + 1)"
            guard parts.count == 2, let role = Role(rawValue: parts[0]) else {
                throw ParseError(message: "\(place): expected ROLE = STYLE with ROLE one of "
                                 + Role.allCases.map(\.rawValue).joined(separator: ", "))
            }
            styles[role] = try parseStyle(parts[1], place: place)
        }
        return Theme(name: name, styles: styles)
    }

    static func parseStyle(_ text: String, place: String) throws -> Style {
        var style = Style()
        var words = text.split(separator: " ").map(String.init)[...]
        var colors: [Color] = []
        while let word = words.first {
            words = words.dropFirst()
            switch word {
            case "bold": style.attributes.insert(.bold)
            case "dim": style.attributes.insert(.dim)
            case "reverse": style.attributes.insert(.reverse)
            case "underline": style.attributes.insert(.underline)
            case "on":
                guard let next = words.first, let color = parseColor(next) else {
                    throw ParseError(message: "\(place): 'on' needs a colour after it")
                }
                words = words.dropFirst()
                style.background = color
            default:
                guard let color = parseColor(word) else {
                    throw ParseError(message: "\(place): '\(word)' is not a colour (0-255 or a name) or an attribute")
                }
                colors.append(color)
            }
        }
        if let fg = colors.first { style.foreground = fg }
        return style
    }

    static func parseColor(_ word: String) -> Color? {
        let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
        if word == "default" { return .default }
        if let n = UInt8(word) { return .index(n) }
        if let i = names.firstIndex(of: word) { return .index(UInt8(i)) }
        if word.hasPrefix("bright-"), let i = names.firstIndex(of: String(word.dropFirst(7))) { return .index(UInt8(i + 8)) }
        return nil
    }

    /// Where theme files are looked for, in order: `$OPSDECK_THEMES`, then the user's config
    /// (`$XDG_CONFIG_HOME/opsdeck/themes`, else `~/.config/opsdeck/themes`). The built-in themes come after.
    public static func searchPath(environment: [String: String]) -> [String] {
        var dirs: [String] = []
        if let explicit = environment["OPSDECK_THEMES"] { dirs.append(explicit) }
        let config = environment["XDG_CONFIG_HOME"] ?? (environment["HOME"].map { "\($0)/.config" } ?? "")
        if !config.isEmpty { dirs.append("\(config)/opsdeck/themes") }
        return dirs
    }

    /// Loads `<name>.theme` from the first directory that has it, else from `builtin` (name -> file text).
    public static func load(_ name: String, from directories: [String], builtin: [String: String] = [:]) throws -> Theme {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ParseError(message: "theme name '\(name)': letters, digits, - and _ only")
        }
        for dir in directories {
            let path = "\(dir)/\(name).theme"
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return try parse(name: name, text) }
        }
        if let text = builtin[name] { return try parse(name: name, text) }
        let places = directories + (builtin.isEmpty ? [] : ["the built-in themes (\(builtin.keys.sorted().joined(separator: ", ")))"])
        throw ParseError(message: "no theme '\(name)' in \(places.joined(separator: ", "))")
    }

    /// Theme names available in the search path and among the built-in ones.
    public static func available(in directories: [String], builtin: [String: String] = [:]) -> [String] {
        let names = directories.flatMap { dir in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasSuffix(".theme") }.map { String($0.dropLast(6)) }
        }
        return Array(Set(names + builtin.keys)).sorted()
    }
}
