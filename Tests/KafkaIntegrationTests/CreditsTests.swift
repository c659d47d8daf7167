import Foundation
import Synchronization
@testable import Kafka
import Testing

/// The reader's flow control, without a broker.
@Suite(.timeLimit(.minutes(1))) struct CreditsTests {
    /// Runs `body` on a thread of its own (it may block) and waits at most `seconds` for it.
    func onThread(within seconds: Double, _ body: @escaping @Sendable () -> Bool) -> Bool? {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Bool?>(nil)
        Thread { result.withLock { $0 = body() }; done.signal() }.start()
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return result.withLock { $0 }
    }

    @Test func sendsWaitForTheConsumerUntilItStopsThenNeverAgain() {
        let credits = Credits(2)
        #expect(credits.take() && credits.take())
        // No credit left: a third send waits, and one given back lets it through.
        #expect(onThread(within: 0.3) { credits.take() } == nil, "a send went through without a credit")
        credits.giveBack()  // taken by that waiting send
        // The consumer stops: every send from now on returns at once, however many.
        credits.stop()
        #expect(onThread(within: 5) { (0..<100).allSatisfy { _ in !credits.take() } } == true,
                "a send after the stop waited for a credit")
    }
}
