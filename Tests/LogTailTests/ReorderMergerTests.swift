import Kafka
import LogTail
import Testing

func record(_ partition: Int32, _ offset: Int64, at time: Int64?, topic: String = "t") -> KafkaRecord {
    KafkaRecord(topic: topic, partition: partition, offset: offset, timestampMilliseconds: time, key: nil,
                value: Array("\(partition)/\(offset)".utf8))
}

@Suite(.timeLimit(.minutes(1))) struct ReorderMergerTests {
    let keys = (0..<3).map { PartitionKey(topic: "t", partition: $0) }

    func drain(_ merger: inout ReorderMerger, all: Bool = false, now: Int64 = 0) -> [String] {
        var out: [String] = []
        if all { merger.releaseAll { out.append(String(decoding: $0.value, as: UTF8.self)) } } else {
            merger.release(now: now) { out.append(String(decoding: $0.value, as: UTF8.self)) }
        }
        return out
    }

    @Test func waitsForEveryOpenPartitionBeforeReleasing() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 10_000, capacity: 1_000)
        merger.add(record(0, 0, at: 100), now: 0)
        merger.add(record(0, 1, at: 300), now: 0)
        merger.add(record(1, 0, at: 200), now: 0)
        // Partition 2 has said nothing yet: it could still hold a record from time 0.
        #expect(drain(&merger).isEmpty)
        merger.add(record(2, 0, at: 150), now: 0)
        // Now 100 and 150 are safe; 200 is not: partition 2 may still send something up to 200.
        #expect(drain(&merger) == ["0/0", "2/0"])
        merger.reachedEnd(keys[2])
        // Partition 1 is empty but open, last seen at 200, so 300 waits.
        #expect(drain(&merger) == ["1/0"])
        merger.reachedEnd(keys[1])
        #expect(drain(&merger) == ["0/1"])
        #expect(merger.buffered == 0)
    }

    @Test func aStalledPartitionHoldsOthersBackAtMostTheWindow() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 1_000, capacity: 1_000)
        merger.reachedEnd(keys[2])
        merger.add(record(0, 0, at: 1_000), now: 50_000)
        merger.add(record(0, 1, at: 1_500), now: 50_400)
        #expect(drain(&merger, now: 50_900).isEmpty)  // partition 1 silent, but not for a window yet
        #expect(drain(&merger, now: 51_000) == ["0/0"])  // waited 1 s
        #expect(drain(&merger, now: 51_400) == ["0/1"])
    }

    /// `--no-follow` waits for a partition whose fetch is slow, however long: the read cannot end before
    /// that partition is read, and releasing early would only put records out of order. Following, the
    /// same stall is bounded by the window.
    @Test func aBoundedReadWaitsForASlowPartitionWhereAFollowReleasesAfterTheWindow() {
        let bounded = TailRequest(bootstrapServers: "", topics: ["t"], follow: false, windowMilliseconds: 1_000)
        let following = TailRequest(bootstrapServers: "", topics: ["t"], follow: true, windowMilliseconds: 1_000)
        for (request, expected) in [(bounded, [String]()), (following, ["0/0"])] {
            var merger = request.makeMerger(partitions: keys)
            merger.reachedEnd(keys[2])
            merger.add(record(0, 0, at: 1_000), now: 50_000)
            #expect(drain(&merger, now: 110_000) == expected, "follow: \(request.follow)")
            merger.add(record(1, 0, at: 900), now: 110_001)
            merger.reachedEnd(keys[1])
            merger.reachedEnd(keys[0])
            #expect(drain(&merger, now: 110_400) == (request.follow ? ["1/0"] : ["1/0", "0/0"]))
        }
    }

    /// A backlog: one partition's batch is hours of record time ahead of the others, which arrive a
    /// moment later. Nothing is released early.
    @Test func aPartitionFarAheadInRecordTimeStillWaitsForTheOthers() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 5_000, capacity: 1_000)
        for i in 0..<10 { merger.add(record(2, Int64(i), at: Int64(i) * 3_600_000), now: 100) }
        #expect(drain(&merger, now: 120).isEmpty)
        merger.add(record(0, 0, at: 1), now: 130)
        merger.add(record(1, 0, at: 2), now: 130)
        merger.reachedEnd(keys[0])
        merger.reachedEnd(keys[1])
        #expect(drain(&merger, now: 140).prefix(3) == ["2/0", "0/0", "1/0"])
    }

    /// Following: partitions at their end do not hold a fresh record back for longer than the grace,
    /// and a record another partition delivers within it still comes out first.
    @Test func caughtUpPartitionsHoldFreshRecordsForTheGraceOnly() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 5_000, graceMilliseconds: 300, capacity: 100)
        keys.forEach { merger.reachedEnd($0) }
        merger.add(record(2, 0, at: 9_910), now: 10_000)
        merger.reachedEnd(keys[2])
        #expect(drain(&merger, now: 10_100).isEmpty)
        merger.add(record(0, 0, at: 9_905), now: 10_150)  // written earlier, fetched later
        merger.reachedEnd(keys[0])
        #expect(drain(&merger, now: 10_200).isEmpty)
        // The oldest record (9_905) arrived last: both wait until it has had its grace, then come out in order.
        #expect(drain(&merger, now: 10_400).isEmpty)
        #expect(drain(&merger, now: 10_450) == ["0/0", "2/0"])
    }

    /// Reading a backlog (from the beginning, a time, the last N), its last records are not held for the
    /// grace once every partition is at its end: stamped more than a window before they arrived, they were
    /// not written at the same moment as anything a caught-up partition is about to deliver. A record
    /// stamped as it arrives is live and waits for the grace.
    @Test func aBacklogsLastRecordsAreNotHeldForTheGrace() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 5_000, graceMilliseconds: 300, capacity: 100)
        merger.add(record(0, 0, at: 1_000), now: 10_000)
        merger.add(record(1, 0, at: 1_001), now: 10_000)
        #expect(drain(&merger, now: 10_000).isEmpty)  // partition 2 has said nothing yet
        keys.forEach { merger.reachedEnd($0) }
        #expect(drain(&merger, now: 10_010) == ["0/0", "1/0"])
        merger.add(record(2, 0, at: 10_020), now: 10_020)
        #expect(drain(&merger, now: 10_030).isEmpty)
        #expect(drain(&merger, now: 10_320) == ["2/0"])
    }

    /// A partition written more often than a fetch waits may never report its end; its fresh records are
    /// still live, and one a caught-up partition delivers within the grace, stamped earlier, comes first.
    @Test func aBusyPartitionsFreshRecordsWaitForCaughtUpOnes() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 5_000, graceMilliseconds: 300, capacity: 100)
        merger.reachedEnd(keys[1])
        merger.reachedEnd(keys[2])
        merger.add(record(0, 0, at: 10_000), now: 10_010)  // partition 0 never said it was at its end
        #expect(drain(&merger, now: 10_020).isEmpty)
        merger.add(record(1, 0, at: 9_999), now: 10_060)
        merger.reachedEnd(keys[1])
        #expect(drain(&merger, now: 10_340).isEmpty)  // 1/0 has not had its grace yet
        #expect(drain(&merger, now: 10_360) == ["1/0", "0/0"])  // each has had its grace for quiet partition 2
    }

    /// A new reader (a replaced log) has not found any partition at its end yet: records it reads,
    /// stamped long before, wait for every partition, not just for the grace.
    @Test func afterANewReaderNoPartitionCountsAsCaughtUp() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 5_000, graceMilliseconds: 300, capacity: 100)
        keys.forEach { merger.reachedEnd($0) }
        merger.forgetCaughtUp()
        merger.add(record(2, 0, at: 1_002), now: 20_000)  // the new log, written long before
        #expect(drain(&merger, now: 20_310).isEmpty)  // past the grace: partitions 0 and 1 may hold older ones
        merger.add(record(0, 0, at: 1_000), now: 20_400)
        merger.reachedEnd(keys[1])
        #expect(drain(&merger, now: 20_710) == ["0/0"])  // partition 0 may still hold something older than 1_002
        merger.reachedEnd(keys[0])
        #expect(drain(&merger, now: 20_720) == ["2/0"])
    }

    @Test func capacityBoundsMemory() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 1_000_000, capacity: 3)
        for i in 0..<5 { merger.add(record(0, Int64(i), at: Int64(i)), now: 0) }
        #expect(drain(&merger) == ["0/0", "0/1"])
        #expect(merger.buffered == 3)
    }

    @Test func outOfOrderRecordsInOnePartitionAreSorted() {
        var merger = ReorderMerger(partitions: [keys[0]], windowMilliseconds: 10_000, capacity: 100)
        merger.add(record(0, 0, at: 300), now: 0)
        merger.add(record(0, 1, at: 100), now: 0)
        merger.add(record(0, 2, at: 200), now: 0)
        #expect(drain(&merger, all: true) == ["0/1", "0/2", "0/0"])
    }

    @Test func finishedPartitionsDoNotBlockAndUnknownOnesAreRefused() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 10_000, capacity: 100)
        merger.finish(keys[1])
        merger.finish(keys[2])
        #expect(merger.add(record(7, 0, at: 1), now: 0) == false)
        #expect(merger.add(record(0, 0, at: 5, topic: "other"), now: 0) == false)
        merger.add(record(0, 0, at: 5), now: 0)
        #expect(merger.allFinished == false)
        merger.reachedEnd(keys[0])
        #expect(merger.allCaughtUp == false)  // one record still waiting
        #expect(drain(&merger) == ["0/0"])
        #expect(merger.allCaughtUp)
        merger.finish(keys[0])
        #expect(merger.allFinished)
    }

    /// Many partitions delivered in uneven batches (as a fetcher does) come out in exact time order.
    @Test func unevenBatchesMergeIntoExactOrder() {
        let partitions = (0..<5).map { PartitionKey(topic: "t", partition: Int32($0)) }
        var generator = SystemRandomNumberGenerator()
        var lanes: [[KafkaRecord]] = Array(repeating: [], count: 5)
        var time: Int64 = 0
        for offset in 0..<2_000 {
            time += Int64.random(in: 0...3, using: &generator)
            let p = Int.random(in: 0..<5, using: &generator)
            lanes[p].append(record(Int32(p), Int64(offset), at: time))
        }
        var merger = ReorderMerger(partitions: partitions, windowMilliseconds: 1_000_000, capacity: 1_000_000)
        var out: [KafkaRecord] = []
        var cursors = Array(repeating: 0, count: 5)
        while cursors.enumerated().contains(where: { $0.element < lanes[$0.offset].count }) {
            let p = Int.random(in: 0..<5, using: &generator)
            let take = min(Int.random(in: 1...300, using: &generator), lanes[p].count - cursors[p])
            for r in lanes[p][cursors[p]..<cursors[p] + take] { merger.add(r, now: 0) }
            cursors[p] += take
            if cursors[p] == lanes[p].count { merger.reachedEnd(partitions[p]) }
            merger.release(now: 0) { out.append($0) }
        }
        merger.release(now: 0) { out.append($0) }
        #expect(out.count == 2_000)
        #expect(merger.buffered == 0)
        let times = out.map { $0.timestampMilliseconds! }
        #expect(times == times.sorted())
    }

    /// Records go through the tail moved, not copied: every record reaches the taker once, in order, and
    /// an array someone else still holds is left as it was.
    @Test func forEachMovedHandsOverEveryRecordInOrderAndSparesASharedArray() {
        let records = (0..<5).map { record(Int32($0 % 2), Int64($0), at: Int64($0)) }
        var seen: [String] = []
        records.forEachMoved { seen.append(String(decoding: $0.value, as: UTF8.self)) }  // shared: `records` is used below
        #expect(seen == ["0/0", "1/1", "0/2", "1/3", "0/4"])
        #expect(records.map(\.offset) == [0, 1, 2, 3, 4])

        var owned = records.map(\.self)
        owned.append(record(1, 5, at: 5))
        var offsets: [Int64] = []
        owned.forEachMoved { offsets.append($0.offset) }
        #expect(offsets == [0, 1, 2, 3, 4, 5])
        [KafkaRecord]().forEachMoved { _ in Issue.record("an empty array has nothing to hand over") }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ReorderMergerCapacityTests {
    let keys = (0..<2).map { PartitionKey(topic: "t", partition: $0) }

    /// Only what the capacity forces out is counted: not what is safe, not what waited out the window.
    @Test func recordsLetOutByTheCapacityAreCounted() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 1_000, capacity: 3)
        merger.add(record(0, 0, at: 10), now: 0)
        merger.add(record(1, 0, at: 20), now: 0)
        var out: [String] = []
        merger.release(now: 0) { out.append(String(decoding: $0.value, as: UTF8.self)) }
        #expect(out == ["0/0"] && merger.releasedOverCapacity == 0)  // safe: partition 1 is past 10
        for offset in 1...3 { merger.add(record(1, Int64(offset), at: 20 + Int64(offset)), now: 0) }
        // Four held, partition 0 silent: the oldest goes out over the capacity of 3.
        merger.release(now: 0) { out.append(String(decoding: $0.value, as: UTF8.self)) }
        #expect(out == ["0/0", "1/0"] && merger.releasedOverCapacity == 1)
        // The rest wait out the window: released, not counted.
        merger.release(now: 1_000) { out.append(String(decoding: $0.value, as: UTF8.self)) }
        #expect(out.count == 5 && merger.releasedOverCapacity == 1)
    }
}
