import Dispatch
import Foundation
import Kafka

/// What `opsdeck tail` reads and when it stops.
public struct TailRequest: Sendable {
    public var bootstrapServers: String
    public var topics: [String]
    public var start: TailStart
    /// Stop after records stamped later than this (milliseconds since the epoch).
    public var until: Int64?
    /// Keep reading new records (`tail -f`); false stops at the end of what existed at start.
    public var follow: Bool
    /// How long a record waits for a silent partition before it is released anyway.
    public var windowMilliseconds: Int64
    /// Records held for reordering at most.
    public var capacity: Int
    /// librdkafka properties that override the tail's own (`-X` in kcat): security, tuning.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String, topics: [String], start: TailStart = .end, until: Int64? = nil,
                follow: Bool = true, windowMilliseconds: Int64 = 5_000, capacity: Int = 100_000) {
        self.bootstrapServers = bootstrapServers
        self.topics = topics
        self.start = start
        self.until = until
        self.follow = follow
        self.windowMilliseconds = windowMilliseconds
        self.capacity = capacity
    }

    /// The merge this request needs. A bounded read waits for every partition however slow its fetch
    /// (only the capacity bounds it): it cannot end before each partition reaches its end anyway, so
    /// releasing early would buy nothing but disorder. Seen on a loaded machine: a fetch stalled past
    /// 5 s, and one record of a 100,000-record read came out of order. While following, the window
    /// bounds the wait for a silent partition, and a fresh live record waits 300 ms for caught-up ones.
    public func makeMerger(partitions: [PartitionKey]) -> ReorderMerger {
        ReorderMerger(partitions: partitions, windowMilliseconds: follow ? windowMilliseconds : .max,
                      graceMilliseconds: follow ? 300 : 0, capacity: capacity)
    }
}

/// A change in the tail's connection to the broker, for the user (stderr, or a pane's status).
public enum TailNotice: Sendable, Equatable, CustomStringConvertible {
    /// Start offsets are resolved and reading begins.
    case reading(topics: [String], partitions: Int, follow: Bool)
    case brokerUnreachable(reason: String)
    case brokerReachable
    case waitingForTopic(String)
    case problem(String)
    /// After an outage the partition's log is not the one read before (a memory-only broker restarted, or
    /// the topic was deleted and made again): it is read again from its beginning.
    case logReplaced(topic: String, partition: Int32)
    /// Records written but not read yet, over every partition (0: caught up), at most once a second and
    /// only when it changes.
    case behind(records: Int64)
    /// The merge reached its bound of `capacity` records waiting for a slower partition and let the oldest
    /// out: what follows may include lines older than some already shown. Said once a run.
    case mergeFull(capacity: Int)

    public var description: String {
        switch self {
        case .reading(let topics, let partitions, let follow):
            return "\(follow ? "following" : "reading") \(partitions) partition\(partitions == 1 ? "" : "s") of "
                + topics.joined(separator: ", ") + (follow ? "" : " up to their current end")
        case .brokerUnreachable(let reason): return "broker unreachable (\(reason)); retrying"
        case .brokerReachable: return "broker reachable again; continuing from the last offsets read"
        case .waitingForTopic(let topic): return "topic \(topic) does not exist yet; waiting for it"
        case .problem(let text): return text
        case .logReplaced(let topic, let partition):
            return "the broker's log of \(topic)/\(partition) is not the one read before (a memory-only broker restarted, "
                + "or the topic was made again): reading it from its beginning"
        case .behind(let records): return records == 0 ? "caught up" : "\(records) records behind"
        case .mergeFull(let capacity):
            return "the merge reached its bound of \(capacity) records waiting for a slower partition and let the oldest out: "
                + "some lines may come out of time order"
        }
    }
}

public enum TailFailure: Error, CustomStringConvertible {
    case noSuchTopic(String)
    public var description: String {
        switch self {
        case .noSuchTopic(let topic): return "topic \(topic) does not exist"
        }
    }
}

/// Follows partitions of several topics and hands over their records merged in time order.
///
/// Setup (partitions, start offsets, end offsets) goes through librdkafka calls that block; they run
/// on a dispatch thread, never on Swift's cooperative pool. Reading is one `PartitionReader` (its own
/// thread, `assign()`, no group join).
public final class KafkaTail: Sendable {
    public let request: TailRequest

