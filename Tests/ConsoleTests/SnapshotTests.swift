import Console
import ConsulModels
import Foundation
import SearchModels
import Testing
import TUI

/// Golden screens: panes rendered from given states, compared as text with files in Snapshots/.
/// `OPSDECK_RECORD_SNAPSHOTS=1 swift test --filter SnapshotTests` writes them; review the diff, commit.
@Suite(.timeLimit(.minutes(1))) struct SnapshotTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    func expectSnapshot(_ grid: Grid, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = grid.lines().joined(separator: "\n") + "\n"
        let file = Self.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["OPSDECK_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded \(name).txt: review it with git diff, then run again without OPSDECK_RECORD_SNAPSHOTS",
                         sourceLocation: sourceLocation)
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no snapshot \(name).txt: record it with OPSDECK_RECORD_SNAPSHOTS=1", sourceLocation: sourceLocation)
            return
        }
        guard expected != actual else { return }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var diff = "snapshot \(name) differs (- expected, + actual):\n"
        for i in 0..<max(e.count, a.count) where e[safe: i] != a[safe: i] {
            diff += String(format: "%3d - %@\n    + %@\n", i + 1, String(e[safe: i] ?? "<none>"), String(a[safe: i] ?? "<none>"))
        }
        Issue.record(Comment(rawValue: diff), sourceLocation: sourceLocation)
    }

    func render(_ state: ConsoleState, theme: Theme = .monochrome) -> Grid {
        var state = state
        state.theme = theme
        return ConsoleView.render(state, ConsoleReducer())
    }

    /// The instances of search-service: two answering Monitor, one whose check fails and whose call times
    /// out; the third selected, the instances pane focused.
    func instancesState() -> ConsoleState {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 150, height: 20)
        _ = reducer.keys(&state, [.end])
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        for i in 1...8 { _ = reducer.reduce(&state, .tick(now: Fixture.t0 + Int64(i) * 1_000)) }
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-1", MonitorSample(outcome: .ok(Fixture.figures()), roundTripMilliseconds: 0.42, at: Fixture.t0))))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-2", MonitorSample(outcome: .ok(Fixture.figures(requests: 99, errors: 3)), roundTripMilliseconds: 12.6, at: Fixture.t0))))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-3", MonitorSample(outcome: .failed("timeout"), roundTripMilliseconds: 1000, at: Fixture.t0))))
        _ = reducer.reduce(&state, .feed(.monitorRound(ok: 2, failed: 1, at: Fixture.t0 + 7_000)))
        _ = reducer.keys(&state, [.enter, .down, .down])
        return state
    }

    @Test func servicesPane() throws {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 3_000))
        let grid = render(state)
        try expectSnapshot(grid, "services")
        // Colour carries meaning too: the critical count in the critical style.
        let dark = render(state, theme: try darkTheme())
        let row = try #require(grid.lines().firstIndex { $0.contains("search-service ") })
        let column = try #require((0..<grid.width).first { grid[$0, row].character == "✖" && $0 < 30 })
        #expect(dark[column - 1, row].character == "1" && dark[column - 1, row].style.foreground == .index(203))
    }

    @Test func servicesZoomedShowEveryColumn() throws {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.keys(&state, [.character("z")])
        try expectSnapshot(render(state), "services-zoomed")
    }

    @Test func instancesPaneWithChecksMonitorAndHistory() throws {
        try expectSnapshot(render(instancesState()), "instances")
    }

    @Test func smallTerminalShowsTheFocusedPane() throws {
        var state = instancesState()
        state.size = Size(width: 80, height: 24)
        try expectSnapshot(render(state), "instances-80x24")
    }

    @Test func helpOverlay() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 80, height: 24)
        _ = reducer.keys(&state, [.character("?")])
        try expectSnapshot(render(state), "help")
    }

    @Test func commandsHelp() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 90, height: 20)
        _ = reducer.command(&state, "help")
        try expectSnapshot(render(state), "help-commands")
    }

    @Test func consulDownAndATypoAtTheCommandLine() throws {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .feed(.failed(.services, reason: "connection refused", retryInMilliseconds: 4_000, at: Fixture.t0)))
        _ = reducer.reduce(&state, .feed(.failed(.checks, reason: "connection refused", retryInMilliseconds: 4_000, at: Fixture.t0)))
        _ = reducer.command(&state, "instnces")
        try expectSnapshot(render(state), "consul-down-typo")
        _ = reducer.type(&state, ":ins")
        #expect(render(state).lines()[state.size.height - 2] == ":ins")
    }

    /// A production context is hard to miss, a refused token says what to fix, and the feeds failing
    /// for it say it once.
    @Test func aProductionContextWithItsTokenRefused() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 120, height: 12)
        state.header = "consul consul.prod.example:8501"
        state.context = ContextBadge(name: "prod", production: true)
        state.readOnly = "context prod is read-only"
        let refused = "token refused (ACL not found): check the token from context prod's consul_token_file (~/prod.token)"
        for feed in [Feed.services, .checks] {
            _ = reducer.reduce(&state, .feed(.failed(feed, reason: refused, retryInMilliseconds: 30_000, at: Fixture.t0)))
        }
        try expectSnapshot(render(state), "context-production-refused")
        // Production in the alarm colour, reversed (so the mono theme shows it too); another context is not.
        state.theme = .monochrome
        let grid = render(state)
        #expect(grid.lines()[0].hasPrefix(" opsdeck  prod · production  read-only  consul consul.prod.example:8501"))
        #expect(grid[10, 0].style.attributes.contains(.reverse))
        state.context = ContextBadge(name: "staging")
        #expect(!render(state)[10, 0].style.attributes.contains(.reverse))
    }

    @Test func hostileTextFromConsulIsDrawnHarmlessly() throws {
        var state = instancesState()
        state.size = Size(width: 120, height: 14)
        var entries = Fixture.searchInstances
        entries[0] = Fixture.entry("search-service", "search-service-1", port: 40001, status: "warning",
                                   output: "\u{1B}[2J\u{1B}]0;owned\u{07}boom\r\nline two\u{202E}cba")
        let reducer = ConsoleReducer()
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", entries, at: Fixture.t0)))
        _ = reducer.keys(&state, [.home])
        let grid = render(state)
        try expectSnapshot(grid, "hostile-text")
        #expect(!grid.cells.contains { $0.character.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E } })
    }

    /// The metrics pane zoomed: calls/s of the service and of the selected instance, a gap where Graphite
    /// had no value, the cursor on a moment, the other charts waiting.
    @Test func metricsPaneWithACursor() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 100, height: 24)
        _ = reducer.keys(&state, [.end])
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        _ = reducer.command(&state, "range 5m")
        _ = reducer.keys(&state, [.character("z")])
        let query = try #require(state.subscriptions.lazy.compactMap { feed -> GraphiteQuery? in
            if case .graphite(let q) = feed, q.targets[0].contains("derive-search_requests)") { return q } else { return nil }
        }.first)
        let until = Fixture.t0 / 1000
        let wave: [Double?] = (0..<30).map { i in (10...12).contains(i) ? nil : 40 + 30 * sin(Double(i) / 4) }
        _ = reducer.reduce(&state, .feed(.graphite(query, [
            MetricSeries(target: "all", start: until - 300, step: 10, values: wave),
            MetricSeries(target: "search-service-1", start: until - 300, step: 10, values: wave.map { $0.map { $0 / 3 } }),
        ], at: Fixture.t0)))
        _ = reducer.keys(&state, [.left, .left, .left])
        try expectSnapshot(render(state), "metrics")
    }

    @Test func tooSmall() throws {
        var state = ConsoleState()
        state.size = Size(width: 15, height: 4)
        try expectSnapshot(render(state), "too-small")
    }

    func darkTheme() throws -> Theme {
        let root = Self.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Theme.load("dark", from: [root.appendingPathComponent("Themes").path])
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension SnapshotTests {
    @Test func searchPaneWithResultsAndTheMap() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 120, height: 30)
        _ = reducer.command(&state, "search name:fr near 48.8566,2.3522")
        let call = try #require(state.pane(SearchPane.self)?.pending)
        let france = SearchPaneTests.answer(retried: true)
        var results = france.results
        results.append(SearchResult(id: 7, name: "Île-de-France\u{1B}[2J", kind: "state", code: "FR11", source: "dcw"))
        _ = reducer.reduce(&state, .feed(.search(call, .success(SearchAnswer(
            results: results, total: 2, page: 1, size: 10, instanceID: france.instanceID, address: france.address,
            milliseconds: 1.25, failedAttempts: france.failedAttempts, discovery: "dns")))))
        _ = reducer.keys(&state, [.character("z")])
        try expectSnapshot(render(state), "search-map")
    }

    @Test func searchPaneWithAnError() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 100, height: 24)
        _ = reducer.command(&state, "search paris")
        let call = try #require(state.pane(SearchPane.self)?.pending)
        _ = reducer.reduce(&state, .feed(.search(call, .failure(SearchFailure(
            kind: .unavailable, message: "no instance of search-service answered",
            attempts: [.init(address: "127.0.0.1:50051", reason: "unavailable"), .init(address: "127.0.0.1:50052", reason: "deadline exceeded")])))))
        try expectSnapshot(render(state), "search-error")
    }
}

