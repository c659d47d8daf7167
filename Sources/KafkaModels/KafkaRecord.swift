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

extension Array where Element == KafkaRecord {
    /// Hands each record to `body`, first to last, moved rather than copied; the array is used up.
    ///
    /// Copying a record retains its topic's name and its bytes (atomic operations, and the record was
    /// made on another thread): a flood's records passed from the reader through the merge to the lines
    /// made of them spent a third of the console's time retaining and releasing (`scripts/bench-logs`).
    /// Moved, a record is retained once when made and released once when its last holder is done.
    /// Written for records, not any element: a generic version, unspecialised in the modules that call
    /// it, copied each element through its value witness.
    public consuming func forEachMoved(_ body: (consuming KafkaRecord) throws -> Void) rethrows {
        var rest = consume self
        // Reversed in place by moving memory (a buffer's swap moves; the collection's copies), then
        // popLast moves each record out. An array shared with someone else is copied first, once.
        rest.withUnsafeMutableBufferPointer { $0.reverse() }
        while let record = rest.popLast() { try body(record) }
    }
}
