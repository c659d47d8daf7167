import ConsulModels

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
                case .filteredByACLs:
                    return .filteredByACLs
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
