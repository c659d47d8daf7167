import Foundation
import StackSupport
import Testing

/// The real `opsdeck` binary in a real terminal (tmux) against the stack.
@Suite(.timeLimit(.minutes(3))) struct ConsoleInTmuxTests {
    static let opsdeck = Stack.repositoryRoot.appendingPathComponent(".build/debug/opsdeck").path
    static let searchServer = Stack.repositoryRoot.appendingPathComponent(".build/debug/search-server").path

    /// Instances of a service only this test uses, checked by devconsul every second; with `metrics`, they
    /// send StatsD to the stack's collectd.
    func startInstances(_ service: String, count: Int, metrics: Bool = false, flags: [String] = []) throws -> [ChildProcess] {
        try (1...count).map { i in
            try ChildProcess(Self.searchServer, ["serve", "--service-name", service, "--instance-id", "\(service)-\(i)",
                                                 "--statsd-address", metrics ? "127.0.0.1:\(Stack.statsdPort)" : "",
                                                 "--check-interval-s", "1", "--log-level", "info"] + flags,
                             environment: ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGDATABASE": "opsdeck",
                                           "PGUSER": "postgres", "CONSUL_HTTP_ADDR": "127.0.0.1:8500"])
        }
    }

    /// The cells of the table row starting with `prefix`, in whichever pane it is (panes sit side by side,
    /// so a screen line is cut at the frames' verticals first).
    func row(_ screen: String, startingWith prefix: String) -> [String]? {
        screen.split(separator: "\n").lazy
            .flatMap { $0.split(whereSeparator: { $0 == "│" || $0 == "┃" }) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(prefix) }
            .map { $0.split(separator: " ").map(String.init) }
    }

    func lines(_ screen: String) -> [Substring] { screen.split(separator: "\n", omittingEmptySubsequences: false) }

    @Test func dashboardFocusZoomDeathResizeHelpAndQuit() async throws {
        try await Stack.ensureUp()
        let service = "e2e-\(UInt32.random(in: 0...UInt32.max))"
        let instances = try startInstances(service, count: 3)
        defer { instances.forEach { $0.signal(SIGTERM) } }
        let tmux = try Tmux(width: 150, height: 40, command: "\(Self.opsdeck) --consul 127.0.0.1:8500")

        // The services pane (a sidebar here) lists the service with its three instances passing.
        try await tmux.waitFor("\(service) with 3 passing", explain: { Stack.checksOf(service) }) { screen in
            row(screen, startingWith: service) == [service, "3●"]
        }
        // The stack's own services beside it, in the sidebar (each line's first cell): consul sorts near the
        // top, where search-service may sit below the last row, under services other suites register meanwhile
        // (seen in a full run).
        let screen = try tmux.screen()
        let sidebar = screen.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: { $0 == "│" || $0 == "┃" }).first?.trimmingCharacters(in: .whitespaces)
        }
        #expect(sidebar.contains { $0.split(separator: " ") == ["consul", "-"] }, "\(screen)")

        // Select it by command: the instances pane beside it gets the focus, three rows, each answering Monitor.
        try tmux.sendText(":instances \(service)")
        try tmux.send("Enter")
        try await tmux.waitFor("three instances answering Monitor") { screen in
            (1...3).allSatisfy { i in
                guard let cells = row(screen, startingWith: "\(service)-\(i) ") else { return false }
                // passing, Monitor figures in (no "…" placeholders), and times in ms (latencies, round trip)
                return cells.contains("passing") && !cells.contains("…") && cells.filter { $0.hasSuffix("ms") }.count == 3
            } && screen.contains("monitor 3/3") && lines(screen)[1].contains("┏ \(service)")
        }

        // Kill one without letting it deregister: its check turns critical and Monitor fails, on screen.
        let killedAt = ContinuousClock.now
        kill(instances[1].pid, SIGKILL)
        try await tmux.waitFor("instance 2 critical") { screen in
            row(screen, startingWith: "\(service)-2 ")?.contains("critical") == true
        }
        let shownAfter = ContinuousClock.now - killedAt
        // The others stay passing. Waited for, not read off the same frame: on a starved machine (CI, every
        // suite at once) a probe of a live instance can outlive its 5 s timeout and flap it for one interval.
        try await tmux.waitFor("monitor failing for instance 2 only, 1 and 3 passing", explain: { Stack.checksOf(service) }) { screen in
            screen.contains("monitor 2/3") && (row(screen, startingWith: "\(service)-2 ")?.contains("✖") == true)
                && [1, 3].allSatisfy { row(screen, startingWith: "\(service)-\($0) ")?.contains("passing") == true }
        }
        print("instance death shown after \(shownAfter) (check interval 1 s)")

        // Tab moves the focus (the heavy frame) to the metrics below, the logs beside them, then round to
        // the services; z zooms them to the full screen, with every column, and back.
        try tmux.send("Tab")
        try await tmux.waitFor("the metrics focused") { screen in screen.contains("┏ metrics  \(service)") }
        try tmux.send("Tab")
        try await tmux.waitFor("the logs focused") { screen in screen.contains("┏ logs  \(service)") }
        try tmux.send("Tab")
        try await tmux.waitFor("the services focused") { screen in
            lines(screen)[1].hasPrefix("┏ services") && lines(screen)[1].contains("┌ \(service)")
        }
        try tmux.send("z")
        try await tmux.waitFor("the services zoomed") { screen in
            screen.contains("[zoomed]") && screen.contains("PASSING") && !screen.contains("INSTANCE")
                && row(screen, startingWith: service).map { Array($0.suffix(4)) } == ["3", "2", "0", "1"]
        }
        try tmux.send("z")
        try await tmux.waitFor("the dashboard back") { screen in !screen.contains("[zoomed]") && screen.contains("INSTANCE") }

        // A small terminal shows the focused pane alone; Tab brings the other; back to the full dashboard.
        try tmux.resize(width: 80, height: 24)
        try await tmux.waitFor("an 80x24 frame with the services alone") { screen in
            let lines = lines(screen)
            return lines.count >= 24 && lines[23].hasPrefix("  ● services") && lines.allSatisfy { $0.count <= 80 }
                && lines[1].hasPrefix("┏ services") && !screen.contains("INSTANCE")
        }
        try tmux.send("Tab")
        try await tmux.waitFor("the instances alone") { screen in
            lines(screen)[1].hasPrefix("┏ \(service)") && row(screen, startingWith: "\(service)-1 ") != nil
        }
        try tmux.resize(width: 150, height: 40)
        try await tmux.waitFor("both panes again") { screen in
            lines(screen)[1].hasPrefix("┌ services") && row(screen, startingWith: "\(service)-1 ") != nil
                && lines(screen).allSatisfy { $0.count <= 150 }
        }

        // ? opens the help overlay; a key closes it.
        try tmux.send("?")
        try await tmux.waitFor("the help overlay") { $0.contains("any key closes it") && $0.contains("Quit") }
        try tmux.send("Escape")
        try await tmux.waitFor("help closed") { !$0.contains("any key closes it") }

        // q quits: exit status 0, the console gone from the screen, the terminal's modes back.
        try tmux.send("q")
        let after = try await tmux.waitFor("the shell after exit") { $0.contains("MODES") }
        #expect(after.contains("EXITED 0"))
        #expect(after.contains("MODES echo icanon"))
        #expect(!after.contains("? help"))

        // The survivors deregister on the way out (the killed one leaves after Consul's critical timeout).
        for instance in instances where instance.isRunning {
            instance.signal(SIGTERM)
            _ = try await instance.waitForExit(timeout: .seconds(15))
        }
    }

    @Test func sigtermQuitsCleanly() async throws {
        try await Stack.ensureUp()
        let tmux = try Tmux(command: "\(Self.opsdeck) --consul 127.0.0.1:8500")
        // The catalog read, not a row of it: other suites' services can push search-service below the
        // pane's last row.
        try await tmux.waitFor("the services feed live") { $0.contains("● services") }
        let pid = try #require(try tmux.programPID())
        kill(pid, SIGTERM)
        let after = try await tmux.waitFor("the shell after exit") { $0.contains("MODES") }
        #expect(after.contains("EXITED 0"))
        #expect(after.contains("MODES echo icanon"))
        #expect(!after.contains("SERVICE"))
    }

    @Test func aCrashStillGivesTheTerminalBack() async throws {
        let tmux = try Tmux(command: "\(Self.opsdeck) --consul 127.0.0.1:8500 --debug-crash-after 1")
        let after = try await tmux.waitFor("the shell after the crash") { $0.contains("MODES") }
        #expect(!after.contains("EXITED 0"))  // it did crash
        #expect(after.contains("MODES echo icanon"))
        #expect(!after.contains("SERVICE"))
    }

    /// With no agent at its address the console keeps running and says why; when an agent starts there,
    /// it goes live on its own.
    @Test func consulDownIsShownAndRecoveredFrom() async throws {
        let port = try freePort()
        let tmux = try Tmux(command: "\(Self.opsdeck) --consul 127.0.0.1:\(port)")
        try await tmux.waitFor("the failure in the status bar") { $0.contains("✖ services, checks: connection refused") }
        let agent = try ChildProcess(Stack.repositoryRoot.appendingPathComponent(".build/debug/devconsul").path,
                                     ["--http-port", "\(port)", "--dns-port", "\(try freePort())"])
        defer { agent.signal(SIGTERM) }
        try await tmux.waitFor("the agent's own service listed and live", timeout: .seconds(40)) { screen in
            screen.contains("● services") && row(screen, startingWith: "consul ") != nil
        }
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }

    /// The XDG config file picks the theme and remaps keys; the hint bar follows; `:theme` switches at run
    /// time.
    @Test func configFileThemeAndKeys() async throws {
        try await Stack.ensureUp()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-xdg-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("opsdeck"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try "theme mono\nbind quit x\nbind services.open o\n".write(to: home.appendingPathComponent("opsdeck/config"), atomically: true, encoding: .utf8)
        // 240 wide: the first service listed may be another suite's with its instance dead, and its feeds
        // in trouble (`✖ monitor: no instance answered, retry in 2s`, then also a missing log topic) took
        // the room of a 180-wide bar, the hints giving way to them as they should (seen in a full run).
        let tmux = try Tmux(width: 240, command: "\(Self.opsdeck) --consul 127.0.0.1:8500", environment: ["XDG_CONFIG_HOME": home.path])
        // The hint bar shows the keys in force: the config was read.
        try await tmux.waitFor("the services pane with the remapped hints") { screen in
            screen.contains("● services") && lines(screen)[35].hasSuffix("o open  ? help  : command  x quit")
        }
        try tmux.send("q")  // no longer bound: the console stays
        try tmux.sendText(":theme light")
        try tmux.send("Enter")
        let screen = try await tmux.waitFor("the theme switched") { $0.contains("theme light") }
        #expect(!screen.contains("EXITED"))
        try tmux.send("x")
        try await tmux.waitFor("exit by the remapped key") { $0.contains("EXITED 0") }
    }

    /// A copy of the binary outside the build tree, with no theme directory anywhere, still has its
    /// themes: they are compiled in.
    @Test func anInstalledBinaryHasItsThemes() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-installed-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let installed = dir.appendingPathComponent("opsdeck").path
        try await offPool { try FileManager.default.copyItem(atPath: Self.opsdeck, toPath: installed) }  // ~150 MB in a debug build
        let tmux = try Tmux(command: "\(installed) --consul 127.0.0.1:\(try freePort()) --theme light",
                            environment: ["HOME": dir.path, "XDG_CONFIG_HOME": dir.path])
        try await tmux.waitFor("the console") { $0.contains("┏ services") }
        // Offered beside the command line while it is open: `:theme`'s list is a message, gone after 8 s,
        // and a CI run's wait once saw none of it in 20 s.
        try tmux.sendText(":theme ")
        try tmux.send("Tab")
        try await tmux.waitFor("the built-in themes offered") { $0.contains("dark  light  mono") }
        try tmux.send("Escape")
        try tmux.sendText(":theme dark")
        try tmux.send("Enter")
        try await tmux.waitFor("the theme switched") { $0.contains("theme dark") }
        try tmux.send("q")
        try await tmux.waitFor("exit") { $0.contains("EXITED 0") }
    }

    @Test func scriptableServicesCommand() async throws {
        try await Stack.ensureUp()
        // The stack's three instances, once all pass: on a starved machine a probe can outlive its timeout
        // and take one out for an interval (as in Consul), which the command then rightly reports.
        var search: Substring?
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            let child = try ChildProcess(Self.opsdeck, ["services", "--consul", "127.0.0.1:8500", "--json"])
            #expect(try await child.waitForExit() == 0)
            search = child.stdout.split(separator: "\n").first { $0.contains(#""service":"search-service""#) }
            if search?.contains(#""passing":3"#) == true { break }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        #expect(search?.contains(#""passing":3"#) == true, "\(search ?? "no search-service line")\n\(Stack.checksOf("search-service"))")
        let down = try ChildProcess(Self.opsdeck, ["services", "--consul", "127.0.0.1:\(try freePort())"])
        #expect(try await down.waitForExit() == 1)
        #expect(down.stderr.contains("opsdeck services:"))
    }
}
