import ConsulModels
import SearchSettings
import TUI

/// The selected service's StatsD metrics from Graphite as live braille charts: its dashboard's charts,
/// service-wide lines and, with an instance selected, that instance's beside them; a time range, and a
/// time cursor whose moment the other panes can follow.
public struct MetricsPane: Pane {
    public static let id: PaneID = "metrics"
    public static let placement = PanePlacement(row: .bottom, width: .flexible(minimum: 40))
    /// The ranges `[` and `]` step through, in seconds.
    public static let ranges: [Int64] = [300, 900, 3_600, 21_600, 86_400, 604_800]
    /// A chart's room at the least: title, three rows of lines, the time axis, a legend row.
    static let chartHeight = 7, chartWidth = 56

    public enum Command: String, PaneCommand {
        case up, down, top, bottom, shorter, longer, earlier, later, live
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.down, [.down, .character("j")], "Select the next chart"),
        Binding(.up, [.up, .character("k")], "Select the previous chart"),
        Binding(.top, [.home, .character("g")], "First chart"),
        Binding(.bottom, [.end, .character("G")], "Last chart"),
        Binding(.shorter, [.character("[")], "A shorter time range (5m 15m 1h 6h 24h 7d)"),
        Binding(.longer, [.character("]")], "A longer time range", hint: "range"),
        Binding(.earlier, [.left, .character("h")], "Time cursor one slot back (values at that moment)", hint: "cursor"),
        Binding(.later, [.right, .character("l")], "Time cursor one slot forward"),
        Binding(.live, [.escape], "Back to live: no cursor"),
    ]

    public static let lineCommands = [
        LineCommandSpec("range", argument: .init("DURATION", required: true, completion: .values(["5m", "15m", "1h", "6h", "24h", "7d"])),
                        help: "Show the last DURATION (5m to 30d, e.g. 2h or 1h30m)"),
        LineCommandSpec("metric", argument: .init("TARGET", required: false, completion: .pane, rest: true),
                        help: "Chart any Graphite target, functions too (no TARGET: remove those charts)"),
    ]

    public var service: String?
    public var instance: String?
    public var dashboard = Dashboard.builtin
    /// The service's dashboard file was read: `dashboard` is its.
    public var ownDashboard = false
    /// Why the service's dashboard file could not be used, while it cannot.
    public var fileProblem: String?
    /// Whether the service's instances run search-server, as their registration says
    /// (`SettingsTable`; nil until instances are known). The built-in dashboard is search-server's
    /// metrics, whichever service is selected: under another service's name it would show search-server's
    /// calls as that service's. Once seen it stays, so the charts stay up while every instance restarts.
    public var runsSearchServer: Bool?

    /// Where the dashboard came from, or why there is none.
    public var dashboardNote: String {
        if ownDashboard, let service { return "\(service).dashboard" }
        return showsDashboard ? "built-in" : "no dashboard"
    }

    /// The dashboard's charts are drawn: the service's own file, or the built-in one unless the service's
    /// instances are known not to run search-server.
    var showsDashboard: Bool { ownDashboard || runsSearchServer != false }
    /// Targets added with `:metric`, charted before the dashboard's.
    public var custom: [String] = []
    public var range: Int64 = 900
    public var selected = 0
    /// The time cursor (seconds since the epoch), nil when live.
    public var cursor: Int64?
    /// Graphite's answers by query.
    public var data: [GraphiteQuery: Answer] = [:]
    public struct Answer: Equatable, Sendable {
        public var series: [MetricSeries]
        /// When it came (milliseconds since the epoch).
        public var at: Int64
    }
    /// Graphite's answer to the last `:metric` Tab that waited (`Feed.metricNames`).
    public var metricPaths: MetricPaths?
    public struct MetricPaths: Equatable, Sendable {
        /// What was typed when the Tab was pressed: the paths are those that start with it at its level.
        public var typed: String
        public var paths: [String]
        /// When they came (milliseconds since the epoch).
        public var at: Int64
    }
    /// How long Graphite's paths answer later Tabs (then a Tab asks again): the feed's refresh.
    static let metricPathsLifetime: Int64 = 60_000

    public init() {}

    /// The charts shown: the `:metric` ones, then the dashboard's.
    public var charts: [Dashboard.Chart] {
        custom.map { Dashboard.Chart(title: $0, unit: .count, series: [.init(.service, "", $0)]) } + (showsDashboard ? dashboard.charts : [])
    }

    // MARK: layout

    /// Where each chart on screen goes in a pane of `size`: a grid of chart slots, on the page that holds
    /// the selected chart.
    func slots(_ size: Size) -> [(chart: Int, rect: Rect)] {
        let columns = max(1, size.width / Self.chartWidth), rows = max(1, size.height / Self.chartHeight)
        let perPage = columns * rows
        let first = min(selected, max(0, charts.count - 1)) / perPage * perPage
        let width = size.width / columns, height = size.height / rows
        return (first..<min(charts.count, first + perPage)).map { index in
            let slot = index - first
            return (index, Rect(x: slot % columns * width, y: slot / columns * height,
                                width: slot % columns == columns - 1 ? size.width - (columns - 1) * width : width,
                                height: slot / columns == rows - 1 ? size.height - (rows - 1) * height : height))
        }
    }

    /// The Graphite query for chart `index` drawn `width` columns wide. A labelled series is asked for
    /// under its label (Graphite's `alias`), so the answer names its series whatever comes back.
    public func query(_ index: Int, width: Int) -> GraphiteQuery {
        let chart = charts[index]
        let shown = chart.series.filter { $0.scope == .service || instance != nil }
        let targets = shown.map { spec in
            spec.label.isEmpty ? spec.target : "alias(\(spec.target), '\(spec.label.filter { $0 != "'" && $0 != "\\" })')"
        }
        return GraphiteQuery(targets: targets, instance: shown.contains { $0.scope == .instance } ? instance : nil,
                             range: range, points: TimeChart.dots(columns: max(1, width - 8)))
    }

    /// The selection stays on a chart shown (0 when there is none): charts come and go with the dashboard.
    private mutating func clampSelection() {
        selected = max(0, min(selected, charts.count - 1))
    }

    public func subscriptions(_ context: PaneContext) -> Set<Feed> {
        guard let service, context.size.width > 0 else { return [] }
        var feeds: Set<Feed> = [.dashboard(service: service), .health(service: service)]
        for slot in slots(context.size) { feeds.insert(.graphite(query(slot.chart, width: slot.rect.width))) }
        return feeds
    }

    // MARK: updates

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .selectionChanged:
            if context.selection.service != service {
                service = context.selection.service
                dashboard = .builtin
                ownDashboard = false
                fileProblem = nil
                runsSearchServer = nil
                data = [:]
                selected = 0
            }
            instance = context.selection.instance
            // Another pane pointed at a moment (a log line's time): the cursor goes there.
            cursor = context.selection.time
        case .feed(.dashboard(let name, let text)):
            guard name == service else { return [] }
            defer { clampSelection() }
            dashboard = .builtin
            ownDashboard = false
            fileProblem = nil
            guard let text else { return [] }
            do {
                dashboard = try Dashboard.parse(text, file: "dashboards/\(name).dashboard")
                ownDashboard = true
            } catch {
                fileProblem = "\(error)"
                return [.message("\(error); " + (showsDashboard ? "showing the built-in dashboard" : "no charts drawn"), isError: true)]
            }
        case .feed(.health(let name, let entries, _)):
            guard name == service, !entries.isEmpty, runsSearchServer != true else { return [] }
            runsSearchServer = entries.contains { SettingsTable.announced(in: $0.service.meta) }
            clampSelection()
        case .feed(.graphite(let query, let series, let at)):
            data[query] = Answer(series: series, at: at)
            // Bounded: answers for charts, ranges or sizes no longer shown go, oldest first.
            while data.count > 48, let oldest = data.min(by: { $0.value.at < $1.value.at })?.key { data[oldest] = nil }
        case .feed(.metricNames(let pattern, let paths, let at)):
            metricPaths = MetricPaths(typed: String(pattern.dropLast()), paths: paths, at: at)
        default:
            break
        }
        return []
    }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        switch command {
        case .up: selected = max(0, selected - 1)
        case .down: selected += 1; clampSelection()
        case .top: selected = 0
        case .bottom: selected = max(0, charts.count - 1)
        case .shorter: range = Self.ranges.last { $0 < range } ?? range
        case .longer: range = Self.ranges.first { $0 > range } ?? range
        case .earlier, .later:
            let until = context.now / 1000, step = self.step(context)
            let start = cursor ?? (until - until % step)
            cursor = min(until, max(until - range, start + (command == .earlier ? -step : step)))
            return [.selectTime(cursor)]
        case .live:
            cursor = nil
            return [.selectTime(nil)]
        }
        return []
    }

    /// One slot of the selected chart's data (Graphite's step), else a hundredth of the range.
    func step(_ context: PaneContext) -> Int64 {
        let answered = slots(context.size).first { $0.chart == selected }
            .flatMap { data[query($0.chart, width: $0.rect.width)]?.series.first?.step }
        return answered ?? max(10, range / 100)
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        switch command.name {
        case "range":
            guard let text = command.argument, let duration = GoDuration.parse(text, days: true),
                  duration >= .seconds(60), duration <= .seconds(30 * 86_400) else {
                return [.message("range: a duration from 1m to 30d, like 5m, 2h, 1h30m or 7d", isError: true)]
            }
            range = duration.components.seconds
        case "metric":
            guard let target = command.argument else {
                custom = []
                clampSelection()
                return [.message("charts added with :metric removed", isError: false)]
            }
            if !custom.contains(target) { custom.append(target) }
            selected = custom.firstIndex(of: target)!
        default:
            break
        }
        return [.focus(Self.id)]
    }

    public func completions(for command: String, _ context: PaneContext) -> [String] {
        guard command == "metric", let typed = Self.metricPathTyped(context.typing) else { return [] }
        return answeredPaths(typed, context) ?? []
    }

    /// A Tab that found no path asks Graphite for those that start with what is typed, unless Graphite's
    /// last answer covers it already (then there is none).
    public func completionSubscriptions(_ context: PaneContext) -> Set<Feed> {
        guard context.typing?.tabPending == true, let typed = Self.metricPathTyped(context.typing),
              answeredPaths(typed, context) == nil else { return [] }
        return [.metricNames(matching: typed + "*")]
    }

    /// The paths Graphite gave for an earlier Tab, while they cover `typed`: less than a minute old, the
    /// same level, and the start of a name that begins with what was typed then.
    func answeredPaths(_ typed: String, _ context: PaneContext) -> [String]? {
        guard let answer = metricPaths, context.now - answer.at <= Self.metricPathsLifetime, typed.hasPrefix(answer.typed),
              !typed.dropFirst(answer.typed.count).contains(".") else { return nil }
        return answer.paths
    }

    /// The metric path a `:metric` line holds so far ("collectd.vm.stat"), for Tab to complete; nil when the
    /// line is not `:metric`, or its target is more than a path (a function, a glob, several words).
    static func metricPathTyped(_ typing: TypedCommand?) -> String? {
        guard let typing, typing.name == "metric",
              !typing.argument.contains(where: { " (),*?[]{}'\"\\".contains($0) }) else { return nil }
        return typing.argument
    }

    // MARK: drawing

    public func title(_ context: PaneContext) -> String {
        let range = Self.rangeName(range)
        guard let service else { return "metrics" }
        return "metrics  \(service)\(instance.map { " › \($0)" } ?? "")  last \(range)  (\(dashboardNote))"
    }

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        guard service != nil else {
            grid.put("no service selected", x: rect.x + 1, y: rect.y + 1, style: context.theme[.muted], clip: rect)
            return
        }
        if charts.isEmpty, let service {
            let lines = fileProblem.map { problem in
                [problem, "Fix that file, or chart a Graphite target with :metric TARGET."]
            } ?? [
                "\(service) has no dashboard: the built-in one charts search-server's metrics,",
                "and its instances do not run search-server (no meta settings=search-server).",
                "Chart a Graphite target with :metric TARGET, or write its charts to",
                "$XDG_CONFIG_HOME/opsdeck/dashboards/\(service).dashboard (README: Metrics pane).",
            ]
            for (row, line) in lines.enumerated() {
                grid.put(line, x: rect.x + 1, y: rect.y + 1 + row, style: context.theme[.muted], clip: rect)
            }
            return
        }
        let until = context.now / 1000, from = until - range
        for slot in slots(Size(width: rect.width, height: rect.height)) {
            let chart = charts[slot.chart]
            let answer = data[query(slot.chart, width: slot.rect.width)]
            var view = ChartView(title: chart.title, unit: chart.unit, lines: [], from: from, until: until, cursor: cursor,
                                 utcOffset: context.utcOffset)
            view.selected = slot.chart == selected && context.isFocused
            if answer == nil {
                if case .retrying(let reason, _)? = context.feeds[.graphite]?.phase {
                    view.note = "cannot read Graphite: \(reason)"
                } else {
                    view.note = "waiting for Graphite…"
                }
            }
            let lines = (answer?.series ?? []).map { ChartView.Line(label: ChartView.shortLabel($0.target), series: $0) }
            view.lines = lines
            view.render(into: &grid, Rect(x: rect.x + slot.rect.x, y: rect.y + slot.rect.y, width: slot.rect.width,
                                          height: slot.rect.height), theme: context.theme)
        }
    }

    /// 900 → `15m`, 86400 → `24h`, 604800 → `7d`.
    static func rangeName(_ seconds: Int64) -> String {
        if seconds % 86_400 == 0 && seconds > 86_400 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
