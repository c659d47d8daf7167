@testable import Deadlines
import Synchronization
import Testing

/// `withDeadline`, whose deadlines all share one timer (`DeadlineTimer`).
@Suite(.timeLimit(.minutes(1))) struct DeadlineTests {
    @Test func anAnswerInTimeIsReturnedAndNothingIsAbandoned() async throws {
        let abandoned = AbandonedOperations()
        #expect(try await withDeadline(.seconds(5), abandoned: abandoned) { 42 } == 42)
        #expect(abandoned.count == 0)
    }

    @Test func anErrorFromTheOperationIsThrown() async {
        struct Broken: Error {}
        await #expect(throws: Broken.self) { try await withDeadline(.seconds(5)) { () async throws -> Int in throw Broken() } }
    }

    /// An operation that ignores cancellation: the caller gets `DeadlineExceeded` on time (deadlines that
    /// end together, on one timer), each operation counts as abandoned until it ends at last.
    @Test func noAnswerMeetsTheDeadlineAndCountsUntilItEnds() async throws {
        let abandoned = AbandonedOperations()
        let gate = Gate()
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { calls in
            for limit in [200, 300, 250] {
                calls.addTask {
                    await #expect(throws: DeadlineExceeded.self) {
                        try await withDeadline(.milliseconds(limit), abandoned: abandoned) { await gate.pass(); return 1 }
                    }
                    // Not before; and late by the timer's granularity, or by a CPU-starved test machine.
                    let took = clock.now - start
                    #expect(took >= .milliseconds(limit) && took < .milliseconds(limit) + .seconds(10))
                }
            }
            try await calls.waitForAll()
        }
        #expect(abandoned.count == 3)
        gate.open()
        let deadline = clock.now + .seconds(10)
        while abandoned.count > 0 && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(abandoned.count == 0)
    }

    @Test func aCancelledCallerStopsWaiting() async throws {
        let abandoned = AbandonedOperations()
        let gate = Gate()
        let caller = Task { try await withDeadline(.seconds(30), abandoned: abandoned) { await gate.pass(); return 1 } }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(abandoned.count == 1)
        gate.open()
    }

    /// A deadline earlier than the one the timer waits for is not kept waiting for it.
    @Test func anEarlierDeadlineFiresBeforeALaterOneAddedFirst() async throws {
        let timer = DeadlineTimer(granularity: .milliseconds(20))
        let clock = ContinuousClock()
        let start = clock.now
        let late = Expiry(), early = Expiry()
        timer.add(late, in: .milliseconds(600))
        timer.add(early, in: .milliseconds(100))
        while late.at == nil && clock.now - start < .seconds(20) { try await Task.sleep(for: .milliseconds(10)) }
        let earlyAt = try #require(early.at), lateAt = try #require(late.at)
        #expect(earlyAt - start >= .milliseconds(100) && earlyAt - start < .milliseconds(500))
        #expect(lateAt - start >= .milliseconds(600))
    }

    final class Expiry: DeadlineExpiring {
        private let moment = Mutex<ContinuousClock.Instant?>(nil)
        var at: ContinuousClock.Instant? { moment.withLock { $0 } }
        func expire() { moment.withLock { $0 = $0 ?? .now } }
    }

    /// Holds callers until opened; ignores cancellation, as postgres-nio waiting for a dead server does.
    final class Gate: Sendable {
        private let waiting = Mutex<(open: Bool, callers: [CheckedContinuation<Void, Never>])>((false, []))
        func pass() async {
            await withCheckedContinuation { caller in
                let now = waiting.withLock { w -> Bool in
                    if !w.open { w.callers.append(caller) }
                    return w.open
                }
                if now { caller.resume() }
            }
        }
        func open() {
            for caller in waiting.withLock({ w in w.open = true; defer { w.callers = [] }; return w.callers }) { caller.resume() }
        }
    }
}
