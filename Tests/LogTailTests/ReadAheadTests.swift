@testable import LogTail
import Testing

@Suite(.timeLimit(.minutes(1))) struct ReadAheadTests {
    /// librdkafka's read-ahead limits count per partition: a topic of many partitions gets a share each, so
    /// that the whole stays near what three partitions get, with a floor that keeps each one reading.
    @Test func theReadAheadIsSharedOutOverThePartitions() {
        func limits(_ partitions: Int) -> (records: Int, kilobytes: Int) {
            let properties = KafkaTail.readAhead(partitions: partitions)
            return (Int(properties["queued.min.messages"]!)!, Int(properties["queued.max.messages.kbytes"]!)!)
        }
        for partitions in 1...3 { #expect(limits(partitions) == (100_000, 2_048)) }
        for partitions in [4, 7, 12, 50, 64, 200, 1_000] {
            let (records, kilobytes) = limits(partitions)
            #expect(records < 100_000 && kilobytes < 2_048, "\(partitions) partitions")
            #expect(records * partitions <= max(300_000, 5_000 * partitions), "\(partitions) partitions: \(records) records each")
            #expect(kilobytes * partitions <= max(6_144, 256 * partitions), "\(partitions) partitions: \(kilobytes) KiB each")
        }
    }
}
