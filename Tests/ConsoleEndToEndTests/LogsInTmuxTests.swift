import Foundation
import Kafka
import StackSupport
import Testing

/// The logs pane against the stack's broker: search-server instances shipping their logs to a topic
/// named after their service, the console following it.
@Suite(.timeLimit(.minutes(3))) struct LogsInTmuxTests {
    @Test func linesOfTheSelectedInstanceFollowFilterAndWidenToAll() async throws {
        try await Stack.ensureUp()
        let service = "e2l-\(UInt32.random(in: 0...UInt32.max))"
        try await offPool {
            try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap).createTopic(service, partitions: 3)
        }
        let e2e = ConsoleInTmuxTests()
        let instances = try e2e.startInstances(service, count: 2, flags: ["--kafka-topic", service, "--log-level", "debug"])
        defer { instances.forEach { $0.signal(SIGTERM) } }
        let port = try await MetricsInTmuxTests().eventuallyPort(instances[0])
        let tmux = try Tmux(width: 160, height: 50, command: "\(ConsoleInTmuxTests.opsdeck) --consul 127.0.0.1:8500")
        try await tmux.waitFor("the service listed") { $0.contains(service) }
        try tmux.sendText(":instances \(service)")
        try tmux.send("Enter")
        // Instance 1 is selected: the pane shows its lines only, its start-up among them.
        // (40 s: the servers' start-up lines go through Kafka while every suite starts at once.)
        try await tmux.waitFor("instance 1's own lines", timeout: .seconds(40)) { screen in
            screen.contains("logs  \(service) › \(service)-1 only") && screen.contains("\(service)-1 info    serving")
                && !screen.contains("\(service)-2 info    serving")
        }
        // Searches sent to it show within seconds (debug lines, one per call).
        let started = ContinuousClock.now
        let load = try ChildProcess(MetricsInTmuxTests.searchBench, ["--target", "127.0.0.1:\(port)", "--seconds", "30", "--rate", "20"])
        defer { load.signal(SIGTERM) }
        try await tmux.waitFor("search lines in the pane", timeout: .seconds(30)) { $0.contains("\(service)-1 debug   search") }
        print("first search line shown \(ContinuousClock.now - started) after the load started (search-bench's 1 s warm-up included)")
        // At 20 lines a second the tail keeps up: the status bar says so.
        try await tmux.waitFor("the logs caught up in the status bar") { $0.contains("● logs caught up") }

        // Focus the logs (Tab: metrics, then logs), filter as typed, then every instance's lines.
        try tmux.send("Tab")
        try tmux.send("Tab")
        try await tmux.waitFor("the logs focused") { $0.contains("┏ logs  \(service)") }
        try tmux.sendText("/serving")
        try tmux.send("Enter")
        try await tmux.waitFor("only serving lines") { screen in
            screen.contains("/serving") && !screen.contains("debug   search")
        }
        try tmux.send("a")
        do {
            try await tmux.waitFor("both instances' serving lines", timeout: .seconds(40)) { screen in
                screen.contains("\(service)-1 info    serving") && screen.contains("\(service)-2 info    serving")
            }
        } catch {
            // Seen twice: instance 2's lines were not among the pane's. Say whether they reached the topic, and
            // where they are (text output: `time instance level message`; raw is the JSON, where " serving "
            // never matched).
            let topic = try await offPool { try Stack.run(ConsoleInTmuxTests.opsdeck, ["tail", service, "--from", "beginning", "--no-follow", "--output", "text"]) }
            let lines = topic.output.split(separator: "\n")
            let serving = lines.filter { $0.contains(" serving ") }
            let second = lines.filter { $0.contains("\(service)-2 ") }.count
            throw StackError(message: "\(error)\nthe topic (opsdeck tail, exit \(topic.status)): \(lines.count) lines, \(second) of them instance 2's; "
                             + "its serving lines:\n\(serving.joined(separator: "\n"))\ninstance 2's stderr:\n\(instances[1].stderr.suffix(2_000))")
        }
        // Scrolling back pauses; G follows again.
        try tmux.send("k")
        try await tmux.waitFor("paused") { $0.contains("paused") }
        try tmux.send("G")
        try await tmux.waitFor("following") { $0.contains("following") }
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }
}

/// The broker goes away under the logs pane and comes back: the status bar says so, and the pane goes on
/// with nothing lost and nothing twice. A relay in front of a private broker cuts the path and restores it
/// (the broker keeps its log; restarting Tansu, memory-only, would empty it).
@Suite(.timeLimit(.minutes(3))) struct LogsBrokerOutageInTmuxTests {
    func consul(_ method: String, _ path: String, _ body: String = "") throws {
        let result = try Stack.run("/usr/bin/curl", ["-fsS", "-X", method, "-d", body, "http://127.0.0.1:8500\(path)"])
        guard result.status == 0 else { throw StackError(message: "curl \(method) \(path): \(result.output)") }
    }

    @Test func anOutageIsShownAndThePaneContinuesWithoutLossOrRepeat() async throws {
        try await Stack.ensureUp()
        let service = "e2o-\(UInt32.random(in: 0...UInt32.max))"
        let brokerPort = try freePort()
        let relay = try TCPRelay(to: brokerPort)
        let broker = try await offPool { try ScratchBroker(port: brokerPort, advertisedPort: relay.port) }
        let producer = try KafkaProducer(bootstrapServers: broker.bootstrap)
        try await offPool { try producer.createTopic(service, partitions: 3) }
        @Sendable func write(_ prefix: String, _ count: Int) throws {
            let base = Int64(Date().timeIntervalSince1970 * 1000)
            for i in 0..<count {
                try producer.send(topic: service, key: Array("\(service)-1".utf8), value: Array("\(prefix) \(i)".utf8),
                                  partition: Int32(i % 3), timestampMilliseconds: base + Int64(i))
            }
            try producer.flush()
        }
        try consul("PUT", "/v1/agent/service/register", #"{"ID":"\#(service)-1","Name":"\#(service)","Address":"127.0.0.1","Port":1}"#)
        defer { try? consul("PUT", "/v1/agent/service/deregister/\(service)-1") }
        try await offPool { try write("before", 20) }

        let tmux = try Tmux(width: 150, height: 70, command: "\(ConsoleInTmuxTests.opsdeck) --consul 127.0.0.1:8500 --brokers \(broker.bootstrap)")
        try await tmux.waitFor("the service listed") { $0.contains(service) }
        try tmux.sendText(":instances \(service)")
        try tmux.send("Enter")
        try tmux.send("Tab")
        try tmux.send("Tab")
        try tmux.send("z")  // the logs pane, zoomed: every line on screen
        try await tmux.waitFor("the lines before the outage") { $0.contains("before 19") && $0.contains("┏ logs  \(service)") }

        relay.cut()
        try await tmux.waitFor("the outage on the status bar", timeout: .seconds(30)) { $0.contains("✖ logs: broker unreachable") }
        try relay.restore()
        try await offPool { try write("after", 20) }
        let screen = try await tmux.waitFor("the lines after the return", timeout: .seconds(30)) { $0.contains("after 19") }
        try await tmux.waitFor("the logs live again") { $0.contains("● logs") }
        for prefix in ["before", "after"] {
            for i in 0..<20 {
                let count = screen.components(separatedBy: "\(prefix) \(i)\n").count - 1
                    + screen.components(separatedBy: "\(prefix) \(i) ").count - 1
                #expect(count == 1, "\(prefix) \(i) shown \(count) times:\n\(screen)")
            }
        }
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }
}
