import Kafka

/// One partition of one topic.
public struct PartitionKey: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// Merges records from many partitions into one stream ordered by timestamp.
///
/// Each partition is a lane. A record is released once no lane can still deliver an older one: every
/// lane that is neither caught up (at its end) nor finished has either a record waiting or has already
/// passed that time. Producers stamp records in order, so a partition written by one producer is in
/// time order and the merge is exact. Two bounds keep it from waiting forever or growing without
/// limit: a record that has waited `window` is released anyway (a lane that stalls, say its leader is
/// down, holds the others back by at most the window), and so is the oldest record when `capacity`
/// are buffered.
///
/// The window is wall-clock time spent waiting, not a gap in record time: reading a backlog, one
/// partition's fetch may run hours of record time ahead of another's, yet the other's records arrive
/// milliseconds later, and the merge must wait for them.
///
/// A caught-up partition does not block the others for long, yet it may be about to deliver a record
/// written at the same moment as one just received from another partition (fetch responses for
/// different partitions arrive apart). So a fresh live record also waits `grace` for caught-up
/// partitions: live records come out in order at the cost of that much delay. A record is history, not
/// live, when it was stamped `historyAge` (5 s) or more before it arrived and its partition has not been
/// at its end yet: a backlog read from the beginning, a time, the last N. Nothing a caught-up partition is
/// about to deliver was written at the same moment, so a backlog's last records are not held for the
/// grace once every partition is at its end (reading a million records at rest, the console sat idle for
/// the grace and the idle tick that ended it). A fresh stamp is live even if its partition never reported
/// its end (written more often than a fetch waits, it may never), and so is anything a partition delivers
/// once it has been at its end (records written during an outage and read after it, say). The age compares
/// the producer's clock with ours: a producer more than 5 s behind looks like a backlog until its
/// partition has been at its end once.
///
/// Pure: the caller passes the clock (milliseconds) and does the I/O.
public struct ReorderMerger {
    struct Lane {
        /// A released record is taken out of its slot (nil), not copied: a copy retains its text.
        var queue: [(time: Int64, arrived: Int64, live: Bool, record: KafkaRecord?)] = []
        var head = 0
        var lastSeen = Int64.min
        var caughtUp = false
        /// It has been at its end: what it delivers now is live, however old its stamps.
        var reachedEndOnce = false
        var finished = false

        var isEmpty: Bool { head == queue.count }
        var count: Int { queue.count - head }
    }

    private var lanes: [Lane]
    private let laneIndex: [PartitionKey: Int]
    private let window: Int64
    private let grace: Int64
    private let capacity: Int
    public private(set) var buffered = 0
    /// Records let out because `capacity` were held, before every partition had passed their time: they
    /// may come out ahead of older ones still to come from a slower partition.
    public private(set) var releasedOverCapacity = 0
    /// A record stamped this long before it arrived was read from history, not written just now.
    public static let historyAge: Int64 = 5_000

    public init(partitions: [PartitionKey], windowMilliseconds: Int64, graceMilliseconds: Int64 = 0, capacity: Int) {
        lanes = Array(repeating: Lane(), count: partitions.count)
        laneIndex = Dictionary(uniqueKeysWithValues: partitions.enumerated().map { ($1, $0) })
        window = windowMilliseconds
        grace = graceMilliseconds
        self.capacity = max(1, capacity)
    }

    /// Adds a record; returns false when its partition is not one of the merge's.
    @discardableResult
    public mutating func add(_ record: consuming KafkaRecord, now: Int64) -> Bool {
        guard let i = lane(of: PartitionKey(topic: record.topic, partition: record.partition)) else { return false }
        add(record, lane: i, now: now)
        return true
    }

    /// The lane that holds a partition's records, nil when it is not one of the merge's: looked up once
    /// for a run of its records (a look-up hashes the topic's name).
    public func lane(of key: PartitionKey) -> Int? { laneIndex[key] }

