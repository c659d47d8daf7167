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

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var merged = self.metadata
        if let explicit { merged.merge(explicit) { _, new in new } }
        let record = LogRecord(date: Date(), level: level, instance: instanceID, message: message.description,
                               source: source, meta: merged.mapValues { "\($0)" })
        StandardOutput.write(record.line())
        shipper?.ship(record)
    }
}

/// Line-at-a-time writes to stdout from any thread.
enum StandardOutput {
    private static let lock = Mutex(())

    static func write(_ line: String) {
        // One write(2) per line, unbuffered: a crash loses nothing and lines from threads never interleave.
        let bytes = Array((line + "\n").utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }
}
