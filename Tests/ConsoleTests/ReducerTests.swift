import Console
import ConsulModels
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct ReducerTests {
    @Test func servicesAreCountedByInstanceAtTheirWorstCheck() {
        let (state, _) = Fixture.loaded()
        let summaries = state.services.rows
        #expect(summaries.map(\.name) == ["billing", "consul", "search-service"])
        let search = summaries[2]
        #expect((search.passing, search.warning, search.critical, search.instances) == (2, 0, 1, 3))
        let billing = summaries[0]
        #expect((billing.passing, billing.warning, billing.instances) == (0, 1, 1))  // two checks, one instance
        #expect(billing.tags == ["http", "v2"])
    }

    /// Registered without an ID, an instance's ID is its service's name (Consul's rule): "redis" on three
    /// nodes is three instances, not one.
    @Test func anInstanceIsItsIDOnItsNode() {
        var checks = ["passing", "critical", "passing"].map { Fixture.check("redis", "redis", $0) }
        for (i, node) in ["node-1", "node-2", "node-3"].enumerated() { checks[i].node = node }
        checks.append(Fixture.check("redis", "redis", "warning"))  // node-1's second check on the same instance
        let rows = ServiceSummary.rows(catalog: ["redis": []], checks: checks)
        #expect(rows.map { [$0.passing, $0.warning, $0.critical] } == [[1, 1, 1]])
    }

    /// Registered without IDs on three nodes, "redis" is three instances in the instances pane too: each
    /// has its own Monitor answer and health history, and the one that leaves is named by its node.
    @Test func instancesWithOneIDOnThreeNodesAreKeptApart() {
        var (state, reducer) = Fixture.loaded()
        let redis = ["node-1", "node-2", "node-3"].enumerated().map { i, node in
            var entry = Fixture.entry("redis", "redis", port: 6379 + i, status: i == 1 ? "critical" : "passing")
            entry.node.name = node
            return entry
        }
        _ = reducer.reduce(&state, .feed(.services(["search-service": ["grpc"], "consul": [], "billing": [], "redis": []], at: Fixture.t0)))
        _ = reducer.command(&state, "instances redis")
        #expect(state.selection.service == "redis")
        _ = reducer.reduce(&state, .feed(.health(service: "redis", redis, at: Fixture.t0)))
        #expect(Set(state.consulFeeds.filter { $0.kind == .monitor }) == [
            .monitor(instance: "node-1/redis", address: "127.0.0.1:6379"), .monitor(instance: "node-2/redis", address: "127.0.0.1:6380"),
            .monitor(instance: "node-3/redis", address: "127.0.0.1:6381")])
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-2/redis", MonitorSample(outcome: .failed("timeout"), roundTripMilliseconds: 0, at: Fixture.t0))))
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 1_000))
        #expect(state.instances.monitor.keys.sorted() == ["node-2/redis"])
        #expect(state.instances.history == ["node-1/redis": [.passing], "node-2/redis": [.critical], "node-3/redis": [.passing]])
        // The cursor on node-3's row stays there when the next answer comes, though all three share an ID.
        #expect(state.focus == InstancesPane.id)
        _ = reducer.keys(&state, [.down, .down])
        #expect(state.instances.rows[state.instances.cursor.selected].node.name == "node-3")
        _ = reducer.reduce(&state, .feed(.health(service: "redis", redis, at: Fixture.t0 + 1_050)))
        #expect(state.instances.rows[state.instances.cursor.selected].node.name == "node-3")
        _ = reducer.reduce(&state, .feed(.health(service: "redis", [redis[0], redis[2]], at: Fixture.t0 + 1_100)))
        #expect(state.message?.text == "redis on node-2 left redis")
        #expect(state.instances.monitor.isEmpty && state.instances.history.keys.sorted() == ["node-1/redis", "node-3/redis"])
        #expect(state.instances.rows[state.instances.cursor.selected].node.name == "node-3")
    }

    /// An instance deregistered on one node and registered on another between two answers is said to have
    /// left with its node: its ID is still listed.
    @Test func anInstanceThatMovedNodeIsSaidToHaveLeftItsOldNode() {
        var (state, reducer) = Fixture.loaded()
        var moved = Fixture.searchInstances[0]
        moved.node.name = "node-2"
        _ = reducer.command(&state, "instances search-service")
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [moved] + Fixture.searchInstances.dropFirst(), at: Fixture.t0 + 100)))
        #expect(state.message?.text == "search-service-1 on node-1 left search-service")
    }

    @Test func theInstancesPaneFollowsTheServicesCursor() {
        var (state, reducer) = Fixture.loaded()
        // The first row is selected as soon as there are rows, and its instances are watched.
        #expect(state.selection.service == "billing")
        #expect(state.consulFeeds == [.services, .checks, .health(service: "billing")])
        #expect(state.feeds[.instances] == FeedStatus(phase: .connecting))

        #expect(reducer.keys(&state, [.down, .down, .down]).isEmpty)
        #expect(state.services.cursor.selected == 2)  // clamped at the last row
        #expect(state.selection.service == "search-service")
        #expect(state.consulFeeds == [.services, .checks, .health(service: "search-service")])

        let entries = Array(Fixture.searchInstances.prefix(2))
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", entries, at: Fixture.t0 + 10)))
        // Each listed instance's Monitor is wanted now.
        #expect(state.consulFeeds == [.services, .checks, .health(service: "search-service"),
                                        .monitor(instance: "node-1/search-service-1", address: "127.0.0.1:40001"),
                                        .monitor(instance: "node-1/search-service-2", address: "127.0.0.1:40002")])
        #expect(state.feeds[.instances] == FeedStatus(phase: .live, lastUpdate: Fixture.t0 + 10))
        // A late answer for a service no longer selected is ignored.
        _ = reducer.reduce(&state, .feed(.health(service: "billing", [], at: Fixture.t0)))
        #expect(state.instances.entries.count == 2)

        let sample = MonitorSample(outcome: .ok(Fixture.figures()), roundTripMilliseconds: 0.7, at: Fixture.t0)
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-1", sample)))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "gone-7", sample)))
        #expect(state.instances.monitor.keys.sorted() == ["node-1/search-service-1"])

        // An instance leaves: its Monitor result, history and feed go with it, and the message line says so.
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 1_000))
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [entries[1]], at: Fixture.t0 + 1_100)))
        #expect(state.instances.monitor.isEmpty && state.instances.history.keys.sorted() == ["node-1/search-service-2"])
        #expect(state.message == Message(text: "search-service-1 left search-service", isError: false, at: Fixture.t0 + 1_000))
        #expect(!state.subscriptions.contains(.monitor(instance: "node-1/search-service-1", address: "127.0.0.1:40001")))

        // Enter focuses the instances; Esc goes back; moving to another service starts its feeds over.
        _ = reducer.keys(&state, [.enter])
        #expect(state.focus == InstancesPane.id)
        _ = reducer.keys(&state, [.escape, .up])
        #expect(state.focus == ServicesPane.id && state.selection.service == "consul")
        #expect(state.consulFeeds == [.services, .checks, .health(service: "consul")])
        #expect(state.instances.entries.isEmpty && state.instances.service == "consul")
        #expect(state.feeds[.instances] == FeedStatus(phase: .connecting) && state.feeds[.monitor] == nil)
    }

    /// Every instance restarting at once deregisters the service for a moment: the console must not jump
    /// to another service (and lose what the operator was doing there).
    @Test func aServiceThatLeavesTheCatalogForAWhileStaysSelected() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.command(&state, "instances search-service")
        _ = reducer.reduce(&state, .feed(.services(["consul": [], "billing": []], at: Fixture.t0 + 1_000)))
        #expect(state.selection.service == "search-service")
        #expect(!state.services.rows.contains { $0.name == "search-service" })
        _ = reducer.reduce(&state, .feed(.services(["search-service": ["grpc"], "consul": [], "billing": []], at: Fixture.t0 + 2_000)))
        #expect(state.selection.service == "search-service" && state.services.rows[state.services.cursor.selected].name == "search-service")
        // The operator moving the cursor still moves the selection.
        _ = reducer.keys(&state, [.character("h"), .character("h"), .up])
        #expect(state.selection.service == "consul")
    }

    @Test func monitorIsPolledOnGRPCInstancesOnly() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.end])
        var plain = Fixture.entry("search-service", "web-1", port: 8080, status: "passing")
        plain.service.tags = ["http"]
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [Fixture.searchInstances[0], plain], at: Fixture.t0)))
        #expect(state.consulFeeds.filter { $0.kind == .monitor } == [.monitor(instance: "node-1/search-service-1", address: "127.0.0.1:40001")])
    }

    @Test func healthHistoryIsSampledEachTickAndBounded() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.end])
        var entry = Fixture.entry("search-service", "search-service-1", port: 4001, status: "passing")
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [entry], at: Fixture.t0)))
        for i in 1...40 {
            if i == 35 {
                entry = Fixture.entry("search-service", "search-service-1", port: 4001, status: "critical")
                _ = reducer.reduce(&state, .feed(.health(service: "search-service", [entry], at: Fixture.t0)))
            }
            _ = reducer.reduce(&state, .tick(now: Fixture.t0 + Int64(i) * 1_000))
        }
        let history = state.instances.history["node-1/search-service-1"] ?? []
        #expect(history.count == InstancesPane.historyLength)
        #expect(history.suffix(6) == Array(repeating: .critical, count: 6))
        #expect(history.first == .passing)
    }

    @Test func commandLineWithDidYouMeanAndHistory() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.command(&state, "instnces")
        #expect(state.message?.text == "unknown command :instnces: did you mean :instances?")
        #expect(state.message?.isError == true)
        _ = reducer.command(&state, "instances serch-service")
        #expect(state.message?.text == "no service serch-service: did you mean search-service?")
        _ = reducer.keys(&state, [.character(":"), .up, .ctrl("w")] + "search-service".map { .character($0) } + [.enter])
        #expect(state.selection.service == "search-service" && state.focus == InstancesPane.id)
        #expect(state.services.cursor.selected == 2)  // the services pane follows the selection
        #expect(state.commandHistory == ["instnces", "instances serch-service", "instances search-service"])
        #expect(reducer.command(&state, "theme lihgt").isEmpty)
        #expect(state.message?.text.hasPrefix("no theme lihgt: did you mean light?") == true)
        #expect(reducer.command(&state, "theme light") == [.loadTheme("light")])
        _ = reducer.command(&state, "services")
        #expect(state.focus == ServicesPane.id)
        _ = reducer.command(&state, "theme a b")
        #expect(state.message?.text == ":theme: too many arguments (:theme [NAME])")
        _ = reducer.command(&state, "hide")
        #expect(state.message?.text == ":hide needs PANE: :hide PANE")
        _ = reducer.command(&state, "q")
        #expect(state.quit)
    }

    @Test func tabCompletesCommandsAndTheirArguments() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.type(&state, ":ins")
        _ = reducer.keys(&state, [.tab])
        _ = reducer.type(&state, "se")
        _ = reducer.keys(&state, [.tab])
        guard case .command(let editor) = state.mode else { Issue.record("not at the command line"); return }
        #expect(editor.string == "instances search-service ")
        _ = reducer.keys(&state, [.escape])
        _ = reducer.type(&state, ":s")
        _ = reducer.keys(&state, [.tab])
        #expect(state.completions == ["save", "search", "services", "show"])  // several: listed, the line unchanged
        _ = reducer.type(&state, "ho")
        _ = reducer.keys(&state, [.tab])
        _ = reducer.keys(&state, [.tab])
        #expect(state.completions == ["config", "instances", "logs", "metrics", "search", "services"])  // the panes
        _ = reducer.type(&state, "i")
        _ = reducer.keys(&state, [.tab])
        guard case .command(let shown) = state.mode else { Issue.record("not at the command line"); return }
        #expect(shown.string == "show instances " && state.completions.isEmpty)
        _ = reducer.keys(&state, [.enter])
        #expect(state.focus == InstancesPane.id)
    }

    @Test func messagesFade() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.command(&state, "nope")
        #expect(state.message != nil)
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 5_000))
        #expect(state.message != nil)
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 9_000))
        #expect(state.message == nil)
    }

    @Test func filterNarrowsRowsLiveAndEscapeClearsIt() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.type(&state, "/sea")
        #expect(state.services.rows.map(\.name) == ["search-service"])
        #expect(state.selection.service == "search-service")  // the selection follows what is left
        _ = reducer.keys(&state, [.enter])
        #expect(state.mode == .normal && state.services.cursor.filter == "sea")
        _ = reducer.keys(&state, [.escape])
        #expect(state.services.cursor.filter.isEmpty && state.services.rows.count == 3)
        _ = reducer.type(&state, "/x")
        _ = reducer.keys(&state, [.escape])
        #expect(state.services.cursor.filter.isEmpty)
    }

    @Test func sortingCyclesTheColumnsOnScreenAndReverses() {
        var (state, reducer) = Fixture.loaded()
        // The sidebar shows SERVICE and HEALTH: s sorts by health, worst first.
        _ = reducer.type(&state, "s")
        #expect(state.services.cursor.sort == Sort(column: ServiceSummary.Column.health.rawValue, ascending: true))
        #expect(state.services.rows.map(\.name) == ["search-service", "billing", "consul"])
        #expect(state.selection.service == "billing")  // the selected service kept its selection as rows moved
        _ = reducer.type(&state, "S")
        #expect(state.services.rows.map(\.name) == ["consul", "billing", "search-service"])
        _ = reducer.type(&state, "s")
        #expect(state.services.cursor.sort.column == ServiceSummary.Column.name.rawValue)
        // Zoomed, every column is on screen: s goes through them (still descending).
        _ = reducer.type(&state, "zss")
        #expect(state.services.cursor.sort == Sort(column: ServiceSummary.Column.instances.rawValue, ascending: false))
        #expect(state.services.rows.map(\.name) == ["search-service", "billing", "consul"])  // most instances first
    }

    @Test func aClickOnAFramesBottomEdgeSelectsNothing() {
        var (state, reducer) = Fixture.loaded()
        var many: [String: [String]] = [:]
        for i in 0..<40 { many["s\(i < 10 ? "0" : "")\(i)"] = [] }
        _ = reducer.reduce(&state, .feed(.services(many, at: Fixture.t0)))
        // 100x16: the services frame is rows 1...13, its table rows 3...12; row 13 is the bottom edge.
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 13))))
        #expect(state.services.cursor.selected == 0)
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 12))))
        #expect(state.services.cursor.selected == 9)
    }

    @Test func aLateAnswerFromTheServiceBeforeChangesNothing() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.end])  // search-service
        _ = reducer.reduce(&state, .feed(.health(service: "billing", [Fixture.entry("billing", "billing-1", port: 1, status: "passing")],
                                                 at: Fixture.t0 + 5)))
        _ = reducer.reduce(&state, .feed(.failed(.health(service: "billing"), reason: "gone", retryInMilliseconds: 1, at: Fixture.t0)))
        #expect(state.instances.entries.isEmpty)
        #expect(state.feeds[.instances] == FeedStatus(phase: .connecting))
    }

    @Test func hidingAndShowingPanes() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.character("z")])
        _ = reducer.command(&state, "show instances")
        #expect(state.focus == InstancesPane.id && !state.zoomed)
        _ = reducer.command(&state, "hide instances")
        #expect(state.focus == ServicesPane.id)
        _ = reducer.command(&state, "hide instances")
        #expect(state.message?.text == "instances is hidden already")
    }

    @Test func helpOpensAndAnyKeyClosesItWithoutActing() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.character("?")])
        #expect(state.mode == .help(.keys))
        _ = reducer.keys(&state, [.character("q")])  // closes help, does not quit
        #expect(state.mode == .normal && !state.quit)
        _ = reducer.keys(&state, [.ctrl("c")])
        #expect(state.quit)
    }

    @Test func failuresShowAsRetryingAndRecoveryAsLive() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .feed(.failed(.services, reason: "connection refused", retryInMilliseconds: 2_000, at: Fixture.t0 + 5)))
        #expect(state.feeds[.services] == FeedStatus(phase: .retrying(reason: "connection refused", retryInMilliseconds: 2_000),
                                                     lastUpdate: Fixture.t0))
        #expect(state.services.catalog.count == 3)  // the last known data stays on screen
        _ = reducer.reduce(&state, .feed(.services(["consul": []], at: Fixture.t0 + 9)))
        #expect(state.feeds[.services] == FeedStatus(phase: .live, lastUpdate: Fixture.t0 + 9))
        // A round where no instance answered is a failure of the Monitor line; one that answers is live.
        _ = reducer.keys(&state, [.end])
        _ = reducer.reduce(&state, .feed(.health(service: "consul", [Fixture.entry("consul", "c-1", port: 1, status: "passing")], at: Fixture.t0)))
        _ = reducer.reduce(&state, .feed(.monitorRound(ok: 0, failed: 1, at: Fixture.t0 + 20)))
        #expect(state.feeds[.monitor]?.phase == .retrying(reason: "no instance answered", retryInMilliseconds: 2_000))
        _ = reducer.reduce(&state, .feed(.monitorRound(ok: 1, failed: 0, at: Fixture.t0 + 30)))
        #expect(state.feeds[.monitor] == FeedStatus(phase: .live, lastUpdate: Fixture.t0 + 30, detail: "1/1"))
        _ = reducer.reduce(&state, .quitRequested)
        #expect(state.quit)
    }

    @Test func mouseWorksInEachPanesOwnCoordinates() {
        var (state, reducer) = Fixture.loaded()
        // 100 columns: services in x 0..<26 (frame), instances beside them; rows start under the title,
        // the frame's top edge and the table header: the first service is on screen row 3.
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .wheelDown, x: 3, y: 5))))
        #expect(state.services.cursor.selected == 2)
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 4))))
        #expect(state.services.cursor.selected == 1 && state.selection.service == "consul")
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 12))))  // below the rows
        #expect(state.services.cursor.selected == 1)
        // A click in the other pane focuses it and selects there.
        _ = reducer.keys(&state, [.down])
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 40, y: 4))))
        #expect(state.focus == InstancesPane.id && state.instances.cursor.selected == 1)
        #expect(state.selection.instance == "search-service-2")
    }

    @Test func tabMovesTheFocusAndZoomFillsTheScreen() {
        var (state, reducer) = Fixture.loaded()
        #expect(state.focus == ServicesPane.id)
        _ = reducer.keys(&state, [.tab])
        #expect(state.focus == InstancesPane.id)
        _ = reducer.keys(&state, [.tab, .tab, .tab])
        #expect(state.focus == ServicesPane.id)
        _ = reducer.keys(&state, [.backTab, .backTab, .backTab])
        #expect(state.focus == InstancesPane.id)
        _ = reducer.keys(&state, [.character("z")])
        #expect(state.zoomed && ConsoleView.frames(state, reducer.registry) == [InstancesPane.id: Rect(x: 0, y: 1, width: 100, height: 13)])
        _ = reducer.keys(&state, [.character("z")])
        #expect(!state.zoomed && ConsoleView.frames(state, reducer.registry).count == 2)
    }

    @Test func aHiddenPaneRunsNoFeeds() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.end])
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        #expect(state.consulFeeds.count == 6)
        _ = reducer.command(&state, "hide instances")
        #expect(state.consulFeeds == [.services, .checks])
        #expect(state.feeds.keys.sorted() == [.services, .checks, .logs])
        #expect(ConsoleView.frames(state, reducer.registry).keys.sorted() == [ServicesPane.id])
        _ = reducer.command(&state, "hide metrics")
        _ = reducer.command(&state, "hide logs")
        _ = reducer.command(&state, "hide services")
        #expect(state.message?.text == "services is the last pane shown")
        _ = reducer.command(&state, "show instances")
        #expect(state.subscriptions.contains(.health(service: "search-service")) && state.focus == InstancesPane.id)
    }

    @Test func contextCommandListsSuggestsAndAsksTheLoopToSwitch() {
        let reducer = ConsoleReducer(contexts: ["staging", "prod"])
        var state = ConsoleState()
        _ = reducer.command(&state, "context")
        #expect(state.message?.text == "contexts: staging, prod (now none: the environment's settings)")
        _ = reducer.command(&state, "context prd")
        #expect(state.message?.text == "no context prd: did you mean prod? (contexts: staging, prod)" && state.message?.isError == true)
        #expect(reducer.command(&state, "ctx prod") == [.switchContext("prod")])
        state.context = ContextBadge(name: "prod", production: true)
        _ = reducer.command(&state, "context")
        #expect(state.message?.text == "contexts: staging, prod (now prod)")
        #expect(ConsoleReducer().command(&state, "context x").isEmpty)  // none in the file
        #expect(state.message?.text == "no context x (contexts: none in the config file)")
    }
}
