import Kafka
import StackSupport
import Testing

/// Against the stack's broker (Tansu) with the librdkafka the stack built.
@Suite(.timeLimit(.minutes(5))) struct KafkaRoundTripTests {
    /// Debian 12's librdkafka 2.0.2 has the same soname and fails against the broker; it must not load.
    @Test func loadsLibrdkafkaTwoPointOneOrNewer() {
        let version = KafkaLibrary.runtimeVersionNumbers
        #expect(version.lexicographicallyPrecedes([2, 1, 0]) == false, "loaded librdkafka \(KafkaLibrary.runtimeVersion)")
    }

    @Test func recordsComeBackExactlyOnceWithKeysAndTimestamps() async throws {
        try await Stack.ensureUp()
        let topic = uniqueName("roundtrip")
        let count = 1_000
        let baseTime: Int64 = 1_700_000_000_000
        // librdkafka's calls block: off the cooperative pool, which every other suite's awaits need.
        let (producer, partitions) = try await offPool { () throws -> (KafkaProducer, Int) in
            let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap)
            try producer.createTopic(topic, partitions: 3)
            let partitions = try producer.partitionCount(of: topic)
            for i in 0..<count {
                try producer.send(topic: topic, key: Array("instance-\(i % 3)".utf8), value: Array("line \(i)".utf8),
                                  partition: Int32(i % 3), timestampMilliseconds: baseTime + Int64(i))
            }
            try producer.flush()
            return (producer, partitions)
        }
        #expect(partitions == 3)
        #expect(producer.deliveredRecords == count)
        #expect(producer.failedDeliveries == 0)

        let reader = try PartitionReader(bootstrapServers: Stack.kafkaBootstrap)
        let events = try reader.read((0..<3).map { PartitionStart(topic: topic, partition: $0, offset: .beginning) })
        var seen: [String: KafkaRecord] = [:]
        var ended = Set<Int32>()
        for await event in events {
            switch event {
            case .records(let records):
                for record in records {
                    let value = String(decoding: record.value, as: UTF8.self)
                    #expect(seen[value] == nil, "duplicate \(value)")
                    seen[value] = record
                }
            case .endOfPartition(_, let partition, _):
                ended.insert(partition)
            case .error(let error):
                Issue.record("reader error: \(error)")
            case .idle:
                break
            }
            if ended.count == 3 && seen.count == count { break }
        }
        #expect(seen.count == count)
        let line7 = try #require(seen["line 7"])
        #expect(line7.partition == 1)
        #expect(line7.key.map { String(decoding: $0, as: UTF8.self) } == "instance-1")
        #expect(line7.timestampMilliseconds == baseTime + 7)
        #expect(line7.topic == topic)
        // Offsets within a partition are dense and in production order.
        let partition0 = seen.values.filter { $0.partition == 0 }.sorted { $0.offset < $1.offset }
        #expect(partition0.map(\.offset) == Array(0..<Int64(partition0.count)))
    }

    @Test func aFullLocalQueueIsReportedNotBlocking() throws {
        let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap,
                                         properties: ["queue.buffering.max.messages": "10", "linger.ms": "10000"])
        var queueFull = false
        for i in 0..<100 {
            do { try producer.send(topic: uniqueName("full"), value: Array("x\(i)".utf8)) } catch let error as KafkaError {
                queueFull = error.isQueueFull
                break
            }
        }
        #expect(queueFull)
    }

    @Test func badConfigurationIsExplained() {
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap, properties: ["no.such.property": "1"])
        }
    }
}
