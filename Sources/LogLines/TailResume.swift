import KafkaModels

/// What a tail that starts over (after an error it could not recover from inside) must not show again,
/// and where it starts: records are admitted once per partition offset, and the new start is the time of
/// the newest record admitted, so nothing between is skipped. Records at that same millisecond are read
/// again and dropped here by offset.
public struct TailResume: Sendable, Equatable {
    /// Highest offset admitted per "topic/partition".
    private var admitted: [String: Int64] = [:]
    private var newest: Int64?

    public init() {}

    /// The records not admitted before, in their order; remembers them.
    public mutating func admit(_ records: [KafkaRecord]) -> [KafkaRecord] {
        var fresh: [KafkaRecord] = []
        fresh.reserveCapacity(records.count)
        for record in records {
            let key = "\(record.topic)/\(record.partition)"
            if let seen = admitted[key], record.offset <= seen { continue }
            admitted[key] = record.offset
            if let time = record.timestampMilliseconds { newest = max(newest ?? time, time) }
            fresh.append(record)
        }
        return fresh
    }

    /// Where to start again: `original` until a record was admitted, then the newest one's time.
    public func restart(from original: TailStart) -> TailStart {
        newest.map { .time($0) } ?? original
    }
}
