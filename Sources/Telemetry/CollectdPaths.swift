/// Where collectd's statsd plugin (as the stack configures it) stores a StatsD metric in Graphite.
///
/// collectd names series `collectd.<host>.statsd.<type>-<name>[-<suffix>]` and escapes the dots of a
/// StatsD name to `_` (its `EscapeCharacter`), so `search.requests` becomes `..statsd.derive-search_requests`.
public enum CollectdPaths {
    public enum Series: String, Sendable, CaseIterable {
        /// A counter's rate per second.
        case counterRate = "derive"
        /// A counter's total per 10 s flush.
        case counterTotal = "count"
        case gauge
        /// A timer's mean in seconds (timers also have -lower, -upper, -sum, -percentile-90).
        case timerAverage = "latency"
    }

    /// The Graphite path for a StatsD metric; `host` may be a wildcard.
    public static func path(_ series: Series, statsdName: String, host: String = "*") -> String {
        let escaped = StatsDLine.sanitize(statsdName).replacingOccurrences(of: ".", with: "_")
        let suffix = series == .timerAverage ? "-average" : ""
        return "collectd.\(host).statsd.\(series.rawValue)-\(escaped)\(suffix)"
    }
}
