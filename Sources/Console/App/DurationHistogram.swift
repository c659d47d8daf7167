/// Durations of a repeated step (a frame, a busy stretch of the UI loop), kept in constant memory: a
/// count, a sum, the longest, and a histogram of 100 µs buckets up to 100 ms for the percentiles. The
/// console runs for hours at 30 frames a second: a list of every duration would grow without bound.
public struct DurationHistogram: Sendable, Equatable {
    private static let bucketMicroseconds: Int64 = 100
    /// 0-100 ms in 100 µs steps, and one bucket for anything longer.
    private var buckets = [Int](repeating: 0, count: 1_001)
    public private(set) var count = 0
    public private(set) var totalMicroseconds: Int64 = 0
    public private(set) var longestMicroseconds: Int64 = 0

    public init() {}

    public mutating func record(_ duration: Duration) {
        let micro = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        buckets[Int(min(max(0, micro - 1) / Self.bucketMicroseconds, Int64(buckets.count - 1)))] += 1  // up to its upper edge
        count += 1
        totalMicroseconds += micro
        longestMicroseconds = max(longestMicroseconds, micro)
    }

    /// The duration that `fraction` of the recorded ones do not exceed, in microseconds, to the bucket's
    /// upper edge (never more than the longest); nil when nothing was recorded.
    public func percentile(_ fraction: Double) -> Int64? {
        guard count > 0 else { return nil }
        let wanted = max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() {
            seen += n
            if seen >= wanted, index < buckets.count - 1 { return min(longestMicroseconds, Int64(index + 1) * Self.bucketMicroseconds) }
        }
        return longestMicroseconds  // in the last bucket, which has no upper edge
    }

    /// `N, mean M ms, p50 ≤ A ms, p99 ≤ B ms, longest L ms` (milliseconds to a tenth).
    public var summary: String {
        guard count > 0, let p50 = percentile(0.5), let p99 = percentile(0.99) else { return "0" }
        func ms(_ micro: Int64) -> String { "\(micro / 1_000).\(micro % 1_000 / 100) ms" }
        return "\(count), mean \(ms(totalMicroseconds / Int64(count))), p50 ≤ \(ms(p50)), p99 ≤ \(ms(p99)), longest \(ms(longestMicroseconds))"
    }
}
