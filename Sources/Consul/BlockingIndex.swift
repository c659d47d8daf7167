/// The client-side rules of Consul blocking queries, as pure functions (tested without a server).
public enum BlockingIndex {
    /// The index to send next, given the one we sent and the `X-Consul-Index` that came back.
    ///
    /// - An index that went backwards (a snapshot restore, or deleting the newest key of a KV prefix)
    ///   means our view is stale: start again with a non-blocking read (0).
    /// - An index below 1 must never be sent back as-is (0 would not block): use 1.
    public static func next(sent: UInt64, returned: UInt64) -> UInt64 {
        if returned < sent { return 0 }
        return max(returned, 1)
    }

    /// Whether a response carries news: a first read, or an index that moved.
    public static func isChange(sent: UInt64, returned: UInt64) -> Bool {
        sent == 0 || returned != sent
    }

    /// The HTTP timeout for a blocking read: the server may hold it for `wait` plus up to `wait`/16 of
    /// jitter, so anything shorter cuts healthy requests.
    public static func httpTimeout(forWait wait: Duration) -> Duration {
        wait + wait / 16 + .seconds(5)
    }
}

/// Exponential backoff with full jitter for retrying after errors: attempt 1 waits up to `base`,
/// each further attempt doubles that, never beyond `cap`.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(250), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling for attempt `n` (1-based), before jitter.
    public func ceiling(attempt: Int) -> Duration {
        let factor = Double(1 << min(max(attempt - 1, 0), 30))
        return min(cap, base * factor)
    }

    /// A random delay in [ceiling/2, ceiling]: spread out, but never a busy retry.
    public func delay(attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        return ceiling / 2 + ceiling / 2 * random
    }
}

/// A token bucket that keeps a watch loop from hammering Consul when data churns: a burst of `burst`
/// immediate reads, then one read per `refill`.
public struct RateLimiter: Sendable {
    public let burst: Int
    public let refill: Duration
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    public init(burst: Int = 2, refill: Duration = .seconds(1)) {
        self.burst = burst
        self.refill = refill
        self.tokens = Double(burst)
    }

    /// Takes a token at `now`, returning how long to wait before the read may go out (zero if at once).
    public mutating func take(now: ContinuousClock.Instant) -> Duration {
        if let last {
            tokens = min(Double(burst), tokens + (now - last).inSeconds / refill.inSeconds)
        }
        last = now
        if tokens >= 1 {
            tokens -= 1
            return .zero
        }
        let missing = 1 - tokens
        tokens -= 1
        return refill * missing
    }
}