    public init(_ request: TailRequest) {
        self.request = request
    }

    /// Runs until the request's stop point, or until the task is cancelled. `deliver` receives records in
    /// merged order, theirs to keep (moved, not copied); `notice` receives connection changes as they happen.
    public func run(deliver: (consuming [KafkaRecord]) -> Void, notice: @escaping (TailNotice) -> Void) async throws {
        let startedAt = Self.now()
        let properties = [
            // Deliver new records within a tenth of a second when following.
            "fetch.wait.max.ms": "100",
            // The broker lost the offsets we were at (a restart of a memory-only broker, retention):
            // go on from what it has rather than skip to its end.
            "auto.offset.reset": "earliest",
            // Problems reach the user once, as notices, not as librdkafka's own log lines.
            "log_level": "0",
        ].merging(Self.readAhead) { _, readAhead in readAhead }.merging(request.properties) { _, user in user }
        // The reader in use: the first one, or a new one after a partition's log was replaced (the only
        // reference, so that a replaced one is closed, not kept with its connections and its queue).
        var active = try Self.reader(request.bootstrapServers, properties)
        var liveness = Liveness(notice: notice)

        // 1. The partitions of every topic.
        var partitions: [PartitionKey] = []
        for topic in request.topics {
            let count = try await retryWhileUnreachable(&liveness) { [active] in
                try active.partitionCount(of: topic, timeoutMilliseconds: 5_000)
            } missingTopic: {
                topic
            }
            partitions += (0..<Int32(count)).map { PartitionKey(topic: topic, partition: $0) }
        }

        // 2. Where each starts, and (bounded reads) where each ends.
        var starts: [PartitionStart] = []
        var ends: [PartitionKey: Int64] = [:]
        for key in partitions {
            let marks = try await retryWhileUnreachable(&liveness) { [active] in
                try active.watermarks(topic: key.topic, partition: key.partition)
            }
            ends[key] = marks.high
            let offset: PartitionStart.Offset
            switch request.start {
            case .beginning: offset = .beginning
            case .end: offset = .end
            case .last(let count): offset = .at(max(marks.low, marks.high - Int64(count)))
            case .time(let time):
                let found = try await retryWhileUnreachable(&liveness) { [active] in
                    try active.offsets(atOrAfter: time, topic: key.topic, partitions: [key.partition])
                }
                offset = (found[key.partition] ?? nil).map { .at($0) } ?? .end
            }
            starts.append(PartitionStart(topic: key.topic, partition: key.partition, offset: offset))
        }

        // 3. Read, merge, release.
        let oldestShown = BrokerQuirks.oldestTimestampShown(for: request.start, startedAt: startedAt)
        var merger = request.makeMerger(partitions: partitions)
        var lastN = LastRecords(limit: { if case .last(let n) = request.start { return n } else { return nil } }())
        var out: [KafkaRecord] = []
        /// What was released goes to `deliver` whole (its records moved on, never copied), and `out`
        /// starts again with room for as many.
        func handOver() {
            guard !out.isEmpty else { return }
            var batch: [KafkaRecord] = []
            batch.reserveCapacity(out.count)
            swap(&batch, &out)
            deliver(consume batch)
        }
        var saidMergeFull = false
        func flush() {
            merger.release(now: Self.now()) { lastN.take($0, into: &out) }
            if merger.releasedOverCapacity > 0 && !saidMergeFull {
                saidMergeFull = true
                notice(.mergeFull(capacity: request.capacity))
            }
            if lastN.isCollecting && merger.allCaughtUp {
                merger.releaseAll { lastN.take($0, into: &out) }
                lastN.finish(into: &out)
            }
            handOver()
        }
        guard let probe = partitions.first else { return }
        // Partitions that reached their end once: the quirk's filter by time no longer applies to them.
        var reachedEndOnce = Set<PartitionKey>()
        // Per partition: the next offset to read (for the lag, against the high watermarks librdkafka has
        // seen) and the last record read (after an outage, it must still be at its offset).
        var positions: [PartitionKey: Position] = [:]
        var lastBehind: Int64?
        var lastLagCheck = Self.now()
        func reportLag() {
            let now = Self.now()
            guard now - lastLagCheck >= 1_000 else { return }
            lastLagCheck = now
            var behind: Int64 = 0
            for key in partitions {
                guard let next = positions[key]?.next, let high = active.cachedHighWatermark(topic: key.topic, partition: key.partition) else {
                    return  // not every partition fetched yet: nothing honest to say
                }
                behind += max(0, high - next)
            }
            if behind != lastBehind {
                lastBehind = behind
                notice(.behind(records: behind))
            }
        }

        var events = try active.read(starts)
        // Set by an outage or any client error (a topic gone, a partition unknown): before the next records
        // are taken, or at the next idle tick, check that the last record read is still where it was.
        var checkLogs = false
        /// Partitions whose log was replaced are read again from their beginning (a new reader, the others
        /// going on from their next offsets). True when that happened. A check that cannot decide (the
        /// topic not there yet) is made again at the next records or idle tick.
        /// A check that could not decide waits 1 s, then twice as long each time up to 30 s: a topic that
        /// stays deleted must not cost a new client on every idle tick.
        var nextCheck: Int64 = 0, checkDelay: Int64 = 1_000
        func reopenIfReplaced() async throws -> Bool {
            guard Self.now() >= nextCheck else { return false }
            let (replaced, undecided) = await Self.replacedLogs(positions, bootstrapServers: request.bootstrapServers, properties: properties)
            checkLogs = undecided > 0
            if checkLogs {
                nextCheck = Self.now() + checkDelay
                checkDelay = min(checkDelay * 2, 30_000)
            } else {
                checkDelay = 1_000
            }
            guard !replaced.isEmpty else { return false }
            // What the old logs left in the merge goes out first: a consumer that forgets a replaced
            // partition's offsets on the notice (the logs pane) must not see old records after it.
            merger.releaseAll { lastN.take($0, into: &out) }
            handOver()
            for key in replaced {
                notice(.logReplaced(topic: key.topic, partition: key.partition))
            }
            let next = starts.map { start -> PartitionStart in
                let key = PartitionKey(topic: start.topic, partition: start.partition)
                if replaced.contains(key) { return PartitionStart(topic: start.topic, partition: start.partition, offset: .beginning) }
                return positions[key].map { PartitionStart(topic: start.topic, partition: start.partition, offset: .at($0.next)) } ?? start
            }
            for key in replaced { positions[key] = nil }
            active = try Self.reader(request.bootstrapServers, properties)
            events = try active.read(next)
            merger.forgetCaughtUp()  // the new reader reports each partition's end again (the old one would not)
            return true
        }

        notice(.reading(topics: request.topics, partitions: partitions.count, follow: request.follow))
        reading: while true {
            for await event in events {
                try Task.checkCancellation()
                switch consume event {  // the batch is then this loop's alone, and its records move on
                case .records(let records):
                    // After an outage or an error: these may come from a replaced log, at offsets it reuses.
                    if checkLogs || liveness.isDown, try await reopenIfReplaced() {
                        liveness.reachable()
                        continue reading
                    }
                    liveness.reachable()
                    let arrived = Self.now()
                    // A batch comes as runs of one partition's records: what is kept per partition is
                    // looked up once a run, not once a record (each look-up hashes the topic's name).
                    var runs: [Run] = []
                    var runStart = records.startIndex
                    while runStart < records.endIndex {
                        let key = PartitionKey(topic: records[runStart].topic, partition: records[runStart].partition)
                        var runEnd = runStart + 1
                        while runEnd < records.endIndex, records[runEnd].partition == key.partition,
                              records[runEnd].topic == key.topic { runEnd += 1 }
                        positions[key, default: Position()].read(records[runEnd - 1])  // offsets rise within a partition
                        runs.append(Run(key: key, count: runEnd - runStart, lane: merger.lane(of: key),
                                        end: request.follow ? nil : ends[key],
                                        filterOld: oldestShown != nil && !reachedEndOnce.contains(key)))
                        runStart = runEnd
                    }
                    var run = 0, leftInRun = runs.first?.count ?? 0
                    records.forEachMoved { record in
                        if leftInRun == 0 { run += 1; leftInRun = runs[run].count }
                        leftInRun -= 1
                        let time = record.timestampMilliseconds ?? .max
                        if let end = runs[run].end, record.offset >= end, time > startedAt {
                            merger.finish(runs[run].key)  // written after the tail started: past a bounded read's end
                            return
                        }
                        if let until = request.until, time != .max, time > until {
                            merger.finish(runs[run].key)
                            return
                        }
                        if runs[run].filterOld, let oldest = oldestShown, time < oldest { return }
                        if let lane = runs[run].lane { merger.add(record, lane: lane, now: arrived) }
                    }
                case .endOfPartition(let topic, let partition, let offset):
                    if liveness.isDown { checkLogs = true }
                    liveness.reachable()
                    let key = PartitionKey(topic: topic, partition: partition)
                    reachedEndOnce.insert(key)
                    positions[key, default: Position()].next = max(positions[key]?.next ?? 0, offset)
                    merger.reachedEnd(key)
                    let pastUntil = request.until.map { Self.now() > $0 } ?? false
                    if !request.follow || pastUntil { merger.finish(key) }
                case .error(let error):
                    checkLogs = true
                    liveness.failed(error)
                case .idle:
                    if let until = request.until, Self.now() > until + request.windowMilliseconds {
                        partitions.forEach { merger.finish($0) }
                    }
                    // librdkafka says nothing when a broker comes back and no record is new: ask it.
                    if liveness.isDown, (try? await Self.offThread({ [active] in
                        try active.partitionCount(of: probe.topic, timeoutMilliseconds: 1_000)
                    })) != nil {
                        checkLogs = true
                        liveness.reachable()
                    }
                    // The check cannot wait for records: a client whose partitions were replaced may never
                    // fetch again (it holds their old leader epochs), so records would never come.
                    if checkLogs, !liveness.isDown, try await reopenIfReplaced() { continue reading }
                }
                flush()
                if request.follow && !liveness.isDown { reportLag() }
                if merger.allFinished {
                    merger.releaseAll { lastN.take($0, into: &out) }
                    lastN.finish(into: &out)
                    handOver()
                    return
                }
            }
            return  // the reader ended (cancelled)
        }
    }

