import Console
import Consul
import Testing
import TUI

@Suite struct ReducerTests {
    func keys(_ reducer: ConsoleReducer, _ state: inout ConsoleState, _ keys: [Key]) -> [ConsoleEffect] {
        keys.flatMap { reducer.reduce(&state, .input(.key($0))) }
    }

    func type(_ text: String) -> [Key] { text.map { .character($0) } }

    @Test func servicesAreCountedByInstanceAtTheirWorstCheck() {
        let (state, _) = Fixture.loaded()
        let summaries = state.serviceSummaries
        #expect(summaries.map(\.name) == ["billing", "consul", "search-service"])
        let search = summaries[2]
        #expect((search.passing, search.warning, search.critical, search.instances) == (2, 0, 1, 3))
        let billing = summaries[0]
        #expect((billing.passing, billing.warning, billing.instances) == (0, 1, 1))  // two checks, one instance
        #expect(billing.tags == ["http", "v2"])
    }

    @Test func openingAServiceFollowsItsInstancesAndPollsThem() {
        var (state, reducer) = Fixture.loaded()
        #expect(keys(reducer, &state, [.down, .down, .down]).isEmpty)
        #expect(state.selectedService == 2)  // clamped at the last row
        #expect(keys(reducer, &state, [.enter]) == [.followInstances(service: "search-service")])
        #expect(state.screen == .instances(service: "search-service"))
        #expect(state.effects[.instances] == EffectStatus(phase: .connecting))

        let entries = [Fixture.entry("search-service", "search-service-1", port: 4001, status: "passing"),
                       Fixture.entry("search-service", "search-service-2", port: 4002, status: "passing")]
        let effects = reducer.reduce(&state, .instancesChanged(service: "search-service", entries, at: Fixture.t0 + 10))
        #expect(effects == [.monitorTargets(["search-service-1": "127.0.0.1:4001", "search-service-2": "127.0.0.1:4002"])])
        // A late answer for a service no longer open is ignored.
        #expect(reducer.reduce(&state, .instancesChanged(service: "billing", [], at: Fixture.t0)).isEmpty)
        #expect(state.instances.count == 2)

        let sample = MonitorSample(outcome: .ok(Fixture.figures()), roundTripMilliseconds: 0.7, at: Fixture.t0)
        _ = reducer.reduce(&state, .monitorSampled(instanceID: "search-service-1", sample))
        _ = reducer.reduce(&state, .monitorSampled(instanceID: "gone-7", sample))
        #expect(state.monitor.keys.sorted() == ["search-service-1"])

        // An instance leaves: its Monitor result and history go with it.
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 1_000))
        _ = reducer.reduce(&state, .instancesChanged(service: "search-service", [entries[1]], at: Fixture.t0 + 1_100))
        #expect(state.monitor.isEmpty && state.healthHistory.keys.sorted() == ["search-service-2"])
        #expect(state.message == Message(text: "search-service-1 left search-service", isError: false, at: Fixture.t0 + 1_000))

        #expect(keys(reducer, &state, [.escape]) == [.followInstances(service: nil)])
        #expect(state.screen == .services && state.instances.isEmpty && state.effects[.instances] == nil)
    }

    @Test func healthHistoryIsSampledEachTickAndBounded() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.end, .enter])
        var entry = Fixture.entry("search-service", "search-service-1", port: 4001, status: "passing")
        _ = reducer.reduce(&state, .instancesChanged(service: "search-service", [entry], at: Fixture.t0))
        for i in 1...40 {
            if i == 35 {
                entry = Fixture.entry("search-service", "search-service-1", port: 4001, status: "critical")
                _ = reducer.reduce(&state, .instancesChanged(service: "search-service", [entry], at: Fixture.t0))
            }
            _ = reducer.reduce(&state, .tick(now: Fixture.t0 + Int64(i) * 1_000))
        }
        let history = state.healthHistory["search-service-1"] ?? []
        #expect(history.count == ConsoleState.historyLength)
        #expect(history.suffix(6) == Array(repeating: .critical, count: 6))
        #expect(history.first == .passing)
    }

    @Test func commandLineWithDidYouMeanAndHistory() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.character(":")] + type("instnces") + [.enter])
        #expect(state.message?.text == "unknown command :instnces: did you mean :instances?")
        #expect(state.message?.isError == true)
        #expect(keys(reducer, &state, [.character(":")] + type("instances serch-service") + [.enter]).isEmpty)
        #expect(state.message?.text == "no service serch-service: did you mean search-service?")
        #expect(keys(reducer, &state, [.character(":"), .up, .ctrl("w")] + type("search-service") + [.enter])
                == [.followInstances(service: "search-service")])
        #expect(state.commandHistory == ["instnces", "instances serch-service", "instances search-service"])
        #expect(keys(reducer, &state, [.character(":")] + type("theme lihgt") + [.enter]).isEmpty)
        #expect(state.message?.text.hasPrefix("no theme lihgt: did you mean light?") == true)
        #expect(keys(reducer, &state, [.character(":")] + type("theme light") + [.enter]) == [.loadTheme("light")])
        #expect(keys(reducer, &state, [.character(":")] + type("services") + [.enter]) == [.followInstances(service: nil)])
        #expect(keys(reducer, &state, [.character(":")] + type("q") + [.enter]) == [.quit])
        #expect(state.quit)
    }

    @Test func messagesFade() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.character(":")] + type("nope") + [.enter])
        #expect(state.message != nil)
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 5_000))
        #expect(state.message != nil)
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 9_000))
        #expect(state.message == nil)
    }

    @Test func filterNarrowsRowsLiveAndEscapeClearsIt() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.character("/")] + type("sea"))
        #expect(state.serviceSummaries.map(\.name) == ["search-service"])
        _ = keys(reducer, &state, [.enter])
        #expect(state.mode == .normal && state.filter == "sea")
        _ = keys(reducer, &state, [.escape])
        #expect(state.filter.isEmpty && state.serviceSummaries.count == 3)
        _ = keys(reducer, &state, [.character("/")] + type("x") + [.escape])
        #expect(state.filter.isEmpty)
    }

    @Test func sortingCyclesColumnsAndReverses() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.character("s"), .character("s"), .character("S")])
        #expect(state.serviceSort == Sort(column: 2, ascending: false))
        #expect(state.serviceSummaries.map(\.name) == ["search-service", "billing", "consul"])  // most instances first
    }

    @Test func helpOpensAndAnyKeyClosesItWithoutActing() {
        var (state, reducer) = Fixture.loaded()
        _ = keys(reducer, &state, [.character("?")])
        #expect(state.mode == .help)
        #expect(keys(reducer, &state, [.character("q")]).isEmpty)  // closes help, does not quit
        #expect(state.mode == .normal && !state.quit)
        #expect(keys(reducer, &state, [.ctrl("c")]) == [.quit])
    }

    @Test func failuresShowAsRetryingAndRecoveryAsLive() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .effectFailed(.catalog, reason: "connection refused", retryInMilliseconds: 2_000, at: Fixture.t0 + 5))
        #expect(state.effects[.catalog] == EffectStatus(phase: .retrying(reason: "connection refused", retryInMilliseconds: 2_000),
                                                        lastUpdate: Fixture.t0))
        #expect(state.services.count == 3)  // the last known data stays on screen
        _ = reducer.reduce(&state, .servicesChanged(["consul": []], at: Fixture.t0 + 9))
        #expect(state.effects[.catalog] == EffectStatus(phase: .live, lastUpdate: Fixture.t0 + 9))
        _ = reducer.reduce(&state, .quitRequested)
        #expect(state.quit)
    }

    @Test func mouseWheelMovesAndClickSelects() {
        var (state, reducer) = Fixture.loaded()
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .wheelDown, x: 3, y: 5))))
        #expect(state.selectedService == 2)
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 3))))  // title 0, header 1, rows from 2
        #expect(state.selectedService == 1)
        _ = reducer.reduce(&state, .input(.mouse(MouseEvent(kind: .click, x: 3, y: 12))))  // below the rows
        #expect(state.selectedService == 1)
    }
}
