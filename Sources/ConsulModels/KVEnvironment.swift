/// envconsul's rules for turning the keys under a KV prefix into environment variables.
///
/// For each key under `prefix`: drop the prefix and leading slashes, skip what is left empty (the folder
/// marker), keep nested slashes (`db/host`), optionally prepend the prefix (`keepPrefix`, envconsul's
/// `no_prefix = false`), optionally replace every character outside `[a-zA-Z0-9_]` with `_`
/// (`sanitize`) and upper-case (`upcase`, after sanitize). Later prefixes override earlier ones.
public struct KVEnvironment: Sendable, Equatable {
    public var prefix: String
    public var sanitize: Bool
    public var upcase: Bool
    public var keepPrefix: Bool

    public init(prefix: String, sanitize: Bool = false, upcase: Bool = false, keepPrefix: Bool = false) {
        self.prefix = prefix
        self.sanitize = sanitize
        self.upcase = upcase
        self.keepPrefix = keepPrefix
    }

    /// The variables a set of KV pairs gives (pairs outside the prefix are ignored).
    public func variables(from pairs: [KVPair]) -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs where pair.key.hasPrefix(prefix) {
            let key = String(pair.key.dropFirst(prefix.count).drop { $0 == "/" })
            guard !key.trimmingWhitespace.isEmpty else { continue }
            var name = keepPrefix ? "\(Self.sanitised(prefix))_\(key)" : key
            if sanitize { name = Self.sanitised(name) }
            if upcase { name = name.uppercased() }
            result[name] = pair.text
        }
        return result
    }

    static func sanitised(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }
}

private extension String {
    var trimmingWhitespace: Substring { drop { $0.isWhitespace } }
}