    /// What librdkafka reads ahead of the tail, per partition (the console's logs pane reads with the same).
    ///
    /// Bytes: 2 MiB, not librdkafka's 64 MiB: the merge holds records of its own, and the prefetch was most
    /// of the peak. 1,000,000 records (scripts/bench-tail): 124-133 MiB instead of 142-160, at about the
    /// same speed in paired runs (1.06-1.10 s against 1.01-1.12); at 1 MiB it was 10-20 % slower.
    /// Records: librdkafka fetches again when a partition's queue falls below this count, whatever the
    /// bytes, and the broker's answer takes a while. 100,000 is librdkafka's own; less makes the reader
    /// wait between fetches. 1,000,000 small records, two runs each: on 3 partitions 1.36-1.49 s at 2,000
    /// to 20,000, 1.10-1.11 s at 50,000, 0.87-1.01 s at 100,000 (peak 100-129 MiB either way). Shared out
    /// over a topic's partitions instead (300,000 records and 6 MiB in all), 12 partitions took 1.6-2.7 s
    /// instead of 0.93-0.99 (peak 89-95 MiB against 109-127), 48 partitions 2.9-3.1 s instead of 0.96-1.08
    /// (93-103 MiB against 108): both limits stay per partition.
    static let readAhead = ["queued.max.messages.kbytes": "2048", "queued.min.messages": "100000"]

