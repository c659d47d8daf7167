import Kafka
import LogTail
import Testing

@Suite(.timeLimit(.minutes(1))) struct FetchThrottleTests {
    let keys = (0..<3).map { PartitionKey(topic: "t", partition: $0) }

    /// `count` records of `partition` from `offset` on, stamped from `time` on.
    func fill(_ merger: inout ReorderMerger, _ partition: Int32, from offset: Int64 = 0, count: Int, at time: Int64) {
        for i in 0..<Int64(count) { merger.add(record(partition, offset + i, at: time + i), now: 0) }
    }

    @Test func partitionsAheadArePausedWhileAnotherIsAwaitedAndResumedWhenItArrives() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: .max, capacity: 100_000)
        var throttle = FetchThrottle()
        fill(&merger, 1, count: FetchThrottle.pauseAt, at: 1_000_000)
        fill(&merger, 2, count: FetchThrottle.pauseAt - 1, at: 2_000_000)
        // Partition 0 has delivered nothing: partition 1 holds enough to be paused, 2 not yet.
        var decision = throttle.adjust(merger, lanes: 3) { Int64($0 == 1 ? FetchThrottle.pauseAt : 0) }
        #expect(decision.pause == [1] && decision.resume.isEmpty)
        #expect(throttle.repeatsBelow == [1: Int64(FetchThrottle.pauseAt)])
        // Asked again with nothing changed: nothing to do.
        decision = throttle.adjust(merger, lanes: 3) { _ in 0 }
        #expect(decision.pause.isEmpty && decision.resume.isEmpty)
        // Partition 0 delivers older records and reaches its end: nothing is awaited, 1 resumes.
        fill(&merger, 0, count: 10, at: 0)
        merger.reachedEnd(keys[0])
        merger.release(now: 0) { _ in }
        decision = throttle.adjust(merger, lanes: 3) { _ in 0 }
        #expect(decision.pause.isEmpty && decision.resume == [1])
        #expect(throttle.paused.isEmpty)
    }

    @Test func aPausedPartitionResumesOnceHalfOfWhatItHeldIsOut() {
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: 1_000, capacity: 100_000)
        var throttle = FetchThrottle()
        fill(&merger, 1, count: FetchThrottle.pauseAt, at: 0)
        merger.reachedEnd(keys[2])
        #expect(throttle.adjust(merger, lanes: 3) { _ in nil }.pause == [1])
        // Partition 0 stays silent; the window lets partition 1's records out anyway.
        merger.release(now: 5_000) { _ in }
        #expect(merger.held(lane: 1) == 0)
        fill(&merger, 1, from: Int64(FetchThrottle.pauseAt), count: FetchThrottle.pauseAt / 2 - 1, at: 100_000)
        #expect(throttle.adjust(merger, lanes: 3) { _ in nil }.resume == [1])
    }

    @Test func recordsBelowThePauseMarkAreRepeatsUntilItIsPassed() {
        var throttle = FetchThrottle()
        var merger = ReorderMerger(partitions: keys, windowMilliseconds: .max, capacity: 100_000)
        fill(&merger, 1, count: FetchThrottle.pauseAt, at: 1_000)
        _ = throttle.adjust(merger, lanes: 3) { _ in 500 }
        #expect(throttle.repeatsBelow[1] == 500)
        throttle.passed(lane: 1, lastOffset: 499)  // a run of repeats only
        #expect(throttle.repeatsBelow[1] == 500)
        throttle.passed(lane: 1, lastOffset: 500)
        #expect(throttle.repeatsBelow[1] == nil)
        _ = throttle.adjust(merger, lanes: 3) { _ in 900 }
        throttle.reset()
        #expect(throttle.paused.isEmpty && throttle.repeatsBelow.isEmpty)
    }
}
