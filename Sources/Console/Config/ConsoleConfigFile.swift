import Foundation

/// The config file: `theme NAME`, `bind ACTION KEY[,KEY...]`, `log_lines N`, `default_context NAME` lines
/// and `context NAME` blocks (their lines indented); `#` comments.
public struct ConsoleConfigFile: Equatable {
    public var theme: String?
    public var bindings: [String] = []
    /// Lines the logs pane holds (the oldest are dropped past it).
    public var logLines: Int?
    /// The environments, in the order written.
    public var contexts: [ConsoleContext] = []
    /// The context used without `--context`; nil: none (the environment's settings).
    public var defaultContext: String?

    public func context(named name: String) -> ConsoleContext? { contexts.first { $0.name == name } }
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
            let line = Self.withoutComment(raw).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let at = "\(file), line \(number + 1)"
            if raw.first == " " || raw.first == "\t" {
                // An indented line belongs to the context block above it.
                guard !result.contexts.isEmpty else { throw Problem(description: "\(at): an indented line outside a 'context NAME' block") }
                if let expected = result.contexts[result.contexts.count - 1].apply(words, line: line) {
                    throw Problem(description: "\(at): in context \(result.contexts[result.contexts.count - 1].name), expected \(expected)")
                }
                continue
            }
            switch words[0] {
            case "context" where words.count == 2:
                guard result.context(named: words[1]) == nil else { throw Problem(description: "\(at): context \(words[1]) is defined twice") }
                result.contexts.append(ConsoleContext(name: words[1]))
            case "default_context" where words.count == 2:
                result.defaultContext = words[1]
            case "theme" where words.count == 2: result.theme = words[1]
            case "bind": result.bindings.append(line)
            case "log_lines" where words.count == 2:
                guard let count = Int(words[1]), logLinesRange.contains(count) else {
                    throw Problem(description: "\(at): log_lines must be a whole number from 1000 to 10000000")
                }
                result.logLines = count
            default:
                throw Problem(description: "\(at): expected 'theme NAME', 'bind ACTION KEY[,KEY...]', 'log_lines N', 'context NAME' or 'default_context NAME'")
            }
        }
        for context in result.contexts {
            for (certificate, key, names) in [(context.consulClientCertificate, context.consulClientKey, "consul_client_cert and consul_client_key"),
                                              (context.grpcClientCertificate, context.grpcClientKey, "grpc_client_cert and grpc_client_key")]
            where (certificate == nil) != (key == nil) {
                throw Problem(description: "\(file): in context \(context.name), \(names) go together")
            }
        }
        if let name = result.defaultContext, result.context(named: name) == nil {
            throw Problem(description: "\(file): default_context \(name) is not defined (contexts: \(result.contextNames))")
        }
        return result
    }

    /// A line without its comment: `#` at the start or after a space or tab, so that a `#` inside a value
    /// (a header's password, a URL's fragment) is kept.
    static func withoutComment(_ line: Substring) -> Substring {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#" && (previous == " " || previous == "\t") { return line[..<index] }
            previous = line[index]
        }
        return line
    }

    /// The contexts' names for messages ("none" when there is none).
    public var contextNames: String {
        contexts.isEmpty ? "none defined" : contexts.map(\.name).joined(separator: ", ")
    }
}