extension SnapshotTests {
    /// The config pane on search-service's KV, zoomed, with the cursor on `path`.
    func configState(_ pairs: [KVPair], selecting path: String, size: Size = Size(width: 120, height: 22)) throws -> (ConsoleState, ConsoleReducer) {
        var (state, reducer) = ConfigPaneTests().opened(pairs: pairs, size: size)
        _ = reducer.keys(&state, [.character("z")])
        try ConfigPaneTests().select(path, &state, reducer)
        return (state, reducer)
    }

    @Test func configTreeWithASettingExplained() throws {
        let (state, _) = try configState(ConfigPaneTests.pairs, selecting: "search-service/log_level")
        try expectSnapshot(render(state), "config-tree")
    }

    @Test func configLongValueIsCutWithItsSize() throws {
        let long = (1...40).map { "line \($0) of a long value that goes on" }.joined(separator: "\n")
        let (state, _) = try configState(ConfigPaneTests.pairs + [ConfigPaneTests.pair("notes", long, index: 20)],
                                         selecting: "search-service/notes")
        try expectSnapshot(render(state), "config-long-value")
    }

    @Test func configBinaryValueIsAHexDump() throws {
        let (state, _) = try configState(ConfigPaneTests.pairs, selecting: "search-service/blob")
        try expectSnapshot(render(state), "config-binary-value")
    }

    @Test func configConflictShowsBothValues() throws {
        var (state, reducer) = try configState(ConfigPaneTests.pairs, selecting: "search-service/log_level")
        _ = reducer.keys(&state, [.character("e"), .ctrl("u")])
        _ = reducer.type(&state, "debug")
        _ = reducer.keys(&state, [.enter])
        _ = reducer.reduce(&state, .feed(.kvWritten(state.pane(ConfigPane.self)!.pendingWrite!,
                                                    .conflict(theirs: ConfigPaneTests.pair("log_level", "warning", index: 57)))))
        try expectSnapshot(render(state), "config-conflict")
    }
}
