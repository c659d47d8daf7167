import Console
import Consul
import Foundation
import Testing
import TUI

/// Golden screens: panes rendered from given states, compared as text with files in Snapshots/.
/// `OPSDECK_RECORD_SNAPSHOTS=1 swift test --filter SnapshotTests` writes them; review the diff, commit.
@Suite struct SnapshotTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    func expectSnapshot(_ grid: Grid, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = grid.lines().joined(separator: "\n") + "\n"
        let file = Self.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["OPSDECK_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
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
        ConsoleView.render(state, theme: theme, keymap: ConsoleKeys.defaults)
    }

    /// The instances of search-service: two answering Monitor, one whose check fails and whose call times out.
    func instancesState() -> ConsoleState {
        var (state, reducer) = Fixture.loaded()
        state.size = .init(width: 110, height: 18)
        _ = reducer.reduce(&state, .input(.key(.end)))
        _ = reducer.reduce(&state, .input(.key(.enter)))
        let entries = [Fixture.entry("search-service", "search-service-1", port: 40001, status: "passing"),
                       Fixture.entry("search-service", "search-service-2", port: 40002, status: "passing"),
                       Fixture.entry("search-service", "search-service-3", port: 40003, status: "critical",
                                     output: "gRPC check 127.0.0.1:40003/Search: connection refused")]
        _ = reducer.reduce(&state, .instancesChanged(service: "search-service", entries, at: Fixture.t0))
        for i in 1...8 { _ = reducer.reduce(&state, .tick(now: Fixture.t0 + Int64(i) * 1_000)) }
        _ = reducer.reduce(&state, .monitorSampled(instanceID: "search-service-1", MonitorSample(outcome: .ok(Fixture.figures()), roundTripMilliseconds: 0.42, at: Fixture.t0)))
        _ = reducer.reduce(&state, .monitorSampled(instanceID: "search-service-2", MonitorSample(outcome: .ok(Fixture.figures(requests: 99, errors: 3)), roundTripMilliseconds: 12.6, at: Fixture.t0)))
        _ = reducer.reduce(&state, .monitorSampled(instanceID: "search-service-3", MonitorSample(outcome: .failed("timeout"), roundTripMilliseconds: 1000, at: Fixture.t0)))
        _ = reducer.reduce(&state, .monitorRound(ok: 2, failed: 1, at: Fixture.t0 + 7_000))
        _ = reducer.reduce(&state, .input(.key(.down)))
        _ = reducer.reduce(&state, .input(.key(.down)))
        return state
    }

    @Test func servicesPane() throws {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 3_000))
        let grid = render(state)
        try expectSnapshot(grid, "services")
        // Colour carries meaning too: the critical count in the critical style.
        let dark = render(state, theme: try darkTheme())
        let row = grid.lines().firstIndex { $0.hasPrefix("search-service") }!
        let column = grid.lines()[row].count - 1
        #expect(dark[column, row].style.foreground == .index(203))
    }

    @Test func instancesPaneWithChecksMonitorAndHistory() throws {
        try expectSnapshot(render(instancesState()), "instances")
    }

    @Test func helpOverlay() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = .init(width: 80, height: 22)
        _ = reducer.reduce(&state, .input(.key(.character("?"))))
        try expectSnapshot(render(state), "help")
    }

    @Test func consulDownAndATypoAtTheCommandLine() throws {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .effectFailed(.catalog, reason: "connection refused", retryInMilliseconds: 4_000, at: Fixture.t0))
        _ = reducer.reduce(&state, .effectFailed(.checks, reason: "connection refused", retryInMilliseconds: 4_000, at: Fixture.t0))
        for key in ":instnces".map({ Key.character($0) }) + [.enter] {
            _ = reducer.reduce(&state, .input(.key(key)))
        }
        try expectSnapshot(render(state), "consul-down-typo")
        for key in ":ins".map({ Key.character($0) }) { _ = reducer.reduce(&state, .input(.key(key))) }
        #expect(render(state).lines()[state.size.height - 2] == ":ins")
    }

    @Test func hostileTextFromConsulIsDrawnHarmlessly() throws {
        var state = instancesState()
        state.size = .init(width: 90, height: 14)
        var entries = state.instances
        entries[0] = Fixture.entry("search-service", "search-service-1", port: 40001, status: "warning",
                                   output: "\u{1B}[2J\u{1B}]0;owned\u{07}boom\r\nline two\u{202E}cba")
        let reducer = ConsoleReducer()
        _ = reducer.reduce(&state, .instancesChanged(service: "search-service", entries, at: Fixture.t0))
        _ = reducer.reduce(&state, .input(.key(.home)))
        let grid = render(state)
        try expectSnapshot(grid, "hostile-text")
        #expect(!grid.cells.contains { $0.character.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E } })
    }

    @Test func tooSmall() throws {
        var state = ConsoleState()
        state.size = .init(width: 15, height: 4)
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
