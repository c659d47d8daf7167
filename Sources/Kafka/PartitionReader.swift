import CRdKafka
import Foundation
import Synchronization

/// Reads a fixed set of topic partitions (assign, no consumer group join) on a dedicated thread.
///
/// librdkafka's poll blocks, so it never runs on Swift's cooperative pool (two threads on a 2-core box):
/// one thread per reader polls and hands batches of copied records to an `AsyncSequence`. At most
/// `maxBatchesInFlight` batches wait for the consumer, so a slow reader slows polling instead of growing
/// memory.
public final class PartitionReader: Sendable {
    /// What the reader reports, in the order it happened.
    public enum Event: Sendable, Equatable {
        case records([KafkaRecord])
        /// The reader reached the current end of a partition (the next offset is `offset`).
        case endOfPartition(topic: String, partition: Int32, offset: Int64)
        /// The client reported a problem (broker down, unknown topic, ...); reading goes on.
        case error(KafkaError)
        /// Nothing happened for `idleInterval`: lets a consumer act on time (deadlines, liveness probes)
        /// without a timer of its own.
        case idle
    }

    nonisolated(unsafe) private let handle: OpaquePointer
    private let maxBatchSize: Int
    private let maxBatchesInFlight: Int
    private let started = Atomic<Bool>(false)
    private let stopRequested = Flag()
    private let finished = DispatchSemaphore(value: 0)

    private let idleInterval: Duration
    private let clientErrors = ClientErrors()

