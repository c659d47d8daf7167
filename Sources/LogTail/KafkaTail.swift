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
    /// bounds the wait for a silent partition, and a fresh record waits 300 ms for caught-up ones.
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
    /// Records written but not read yet, over every partition (0: caught up), at most once a second and
    /// only when it changes.
    case behind(records: Int64)

    public var description: String {
        switch self {
        case .reading(let topics, let partitions, let follow):
            return "\(follow ? "following" : "reading") \(partitions) partition\(partitions == 1 ? "" : "s") of "
                + topics.joined(separator: ", ") + (follow ? "" : " up to their current end")
        case .brokerUnreachable(let reason): return "broker unreachable (\(reason)); retrying"
        case .brokerReachable: return "broker reachable again; continuing from the last offsets read"
        case .waitingForTopic(let topic): return "topic \(topic) does not exist yet; waiting for it"
        case .problem(let text): return text
        case .behind(let records): return records == 0 ? "caught up" : "\(records) records behind"
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
    /// merged order; `notice` receives connection changes as they happen.
    public func run(deliver: ([KafkaRecord]) -> Void, notice: @escaping (TailNotice) -> Void) async throws {
        let startedAt = Self.now()
        // Idle ticks release records that waited out the merge's grace when nothing else happens.
        let reader = try PartitionReader(bootstrapServers: request.bootstrapServers, properties: [
            // Deliver new records within a tenth of a second when following.
            "fetch.wait.max.ms": "100",
            // The broker lost the offsets we were at (a restart of a memory-only broker, retention):
            // go on from what it has rather than skip to its end.
            "auto.offset.reset": "earliest",
            // Problems reach the user once, as notices, not as librdkafka's own log lines.
            "log_level": "0",
        ].merging(request.properties) { _, user in user }, idleInterval: .milliseconds(200))
        var liveness = Liveness(notice: notice)

        // 1. The partitions of every topic.
        var partitions: [PartitionKey] = []
        for topic in request.topics {
            let count = try await retryWhileUnreachable(&liveness) {
                try reader.partitionCount(of: topic, timeoutMilliseconds: 5_000)
            } missingTopic: {
                topic
            }
            partitions += (0..<Int32(count)).map { PartitionKey(topic: topic, partition: $0) }
        }

        // 2. Where each starts, and (bounded reads) where each ends.
        var starts: [PartitionStart] = []
        var ends: [PartitionKey: Int64] = [:]
        for key in partitions {
            let marks = try await retryWhileUnreachable(&liveness) {
                try reader.watermarks(topic: key.topic, partition: key.partition)
            }
            ends[key] = marks.high
            let offset: PartitionStart.Offset
            switch request.start {
            case .beginning: offset = .beginning
            case .end: offset = .end
            case .last(let count): offset = .at(max(marks.low, marks.high - Int64(count)))
            case .time(let time):
                let found = try await retryWhileUnreachable(&liveness) {
                    try reader.offsets(atOrAfter: time, topic: key.topic, partitions: [key.partition])
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
        func flush() {
            merger.release(now: Self.now()) { lastN.take($0, into: &out) }
            if lastN.isCollecting && merger.allCaughtUp {
                merger.releaseAll { lastN.take($0, into: &out) }
                lastN.finish(into: &out)
            }
            if !out.isEmpty {
                deliver(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        guard let probe = partitions.first else { return }
        // Partitions that reached their end once: the quirk's filter by time no longer applies to them.
        var reachedEndOnce = Set<PartitionKey>()
        // Lag: the next offset to read per partition against the high watermarks librdkafka has seen.
        var nextOffsets: [PartitionKey: Int64] = [:]
        var lastBehind: Int64?
        var lastLagCheck = Self.now()
        func reportLag() {
            let now = Self.now()
            guard now - lastLagCheck >= 1_000 else { return }
            lastLagCheck = now
            var behind: Int64 = 0
            for key in partitions {
                guard let next = nextOffsets[key], let high = reader.cachedHighWatermark(topic: key.topic, partition: key.partition) else {
                    return  // not every partition fetched yet: nothing honest to say
                }
                behind += max(0, high - next)
            }
            if behind != lastBehind {
                lastBehind = behind
                notice(.behind(records: behind))
            }
        }

        let events = try reader.read(starts)
        notice(.reading(topics: request.topics, partitions: partitions.count, follow: request.follow))
        for await event in events {
            try Task.checkCancellation()
            switch event {
            case .records(let records):
                liveness.reachable()
                let arrived = Self.now()
                for record in records {
                    let key = PartitionKey(topic: record.topic, partition: record.partition)
                    nextOffsets[key] = max(nextOffsets[key] ?? 0, record.offset + 1)
                    let time = record.timestampMilliseconds ?? .max
                    if !request.follow, let end = ends[key], record.offset >= end, time > startedAt {
                        merger.finish(key)  // written after the tail started: past a bounded read's end
                        continue
                    }
                    if let until = request.until, time != .max, time > until {
                        merger.finish(key)
                        continue
                    }
                    if let oldest = oldestShown, time < oldest, !reachedEndOnce.contains(key) { continue }
                    merger.add(record, now: arrived)
                }
            case .endOfPartition(let topic, let partition, let offset):
                liveness.reachable()
                let key = PartitionKey(topic: topic, partition: partition)
                reachedEndOnce.insert(key)
                nextOffsets[key] = max(nextOffsets[key] ?? 0, offset)
                merger.reachedEnd(key)
                let pastUntil = request.until.map { Self.now() > $0 } ?? false
                if !request.follow || pastUntil { merger.finish(key) }
            case .error(let error):
                liveness.failed(error)
            case .idle:
                if let until = request.until, Self.now() > until + request.windowMilliseconds {
                    partitions.forEach { merger.finish($0) }
                }
                // librdkafka says nothing when a broker comes back and no record is new: ask it.
                if liveness.isDown, (try? await Self.offThread({
                    try reader.partitionCount(of: probe.topic, timeoutMilliseconds: 1_000)
                })) != nil {
                    liveness.reachable()
                }
            }
            flush()
            if request.follow && !liveness.isDown { reportLag() }
            if merger.allFinished {
                merger.releaseAll { lastN.take($0, into: &out) }
                lastN.finish(into: &out)
                if !out.isEmpty { deliver(out) }
                return
            }
        }
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

/// Reports each change of connection state once (not once per failed request).
struct Liveness {
    let notice: (TailNotice) -> Void
    private(set) var isDown = false
    private var waitingFor: Set<String> = []
    private var lastProblem: String?

    init(notice: @escaping (TailNotice) -> Void) { self.notice = notice }

    mutating func failed(_ error: KafkaError) {
        // Transport-level failures mean the broker is away; anything else is reported as it comes.
        let transport: Set<Int32> = [-195, -187, -185, -192]  // _TRANSPORT, _ALL_BROKERS_DOWN, _TIMED_OUT, _MSG_TIMED_OUT
        if transport.contains(error.code) {
            if !isDown { notice(.brokerUnreachable(reason: error.message)) }
            isDown = true
        } else if error.message != lastProblem {
            notice(.problem(error.message))
            lastProblem = error.message  // once, not once per retry
        }
    }

    mutating func reachable() {
        if isDown { notice(.brokerReachable) }
        isDown = false
        lastProblem = nil
    }

    mutating func waiting(for topic: String) {
        if waitingFor.insert(topic).inserted { notice(.waitingForTopic(topic)) }
    }
}

/// `--from -N`: while the backlog is read, keeps only the newest N released records, then passes
/// everything through.
struct LastRecords {
    private let limit: Int?
    private var held: [KafkaRecord] = []
    private(set) var isCollecting: Bool

    init(limit: Int?) {
        self.limit = limit
        isCollecting = limit != nil
    }

    mutating func take(_ record: KafkaRecord, into out: inout [KafkaRecord]) {
        guard isCollecting, let limit else { out.append(record); return }
        held.append(record)
        if held.count >= 2 * limit { held.removeFirst(held.count - limit) }
    }

    mutating func finish(into out: inout [KafkaRecord]) {
        guard isCollecting, let limit else { return }
        out += held.suffix(limit)
        held = []
        isCollecting = false
    }
}
