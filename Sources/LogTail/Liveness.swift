import Kafka

/// Reports each change of connection state once (not once per failed request).
struct Liveness {
    let notice: (TailNotice) -> Void
    private(set) var isDown = false
    private var waitingFor: Set<String> = []
    /// Problems said since the broker was last heard from, each once (partitions report them in turn).
    private var problemsSaid: Set<String> = []

    init(notice: @escaping (TailNotice) -> Void) { self.notice = notice }

    mutating func failed(_ error: KafkaError) {
        // Transport-level failures mean the broker is away; anything else is reported as it comes.
        let transport: Set<Int32> = [-195, -187, -185, -192]  // _TRANSPORT, _ALL_BROKERS_DOWN, _TIMED_OUT, _MSG_TIMED_OUT
        if transport.contains(error.code) {
            if !isDown { notice(.brokerUnreachable(reason: error.message)) }
            isDown = true
        } else if problemsSaid.insert(error.message).inserted {
            notice(.problem(error.message))  // once, not once per retry
        }
    }

    mutating func reachable() {
        if isDown {
            notice(.brokerReachable)
            // Said again after an outage: the pane takes `.brokerReachable` as reading, and a topic still
            // missing must not show as a live feed.
            waitingFor = []
        }
        isDown = false
        problemsSaid = []
    }

    mutating func waiting(for topic: String) {
        if waitingFor.insert(topic).inserted { notice(.waitingForTopic(topic)) }
    }
}
