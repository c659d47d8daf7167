import Foundation

/// The config file: `theme NAME`, `bind ACTION KEY[,KEY...]` and `log_lines N` lines; `#` comments.
public struct ConsoleConfigFile: Equatable {
    public var theme: String?
    public var bindings: [String] = []
    /// Lines the logs pane holds (the oldest are dropped past it).
    public var logLines: Int?
    public static let logLinesRange = 1_000...10_000_000

    public init(theme: String? = nil, bindings: [String] = []) {
        self.theme = theme
        self.bindings = bindings
    }

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// opsdeck's config directory: `$XDG_CONFIG_HOME/opsdeck`, else `~/.config/opsdeck`.
    public static func directory(environment: [String: String]) -> String? {
        (environment["XDG_CONFIG_HOME"] ?? environment["HOME"].map { "\($0)/.config" }).map { "\($0)/opsdeck" }
    }

    /// `path`, else `config` in the config directory; a default file that does not exist is no error, a
    /// named one is.
    public static func load(path: String?, environment: [String: String]) throws -> ConsoleConfigFile {
        guard let file = path ?? directory(environment: environment).map({ "\($0)/config" }) else { return ConsoleConfigFile() }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            if path != nil { throw Problem(description: "--config \(file): cannot read it") }
            return ConsoleConfigFile()
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> ConsoleConfigFile {
        var result = ConsoleConfigFile()
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let words = line.split(separator: " ").map(String.init)
            switch words[0] {
            case "theme" where words.count == 2: result.theme = words[1]
            case "bind": result.bindings.append(line)
            case "log_lines" where words.count == 2:
                guard let count = Int(words[1]), logLinesRange.contains(count) else {
                    throw Problem(description: "\(file), line \(number + 1): log_lines must be a whole number from 1000 to 10000000")
                }
                result.logLines = count
            default:
                throw Problem(description: "\(file), line \(number + 1): expected 'theme NAME', 'bind ACTION KEY[,KEY...]' or 'log_lines N'")
            }
        }
        return result
    }
}