    /// A reader with the tail's properties; idle ticks every 200 ms release records that waited out the
    /// merge's grace when nothing else happens.
    static func reader(_ bootstrapServers: String, _ properties: [String: String]) throws -> PartitionReader {
        try PartitionReader(bootstrapServers: bootstrapServers, properties: properties, idleInterval: .milliseconds(200))
    }

    /// A batch's run of one partition's records, and what the tail keeps for that partition.
    struct Run {
        var key: PartitionKey
        var count: Int
        var lane: Int?
        /// A bounded read's end offset.
        var end: Int64?
        /// Records older than the start's time are dropped (the quirk in `BrokerQuirks`).
        var filterOld: Bool
    }

    /// A partition's last record read: where it was and when it was stamped.
    struct LastRead: Sendable {
        var offset: Int64
        var timestamp: Int64?
    }

    /// Where reading a partition is: the next offset to read, and the last record read.
    struct Position {
        var next: Int64 = 0
        var last: LastRead?

        mutating func read(_ record: KafkaRecord) {
            next = max(next, record.offset + 1)
            last = LastRead(offset: record.offset, timestamp: record.timestampMilliseconds)
        }
    }

    /// What a check looks for in a partition's log: the last record read, at its offset with its time; or,
    /// where none was read (a tail from the end of a quiet partition), a log reaching the next offset.
    struct Expected {
        var offset: Int64
        var timestamp: Int64?
        var isRecord: Bool

