/// What a watch reports: new data, or a failed read and when it will try again.
public enum WatchUpdate<Value: Sendable>: Sendable {
    case value(Value, index: UInt64)
    /// Right after a `.value`: Consul's ACLs left out entries this token may not read
    /// (`X-Consul-Results-Filtered-By-ACLs`); an anonymous request sees an empty catalog this way.
    case filteredByACLs
    case failed(ConsulError, attempt: Int, retryIn: Duration)
}

extension WatchUpdate: Equatable where Value: Equatable {}

/// A blocking-query loop as an AsyncSequence: each element is a change (or a failure), never a poll.
///
/// The loop follows Consul's client rules: it blocks on the last `X-Consul-Index` for up to `wait`,
/// yields only when the index moved, resets when the index goes backwards, floors it at 1, retries
/// errors with jittered exponential backoff and keeps a token bucket between reads so a churning
/// value cannot turn it into a busy loop. Cancelling the consuming task ends it.
public struct ConsulWatch<Value: Sendable>: AsyncSequence, Sendable {
    public typealias Element = WatchUpdate<Value>
    let fetch: @Sendable (QueryOptions) async throws -> Indexed<Value>
    let wait: Duration
    let backoff: Backoff
    let limiter: RateLimiter

    public init(wait: Duration = .seconds(300), backoff: Backoff = Backoff(), limiter: RateLimiter = RateLimiter(),
                fetch: @escaping @Sendable (QueryOptions) async throws -> Indexed<Value>) {
        self.fetch = fetch
        self.wait = wait
        self.backoff = backoff
        self.limiter = limiter
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(watch: self, limiter: limiter)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let watch: ConsulWatch
        var limiter: RateLimiter
        var index: UInt64 = 0
        var failures = 0
        var pause: Duration = .zero
        /// The value just returned was filtered by ACLs: say so next.
        var filtered = false

        public mutating func next() async -> WatchUpdate<Value>? {
            if filtered {
                filtered = false
                return .filteredByACLs
            }
            while !Task.isCancelled {
                let delay = Swift.max(pause, limiter.take(now: .now))
                pause = .zero
                if delay > .zero {
                    do { try await Task.sleep(for: delay) } catch { return nil }
                }
                do {
                    let result = try await watch.fetch(QueryOptions(index: index, wait: watch.wait))
                    let sent = index
                    index = BlockingIndex.next(sent: sent, returned: result.meta.index)
                    let recovering = failures > 0
                    failures = 0
                    if BlockingIndex.isChange(sent: sent, returned: result.meta.index) || recovering {
                        filtered = result.meta.filteredByACLs
                        return .value(result.value, index: result.meta.index)
                    }
                } catch is CancellationError {
                    return nil
                } catch {
                    if Task.isCancelled { return nil }
                    failures += 1
                    pause = watch.backoff.delay(attempt: failures)
                    let consulError = error as? ConsulError
                        ?? .unreachable(path: "watch", reason: String(describing: error))
                    return .failed(consulError, attempt: failures, retryIn: pause)
                }
            }
            return nil
        }
    }
}

extension ConsulClient {
    /// Every service name and its tags, on each change.
    public func watchServices(wait: Duration = .seconds(300)) -> ConsulWatch<[String: [String]]> {
        ConsulWatch(wait: wait) { options in try await self.services(options) }
    }

    /// The instances of one service with their checks, on each change.
    public func watchHealth(service: String, passingOnly: Bool = false,
                            wait: Duration = .seconds(300)) -> ConsulWatch<[ServiceEntry]> {
        ConsulWatch(wait: wait) { options in
            try await self.health(service: service, passingOnly: passingOnly, options)
        }
    }

    /// Every key under a prefix with its value, on each change (deletions included).
    public func watchPrefix(_ prefix: String, wait: Duration = .seconds(300)) -> ConsulWatch<[KVPair]> {
        ConsulWatch(wait: wait) { options in try await self.list(prefix: prefix, options) }
    }
}
