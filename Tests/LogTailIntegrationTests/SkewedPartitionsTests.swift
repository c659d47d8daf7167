import Foundation
import Kafka
import LogTail
import StackSupport
import Testing

/// A topic whose partitions were written one after another: read from its beginning, the merge must wait
/// for the oldest partition while the others deliver newer records.
@Suite(.timeLimit(.minutes(3))) struct SkewedPartitionsTests {
    /// 30,000 records a partition, partition 0 the oldest, written one partition after another. The merge
    /// may hold 50,000: without pausing the partitions ahead it held 60,000 and let the oldest out early,
    /// out of order; paused, they wait in the broker, and every record comes once, in time order.
    @Test func partitionsAheadWaitInTheBrokerAndEveryRecordComesOnceInOrder() async throws {
        try await Stack.ensureUp()
        let topic = uniqueName("tail-skewed")
        let perPartition = 30_000
        try await offPool {
            let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap)
            try producer.createTopic(topic, partitions: 3)
            let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            for partition in 0..<3 {
                for i in 0..<perPartition {
                    let n = partition * perPartition + i
                    try producer.send(topic: topic, value: Array("\(n)".utf8), partition: Int32(partition),
                                      timestampMilliseconds: base + Int64(n))
                }
                try producer.flush()
            }
        }
        var request = TailRequest(bootstrapServers: Stack.kafkaBootstrap, topics: [topic], start: .beginning, follow: false)
        request.capacity = 50_000
        var values: [Int] = []
        values.reserveCapacity(3 * perPartition)
        try await KafkaTail(request).run(deliver: { records in
            records.forEachMoved { values.append(Int(String(decoding: $0.value, as: UTF8.self)) ?? -1) }
        }, notice: { _ in })
        #expect(values.count == 3 * perPartition, "records read: \(values.count)")
        let outOfOrder = zip(values, values.dropFirst()).filter { $0 >= $1 }.count
        #expect(outOfOrder == 0, "records out of order or repeated: \(outOfOrder)")
        #expect(Set(values) == Set(0..<(3 * perPartition)))
    }
}
