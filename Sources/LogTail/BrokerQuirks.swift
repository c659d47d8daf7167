/// Where a broker's answers cannot be taken at their word. Kept in one place so that each
/// workaround is visible, explained, and harmless on a broker that doesn't need it.
enum BrokerQuirks {
    /// The oldest record timestamp a tail that starts at `start` may show *before a partition first
    /// reaches its end*; from then on every record is shown, whatever its timestamp.
    ///
    /// Tansu (the stack's broker) answers ListOffsets(latest) with the last batch's first offset + 1 (seen:
    /// 1 after a batch of 1,000 records), so "start at the end" replays up to a batch of old records; and
    /// it answers offsets-for-times with 0 for a time after every record, so "start at 15m ago" replays
    /// the whole log. Its fetch responses carry the true high watermark, though: the records it replays all
    /// come before the partition's first end-of-partition. So the filter by time holds only until then.
    /// On Apache Kafka the offsets are exact: before the first end there are only records written since
    /// the start (milliseconds' worth), and a producer whose clock lags loses at most those, not every
    /// record it stamps before the tail's start time.
    static func oldestTimestampShown(for start: TailStart, startedAt: Int64) -> Int64? {
        switch start {
        case .end: return startedAt
        case .time(let time): return time
        case .beginning, .last: return nil
        }
    }
}