    /// Adds a record of the partition whose lane is `i`.
    public mutating func add(_ record: consuming KafkaRecord, lane i: Int, now: Int64) {
        // A record without a timestamp sorts with its predecessor in the partition.
        let time = record.timestampMilliseconds ?? max(lanes[i].lastSeen, 0)
        lanes[i].caughtUp = false
        lanes[i].lastSeen = max(lanes[i].lastSeen, time)
        buffered += 1
        // Usually an append; a record stamped earlier than its predecessor moves back into place.
        var position = lanes[i].queue.count
        while position > lanes[i].head && lanes[i].queue[position - 1].time > time { position -= 1 }
        // By the time it sorts with: a record without a timestamp is as old as its predecessor.
        let live = lanes[i].reachedEndOnce || time > now &- Self.historyAge
        if position == lanes[i].queue.count {
            lanes[i].queue.append((time, now, live, record))
        } else {
            lanes[i].queue.insert((time, now, live, record), at: position)
        }
    }

    /// The partition has no more records for now: it stops holding the others back until it has more.
    public mutating func reachedEnd(_ key: PartitionKey) {
        if let i = laneIndex[key] {
            lanes[i].caughtUp = true
            lanes[i].reachedEndOnce = true
        }
    }

    /// A new reader starts (a partition's log was replaced): none counts as caught up until the new reader
    /// finds it at its end, so that the new log's records, stamped long before, wait for the partitions
    /// that may hold older ones instead of coming out one partition first.
    public mutating func forgetCaughtUp() {
        for i in lanes.indices { lanes[i].caughtUp = false }
    }

    /// The partition will deliver nothing more (its stop point was reached).
    public mutating func finish(_ key: PartitionKey) {
        if let i = laneIndex[key] { lanes[i].finished = true }
    }

    /// Whether every partition has been finished.
    public var allFinished: Bool { lanes.allSatisfy(\.finished) }

    /// Whether every partition is at its end or finished (the backlog has been read).
    public var allCaughtUp: Bool { lanes.allSatisfy { $0.finished || ($0.caughtUp && $0.isEmpty) } }

    /// Releases, oldest first, every record that no partition can now precede.
    /// Records are handed over, not copied.
    public mutating func release(now: Int64, _ emit: (consuming KafkaRecord) -> Void) {
        while let i = oldestLane() {
            let (time, arrived, live) = (lanes[i].queue[lanes[i].head].time, lanes[i].queue[lanes[i].head].arrived,
                                         lanes[i].queue[lanes[i].head].live)
            let safe = time <= blockingLimit(fresh: live && now - arrived < grace)
            let waitedLongEnough = now - arrived >= window
            guard safe || waitedLongEnough || buffered > capacity else { return }
            if !safe && !waitedLongEnough { releasedOverCapacity += 1 }
            emit(pop(i))
        }
    }

    /// Releases everything buffered, oldest first (at the end of a bounded read).
    public mutating func releaseAll(_ emit: (consuming KafkaRecord) -> Void) {
        while let i = oldestLane() { emit(pop(i)) }
    }

    private func oldestLane() -> Int? {
        var best: Int?
        var bestTime = Int64.max
        for i in lanes.indices where !lanes[i].isEmpty {
            let time = lanes[i].queue[lanes[i].head].time
            if best == nil || time < bestTime { best = i; bestTime = time }
        }
        return best
    }

    /// The newest time that is safe to release: an open lane with nothing waiting may still deliver
    /// records from its last seen time on (a caught-up one only while the record is fresh).
    private func blockingLimit(fresh: Bool) -> Int64 {
        var limit = Int64.max
        for lane in lanes where lane.isEmpty && !lane.finished && (!lane.caughtUp || fresh) {
            limit = min(limit, lane.lastSeen)
        }
        return limit
    }

    private mutating func pop(_ i: Int) -> KafkaRecord {
        let record = lanes[i].queue[lanes[i].head].record.take()!
        lanes[i].head += 1
        buffered -= 1
        if lanes[i].head == lanes[i].queue.count {
            lanes[i].queue.removeAll(keepingCapacity: true)
            lanes[i].head = 0
        } else if lanes[i].head >= 4096 && lanes[i].head * 2 >= lanes[i].queue.count {
            lanes[i].queue.removeFirst(lanes[i].head)
            lanes[i].head = 0
        }
        return record
    }
}
