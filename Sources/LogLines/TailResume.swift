import KafkaModels

/// What a tail that starts over (after an error it could not recover from inside) must not show again,
/// and where it starts: records are admitted once per partition offset, and the new start is the oldest of
/// the partitions' newest admitted times, so a partition that lagged behind the others skips nothing.
/// What is read again from the other partitions is dropped here by offset.
public struct TailResume: Sendable, Equatable {
    /// Highest offset admitted per partition. A few partitions: a list searched from the last one used
    /// beats hashing a topic name for every record.
    private struct Slot: Sendable, Equatable {
        var topic: String
        var partition: Int32
        var offset: Int64
        /// The newest admitted record's time in this partition.
        var newest: Int64?
    }
    private var admitted: [Slot] = []

    public init() {}

    /// A partition's log was replaced (its offsets start over): what is admitted there starts over too.
    public mutating func forget(topic: String, partition: Int32) {
        admitted.removeAll { $0.topic == topic && $0.partition == partition }
    }

    /// The records not admitted before, in their order; remembers them. Usually all of them: then the
    /// same array comes back, no record copied.
    public mutating func admit(_ records: consuming [KafkaRecord]) -> [KafkaRecord] {
        var fresh: [KafkaRecord]?  // made at the first record not admitted
        var last = 0
        for i in records.indices {  // fields read in place: a record copied is its text retained
            let partition = records[i].partition, offset = records[i].offset
            if !(last < admitted.count && admitted[last].partition == partition && admitted[last].topic == records[i].topic) {
                if let index = admitted.firstIndex(where: { $0.partition == partition && $0.topic == records[i].topic }) {
                    last = index
                } else {
                    admitted.append(Slot(topic: records[i].topic, partition: partition, offset: -1))
                    last = admitted.count - 1
                }
            }
            guard offset > admitted[last].offset else {
                if fresh == nil { fresh = Array(records[..<i]) }
                continue
            }
            admitted[last].offset = offset
            if let time = records[i].timestampMilliseconds { admitted[last].newest = max(admitted[last].newest ?? time, time) }
            fresh?.append(records[i])
        }
        if let fresh { return fresh }
        return consume records
    }

    /// Where to start again: `original` until a record was admitted, then the oldest partition's newest time.
    public func restart(from original: TailStart) -> TailStart {
        admitted.compactMap(\.newest).min().map { .time($0) } ?? original
    }
}
