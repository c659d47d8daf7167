import Synchronization

/// Counters and a recent-latency window for `monitor`, safe to update from any request.
public final class RequestStats: Sendable {
    /// How many recent calls the latency quantiles are computed over.
    public static let window = 1024

    private struct State {
        var requests: Int64 = 0
        var errors: Int64 = 0
        var latencies: [Double] = []   // milliseconds, a ring of `window` entries
        var next = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Records one finished call.
    public func record(milliseconds: Double, failed: Bool) {
        state.withLock { s in
            s.requests += 1
            if failed { s.errors += 1 }
            if s.latencies.count < Self.window {
                s.latencies.append(milliseconds)
            } else {
                s.latencies[s.next] = milliseconds
            }
            s.next = (s.next + 1) % Self.window
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var requests: Int64
        public var errors: Int64
        public var p50: Double
        public var p99: Double
    }

    public func snapshot() -> Snapshot {
        let (requests, errors, latencies) = state.withLock { ($0.requests, $0.errors, $0.latencies) }
        let sorted = latencies.sorted()
        return Snapshot(requests: requests, errors: errors,
                        p50: Self.quantile(0.50, of: sorted), p99: Self.quantile(0.99, of: sorted))
    }

    /// Nearest-rank quantile of ascending values; 0 when there are none.
    static func quantile(_ q: Double, of sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
