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
        do {
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
            try await tmux.waitFor("both instances' serving lines", timeout: .seconds(40)) { screen in
                screen.contains("\(service)-1 info    serving") && screen.contains("\(service)-2 info    serving")
            }
        } catch {
            throw StackError(message: "\(error)\n" + (try await whatReachedTheTopic(service, instances: instances, load: load)))
        }
        // Scrolling back pauses; G follows again.
        try tmux.send("k")
        try await tmux.waitFor("paused") { $0.contains("paused") }
        try tmux.send("G")
        try await tmux.waitFor("following") { $0.contains("following") }
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }

    /// Whether the lines a failed wait looked for reached the topic at all, and what the load and the
    /// instances said: the two failures seen in CI (no search lines in 30 s; instance 2's serving line
    /// missing after widening) need it to tell a lost record from a late one. (The second was most likely a
    /// loss: the pane dropped records of one partition released out of offset order, fixed in TailResume;
    /// a failing run held 397 of the topic's 400 lines.) Read as text (`time instance
    /// level message`); raw is the JSON, where " serving " never matched.
    func whatReachedTheTopic(_ service: String, instances: [ChildProcess], load: ChildProcess) async throws -> String {
        let topic = try await Stack.run(ConsoleInTmuxTests.opsdeck, ["tail", service, "--from", "beginning", "--no-follow", "--output", "text"])
        let lines = topic.output.split(separator: "\n")
        let perInstance = (1...instances.count).map { n in
            let own = lines.filter { $0.contains(" \(service)-\(n) ") }
            let printed = instances[n - 1].stdout.split(separator: "\n").filter { $0.contains("debug") && $0.contains("search") }.count
            return "instance \(n): \(own.count) lines, \(own.filter { $0.contains(" search") }.count) search lines "
                + "(\(printed) in its stdout), "
                + "serving: \(own.filter { $0.contains(" serving ") }.joined(separator: " | "))"
        }
        return "the topic (opsdeck tail, exit \(topic.status)): \(lines.count) lines\n" + perInstance.joined(separator: "\n")
            + "\nthe load (search-bench, \(load.isRunning ? "running" : "ended")): \(load.stdout.suffix(600)) \(load.stderr.suffix(600))"
            + instances.enumerated().map { "\ninstance \($0.offset + 1)'s stderr: \($0.element.stderr.suffix(800))" }.joined()
    }
}

/// The broker goes away under the logs pane and comes back: the status bar says so, and the pane goes on
/// with nothing lost and nothing twice. A relay in front of a private broker cuts the path and restores it
/// (the broker keeps its log; restarting Tansu, memory-only, would empty it).
@Suite(.timeLimit(.minutes(3))) struct LogsBrokerOutageInTmuxTests {
    func consul(_ method: String, _ path: String, _ body: String = "") throws {
        let result = try Stack.runBlocking("/usr/bin/curl", ["-fsS", "-X", method, "-d", body, "http://127.0.0.1:8500\(path)"])
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
        // Every line once, on one screen: judged on a settled screen, not on the first that shows the last
        // line (a capture can fall inside a frame being drawn).
        do {
            try await tmux.waitFor("every line once", timeout: .seconds(30)) { Self.wrongCounts($0).isEmpty }
        } catch {
            let screen = try tmux.screen()
            Issue.record("\(error)\nlines not shown exactly once: \(Self.wrongCounts(screen).joined(separator: ", "))")
        }
        // Nothing comes twice later either (the tail checks the logs after an outage at its next records or
        // idle tick): the pane once its lines have stayed the same for 2 s, the tail live again.
        try await tmux.waitFor("the logs live again") { $0.contains("● logs") }
        var settled = try await offPool { try tmux.screen() }, unchangedSince = ContinuousClock.now
        let patience = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now - unchangedSince < .seconds(2) && ContinuousClock.now < patience {
            try await Task.sleep(for: .milliseconds(200))
            let now = try await offPool { try tmux.screen() }
            if Self.logLines(now) != Self.logLines(settled) { unchangedSince = ContinuousClock.now }
            settled = now
        }
        #expect(Self.wrongCounts(settled).isEmpty, "lines not shown exactly once: \(Self.wrongCounts(settled)):\n\(settled)")
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }

    /// The screen's lines of the test's records.
    static func logLines(_ screen: String) -> [Substring] {
        screen.split(separator: "\n").filter { $0.contains(" before ") || $0.contains(" after ") }
    }

    /// The lines "before 0"…"after 19" a screen does not show exactly once, each with how often it does.
    static func wrongCounts(_ screen: String) -> [String] {
        ["before", "after"].flatMap { prefix in
            (0..<20).compactMap { i -> String? in
                let count = screen.components(separatedBy: "\(prefix) \(i)\n").count - 1
                    + screen.components(separatedBy: "\(prefix) \(i) ").count - 1
                return count == 1 ? nil : "\(prefix) \(i) (\(count) times)"
            }
        }
    }
}
