import ArgumentParser
import Console
import ConsoleFeeds
import Consul
import ConsulModels
import Foundation
import HelpText
import SearchSettings
import Telemetry
import TerminalSafety
import TUI

/// `opsdeck metrics`: Graphite series as the metrics pane draws them, or as CSV or JSON.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print Graphite series: a braille chart as the metrics pane draws it, CSV or JSON.",
        discussion: HelpText.reflow("""
            TARGET is anything Graphite's render API takes: a path, a wildcard, a function.
            search-server's metrics are stored by collectd as collectd.<host>.statsd.<type>-<name>:

              opsdeck metrics collectd.*.statsd.derive-search_requests --from 15m
              opsdeck metrics 'collectd.*.statsd.latency-search_latency-percentile-*'
              opsdeck metrics --output csv 'collectd.*.statsd.derive-search_*_requests'
              opsdeck metrics --dashboard search-service --instance search-service-1
              opsdeck metrics --dashboard search-service --list-targets
              opsdeck metrics --find 'collectd.*.statsd.*'

            --dashboard draws every chart of a service's dashboard, as the console's metrics pane does:
            $XDG_CONFIG_HOME/opsdeck/dashboards/<service>.dashboard, else the built-in one, which charts
            search-server's metrics: for a service whose instances do not run search-server (Consul
            says, meta settings=search-server) there is none, and the command says so (exit 1). When
            Consul lists no instance of it or cannot be asked, the built-in one is drawn and stderr
            says why. --instance adds that instance's own series. --list-targets prints the
            Graphite targets it reads instead, one chart per line, for Graphite's own UI or curl.

            --find PATTERN prints the metric paths that match a Graphite pattern, one per line, a branch
            ending in "." (what the metrics pane's :metric Tab offers, a level at a time), and exits. As in
            Graphite's tree, a wildcard in a parent level stays in the paths (collectd.*.statsd.x), each
            name once.

            --from and --until are durations ago (90s, 15m, 1h30m, 7d) or `now`. The chart fits the
            terminal's width (or --width); its legend gives each series' last, min, max and mean.
            csv: a header of targets, then one row per time (RFC 3339, UTC), empty where Graphite has
            no value. json: one object per point, {"target","time","timestamp","value"}, value null
            where there is none.

            Exit status: 0 when Graphite answered (even with no data: the chart says so), 1 when it
            could not be read or refused a target, or the service has no dashboard or a mistake in its
            dashboard file (the reason is printed), 64 on a usage error.
            """)
    )

    @Argument(help: "Graphite targets.")
    var targets: [String] = []

    @Option(help: ArgumentHelp("Chart a service's dashboard (its file, else the built-in one).", valueName: "service"))
    var dashboard: String?

    @Option(help: ArgumentHelp("With --dashboard: the instance whose own series are drawn too.", valueName: "id"))
    var instance: String?

    @Flag(help: "With --dashboard: print each chart's Graphite targets (tab-separated), one chart per line, and exit.")
    var listTargets = false

    @Option(help: ArgumentHelp("Print the metric paths matching PATTERN (a branch ends in .) and exit.", valueName: "pattern"))
    var find: String?

    @OptionGroup var consulOptions: ConsulOptions
    @OptionGroup var graphiteOptions: GraphiteOptions

    @Option(help: ArgumentHelp("How far back: a duration ago (15m, 1h, 7d).", valueName: "duration"))
    var from = "1h"

    @Option(help: ArgumentHelp("Until when: a duration ago, or now.", valueName: "duration"))
    var until = "now"

    @Option(help: ArgumentHelp("chart, csv or json.", valueName: "format"))
    var output = "chart"

    @Option(help: ArgumentHelp("What the values are, for the chart's axis: count, rate or seconds.", valueName: "unit"))
    var unit = "count"

    @Option(help: ArgumentHelp("Chart width in columns (default: the terminal's, else 80).", valueName: "columns"))
    var width: Int?

    @Option(help: ArgumentHelp("Chart height in rows, legend included.", valueName: "rows"))
    var height = 14

    func validate() throws {
        if let find {
            if !targets.isEmpty || dashboard != nil { throw ValidationError("--find \(find) goes alone: no targets or --dashboard with it") }
            if find.isEmpty { throw ValidationError("--find needs a pattern, e.g. --find 'collectd.*'") }
        } else if targets.isEmpty && dashboard == nil {
            throw ValidationError("name a target, e.g. opsdeck metrics collectd.*.statsd.derive-search_requests, or --dashboard SERVICE")
        }
        if !targets.isEmpty && dashboard != nil { throw ValidationError("targets or --dashboard, not both") }
        if (instance != nil || listTargets) && dashboard == nil { throw ValidationError("--instance and --list-targets go with --dashboard") }
        guard ["chart", "csv", "json"].contains(output) else { throw ValidationError("--output \(output): expected chart, csv or json") }
        guard ValueUnit(rawValue: unit) != nil else { throw ValidationError("--unit \(unit): expected count, rate or seconds") }
        guard (try? Self.secondsAgo(from)) != nil else { throw ValidationError("--from \(from): expected a duration such as 15m, 1h or 7d") }
        guard (try? Self.secondsAgo(until)) != nil else { throw ValidationError("--until \(until): expected now or a duration such as 5m") }
        if let from = try? Self.secondsAgo(from), let until = try? Self.secondsAgo(until), until >= from {
            throw ValidationError("--from \(self.from) --until \(self.until): until must be more recent than from")
        }
        if let width, !(8...1_000).contains(width) { throw ValidationError("--width \(width): from 8 to 1000") }
        if !(4...200).contains(height) { throw ValidationError("--height \(height): from 4 to 200") }
    }

    /// `now` is 0; a duration is its seconds (1 s at least, 30 days at most).
    static func secondsAgo(_ text: String) throws -> Int64 {
        if text == "now" { return 0 }
        guard let duration = GoDuration.parse(text, days: true), duration >= .seconds(1), duration <= .seconds(366 * 86_400)
        else { throw ValidationError(text) }
        return duration.components.seconds
    }

    /// What to chart: the targets given, as one chart, or each chart of a dashboard with the targets the
    /// metrics pane would ask for (`{instance}` expanded as the console's runtime does).
    func charts() async throws -> [(title: String, unit: ValueUnit, targets: [String])] {
        guard let service = dashboard else { return [(targets.joined(separator: ", "), ValueUnit(rawValue: unit) ?? .count, targets)] }
        var pane = MetricsPane()
        pane.instance = instance
        if let directory = ConsoleConfigFile.directory(environment: ProcessInfo.processInfo.environment),
           let text = try? String(contentsOfFile: "\(directory)/dashboards/\(service).dashboard", encoding: .utf8) {
            do {
                pane.dashboard = try Dashboard.parse(text, file: "dashboards/\(service).dashboard")
                pane.ownDashboard = true
            } catch {
                throw Self.failure("\(error)")  // the file's own mistake, placed: not a usage error
            }
        } else {
            pane.runsSearchServer = await runsSearchServer(service)
            guard !pane.charts.isEmpty else {
                throw Self.failure("\(TerminalText.sanitize(service)) has no dashboard: the built-in one charts search-server's metrics, and its "
                                   + "instances do not run search-server; name Graphite targets, or write its charts to "
                                   + "$XDG_CONFIG_HOME/opsdeck/dashboards/\(TerminalText.sanitize(service)).dashboard")
            }
        }
        return pane.charts.indices.map { index in
            let query = pane.query(index, width: 80)
            return (pane.charts[index].title, pane.charts[index].unit, query.expandedTargets)
        }
    }

    /// Whether `service`'s instances say they run search-server, as the metrics pane judges it; nil when
    /// none is registered or Consul cannot be asked. Then the built-in dashboard is drawn, as the pane does
    /// until it knows, and stderr says why (a misspelt service has no instances either).
    func runsSearchServer(_ service: String) async -> Bool? {
        let name = TerminalText.sanitize(service)
        do {
            let instances = try await ConsulClient(configuration: try consulOptions.configuration()).health(service: service).value
            if instances.isEmpty {
                Self.note("no instance of \(name) is registered in Consul, so whether it runs search-server is not known; drawing the built-in dashboard")
                return nil
            }
            return instances.contains { SettingsTable.announced(in: $0.service.meta) }
        } catch {
            Self.note("cannot ask Consul whether \(name) runs search-server (\(TerminalText.sanitize("\(error)"))); drawing the built-in dashboard")
            return nil
        }
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("opsdeck metrics: \(message)\n".utf8))
    }

    func run() async throws {
        let fromAgo = try Self.secondsAgo(from), untilAgo = try Self.secondsAgo(until)
        let columns = width ?? Self.terminalWidth()
        let cluster = try consulOptions.cluster()
        if let reason = cluster.unavailable(brokersFlag: "-", graphiteFlag: graphiteOptions.graphite)[.graphite] {
            throw ValidationError("\(reason): add it, or give --graphite")
        }
        let graphite = cluster.graphite(flag: graphiteOptions.graphite)
        if let find {
            let paths = try await reading(graphite) { try await graphite.find(find) }.map(\.path).sorted()
            for path in paths { print(TerminalText.sanitize(path)) }
            if paths.isEmpty { Self.note("no metric path matches \(TerminalText.sanitize(find))") }
            return
        }
        let charts = try await charts()
        if listTargets {
            for chart in charts { print(chart.targets.joined(separator: "\t")) }
            return
        }
        for (number, chart) in charts.enumerated() {
            let series = try await reading(graphite) {
                try await graphite.render(targets: chart.targets, from: "-\(fromAgo)s", until: untilAgo == 0 ? "now" : "-\(untilAgo)s",
                                          maxDataPoints: output == "chart" ? TimeChart.dots(columns: columns - 8) : nil)
            }
            let rows = series.map { MetricSeries($0) }
            switch output {
            case "csv": print((number == 0 ? "" : "\n") + Self.csv(rows), terminator: "")
            case "json": print(Self.json(rows), terminator: "")
            default:
                let now = Int64(Date().timeIntervalSince1970)
                var view = ChartView(title: chart.title, unit: chart.unit,
                                     lines: rows.map { .init(label: TerminalText.sanitize(ChartView.shortLabel($0.target)), series: $0) },
                                     from: now - fromAgo, until: now - untilAgo, utcOffset: Int64(TimeZone.current.secondsFromGMT()))
                view.note = rows.isEmpty ? "Graphite has no series for this target" : nil
                var grid = Grid(width: columns, height: height)
                view.render(into: &grid, grid.bounds, theme: .monochrome)
                print(grid.lines().joined(separator: "\n"))
            }
        }
    }

    /// What `body` reads from Graphite; a refusal or a Graphite that cannot be read is said, exit status 1.
    func reading<T>(_ graphite: GraphiteClient, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GraphiteError {
            throw Self.failure(TerminalText.sanitize(error.description))
        } catch {
            throw Self.failure("cannot read Graphite at \(graphite.baseURL): \(error)")
        }
    }

    /// Says why on stderr; the exit status is 1.
    static func failure(_ message: String) -> ExitCode {
        note(message)
        return ExitCode(1)
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 8 { return Int(size.ws_col) }
        return min(1_000, max(8, Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80))
    }

    /// A header of targets, then a row per time; empty where a series has no value.
    static func csv(_ series: [MetricSeries]) -> String {
        var rows: [Int64: [String]] = [:]
        for (column, s) in series.enumerated() {
            for (i, value) in s.values.enumerated() {
                rows[s.time(at: i), default: Array(repeating: "", count: series.count)][column] = value.map { "\($0)" } ?? ""
            }
        }
        let header = (["time"] + series.map { csvField(TerminalText.sanitize($0.target)) }).joined(separator: ",")
        return ([header] + rows.keys.sorted().map { t in ([rfc3339(t)] + rows[t]!).joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// One object per point.
    static func json(_ series: [MetricSeries]) -> String {
        var out = ""
        for s in series {
            for (i, value) in s.values.enumerated() {
                let object: [String: Any] = ["target": TerminalText.sanitize(s.target), "time": rfc3339(s.time(at: i)),
                                             "timestamp": s.time(at: i), "value": value ?? NSNull()]
                if let line = try? jsonLine(object) { out += line + "\n" }
            }
        }
        return out
    }

    static func rfc3339(_ seconds: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
    }
}
