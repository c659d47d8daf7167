import CRdKafka

/// A failure reported by librdkafka or by the broker, with librdkafka's own text.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// librdkafka's error code (`rd_kafka_resp_err_t` raw value); negative codes are client-side.
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(code: err.rawValue, message: context.map { "\($0): \(text)" } ?? text)
    }

    /// The producer's local queue is full: the caller chooses to drop or retry (log shipping drops).
    public var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    public var description: String { "Kafka error \(code): \(message)" }
}
