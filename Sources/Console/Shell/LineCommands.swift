/// A `:` command as data: parsing, "did you mean", tab completion and `:help` all come from these.
public struct LineCommandSpec: Equatable, Sendable {
    public var name: String
    public var aliases: [String]
    public var argument: Argument?
    public var help: String

    public struct Argument: Equatable, Sendable {
        public var name: String
        public var required: Bool
        public var completion: Completion
        /// The argument is the rest of the line, spaces and all (a Graphite target with functions).
        public var rest: Bool

        public init(_ name: String, required: Bool, completion: Completion = .none, rest: Bool = false) {
            self.name = name
            self.required = required
            self.completion = completion
            self.rest = rest
        }
    }

    /// Where an argument's candidates come from.
    public enum Completion: Equatable, Sendable {
        case none
        /// Service names from Consul.
        case services
        /// Colour themes.
        case themes
        /// The config file's contexts.
        case contexts
        /// The console's panes.
        case panes
        /// Whatever the pane that owns the command offers (`Pane.completions`).
        case pane
        case values([String])
    }

    public init(_ name: String, aliases: [String] = [], argument: Argument? = nil, help: String) {
        self.name = name
        self.aliases = aliases
        self.argument = argument
        self.help = help
    }

    /// `name ARG` or `name [ARG]`, as usage and `:help` print it.
    public var usage: String {
        guard let argument else { return name }
        return argument.required ? "\(name) \(argument.name)" : "\(name) [\(argument.name)]"
    }
}

/// A parsed `:` line: the command's canonical name and its argument.
public struct LineCommand: Equatable, Sendable {
    public var name: String
    public var argument: String?

    public init(_ name: String, _ argument: String? = nil) {
        self.name = name
        self.argument = argument
    }
}

/// Parses `:` lines against a list of specs.
public struct LineCommandParser: Sendable {
    public let specs: [LineCommandSpec]

    public init(_ specs: [LineCommandSpec]) { self.specs = specs }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case unknown(String, suggestion: String?, commands: [String])
        case missingArgument(LineCommandSpec)
        case extraArgument(LineCommandSpec)

        public var description: String {
            switch self {
            case .empty: return "empty command"
            case .unknown(let name, let suggestion, let commands):
                let hint = suggestion.map { ": did you mean :\($0)?" } ?? " (commands: \(commands.joined(separator: ", ")))"
                return "unknown command :\(name)\(hint)"
            case .missingArgument(let spec): return ":\(spec.name) needs \(spec.argument?.name ?? "an argument"): :\(spec.usage)"
            case .extraArgument(let spec): return ":\(spec.name): too many arguments (:\(spec.usage))"
            }
        }
    }

    public func spec(named name: String) -> LineCommandSpec? {
        specs.first { $0.name == name || $0.aliases.contains(name) }
    }

    public func parse(_ line: String) -> Result<LineCommand, ParseError> {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = words.first else { return .failure(.empty) }
        guard let spec = spec(named: name) else {
            return .failure(.unknown(name, suggestion: Self.closest(to: name, in: specs.map(\.name)),
                                     commands: specs.map(\.usage)))
        }
        var argument = words.count > 1 ? words[1] : nil
        if spec.argument?.rest == true, words.count > 1 {
            argument = line.drop { $0 == " " }.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        } else if words.count > 2 || (argument != nil && spec.argument == nil) {
            return .failure(.extraArgument(spec))
        }
        if argument == nil && spec.argument?.required == true { return .failure(.missingArgument(spec)) }
        return .success(LineCommand(spec.name, argument))
    }

    /// Completes the line's last word: a command name, or the argument from its source. Returns the
    /// new line (extended by what every candidate shares) and the candidates.
    public func complete(_ line: String, candidatesFor: (LineCommandSpec.Completion) -> [String])
        -> (line: String, candidates: [String]) {
        let endsInSpace = line.hasSuffix(" ")
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let completingName = words.count == 0 || (words.count == 1 && !endsInSpace)
        let word = endsInSpace ? "" : (words.last ?? "")
        let pool: [String]
        if completingName {
            pool = specs.map(\.name)  // aliases are for typing; completion offers the names
        } else if let spec = spec(named: words[0]), let argument = spec.argument, words.count <= (endsInSpace ? 1 : 2) {
            if case .values(let values) = argument.completion { pool = values } else { pool = candidatesFor(argument.completion) }
        } else {
            return (line, [])
        }
        let candidates = Array(Set(pool.filter { $0.hasPrefix(word) })).sorted()
        guard !candidates.isEmpty else { return (line, []) }
        let shared = candidates.dropFirst().reduce(candidates[0]) { String($0.commonPrefix(with: $1)) }
        let head = String(line.dropLast(word.count))
        // A candidate ending in "." is a branch (a level of Graphite's paths): Tab goes on into it, no space.
        let completed = head + shared + (candidates.count == 1 && !shared.hasSuffix(".") ? " " : "")
        return (completed, candidates.count == 1 ? [] : candidates)
    }

    /// The candidate within edit distance 2 (or one that starts with `word`), if there is one.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        if let prefixed = candidates.first(where: { $0.hasPrefix(word) && word.count >= 2 }) { return prefixed }
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    /// Levenshtein distance.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
