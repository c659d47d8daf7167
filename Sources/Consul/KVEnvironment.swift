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

/// A KV prefix watched as an environment: yields the variables at the first read and then only when
/// they change (a write that leaves them equal yields nothing), failures passed through.
public struct EnvironmentWatch: AsyncSequence, Sendable {
    public typealias Element = WatchUpdate<[String: String]>
    let watch: ConsulWatch<[KVPair]>
    let mapping: KVEnvironment

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: watch.makeAsyncIterator(), mapping: mapping)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: ConsulWatch<[KVPair]>.Iterator
        let mapping: KVEnvironment
        var last: [String: String]?

        public mutating func next() async -> WatchUpdate<[String: String]>? {
            while let update = await base.next() {
                switch update {
                case .failed(let error, let attempt, let retryIn):
                    return .failed(error, attempt: attempt, retryIn: retryIn)
                case .value(let pairs, let index):
                    let variables = mapping.variables(from: pairs)
                    if variables != last {
                        last = variables
                        return .value(variables, index: index)
                    }
                }
            }
            return nil
        }
    }
}

extension ConsulClient {
    /// What envconsul watched: the environment a KV prefix gives, on each change.
    public func watchEnvironment(_ mapping: KVEnvironment, wait: Duration = .seconds(300)) -> EnvironmentWatch {
        EnvironmentWatch(watch: watchPrefix(mapping.prefix, wait: wait), mapping: mapping)
    }
}