        init?(_ position: Position) {
            if let last = position.last {
                (offset, timestamp, isRecord) = (last.offset, last.timestamp, true)
            } else if position.next > 0 {
                (offset, timestamp, isRecord) = (position.next, nil, false)
            } else {
                return nil  // nothing read, nothing before: any log is read from its start anyway
            }
        }

        /// The first record the check's reader got there: another offset (reset to the start of a shorter
        /// log) or, for the last record read, another time, means another log.
        func isReplaced(byFirst record: KafkaRecord) -> Bool {
            record.offset != offset || (isRecord && record.timestampMilliseconds != timestamp)
        }

        /// The log ends at `end` (the next offset to be written).
        func isReplaced(byEnd end: Int64) -> Bool { isRecord ? end <= offset : end < offset }
    }

    /// The partitions whose log is no longer the one read (see `Expected`): replaced. A private reader
    /// looks, for 5 s at most; how many partitions it could not decide about comes back too.
    static func replacedLogs(_ positions: [PartitionKey: Position], bootstrapServers: String,
                             properties: [String: String]) async -> (replaced: Set<PartitionKey>, undecided: Int) {
        let expected = positions.compactMapValues(Expected.init)
        guard !expected.isEmpty else { return ([], 0) }
        guard let probe = try? reader(bootstrapServers, properties),
              let events = try? probe.read(expected.map { PartitionStart(topic: $0.key.topic, partition: $0.key.partition, offset: .at($0.value.offset)) })
        else { return ([], expected.count) }
        let deadline = ContinuousClock.now + .seconds(5)
        var replaced = Set<PartitionKey>(), decided = Set<PartitionKey>()
        for await event in events {
            switch event {
            case .records(let records):
                for record in records {
                    let key = PartitionKey(topic: record.topic, partition: record.partition)
                    guard let look = expected[key], decided.insert(key).inserted else { continue }
                    if look.isReplaced(byFirst: record) { replaced.insert(key) }
                }
            case .endOfPartition(let topic, let partition, let end):
                let key = PartitionKey(topic: topic, partition: partition)
                guard let look = expected[key], decided.insert(key).inserted else { break }
                if look.isReplaced(byEnd: end) { replaced.insert(key) }
            case .error, .idle:
                // A fetch past a log's end may get no answer at all (Tansu sends neither records nor an
                // out-of-range error), but it tells the log's end.
                for (key, look) in expected where !decided.contains(key) {
                    if let high = probe.cachedHighWatermark(topic: key.topic, partition: key.partition), look.isReplaced(byEnd: high) {
                        decided.insert(key)
                        replaced.insert(key)
                    }
                }
            }
            if decided.count == expected.count || ContinuousClock.now > deadline { break }
        }
        return (replaced, expected.count - decided.count)
    }

    /// Runs a blocking librdkafka call off the cooperative pool, retrying (and saying so) while the
    /// broker cannot be reached. A topic that does not exist is waited for when following and an
    /// error otherwise.
    private func retryWhileUnreachable<T: Sendable>(
        _ liveness: inout Liveness, _ body: @escaping @Sendable () throws -> T,
        missingTopic: (() -> String)? = nil
    ) async throws -> T {
        while true {
            try Task.checkCancellation()
            do {
                let value = try await Self.offThread(body)
                if let count = value as? Int, count == 0, let topic = missingTopic?() {
                    throw KafkaError(code: 3, message: "topic \(topic) has no partitions")
                }
                liveness.reachable()
                return value
            } catch let error as KafkaError {
                if error.code == 3, let topic = missingTopic?() {  // UNKNOWN_TOPIC_OR_PART
                    liveness.reachable()
                    guard request.follow else { throw TailFailure.noSuchTopic(topic) }
                    liveness.waiting(for: topic)
                } else {
                    liveness.failed(error)
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func now() -> Int64 { TailPosition.milliseconds(Date()) }
}
