import CRdKafka
import Synchronization

/// Sends records to a broker without blocking the caller.
///
/// `send` only enqueues: when the local queue is full it throws a `KafkaError` with `isQueueFull`, so a
/// caller that must never block (log shipping) can count a drop and move on. Delivery failures found
/// later are counted in `failedDeliveries`.
public final class KafkaProducer: Sendable {
    // librdkafka handles are thread-safe; the pointer itself never changes.
    nonisolated(unsafe) private let handle: OpaquePointer
    private let reports: DeliveryReports

    public init(bootstrapServers: String, properties: [String: String] = [:]) throws {
        var all = ["bootstrap.servers": bootstrapServers, "linger.ms": "5"]
        all.merge(properties) { _, new in new }
        let conf = try makeConfiguration(all)
        let reports = DeliveryReports()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(reports).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let opaque, let message else { return }
            let reports = Unmanaged<DeliveryReports>.fromOpaque(opaque).takeUnretainedValue()
            reports.record(message.pointee.err)
        }
        self.reports = reports
        self.handle = try makeHandle(RD_KAFKA_PRODUCER, conf)
    }

    deinit {
        rd_kafka_flush(handle, 2_000)
        rd_kafka_destroy(handle)
    }

    /// Enqueues one record. `partition` nil lets librdkafka choose (by key hash when there is a key).
    public func send(topic: String, key: [UInt8]? = nil, value: [UInt8], partition: Int32? = nil,
                     timestampMilliseconds: Int64? = nil) throws {
        let err: rd_kafka_resp_err_t = topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    var args = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    args[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    args[0].u.cstr = topicName
                    args[1].vtype = RD_KAFKA_VTYPE_VALUE
                    args[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    args[1].u.mem.size = valueBytes.count
                    args[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    args[2].u.i = RD_KAFKA_MSG_F_COPY
                    var count = 3
                    if let keyBytes {
                        args[count].vtype = RD_KAFKA_VTYPE_KEY
                        args[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                        args[count].u.mem.size = keyBytes.count
                        count += 1
                    }
                    if let partition {
                        args[count].vtype = RD_KAFKA_VTYPE_PARTITION
                        args[count].u.i32 = partition
                        count += 1
                    }
                    if let timestampMilliseconds {
                        args[count].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                        args[count].u.i64 = timestampMilliseconds
                        count += 1
                    }
                    guard let error = rd_kafka_produceva(handle, args, count) else {
                        return RD_KAFKA_RESP_ERR_NO_ERROR
                    }
                    defer { rd_kafka_error_destroy(error) }
                    return rd_kafka_error_code(error)
                }
            }
        }
        // Serve delivery callbacks without waiting.
        rd_kafka_poll(handle, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "produce to \(topic)") }
    }

    /// Waits until every enqueued record is delivered or failed; throws if some are still queued.
    public func flush(timeoutMilliseconds: Int32 = 10_000) throws {
        let err = rd_kafka_flush(handle, timeoutMilliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "flush (\(rd_kafka_outq_len(handle)) records still queued)")
        }
    }

    /// Records the broker did not accept (counted as their delivery reports arrive).
    public var failedDeliveries: Int { reports.failed.load(ordering: .relaxed) }
    /// Records the broker acknowledged.
    public var deliveredRecords: Int { reports.delivered.load(ordering: .relaxed) }
    /// The last delivery error's text, if any.
    public var lastDeliveryError: String? { reports.lastError.withLock { $0 } }

    /// Partitions of a topic, from the broker's metadata (0 if the topic does not exist).
    public func partitionCount(of topic: String, timeoutMilliseconds: Int32 = 5_000) throws -> Int {
        try fetchPartitionCount(handle: handle, topic: topic, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Creates a topic; succeeds quietly when it already exists.
    public func createTopic(_ name: String, partitions: Int32, timeoutMilliseconds: Int32 = 10_000) throws {
        var errbuf = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(name, partitions, 1, &errbuf, errbuf.count) else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: errorText(errbuf))
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(handle, &topics, 1, nil, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "create topic \(name)")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rd_kafka_event_error(event), context: "create topic \(name)")
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count), count == 1 else {
            throw KafkaError(RD_KAFKA_RESP_ERR__BAD_MSG, context: "create topic \(name): no result")
        }
        let err = rd_kafka_topic_result_error(results[0])
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(err, context: "create topic \(name)")
        }
    }
}

/// Counts delivery reports; written from librdkafka's callback thread.
final class DeliveryReports: Sendable {
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let lastError = Mutex<String?>(nil)

    func record(_ err: rd_kafka_resp_err_t) {
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            delivered.add(1, ordering: .relaxed)
        } else {
            failed.add(1, ordering: .relaxed)
            lastError.withLock { $0 = String(cString: rd_kafka_err2str(err)) }
        }
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
