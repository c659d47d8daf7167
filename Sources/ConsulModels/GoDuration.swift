/// Go's duration text ("10s", "1m30s", "1.5h", "300ms"), which Consul uses for every interval and wait.
public enum GoDuration {
    /// Parses a Go duration; nil when the text is not one. A bare "0" is zero, as in Go. With `days`, `d`
    /// (24 h) is a unit too, for ranges people type (`7d`); Go and Consul have no such unit.
    public static func parse(_ text: String, days: Bool = false) -> Duration? {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var totalNanoseconds: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            guard let scale = unitNanoseconds[String(unit)] ?? (days && unit == "d" ? 86_400e9 : nil) else { return nil }
            rest = rest.dropFirst(unit.count)
            totalNanoseconds += value * scale
        }
        guard totalNanoseconds.isFinite, totalNanoseconds < 9.2e18 else { return nil }
        let nanoseconds = Int64(totalNanoseconds.rounded())
        return .nanoseconds(negative ? -nanoseconds : nanoseconds)
    }

    /// Formats a duration the short way Consul accepts: whole seconds as "10s", else milliseconds "1500ms".
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds)s" }
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        return "\(milliseconds)ms"
    }

    private static let unitNanoseconds: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]
}

extension Duration {
    /// The duration in seconds as a Double.
    public var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
