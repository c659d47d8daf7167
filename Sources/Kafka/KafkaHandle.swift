import CRdKafka

/// The version of the librdkafka actually loaded at run time (two copies share one soname, so the
/// build-time one proves nothing).
public enum KafkaLibrary {
    public static var runtimeVersion: String { String(cString: rd_kafka_version_str()) }

    /// `runtimeVersion` as comparable numbers, e.g. [2, 8, 0].
    public static var runtimeVersionNumbers: [Int] {
        let v = rd_kafka_version()  // 0xMMmmrrxx
        return [Int((v >> 24) & 0xff), Int((v >> 16) & 0xff), Int((v >> 8) & 0xff)]
    }
}

/// Builds a librdkafka configuration from properties; `bootstrap.servers` is required.
func makeConfiguration(_ properties: [String: String]) throws -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errbuf = [CChar](repeating: 0, count: 512)
    // Sorted, so that a bad property is reported the same way every time.
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        if rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                             message: "\(key): \(errorText(errbuf))")  // not the value: it may be a password
        }
    }
    return conf
}

/// Creates a client handle, taking ownership of `conf`.
func makeHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
    var errbuf = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
        rd_kafka_conf_destroy(conf)  // only consumed on success
        throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: errorText(errbuf))
    }
    return handle
}

/// Number of partitions of a topic, from the broker's metadata.
func fetchPartitionCount(handle: OpaquePointer, topic: String, timeoutMilliseconds: Int32) throws -> Int {
    guard let rkt = rd_kafka_topic_new(handle, topic, nil) else {
        throw KafkaError(rd_kafka_last_error(), context: "topic \(topic)")
    }
    defer { rd_kafka_topic_destroy(rkt) }
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let err = rd_kafka_metadata(handle, 0, rkt, &metadata, timeoutMilliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError(err, context: "metadata for \(topic)")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    guard metadata.pointee.topic_cnt == 1 else { return 0 }
    let entry = metadata.pointee.topics[0]
    if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(entry.err, context: "topic \(topic)") }
    return Int(entry.partition_cnt)
}

/// The NUL-terminated text librdkafka wrote into an error buffer.
func errorText(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
