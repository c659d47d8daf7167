/// Where a broker's answers cannot be taken at their word. Kept in one place so that each
/// workaround is visible, explained, and harmless on a broker that doesn't need it.
enum BrokerQuirks {
    /// The oldest record timestamp a tail that starts at `start` may show.
    ///
    /// Tansu (the stack's broker) answers ListOffsets(latest) with an offset up to a batch behind the
    /// real end, so "start at the end" replays a few hundred old records, and it answers
    /// offsets-for-times with 0 for a time after every record, so "start at 15m ago" replays the whole
    /// log. Dropping records stamped before the requested start fixes both. On Apache Kafka the
    /// offsets are exact and this filter drops nothing.
    static func oldestTimestampShown(for start: TailStart, startedAt: Int64) -> Int64? {
        switch start {
        case .end: return startedAt
        case .time(let time): return time
        case .beginning, .last: return nil
        }
    }
}
