import KafkaModels

/// What a tail that starts over (after an error it could not recover from inside) must not show again,
/// and where it starts: records are admitted once per partition offset, and the new start is the oldest of
/// the partitions' newest admitted times, so a partition that lagged behind the others skips nothing.
/// What is read again from the other partitions is dropped here by offset.
///
/// A partition's offsets are not admitted in order: the merge releases records by time, and a partition
/// that two producers write holds their interleaved stamps (two instances whose keys hash to one
/// partition, starting together). So each partition keeps the offsets it admitted, not the highest one: a
/// highest-offset rule dropped the record released after one with a higher offset (seen: the second
/// instance's start-up lines missing from the pane).
///
/// Left as is: a restart starts every partition at one time, so a record stamped before it and not
/// delivered yet (a lagging producer's, still in the merge when the tail failed) is not read again. Exact
/// would be a start offset per partition, which the tail's request does not take; restarts are rare (the
/// tail rides out broker outages itself).
public struct TailResume: Sendable, Equatable {
    /// The offsets admitted in one partition. A few partitions: a list searched from the last one used
    /// beats hashing a topic name for every record.
    private struct Slot: Sendable, Equatable {
        var topic: String
        var partition: Int32
        var offsets = AdmittedOffsets()
        /// The newest admitted record's time in this partition.
        var newest: Int64?
    }
    private var admitted: [Slot] = []
    /// How many runs of admitted offsets a partition keeps, its oldest forgotten beyond that. Each hole
    /// between runs is a record not delivered yet (one producer's, while another's stamps run ahead of
    /// it), or one that never will be (filtered by time after a restart, a transaction marker).
    public static let rangesPerPartition = 1_024

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
            let partition = records[i].partition
            if !(last < admitted.count && admitted[last].partition == partition && admitted[last].topic == records[i].topic) {
                if let index = admitted.firstIndex(where: { $0.partition == partition && $0.topic == records[i].topic }) {
                    last = index
                } else {
                    admitted.append(Slot(topic: records[i].topic, partition: partition))
                    last = admitted.count - 1
                }
            }
            guard admitted[last].offsets.insert(records[i].offset) else {
                if fresh == nil { fresh = Array(records[..<i]) }
                continue
            }
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

/// The offsets of one partition admitted so far, as sorted ranges that neither overlap nor touch: one
/// range while a partition's offsets come in order and without holes, a few while a merge interleaves two
/// producers' records.
struct AdmittedOffsets: Sendable, Equatable {
    private(set) var ranges: [ClosedRange<Int64>] = []

    /// Records `offset`; false when it was admitted before.
    mutating func insert(_ offset: Int64) -> Bool {
        if let last = ranges.last, offset == last.upperBound &+ 1 {  // in order: the usual case
            ranges[ranges.count - 1] = last.lowerBound...offset
            return true
        }
        // The first range that ends at or after `offset`.
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < offset { low = middle + 1 } else { high = middle }
        }
        if low < ranges.count && ranges[low].lowerBound <= offset { return false }
        var joined = offset...offset, replaced = low..<low
        if low > 0 && ranges[low - 1].upperBound &+ 1 == offset {
            joined = ranges[low - 1].lowerBound...offset
            replaced = (low - 1)..<low
        }
        if low < ranges.count && ranges[low].lowerBound &- 1 == offset {
            joined = joined.lowerBound...ranges[low].upperBound
            replaced = replaced.lowerBound..<(low + 1)
        }
        ranges.replaceSubrange(replaced, with: [joined])
        // Forgotten, not joined with the next: joining would count the gap between them as shown, and a
        // record still to come there would be lost; forgotten offsets can at worst show twice after a restart.
        if ranges.count > TailResume.rangesPerPartition { ranges.removeFirst() }
        return true
    }
}
