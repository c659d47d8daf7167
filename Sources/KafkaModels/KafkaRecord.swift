/// One record read from a partition, copied out of librdkafka's buffers (safe to keep and send).
public struct KafkaRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the Unix epoch (producer's create time or broker's log-append time), or nil.
    public var timestampMilliseconds: Int64?
    public var key: [UInt8]?
    public var value: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64?,
                key: [UInt8]?, value: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMilliseconds = timestampMilliseconds
        self.key = key
        self.value = value
    }
}

/// A topic partition and the offset to start reading it at.
public struct PartitionStart: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Offset

    public init(topic: String, partition: Int32, offset: Offset) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// Where reading starts.
    public enum Offset: Sendable, Hashable {
        case beginning
        case end
        case at(Int64)
    }
}