    public init(bootstrapServers: String, properties: [String: String] = [:],
                maxBatchSize: Int = 2_000, maxBatchesInFlight: Int = 4, idleInterval: Duration = .seconds(1)) throws {
        var all = [
            "bootstrap.servers": bootstrapServers,
            // Required by librdkafka even without subscribe(); assign() never joins the group.
            "group.id": "opsdeck-reader",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "true",
            // Once a partition's prefetch queue is full, librdkafka postpones its next fetch by this
            // much (default 1 s). A reader that drains the queue faster than that sat idle for most of
            // a backlog: reading 1 M records took 5.6 s with the default and 1.0 s with 50 ms.
            "fetch.queue.backoff.ms": "50",
        ]
        all.merge(properties) { _, new in new }
        let conf = try makeConfiguration(all)
        // Client-level errors (broker down, all brokers down) reach the application only through an
        // error callback (without one librdkafka just logs them). It runs inside the poll loop's batch
        // call, on the reader's thread, and queues them for the poll loop to send as `.error` events.
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(clientErrors).toOpaque())
        rd_kafka_conf_set_error_cb(conf) { _, code, reason, opaque in
            guard let opaque else { return }
            let sink = Unmanaged<ClientErrors>.fromOpaque(opaque).takeUnretainedValue()
            sink.pending.append(KafkaError(code: code, message: reason.map { String(cString: $0) } ?? "error \(code)"))
        }
        handle = try makeHandle(RD_KAFKA_CONSUMER, conf)
        // Forward the main queue (where those errors are raised) to the consumer's, which the poll loop reads.
        rd_kafka_poll_set_consumer(handle)
        self.maxBatchSize = maxBatchSize
        self.maxBatchesInFlight = maxBatchesInFlight
        self.idleInterval = idleInterval
    }

    deinit {
        if started.load(ordering: .acquiring) {
            stopRequested.raise()
            finished.wait()
        }
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }

    /// Partitions of a topic, from the broker's metadata (0 if the topic does not exist).
    public func partitionCount(of topic: String, timeoutMilliseconds: Int32 = 5_000) throws -> Int {
        try fetchPartitionCount(handle: handle, topic: topic, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The low and high watermarks (first offset, next offset to be written) of a partition.
    public func watermarks(topic: String, partition: Int32,
                           timeoutMilliseconds: Int32 = 5_000) throws -> (low: Int64, high: Int64) {
        var low: Int64 = 0, high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMilliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks of \(topic)/\(partition)") }
        return (low, high)
    }

    /// The high watermark librdkafka last heard of from fetches (no request to the broker), nil before the
    /// first fetch: for a follower's lag, cheap enough to ask every second.
    public func cachedHighWatermark(topic: String, partition: Int32) -> Int64? {
        var low: Int64 = 0, high: Int64 = 0
        let err = rd_kafka_get_watermark_offsets(handle, topic, partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    /// For each partition, the first offset whose timestamp is at or after `milliseconds` (Kafka's
    /// ListOffsets by time); nil where no such record exists yet (start at the end).
    public func offsets(atOrAfter milliseconds: Int64, topic: String, partitions: [Int32],
                        timeoutMilliseconds: Int32 = 5_000) throws -> [Int32: Int64?] {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, topic, partition)!.pointee.offset = milliseconds
        }
        let err = rd_kafka_offsets_for_times(handle, list, timeoutMilliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "offsets for times in \(topic)") }
        var result: [Int32: Int64?] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let entry = list.pointee.elems[i]
            if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(entry.err, context: "offset for time in \(topic)/\(entry.partition)")
            }
            result[entry.partition] = entry.offset >= 0 ? entry.offset : nil
        }
        return result
    }

    /// Starts reading the given partitions; call once. Iterating the result drives the reader;
    /// dropping the iterator or cancelling its task stops the thread.
    public func read(_ starts: [PartitionStart]) throws -> Events {
        precondition(!started.exchange(true, ordering: .acquiringAndReleasing), "read(_:) called twice")
        let list = rd_kafka_topic_partition_list_new(Int32(starts.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for start in starts {
            let entry = rd_kafka_topic_partition_list_add(list, start.topic, start.partition)!
            switch start.offset {
            case .beginning: entry.pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
            case .end: entry.pointee.offset = Int64(RD_KAFKA_OFFSET_END)
            case .at(let offset): entry.pointee.offset = offset
            }
        }
        let err = rd_kafka_assign(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            finished.signal()
            throw KafkaError(err, context: "assign")
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let credits = Credits(maxBatchesInFlight)
        continuation.onTermination = { [stopRequested] _ in
            stopRequested.raise()
            credits.stop()  // wakes a poller waiting for room, and no send waits again
        }
        let thread = Thread { [self] in
            pollLoop(continuation, credits)
            finished.signal()
        }
        thread.name = "kafka-reader"
        thread.start()
        return Events(stream: stream, credits: credits)
    }

    private func pollLoop(_ out: AsyncStream<Event>.Continuation, _ credits: Credits) {
        var topicNames: [OpaquePointer: String] = [:]
        var batch: [KafkaRecord] = []
        batch.reserveCapacity(maxBatchSize)

        let clock = ContinuousClock()
        var lastEvent = clock.now
        func send(_ event: consuming Event) {
            guard credits.take() else { return }  // the consumer has stopped
            out.yield(event)
            lastEvent = clock.now
        }
        func flushBatch() {
            guard !batch.isEmpty else { return }
            // The batch leaves whole, not shared with this thread: its reader then moves the records on
            // rather than copying them (`forEachMoved`).
            var full: [KafkaRecord] = []
            full.reserveCapacity(maxBatchSize)
            swap(&full, &batch)
            send(.records(full))
        }

        /// One message: a record into the batch, or the end of a partition or an error, sent at once.
        func take(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
            let m = message.pointee
            let topic: String
            if let rkt = m.rkt {
                if let name = topicNames[rkt] { topic = name } else {
                    topic = String(cString: rd_kafka_topic_name(rkt))
                    topicNames[rkt] = topic
                }
            } else {
                topic = ""
            }
            switch m.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                let timestamp = rd_kafka_message_timestamp(message, &timestampType)
                batch.append(KafkaRecord(
                    topic: topic, partition: m.partition, offset: m.offset,
                    timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
                    key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                    value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []))
                if batch.count >= maxBatchSize { flushBatch() }
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                flushBatch()
                send(.endOfPartition(topic: topic, partition: m.partition, offset: m.offset))
            default:
                flushBatch()
                let text = m.payload.map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self)
                }
                send(.error(KafkaError(m.err, context: text.map { "\(topic) \($0)" })))
            }
        }

        // Messages are taken from the consumer's queue in batches: one call per batch, not per message
        // (`rd_kafka_consumer_poll` reads the clock and takes the queue's lock for every message: 4 % of
        // the console's samples were in clock_gettime on this thread). Client errors still reach the error
        // callback from here, as non-message events of the same queue.
        let queue = rd_kafka_queue_get_consumer(handle)
        defer { rd_kafka_queue_destroy(queue) }  // before rd_kafka_consumer_close (deinit waits for this thread)
        var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: maxBatchSize)

        while !stopRequested.isRaised {
            // Nothing pending: wait up to 100 ms for one message. Otherwise take what is there without
            // waiting, so that a full batch goes out at once and a partial one as soon as nothing follows.
            // (Asked for more than one, librdkafka would wait for all of them until the timeout.)
            let waiting = batch.isEmpty
            let count = messages.withUnsafeMutableBufferPointer { slots in
                rd_kafka_consume_batch_queue(queue, waiting ? 100 : 0, slots.baseAddress, waiting ? 1 : maxBatchSize - batch.count)
            }
            if !clientErrors.pending.isEmpty {
                flushBatch()
                for error in clientErrors.pending { send(.error(error)) }
                clientErrors.pending.removeAll()
            }
            guard count > 0 else {
                flushBatch()
                if clock.now - lastEvent >= idleInterval { send(.idle) }
                continue
            }
            for slot in 0..<count {
                guard let message = messages[slot] else { continue }
                take(message)
                rd_kafka_message_destroy(message)
            }
        }
        out.finish()
    }

    /// The reader's events. Each `next()` returns a credit to the polling thread.
    public struct Events: AsyncSequence, Sendable {
        let stream: AsyncStream<Event>
        let credits: Credits

        public func makeAsyncIterator() -> Iterator {
            Iterator(base: stream.makeAsyncIterator(), credits: credits)
        }

        public struct Iterator: AsyncIteratorProtocol {
            var base: AsyncStream<Event>.Iterator
            let credits: Credits

            public mutating func next() async -> Event? {
                let event = await base.next()
                if event != nil { credits.giveBack() }
                return event
            }
        }
    }
}

