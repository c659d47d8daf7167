/// Keeps the merge from holding a partition that runs ahead: its fetching is paused while the merge holds
/// `pauseAt` of its records waiting for a partition with nothing delivered yet, and resumed when half of
/// them are out or nothing is awaited any more.
///
/// The merge must hold a record until no partition can still deliver an older one. A topic whose partitions
/// were written one after another (or one partition lagging behind the others) made it hold records up to
/// its capacity, 100,000 (`scripts/bench-tail`: 102,000 held reading 1M records written partition by
/// partition), and then release the oldest out of order. Paused, the partition ahead stays in the broker.
///
/// A pause drops what librdkafka prefetched of that partition and fetches it again on resume; a record
/// handed over just as the pause lands can come a second time, so records below the partition's next
/// offset at the pause are dropped until it is passed. Pure: the tail does the pausing.
public struct FetchThrottle {
    public static let pauseAt = 10_000

    /// Lanes (the merge's partition indexes) paused now.
    public private(set) var paused: Set<Int> = []
    /// Per lane paused since its last record: records below this offset were delivered already.
    public private(set) var repeatsBelow: [Int: Int64] = [:]

    public init() {}

    /// The lanes to pause and to resume now. `next` gives a lane's next offset to read (what the tail
    /// has been handed).
    public mutating func adjust(_ merger: ReorderMerger, lanes: Int, next: (Int) -> Int64?) -> (pause: [Int], resume: [Int]) {
        let awaited = merger.isAwaitingAPartition
        var pause: [Int] = [], resume: [Int] = []
        for lane in 0..<lanes {
            let held = merger.held(lane: lane)
            if paused.contains(lane) {
                guard !awaited || held < Self.pauseAt / 2 else { continue }
                paused.remove(lane)
                resume.append(lane)
            } else if awaited && held >= Self.pauseAt {
                paused.insert(lane)
                pause.append(lane)
                if let offset = next(lane) { repeatsBelow[lane] = max(repeatsBelow[lane] ?? offset, offset) }
            }
        }
        return (pause, resume)
    }

    /// A run of a lane's records up to `lastOffset` arrived: once past the mark, nothing is a repeat.
    public mutating func passed(lane: Int, lastOffset: Int64) {
        if let below = repeatsBelow[lane], lastOffset >= below { repeatsBelow[lane] = nil }
    }

    /// A new reader starts: nothing is paused, nothing can repeat.
    public mutating func reset() {
        paused = []
        repeatsBelow = [:]
    }
}
