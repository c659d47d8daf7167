import Foundation
import Kafka
import LogTail
import Testing

@Suite(.timeLimit(.minutes(1))) struct TailPositionTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    var nowMs: Int64 { 1_795_000_000_000 }

    @Test func namedPositionsAndLastN() throws {
        #expect(try TailPosition.parseStart("end", now: now) == .end)
        #expect(try TailPosition.parseStart("beginning", now: now) == .beginning)
        #expect(try TailPosition.parseStart("-250", now: now) == .last(250))
    }

    @Test func durationsCountBackFromNow() throws {
        #expect(try TailPosition.parseStart("15m", now: now) == .time(nowMs - 900_000))
        #expect(try TailPosition.parseStart("1h30m", now: now) == .time(nowMs - 5_400_000))
        #expect(try TailPosition.parseStart("500ms", now: now) == .time(nowMs - 500))
        #expect(try TailPosition.parseStart("2d", now: now) == .time(nowMs - 172_800_000))
        #expect(try TailPosition.parseUntil("now", now: now) == nowMs)
    }

    @Test func rfc3339WithAndWithoutFractionAndOffset() throws {
        #expect(try TailPosition.parseStart("2026-11-27T14:05:00Z", now: now) == .time(1_795_788_300_000))
        #expect(try TailPosition.parseStart("2026-11-27T14:05:00.250Z", now: now) == .time(1_795_788_300_250))
        #expect(try TailPosition.parseUntil("2026-11-27T15:05:00+01:00", now: now) == 1_795_788_300_000)
    }

    /// Durations are GoDuration's: bounded (a huge one is refused, not a trap), never negative.
    @Test func hugeAndNegativeDurationsAreRefused() {
        #expect(TailPosition.parseDuration("99999999999999999999d") == nil)
        #expect(TailPosition.parseDuration("1e300s") == nil)
        #expect(TailPosition.parseDuration("-5m") == nil && TailPosition.parseDuration("+5m") == nil)
        #expect(abs((TailPosition.parseDuration("36500d") ?? 0) - 36_500 * 86_400) < 0.001)
        #expect(throws: TailArgumentError.self) { try TailPosition.parseStart("99999999999999999999d", now: now) }
        #expect(throws: TailArgumentError.self) { try TailPosition.parseUntil("-5m", now: now) }
    }

    @Test func badValuesSayWhatIsAccepted() {
        for bad in ["yesterday", "-0", "15x", "2026-11-27 14:05", "", "m", "99999999999999999999d", "-5m"] {
            #expect {
                _ = try TailPosition.parseStart(bad, now: now)
            } throws: { error in
                let message = (error as? TailArgumentError)?.message ?? ""
                return message.hasPrefix("--from \(bad):") && (message.contains("RFC 3339") || message.contains("at least 1"))
            }
        }
        #expect(throws: TailArgumentError.self) { try TailPosition.parseUntil("soon", now: now) }
    }
}

