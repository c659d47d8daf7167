import Foundation
import StackSupport
import Testing

/// The metrics pane and `opsdeck metrics` against the stack's real StatsD → collectd → carbon →
/// graphite-web chain, with a search-server instance under load.
@Suite(.timeLimit(.minutes(3))) struct MetricsInTmuxTests {
    static let opsdeck = ConsoleInTmuxTests.opsdeck
    static let searchBench = Stack.repositoryRoot.appendingPathComponent(".build/debug/search-bench").path

    /// The number in a legend's `last 183/s`, for the series labelled `label`.
    func lastValue(_ screen: String, label: String) -> Double? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains("● \(label)  last ") }),
              let range = line.range(of: "● \(label)  last ") else { return nil }
        let number = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        let scale: Double = line[range.upperBound...].dropFirst(number.count).hasPrefix("k") ? 1_000 : 1
        return Double(number).map { $0 * scale }
    }

    @Test func callsUnderLoadReachTheChartsAndTheCommand() async throws {
        try await Stack.ensureUp()
        let service = "e2m-\(UInt32.random(in: 0...UInt32.max))"  // short: the sidebar shows it whole
        let instance = try ConsoleInTmuxTests().startInstances(service, count: 1, metrics: true)[0]
        defer { instance.signal(SIGTERM) }
        let port = try await eventuallyPort(instance)
        // 50 calls a second: enough for the charts, little enough to leave the other tests their cores.
        let load = try ChildProcess(Self.searchBench, ["--target", "127.0.0.1:\(port)", "--seconds", "90", "--rate", "50"])
        defer { load.signal(SIGTERM) }

        // The console on the service: its instance selected, its own calls/s beside the service-wide line.
        let tmux = try Tmux(width: 150, height: 44, command: "\(Self.opsdeck) --consul 127.0.0.1:8500")
        try await tmux.waitFor("the service listed") { $0.contains(service) }
        try tmux.sendText(":instances \(service)")
        try tmux.send("Enter")
        // collectd flushes every 10 s, a new series is readable a flush later, the pane refreshes every 10 s.
        let loadStarted = ContinuousClock.now
        let screen = try await tmux.waitFor("calls/s of \(service)-1 above zero in the metrics pane", timeout: .seconds(60)) {
            (lastValue($0, label: "\(service)-1") ?? 0) > 0
        }
        print("calls/s on the chart \(ContinuousClock.now - loadStarted) after the load started")
        #expect(screen.contains("metrics  \(service) › \(service)-1  last 15m"))
        #expect((lastValue(screen, label: "all") ?? 0) > 0)  // the service-wide line counts it too
        #expect(screen.contains("● graphite"))

        // :metric's Tab walks graphite-web's tree a level at a time, down to the instance's own series.
        try tmux.sendText(":metric coll")
        try tmux.send("Tab")
        try await tmux.waitFor("the top level completed") { $0.contains(":metric collectd.") }
        let series = "collectd.opsdeck.statsd.derive-search_instance_\(service)-1_requests"
        try tmux.sendText("opsdeck.statsd.derive-search_instance_\(service)-1_req")
        try tmux.send("Tab")
        try await tmux.waitFor("the series completed") { $0.contains(":metric \(series)") }
        try tmux.send("Enter")
        try await tmux.waitFor("a chart of the series") { !$0.contains(":metric") && $0.contains(String(series.prefix(60))) }
        try tmux.send("q")

        // The command line twin reads the same series.
        let target = "collectd.*.statsd.derive-search_instance_\(service)-1_requests"
        let csv = try ChildProcess(Self.opsdeck, ["metrics", target, "--from", "5m", "--output", "csv"])
        #expect(try await csv.waitForExit() == 0)
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first == "time,collectd.opsdeck.statsd.derive-search_instance_\(service)-1_requests")
        #expect(rows.dropFirst().contains { ($0.split(separator: ",").last.flatMap { Double($0) } ?? 0) > 0 })
        let chart = try ChildProcess(Self.opsdeck, ["metrics", target, "--from", "5m", "--width", "90", "--unit", "rate"])
        #expect(try await chart.waitForExit() == 0)
        #expect(chart.stdout.split(separator: "\n").allSatisfy { $0.count <= 90 })
        #expect(chart.stdout.contains("_requests  last "))
        // And the twin of :metric's Tab: the paths a pattern matches, a branch ending in ".".
        let found = try ChildProcess(Self.opsdeck, ["metrics", "--find", "collectd.opsdeck.statsd.derive-search_instance_\(service)-1_*"])
        #expect(try await found.waitForExit() == 0)
        #expect(found.stdout.split(separator: "\n").contains("collectd.opsdeck.statsd.derive-search_instance_\(service)-1_requests"))
        // A wildcard in a parent level stays in the paths, as Graphite's tree lists them.
        let hosts = try ChildProcess(Self.opsdeck, ["metrics", "--find", "collectd.*.statsd.derive-search_instance_\(service)-1_req*"])
        #expect(try await hosts.waitForExit() == 0)
        #expect(hosts.stdout == "collectd.*.statsd.derive-search_instance_\(service)-1_requests\n")
        let top = try ChildProcess(Self.opsdeck, ["metrics", "--find", "coll*"])
        #expect(try await top.waitForExit() == 0)
        #expect(top.stdout == "collectd.\n")
        let none = try ChildProcess(Self.opsdeck, ["metrics", "--find", "no.such.path.*"])
        #expect(try await none.waitForExit() == 0)
        #expect(none.stdout.isEmpty && none.stderr.contains("no metric path matches no.such.path.*"))
    }

    @Test func theCommandSaysWhatWentWrong() async throws {
        try await Stack.ensureUp()
        let bad = try ChildProcess(Self.opsdeck, ["metrics", "nosuchfunction(a.b)"])
        #expect(try await bad.waitForExit() == 1)
        #expect(bad.stderr.contains("unknown function: nosuchfunction"))
        let down = try ChildProcess(Self.opsdeck, ["metrics", "a.b", "--graphite", "http://127.0.0.1:\(try freePort())"])
        #expect(try await down.waitForExit() == 1)
        #expect(down.stderr.contains("opsdeck metrics: cannot read Graphite at"))
        let usage = try ChildProcess(Self.opsdeck, ["metrics", "a.b", "--from", "5q"])
        #expect(try await usage.waitForExit() == 64)
        #expect(usage.stderr.contains("--from 5q: expected a duration"))
        let both = try ChildProcess(Self.opsdeck, ["metrics", "a.b", "--find", "a.*"])
        #expect(try await both.waitForExit() == 64)
        #expect(both.stderr.contains("--find a.* goes alone: no targets or --dashboard with it"))
        let empty = try ChildProcess(Self.opsdeck, ["metrics", "a.b", "--from", "5m", "--until", "1h"])
        #expect(try await empty.waitForExit() == 64)
        #expect(empty.stderr.contains("until must be more recent than from"))
    }

    /// `--dashboard` draws the built-in charts (search-server's metrics) only for a service whose instances
    /// run search-server, as the pane does; when Consul cannot say, it draws them and says why.
    @Test func theBuiltInDashboardIsOnlyForSearchServers() async throws {
        try await Stack.ensureUp()
        let search = try ChildProcess(Self.opsdeck, ["metrics", "--dashboard", "search-service", "--list-targets",
                                                     "--consul", "127.0.0.1:8500"])
        #expect(try await search.waitForExit() == 0)
        let charts = search.stdout.split(separator: "\n")
        #expect(charts.count == 5 && charts[0].contains("derive-search_requests"))
        let consul = try ChildProcess(Self.opsdeck, ["metrics", "--dashboard", "consul", "--list-targets", "--consul", "127.0.0.1:8500"])
        #expect(try await consul.waitForExit() == 1)
        #expect(consul.stdout.isEmpty)
        #expect(consul.stderr.contains("opsdeck metrics: consul has no dashboard: the built-in one charts search-server's metrics"))
        let unknown = try ChildProcess(Self.opsdeck, ["metrics", "--dashboard", "consul", "--list-targets",
                                                      "--consul", "127.0.0.1:\(try freePort())"])
        #expect(try await unknown.waitForExit() == 0)
        #expect(unknown.stdout.split(separator: "\n").count == 5)
        #expect(unknown.stderr.contains("opsdeck metrics: cannot ask Consul whether consul runs search-server"))
        // A service nobody registered (a misspelt one, say): the built-in charts, and stderr says why.
        let nobody = try ChildProcess(Self.opsdeck, ["metrics", "--dashboard", "no-such-service-\(UInt32.random(in: 0...UInt32.max))",
                                                     "--list-targets", "--consul", "127.0.0.1:8500"])
        #expect(try await nobody.waitForExit() == 0)
        #expect(nobody.stderr.contains("is registered in Consul, so whether it runs search-server is not known"))
    }

    /// The port a search-server reports in its `serving address=` line.
    func eventuallyPort(_ server: ChildProcess) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let range = server.stdout.range(of: "serving address=127.0.0.1:") {
                if let port = Int(server.stdout[range.upperBound...].prefix { $0.isNumber }) { return port }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StackError(message: "the instance never said where it serves:\n\(server.stdout)")
    }
}
