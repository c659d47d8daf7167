/// The StatsD line protocol (`name:value|type[|@rate]`), as collectd's statsd plugin reads it.
public enum StatsDLine {
    public static func counter(_ name: String, _ value: Int64 = 1, sampleRate: Double = 1) -> String {
        line(sanitize(name), String(value), "c") + rateSuffix(sampleRate)
    }

    public static func gauge(_ name: String, _ value: Double) -> String {
        line(sanitize(name), format(value), "g")
    }

    public static func timing(_ name: String, milliseconds: Double, sampleRate: Double = 1) -> String {
        line(sanitize(name), format(milliseconds), "ms") + rateSuffix(sampleRate)
    }

    /// One line from a name already sanitized.
    static func line(_ name: String, _ value: String, _ type: String) -> String {
        name + ":" + value + "|" + type
    }

    /// Names may not contain the protocol's separators or whitespace; those become `_`, so a metric
    /// name taken from outside can never inject a second metric.
    public static func sanitize(_ name: String) -> String {
        guard name.utf8.contains(where: { separators.contains($0) }) else { return name }
        return String(decoding: name.utf8.map { separators.contains($0) ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }

    private static let separators: Set<UInt8> = Set(":|@\n\r\t /".utf8)

    private static func rateSuffix(_ rate: Double) -> String {
        rate < 1 ? "|@\(format(rate))" : ""
    }

    /// Plain decimal with at most six decimals (rounded), no exponent (StatsD servers differ on `1e-05`); integers
    /// without `.0`. Integer arithmetic, not `String(format:)`: this runs for every timing sent.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let micro = (abs(value) * 1_000_000).rounded()
        // Past a trillion the micro-units leave Int64: whole numbers, clamped to Int64's range.
        guard micro < 9e18 else { return String(Int64(max(-9e18, min(9e18, value.rounded())))) }
        let units = Int64(micro)
        let whole = units / 1_000_000
        var fraction = units % 1_000_000
        let sign = value < 0 && units != 0 ? "-" : ""
        guard fraction != 0 else { return sign + String(whole) }
        var digits = 6
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let text = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - text.count) + text
    }
}
