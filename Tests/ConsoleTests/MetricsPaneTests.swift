import Console
import ConsulModels
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct MetricsPaneTests {
    /// The standard console at 120x40 without the logs pane: services and instances above, the metrics
    /// pane below (118x15 inside).
    func console() -> (ConsoleState, ConsoleReducer) {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 120, height: 40)
        _ = reducer.command(&state, "hide logs")
        _ = reducer.keys(&state, [.end])  // search-service
        return (state, reducer)
    }

    var graphiteFeeds: (ConsoleState) -> [GraphiteQuery] {
        { $0.subscriptions.compactMap { if case .graphite(let q) = $0 { return q } else { return nil } }.sorted { $0.targets[0] < $1.targets[0] } }
    }

    @Test func theDashboardOfTheSelectedServiceIsWantedChartByChart() throws {
        let (state, _) = console()
        let metrics = try #require(state.pane(MetricsPane.self))
        #expect(metrics.service == "search-service" && metrics.dashboard == .builtin)
        #expect(state.subscriptions.contains(.dashboard(service: "search-service")))
        #expect(!state.subscriptions.contains { if case .metricNames = $0 { true } else { false } })  // only when :metric's Tab waits
        // 118 columns inside: two charts side by side, two rows of them: four queries, service-wide only.
        let queries = graphiteFeeds(state)
        #expect(queries.count == 4)
        #expect(queries.allSatisfy { $0.instance == nil && $0.range == 900 && $0.points == 2 * (59 - 8) })
        #expect(queries.map { $0.targets.count } == [3, 1, 1, 1])  // latency (3, averageSeries first), calls, n_things, errors
        #expect(state.feeds[.graphite] == FeedStatus(phase: .connecting))
    }

    @Test func anInstanceAddsItsOwnSeriesBesideTheService() {
        var (state, reducer) = console()
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        #expect(state.selection.instance == "search-service-1")
        let calls = graphiteFeeds(state).first { $0.targets[0].contains("derive-search_requests)") }
        // Labelled series are asked for under their labels; {instance} is the runtime's to expand.
        #expect(calls?.targets == ["alias(sumSeries(collectd.*.statsd.derive-search_requests), 'all')",
                                   "alias(collectd.*.statsd.derive-search_instance_{instance}_requests, '{instance}')"])
        #expect(calls?.instance == "search-service-1")
    }

    @Test func answersDrawAndTheLegendSaysLastMinMaxMean() throws {
        var (state, reducer) = console()
        let query = try #require(graphiteFeeds(state).first { $0.targets[0].contains("derive-search_requests)") })
        let until = Fixture.t0 / 1000
        let values: [Double?] = (0..<90).map { i in i % 30 == 7 ? nil : Double(i % 10) }
        _ = reducer.reduce(&state, .feed(.graphite(query, [MetricSeries(target: "all",
                                                                         start: until - 900, step: 10, values: values)],
                                                   at: Fixture.t0)))
        #expect(state.feeds[.graphite]?.phase == .live)
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("all  last 9/s  min 0/s  max 9/s  mean 4.41/s"))  // nulls are not zeros
        #expect(screen.contains("waiting for Graphite…"))  // the other charts
        // An answer for a query no longer wanted (another range) is dropped.
        var other = query
        other.range = 3_600
        _ = reducer.reduce(&state, .feed(.graphite(other, [], at: Fixture.t0)))
        #expect(state.pane(MetricsPane.self)?.data[other] == nil)
    }

    @Test func rangesStepAndTheCursorPointsAtAMoment() {
        var (state, reducer) = console()
        _ = reducer.keys(&state, [.tab, .tab])  // to the metrics pane
        #expect(state.focus == MetricsPane.id)
        _ = reducer.keys(&state, [.character("]"), .character("]")])
        #expect(state.pane(MetricsPane.self)?.range == 21_600)
        #expect(graphiteFeeds(state).allSatisfy { $0.range == 21_600 })
        _ = reducer.keys(&state, [.character("["), .character("["), .character("["), .character("["), .character("[")])
        #expect(state.pane(MetricsPane.self)?.range == 300)
        // The cursor starts at the last slot and moves by one; the selection carries its time.
        _ = reducer.keys(&state, [.left, .left])
        let now = Fixture.t0 / 1000
        #expect(state.selection.time == now - now % 10 - 20)  // no answer yet: slots of 10 s
        _ = reducer.keys(&state, [.escape])
        #expect(state.selection.time == nil && state.pane(MetricsPane.self)?.cursor == nil)
    }

    @Test func rangeAndMetricCommands() {
        var (state, reducer) = console()
        _ = reducer.command(&state, "range 2h")
        #expect(state.pane(MetricsPane.self)?.range == 7_200 && state.focus == MetricsPane.id)
        _ = reducer.command(&state, "range 10s")
        #expect(state.message?.text == "range: a duration from 1m to 30d, like 5m, 2h, 1h30m or 7d")
        _ = reducer.command(&state, "range 7d")
        #expect(state.pane(MetricsPane.self)?.range == 604_800)
        // :metric charts any target first, and Tab completes Graphite's paths a level at a time.
        _ = reducer.command(&state, "metric sumSeries(collectd.*.statsd.derive-search_requests)")
        let metrics = state.pane(MetricsPane.self)
        #expect(metrics?.charts.first?.title == "sumSeries(collectd.*.statsd.derive-search_requests)" && metrics?.selected == 0)
        #expect(graphiteFeeds(state).contains { $0.targets == ["sumSeries(collectd.*.statsd.derive-search_requests)"] })
        _ = reducer.command(&state, "metric")
        #expect(state.pane(MetricsPane.self)?.custom.isEmpty == true)
    }

    /// `:metric`'s Tab asks Graphite for the paths that start with what is typed, only when pressed (never
    /// in the background), and is answered when they come; later Tabs on that level are answered from them
    /// for a minute.
    @Test func metricPathsAreAskedForByTabAndAnswerItWhenTheyCome() {
        var (state, reducer) = console()
        func asked() -> [String] { state.subscriptions.compactMap { if case .metricNames(let p) = $0 { p } else { nil } }.sorted() }
        func line() -> String? { state.mode.commandLine }
        func answer(_ pattern: String, _ paths: [String]) {
            _ = reducer.reduce(&state, .feed(.metricNames(matching: pattern, paths, at: state.now)))
        }
        _ = reducer.type(&state, ":metric coll")
        #expect(asked() == [])  // typing asks nothing
        _ = reducer.keys(&state, [.tab])
        #expect(line() == "metric coll" && state.tabPending && asked() == ["coll*"])
        // Another feed's report meanwhile leaves the line as it is, and the question open.
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        #expect(line() == "metric coll" && state.tabPending && asked() == ["coll*"])
        answer("coll*", ["collectd."])
        #expect(line() == "metric collectd." && !state.tabPending)  // a branch: no space after it
        #expect(asked() == [])
        // The next level is not in that answer: Tab asks again.
        _ = reducer.keys(&state, [.tab])
        #expect(line() == "metric collectd." && asked() == ["collectd.*"])
        answer("collectd.*", ["collectd.vm."])
        #expect(line() == "metric collectd.vm.")
        let leaves = ["collectd.vm.statsd.derive-search_errors_internal", "collectd.vm.statsd.derive-search_requests"]
        _ = reducer.type(&state, "statsd.d")
        _ = reducer.keys(&state, [.tab])
        #expect(asked() == ["collectd.vm.statsd.d*"])
        answer("collectd.vm.statsd.d*", leaves)
        #expect(line() == "metric collectd.vm.statsd.derive-search_" && state.completions == leaves)
        // Typed further on the same level: answered at once from those paths, nothing asked.
        _ = reducer.type(&state, "r")
        _ = reducer.keys(&state, [.tab])
        #expect(line() == "metric collectd.vm.statsd.derive-search_requests " && asked() == [])  // a series: done
        // Within a minute those paths answer again; later Graphite is asked again.
        _ = reducer.keys(&state, [.backspace, .backspace, .tab])
        #expect(line() == "metric collectd.vm.statsd.derive-search_requests " && asked() == [])
        _ = reducer.reduce(&state, .tick(now: state.now + 61_000))
        _ = reducer.keys(&state, [.backspace, .backspace, .tab])
        #expect(line() == "metric collectd.vm.statsd.derive-search_request" && asked() == ["collectd.vm.statsd.derive-search_request*"])
        // Escape leaves the line, and the question with it.
        _ = reducer.keys(&state, [.escape])
        #expect(asked() == [] && line() == nil)
        // A function or a glob is past what Tab completes: nothing asked, nothing waits.
        _ = reducer.type(&state, ":metric sumSeries(collectd.")
        _ = reducer.keys(&state, [.tab])
        #expect(asked() == [] && !state.tabPending && line() == "metric sumSeries(collectd.")
        _ = reducer.keys(&state, [.escape])
        // Nothing typed yet: the top level. No path starts with what is typed: that is the answer, and it
        // is not asked again while it holds.
        _ = reducer.type(&state, ":metric ")
        _ = reducer.keys(&state, [.tab])
        #expect(asked() == ["*"])
        _ = reducer.type(&state, "zz")
        _ = reducer.keys(&state, [.tab])
        #expect(asked() == ["zz*"])
        answer("zz*", [])
        #expect(line() == "metric zz" && !state.tabPending && asked() == [])
        _ = reducer.keys(&state, [.character("z"), .tab])
        #expect(line() == "metric zzz" && !state.tabPending && asked() == [])
        _ = reducer.keys(&state, [.escape])
        // The pane hidden: its command's Tab is still answered, and nothing else of it runs.
        _ = reducer.command(&state, "hide metrics")
        let hidden = state.subscriptions
        _ = reducer.type(&state, ":metric co")
        _ = reducer.keys(&state, [.tab])
        #expect(asked() == ["co*"] && state.subscriptions == hidden.union([.metricNames(matching: "co*")]))
        answer("co*", ["collectd.", "collectd_old."])
        #expect(line() == "metric collectd" && state.completions == ["collectd.", "collectd_old."])
        #expect(state.subscriptions == hidden)
    }

    @Test func aDashboardFileReplacesTheBuiltInOneAndABadOneIsSaid() {
        var (state, reducer) = console()
        _ = reducer.reduce(&state, .feed(.dashboard(service: "search-service", text: "chart mine unit=rate\n  service x = a.b.c\n")))
        #expect(state.pane(MetricsPane.self)?.dashboard.charts.map(\.title) == ["mine"])
        #expect(graphiteFeeds(state).map(\.targets) == [["alias(a.b.c, 'x')"]])
        // The selection past the end of a shorter dashboard is brought back in.
        _ = reducer.keys(&state, [.tab, .tab, .character("G")])
        _ = reducer.reduce(&state, .feed(.dashboard(service: "search-service", text: "chart one\n service = a\n")))
        #expect(state.pane(MetricsPane.self)?.selected == 0 && ConsoleView.render(state, reducer).text.contains("one"))
        _ = reducer.reduce(&state, .feed(.dashboard(service: "search-service", text: "chart\n")))
        #expect(state.pane(MetricsPane.self)?.dashboard == .builtin)
        #expect(state.message?.text == "dashboards/search-service.dashboard, line 1: a chart needs a title: chart TITLE [unit=rate]; showing the built-in dashboard")
    }

    /// The built-in dashboard is search-server's metrics: drawn under another service's name, it would pass
    /// search-server's calls off as that service's. Such a service gets `:metric` charts and its own file's,
    /// and the pane says how to add some.
    @Test func theBuiltInDashboardIsDrawnOnlyForSearchServers() throws {
        var (state, reducer) = console()
        _ = reducer.keys(&state, [.home])  // billing
        #expect(state.selection.service == "billing")
        // Until its instances are known the built-in charts stand.
        #expect(graphiteFeeds(state).count == 4)
        #expect(state.subscriptions.contains(.health(service: "billing")))
        let billing = [Fixture.entry("billing", "billing-1", port: 8080, status: "passing", meta: ["version": "2"])]
        _ = reducer.reduce(&state, .feed(.health(service: "billing", billing, at: Fixture.t0)))
        #expect(graphiteFeeds(state).isEmpty)
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("metrics  billing › billing-1  last 15m  (no dashboard)"))
        #expect(screen.contains("billing has no dashboard: the built-in one charts search-server's metrics,"))
        #expect(screen.contains("$XDG_CONFIG_HOME/opsdeck/dashboards/billing.dashboard"))
        #expect(!screen.contains("calls/s"))
        // Keys that move between charts keep the selection in range with no chart to select.
        _ = reducer.keys(&state, [.tab, .tab])
        #expect(state.focus == MetricsPane.id)
        _ = reducer.keys(&state, [.character("G"), .character("j")])
        #expect(try #require(state.pane(MetricsPane.self)).selected == 0)
        // The pane watches the service's instances itself: hiding the instances pane changes nothing.
        _ = reducer.command(&state, "hide instances")
        #expect(state.subscriptions.contains(.health(service: "billing")) && graphiteFeeds(state).isEmpty)
        _ = reducer.command(&state, "show instances")
        // A dashboard file with a mistake in it is not taken for a missing one.
        _ = reducer.reduce(&state, .feed(.dashboard(service: "billing", text: "chart\n")))
        #expect(state.message?.text == "dashboards/billing.dashboard, line 1: a chart needs a title: chart TITLE [unit=rate]; no charts drawn")
        let broken = ConsoleView.render(state, reducer).text
        #expect(broken.contains("dashboards/billing.dashboard, line 1: a chart needs a title") && broken.contains("Fix that file"))
        _ = reducer.reduce(&state, .feed(.dashboard(service: "billing", text: nil)))
        // :metric charts still come, and the service's own dashboard file is drawn.
        _ = reducer.command(&state, "metric billing.requests")
        #expect(graphiteFeeds(state).map(\.targets) == [["billing.requests"]])
        _ = reducer.reduce(&state, .feed(.dashboard(service: "billing", text: "chart orders unit=rate\n  service = billing.orders\n")))
        #expect(graphiteFeeds(state).map(\.targets) == [["billing.orders"], ["billing.requests"]])
        #expect(ConsoleView.render(state, reducer).text.contains("(billing.dashboard)"))
    }

    /// What the pane knows of a service's instances is that service's: selecting another starts over.
    @Test func eachServiceIsJudgedOnItsOwnInstances() {
        var (state, reducer) = console()
        _ = reducer.keys(&state, [.home])  // billing
        let billing = [Fixture.entry("billing", "billing-1", port: 8080, status: "passing")]
        _ = reducer.reduce(&state, .feed(.health(service: "billing", billing, at: Fixture.t0)))
        #expect(graphiteFeeds(state).isEmpty)
        _ = reducer.keys(&state, [.end])  // search-service
        #expect(state.pane(MetricsPane.self)?.runsSearchServer == nil && graphiteFeeds(state).count == 4)
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        #expect(graphiteFeeds(state).count == 4)
        // A late answer about billing does not speak for search-service.
        _ = reducer.reduce(&state, .feed(.health(service: "billing", billing, at: Fixture.t0 + 1_000)))
        #expect(graphiteFeeds(state).count == 4)
        _ = reducer.keys(&state, [.home])
        #expect(state.pane(MetricsPane.self)?.runsSearchServer == nil)
        _ = reducer.reduce(&state, .feed(.health(service: "billing", billing, at: Fixture.t0 + 2_000)))
        #expect(graphiteFeeds(state).isEmpty)
    }

    /// Once its instances said they run search-server, a service keeps the built-in charts while they all
    /// restart (no instance registered for a moment).
    @Test func aSearchServerKeepsItsChartsWhileItsInstancesRestart() {
        var (state, reducer) = console()
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        #expect(state.pane(MetricsPane.self)?.runsSearchServer == true)
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [], at: Fixture.t0 + 1_000)))
        let plain = Fixture.entry("search-service", "search-service-9", port: 40009, status: "passing")
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [plain], at: Fixture.t0 + 2_000)))
        #expect(graphiteFeeds(state).count == 4)
        #expect(ConsoleView.render(state, reducer).text.contains("(built-in)"))
    }

    @Test func dashboardFilesAreParsedWithTheirMistakesPlaced() throws {
        let dashboard = try Dashboard.parse("""
            # comment
            chart calls unit=rate
              service all = a.b
              instance {instance} = a.{instance}.b
            chart plain
              service = c
            """, file: "f")
        #expect(dashboard.charts.map(\.title) == ["calls", "plain"])
        #expect(dashboard.charts[0].unit == .rate && dashboard.charts[1].unit == .count)
        #expect(dashboard.charts[0].series == [.init(.service, "all", "a.b"), .init(.instance, "{instance}", "a.{instance}.b")])
        #expect(dashboard.charts[1].series == [.init(.service, "", "c")])
        #expect(throws: Dashboard.ParseError(description: "f, line 1: a series comes after its `chart` line")) {
            try Dashboard.parse("service a = b", file: "f")
        }
        #expect(throws: Dashboard.ParseError(description: "f, line 1: unit is one of count, rate, seconds")) {
            try Dashboard.parse("chart x unit=furlongs", file: "f")
        }
        #expect(throws: Dashboard.ParseError(description: "f, line 2: expected service LABEL = TARGET")) {
            try Dashboard.parse("chart x\nservice nothing", file: "f")
        }
        #expect(throws: Dashboard.ParseError(description: "f: no chart in it")) { try Dashboard.parse("# empty", file: "f") }
        #expect(Dashboard.builtin.charts.count == 5)
    }

    @Test func legendsSayFlatAndEmptyInWords() {
        let flat = MetricSeries(target: "t", start: 100, step: 10, values: [3, 3, nil, 3])
        #expect(ChartView.summary(flat, unit: .rate, from: 100, until: 200) == "flat at 3/s")
        #expect(ChartView.summary(flat, unit: .rate, from: 500, until: 600) == "no data in this range")
        #expect(ChartView.summary(flat, unit: .rate, from: 100, until: 200, cursor: 125) == "no value at the cursor")
        #expect(ChartView.summary(flat, unit: .rate, from: 100, until: 200, cursor: 135) == "at cursor 3/s")
        // A slow rate: every figure in the unit of the largest (errors now and then, per minute).
        let slow = MetricSeries(target: "t", start: 100, step: 10, values: [0, 0.001, 0.005])
        #expect(ChartView.summary(slow, unit: .rate, from: 100, until: 200) == "last 0.3/min  min 0/min  max 0.3/min  mean 0.12/min")
        #expect(ChartView.summary(slow, unit: .rate, from: 100, until: 200, cursor: 105) == "at cursor 0/min")
        // Beside a faster line on the same chart: in the chart's unit, the axis's.
        #expect(ChartView.summary(slow, unit: .rate, from: 100, until: 200, alongside: 2) == "last 0.01/s  min 0/s  max 0.01/s  mean 0/s")
        // Drawn: the slow line's legend row in the axis's unit.
        let fast = MetricSeries(target: "f", start: 100, step: 10, values: [2, 2, 2])
        let chart = ChartView(title: "calls/s", unit: .rate, lines: [ChartView.Line(label: "all", series: fast),
                                                                     ChartView.Line(label: "slow", series: slow)],
                              from: 100, until: 120)
        var grid = Grid(width: 60, height: 10)
        chart.render(into: &grid, grid.bounds, theme: .monochrome)
        let screen = grid.lines()
        #expect(screen.contains { $0.contains("slow  last 0.01/s  min 0/s") } && !screen.contains { $0.contains("/min") }, "\(screen)")
    }
}
