/// The `:` command line: parsing, and "did you mean" for typos.
public enum ConsoleCommand: Equatable, Sendable {
    case services
    case instances(String?)
    case theme(String?)
    case help
    case quit

    public static let names = ["services", "instances", "theme", "help", "quit", "q"]

    public enum ParseError: Error, Equatable {
        case empty
        case unknown(String, suggestion: String?)
        case extraArgument(String)
    }

    public static func parse(_ line: String) -> Result<ConsoleCommand, ParseError> {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = words.first else { return .failure(.empty) }
        let argument = words.count > 1 ? words[1] : nil
        if words.count > 2 { return .failure(.extraArgument(name)) }
        switch name {
        case "services", "svc": return argument == nil ? .success(.services) : .failure(.extraArgument(name))
        case "instances", "inst": return .success(.instances(argument))
        case "theme": return .success(.theme(argument))
        case "help": return .success(.help)
        case "q", "quit", "q!": return .success(.quit)
        default: return .failure(.unknown(name, suggestion: closest(to: name, in: names)))
        }
    }

    /// The candidate within edit distance 2 (or a prefix match), if there is one.
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
