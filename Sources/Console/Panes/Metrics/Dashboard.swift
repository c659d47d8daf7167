import TUI

/// The charts the metrics pane shows for a service, as data: a small text file per service
/// (`$XDG_CONFIG_HOME/opsdeck/dashboards/<service>.dashboard`), else the built-in one below, so an
/// operator adds a chart without code.
public struct Dashboard: Equatable, Sendable {
    public struct Chart: Equatable, Sendable {
        public var title: String
        public var unit: ValueUnit
        public var series: [Series]

        public init(title: String, unit: ValueUnit, series: [Series]) {
            self.title = title
            self.unit = unit
            self.series = series
        }
    }

    /// One Graphite target of a chart. `{instance}` in the target stands for the selected instance's id
    /// (made Graphite-safe by the runtime, as collectd writes it), in the label for the id itself.
    public struct Series: Equatable, Sendable {
        public enum Scope: String, Equatable, Sendable {
            /// Always drawn.
            case service
            /// Drawn when an instance is selected, beside the service's lines.
            case instance
        }
        public var scope: Scope
        public var label: String
        public var target: String

        public init(_ scope: Scope, _ label: String, _ target: String) {
            self.scope = scope
            self.label = label
            self.target = target
        }
    }

    public var charts: [Chart]

    public init(charts: [Chart]) { self.charts = charts }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Reads the file format:
    ///
    ///     chart TITLE [unit=count|rate|seconds]
    ///       service LABEL = TARGET
    ///       instance LABEL = TARGET
    ///
    /// `#` starts a comment line. A label may be empty (Graphite's name for the series is shown).
    public static func parse(_ text: String, file: String) throws -> Dashboard {
        var charts: [Chart] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let place = "\(file), line \(number + 1)"
            let keyword = String(line.prefix { $0 != " " })
            let rest = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            switch keyword {
            case "chart":
                var words = rest.split(separator: " ").map(String.init)
                var unit = ValueUnit.count
                if let last = words.last, last.hasPrefix("unit=") {
                    guard let parsed = ValueUnit(rawValue: String(last.dropFirst(5))) else {
                        throw ParseError(description: "\(place): unit is one of count, rate, seconds")
                    }
                    unit = parsed
                    words.removeLast()
                }
                guard !words.isEmpty else { throw ParseError(description: "\(place): a chart needs a title: chart TITLE [unit=rate]") }
                charts.append(Chart(title: words.joined(separator: " "), unit: unit, series: []))
            case "service", "instance":
                guard !charts.isEmpty else { throw ParseError(description: "\(place): a series comes after its `chart` line") }
                guard let equals = rest.firstIndex(of: "=") else {
                    throw ParseError(description: "\(place): expected \(keyword) LABEL = TARGET")
                }
                let label = rest[..<equals].trimmingCharacters(in: .whitespaces)
                let target = rest[rest.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                guard !target.isEmpty else { throw ParseError(description: "\(place): the target is empty") }
                charts[charts.count - 1].series.append(Series(Series.Scope(rawValue: keyword)!, label, target))
            default:
                throw ParseError(description: "\(place): expected `chart TITLE`, `service LABEL = TARGET` or `instance LABEL = TARGET`")
            }
        }
        guard !charts.isEmpty else { throw ParseError(description: "\(file): no chart in it") }
        return Dashboard(charts: charts)
    }

    /// search-server's metrics as collectd stores them (`CollectdPaths` computes the same paths; a test
    /// holds the two together): calls, errors by code, latency, n_things, log records dropped.
    public static let builtinText = """
        # search-server's StatsD metrics, service-wide, and the selected instance's own beside them. The
        # service's lines combine every host's collectd (one line however many hosts send): rates and drops
        # are summed, latencies averaged or maxed.
        chart calls/s unit=rate
          service  all = sumSeries(collectd.*.statsd.derive-search_requests)
          instance {instance} = collectd.*.statsd.derive-search_instance_{instance}_requests
        chart errors/s by code unit=rate
          service  = aliasSub(sumSeriesWithWildcards(collectd.*.statsd.derive-search_errors_*, 1), '^.*errors_', '')
          instance = aliasSub(collectd.*.statsd.derive-search_instance_{instance}_errors_*, '^.*errors_', '{instance} ')
        chart latency unit=seconds
          service  average = averageSeries(collectd.*.statsd.latency-search_latency-average)
          service  p90 = maxSeries(collectd.*.statsd.latency-search_latency-percentile-90)
          service  upper = maxSeries(collectd.*.statsd.latency-search_latency-upper)
          instance {instance} p90 = collectd.*.statsd.latency-search_instance_{instance}_latency-percentile-90
        chart n_things unit=count
          service  all = maxSeries(collectd.*.statsd.gauge-search_n_things)
          instance {instance} = collectd.*.statsd.gauge-search_instance_{instance}_n_things
        chart log records dropped unit=count
          service  all = sumSeries(collectd.*.statsd.gauge-search_log_records_dropped)
          instance {instance} = collectd.*.statsd.gauge-search_instance_{instance}_log_records_dropped
        """

    // The text above is part of the program: a parse failure is a bug a test catches.
    public static let builtin = try! parse(builtinText, file: "built-in dashboard")
}

/// A series as Graphite returned it: evenly spaced values, nil where a slot has none.
public struct MetricSeries: Equatable, Sendable {
    public var target: String
    /// Seconds since the epoch of the first slot, and the slot's length.
    public var start: Int64
    public var step: Int64
    public var values: [Double?]

    public init(target: String, start: Int64, step: Int64, values: [Double?]) {
        self.target = target
        self.start = start
        self.step = step
        self.values = values
    }

    public func time(at index: Int) -> Int64 { start + Int64(index) * step }
}

/// What one chart asks Graphite for: a feed's identity, so equal charts share one request.
public struct GraphiteQuery: Hashable, Sendable {
    /// Targets as written in the dashboard, `{instance}` unexpanded.
    public var targets: [String]
    /// The instance `{instance}` stands for, if any.
    public var instance: String?
    /// The last `range` seconds.
    public var range: Int64
    /// Points wanted across the chart (`maxDataPoints`): two per column.
    public var points: Int

    public init(targets: [String], instance: String?, range: Int64, points: Int) {
        self.targets = targets
        self.instance = instance
        self.range = range
        self.points = points
    }

    /// The targets with `{instance}` as collectd writes the instance's id: letters, digits, `-` and `_`
    /// (the rule `CollectdPaths.graphiteSafe` applies on the sending side; a test holds them together).
    public var expandedTargets: [String] {
        let safe = String((instance ?? "").map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        return targets.map { $0.replacingOccurrences(of: "{instance}", with: safe) }
    }

    /// Graphite keeps 10 s slots for a day, then minutes: asking more often than a slot changes gains
    /// nothing.
    public var refreshSeconds: Int64 { range <= 3_600 ? 10 : range <= 86_400 ? 60 : 600 }
}
