import Kafka
@testable import LogTail
import Testing

/// Each change of the tail's connection is said once, and said again when it comes back after an outage.
@Suite(.timeLimit(.minutes(1))) struct LivenessTests {
    @Test func aTopicStillMissingAfterAnOutageIsSaidAgain() {
        var said: [TailNotice] = []
        var liveness = Liveness { said.append($0) }
        let down = KafkaError(code: -195, message: "broker down")
        liveness.reachable()
        liveness.waiting(for: "consul")
        liveness.waiting(for: "consul")  // each retry of the same wait: said once
        liveness.failed(down)
        liveness.failed(down)
        // Back, and the topic is still not there (the order `retryWhileUnreachable` keeps).
        liveness.reachable()
        liveness.waiting(for: "consul")
        #expect(said == [.waitingForTopic("consul"), .brokerUnreachable(reason: "broker down"), .brokerReachable,
                         .waitingForTopic("consul")])
    }
}