/// Errors raised by librdkafka's error callback, which runs inside `rd_kafka_consume_batch_queue` on the
/// reader's thread; only that thread touches `pending`.
final class ClientErrors: @unchecked Sendable {
    var pending: [KafkaError] = []
}

/// How many events may wait for the reader's consumer: the poll loop takes a credit for each event it
/// sends, the consumer gives one back for each it takes. Once the consumer has stopped, taking no longer
/// waits: a batch from librdkafka can make several sends (each partition's end flushes the records before it
/// and is sent itself), the stop gives back one credit, and a send that waited for another would hold the
/// thread, and with it the reader and its client, for the life of the process.
final class Credits: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let stopped = Flag()

    init(_ count: Int) {
        // Created at 0 and raised to the count: libdispatch traps when a semaphore is freed holding less
        // than its initial value, which is what a reader stopped with credits taken would do (seen once:
        // `opsdeck tail` died of SIGILL at the end of a bounded read).
        for _ in 0..<count { semaphore.signal() }
    }

    /// Waits for a credit; false, without waiting or once woken by the stop, when the consumer has stopped.
    func take() -> Bool {
        guard !stopped.isRaised else { return false }
        semaphore.wait()
        return !stopped.isRaised
    }

    func giveBack() { semaphore.signal() }

    func stop() {
        stopped.raise()
        semaphore.signal()
    }
}

/// A one-way flag shared between the polling thread and whoever stops it.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func raise() { value.store(true, ordering: .releasing) }
    var isRaised: Bool { value.load(ordering: .acquiring) }
}
