import Foundation

/// The StatsD line protocol (`name:value|type[|@rate]`), as collectd's statsd plugin reads it.
public enum StatsDLine {
    public static func counter(_ name: String, _ value: Int64 = 1, sampleRate: Double = 1) -> String {
        "\(sanitize(name)):\(value)|c" + rateSuffix(sampleRate)
    }

    public static func gauge(_ name: String, _ value: Double) -> String {
        "\(sanitize(name)):\(format(value))|g"
    }

    public static func timing(_ name: String, milliseconds: Double, sampleRate: Double = 1) -> String {
        "\(sanitize(name)):\(format(milliseconds))|ms" + rateSuffix(sampleRate)
    }

    /// Names may not contain the protocol's separators or whitespace; those become `_`, so a metric
    /// name taken from outside can never inject a second metric.
    public static func sanitize(_ name: String) -> String {
        String(name.map { ":|@\n\r\t /".contains($0) ? "_" : $0 })
    }

    private static func rateSuffix(_ rate: Double) -> String {
        rate < 1 ? "|@\(format(rate))" : ""
    }

    /// Plain decimal, no exponent (StatsD servers differ on `1e-05`); integers without `.0`.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}
