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

    /// An instance id as one node of a Graphite path: letters, digits, `-` and `_` stay, anything else
    /// (a dot would split the node) becomes `_`.
    public static func graphiteSafe(_ instance: String) -> String {
        String(instance.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
    }

    /// The StatsD name of an instance's own copy of a metric: `search_instance.<id>.requests`, which
    /// collectd stores as `…statsd.<type>-search_instance_<id>_requests`. The service-wide name
    /// (`search_requests`) is sent too, so sums over the service stay one series.
    public static func instanceStatsDName(_ metric: String, instance: String, service prefix: String = "search") -> String {
        "\(prefix)_instance.\(graphiteSafe(instance)).\(metric)"
    }
}