/// A tail that starts over shows nothing twice and skips nothing.
@Suite(.timeLimit(.minutes(1))) struct TailResumeTests {
    func record(_ partition: Int32, _ offset: Int64, at time: Int64) -> KafkaRecord {
        KafkaRecord(topic: "logs", partition: partition, offset: offset, timestampMilliseconds: time, key: nil, value: Array("\(partition):\(offset)".utf8))
    }

    @Test func recordsAreAdmittedOnceAndTheRestartIsTheNewestTime() {
        var resume = TailResume()
        #expect(resume.restart(from: .last(200)) == .last(200))  // nothing shown yet: as asked
        let first = [record(0, 10, at: 1_000), record(1, 4, at: 1_005), record(0, 11, at: 1_005)]
        #expect(resume.admit(first) == first)
        #expect(resume.restart(from: .last(200)) == .time(1_005))
        // Started over at 1,005: the two records of that millisecond come again and are dropped; the
        // one after them, and a partition's first record, are new.
        let again = [record(1, 4, at: 1_005), record(0, 11, at: 1_005), record(0, 12, at: 1_006), record(2, 0, at: 1_007)]
        #expect(resume.admit(again) == [record(0, 12, at: 1_006), record(2, 0, at: 1_007)])
        #expect(resume.restart(from: .end) == .time(1_005))  // partition 1 is behind: from its newest
        // Partition 1 lagged: its records older than the others' newest are read again, not skipped.
        #expect(resume.admit([record(1, 5, at: 1_006), record(0, 12, at: 1_006)]) == [record(1, 5, at: 1_006)])
        #expect(resume.restart(from: .end) == .time(1_006))
    }

    /// A replaced log (a memory-only broker restarted) reuses offsets: once forgotten, its records are new
    /// again, and the other partitions still drop what they showed.
    @Test func aForgottenPartitionAdmitsItsReusedOffsets() {
        var resume = TailResume()
        _ = resume.admit([record(0, 10, at: 1_000), record(1, 4, at: 1_001)])
        #expect(resume.admit([record(0, 10, at: 1_000)]).isEmpty)  // shown before: dropped
        resume.forget(topic: "logs", partition: 0)
        #expect(resume.admit([record(0, 10, at: 2_000), record(1, 4, at: 1_001)]) == [record(0, 10, at: 2_000)])
    }

    /// Two instances whose keys hash to one partition, starting together: their stamps interleave, so the
    /// merge releases that partition's offsets out of order. Every record is shown once, and once only
    /// after a restart reads them all again.
    @Test func aPartitionReleasedOutOfOffsetOrderLosesNothing() {
        let key = PartitionKey(topic: "logs", partition: 0)
        var merger = ReorderMerger(partitions: [key], windowMilliseconds: 1_000, capacity: 1_000)
        // Instance 1's batch at offsets 0-2, instance 2's at 3-5, stamped in between.
        let written = zip(0..<6, [10, 12, 14, 11, 13, 15]).map { record(0, Int64($0), at: Int64($1)) }
        for record in written { merger.add(record, now: 0) }
        merger.reachedEnd(key)
        var released: [KafkaRecord] = []
        merger.releaseAll { released.append($0) }
        #expect(released.map(\.offset) == [0, 3, 1, 4, 2, 5])  // by time, as the pane shows them

        var resume = TailResume()
        #expect(resume.admit(released) == released)
        #expect(resume.admit(written).isEmpty)  // read again after a restart: nothing twice
        // A record the first read never delivered (it sat in the merge when the tail failed) comes now.
        #expect(resume.admit([record(0, 7, at: 17), record(0, 6, at: 16)]) == [record(0, 7, at: 17), record(0, 6, at: 16)])
        #expect(resume.admit((0...7).map { record(0, $0, at: 20) }).isEmpty)
    }

    /// A partition with more holes than it keeps (a producer far ahead of another in one partition)
    /// forgets its oldest admitted offsets: those may show twice after a restart, and no record is lost.
    @Test func aPartitionWithManyHolesLosesNothing() {
        var resume = TailResume()
        let kept = TailResume.rangesPerPartition
        // 10 more runs than kept: offsets 0, 2, ..., each its own run; the ten oldest are forgotten.
        for offset in stride(from: Int64(0), to: Int64(2 * (kept + 10)), by: 2) { _ = resume.admit([record(0, offset, at: 1)]) }
        #expect(resume.admit([record(0, 1, at: 1)]) == [record(0, 1, at: 1)])  // a hole: never shown yet
        #expect(resume.admit([record(0, 0, at: 1)]) == [record(0, 0, at: 1)])  // forgotten: shown again, not lost
        #expect(resume.admit([record(0, Int64(2 * (kept + 9)), at: 1)]).isEmpty)  // the newest are remembered
        #expect(resume.admit([record(0, 21, at: 1)]) == [record(0, 21, at: 1)])  // a hole between remembered ones
        #expect(resume.admit([record(0, 20, at: 1), record(0, 21, at: 1), record(0, 22, at: 1)]).isEmpty)
    }
}
