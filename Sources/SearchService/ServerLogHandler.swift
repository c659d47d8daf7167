import Foundation
import Kafka
import Logging
import Synchronization

/// The log level every server logger follows; changing it (from Consul KV) applies to all at once.
public final class LiveLogLevel: Sendable {
    private let raw = Atomic<UInt8>(0)

    public init(_ level: Logger.Level) { set(level) }

    public var level: Logger.Level { Logger.Level.allCases[Int(raw.load(ordering: .relaxed))] }

    public func set(_ level: Logger.Level) {
        raw.store(UInt8(Logger.Level.allCases.firstIndex(of: level)!), ordering: .relaxed)
    }
}

/// Sends log records to a Kafka topic keyed by instance id, never blocking the logging call.
///
/// The bound is librdkafka's local queue (`queue.buffering.max.messages`): when it is full the record is
/// dropped and counted, so a slow or absent broker costs log records, never request latency.
public final class LogShipper: Sendable {
    public let topic: String
    private let producer: KafkaProducer
    private let key: [UInt8]
    private let dropped = Atomic<Int>(0)

    public init(brokers: String, topic: String, instanceID: String, queueLimit: Int = 10_000) throws {
        self.topic = topic
        self.key = Array(instanceID.utf8)
        self.producer = try KafkaProducer(bootstrapServers: brokers, properties: [
            "queue.buffering.max.messages": "\(queueLimit)",
            // A record not delivered in 30 s is dropped (and counted) rather than held forever.
            "message.timeout.ms": "30000",
        ])
    }

    public func ship(_ record: LogRecord) {
        do {
            try producer.send(topic: topic, key: key, value: record.json())
        } catch {
            dropped.add(1, ordering: .relaxed)
        }
    }

    /// Records refused locally (queue full) plus those the broker never acknowledged.
    public var droppedRecords: Int { dropped.load(ordering: .relaxed) + producer.failedDeliveries }

    /// Waits up to `milliseconds` for queued records to reach the broker (at shutdown).
    public func flush(milliseconds: Int32) { try? producer.flush(timeoutMilliseconds: milliseconds) }
}

/// A swift-log handler that writes one line per record to stdout and, when configured, ships the same
/// record to Kafka.
public struct ServerLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let level: LiveLogLevel
    private let instanceID: String
    private let shipper: LogShipper?
    private var overrideLevel: Logger.Level?

    public init(label: String, level: LiveLogLevel, instanceID: String, shipper: LogShipper?) {
        self.label = label
        self.level = level
        self.instanceID = instanceID
        self.shipper = shipper
    }

    public var logLevel: Logger.Level {
        get { overrideLevel ?? level.level }
        set { overrideLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        let record = LogRecord(date: Date(), level: event.level, instance: instanceID, message: event.message.description,
                               source: event.source, meta: merged.mapValues { "\($0)" })
        LineWriter.standardOutput.write(record.line())
        shipper?.ship(record)
    }
}

/// Lines to a file descriptor from any thread, never blocking the caller: a bounded queue drained by a
/// thread of its own. When the reader stalls (a full pipe, a stopped `less`) the queue fills and further
/// lines are dropped and counted, as the Kafka path does: a slow stdout costs log lines, never requests.
public final class LineWriter: Sendable {
    private struct Queue {
        var lines: [[UInt8]] = []
        var dropped = 0
        /// Lines taken by the writer thread and not yet written.
        var writing = 0
    }
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let descriptor: Int32
    private let capacity: Int

    /// The server's stdout. What is queued when the process exits (a startup error's last line) is
    /// written first.
    public static let standardOutput: LineWriter = {
        let writer = LineWriter(descriptor: STDOUT_FILENO)
        atexit { LineWriter.standardOutput.flush(timeout: .seconds(1)) }
        return writer
    }()

    public init(descriptor: Int32, capacity: Int = 10_000) {
        self.descriptor = descriptor
        self.capacity = capacity
        let thread = Thread { [self] in drain() }
        thread.name = "log-writer"
        thread.start()
    }

    /// Queues a line (the newline is added); false when the queue was full and the line was dropped.
    @discardableResult
    public func write(_ line: String) -> Bool {
        let bytes = Array((line + "\n").utf8)
        let queued = queue.withLock { q -> Bool in
            guard q.lines.count < capacity else { q.dropped += 1; return false }
            q.lines.append(bytes)
            return true
        }
        if queued { wake.signal() }
        return queued
    }

    /// Lines dropped because the queue was full.
    public var dropped: Int { queue.withLock { $0.dropped } }

    /// Waits up to `timeout` for every queued line to be written (at shutdown; off the cooperative pool).
    public func flush(timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while queue.withLock({ !$0.lines.isEmpty || $0.writing > 0 }) && ContinuousClock.now < deadline { usleep(1_000) }
    }

    private func drain() {
        while true {
            wake.wait()
            let batch = queue.withLock { q -> [[UInt8]] in
                defer { q.lines.removeAll(keepingCapacity: true) }
                q.writing = q.lines.count
                return q.lines
            }
            // One write(2) per line: lines never interleave, a crash loses only the queue.
            for line in batch { writeAll(line) }
            queue.withLock { $0.writing = 0 }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}
