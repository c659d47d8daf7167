import CoreMetrics

/// A swift-metrics backend that sends updates as StatsD lines over UDP (batched by `StatsDClient`).
///
/// Counters become `c`, gauges and meters `g`, timers and aggregating recorders `ms`. StatsD has no tags,
/// so dimension values are appended to the label with dots (`search_errors` + code=unavailable →
/// `search_errors.unavailable`); collectd turns the dots into `_` on the way to Graphite. Sending never
/// blocks: a full socket buffer drops the datagram (many batched updates) and counts it
/// (`StatsDClient.droppedPackets`).
public struct StatsDMetricsFactory: MetricsFactory {
    public let client: StatsDClient

    public init(client: StatsDClient) {
        self.client = client
    }

    /// The StatsD name of a metric: label, then each dimension value, dot-separated.
    public static func name(label: String, dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { $0.1 }).joined(separator: ".")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        StatsDCounter(client: client, name: Self.name(label: label, dimensions: dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        StatsDRecorder(client: client, name: Self.name(label: label, dimensions: dimensions), aggregate: aggregate)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        StatsDTimer(client: client, name: Self.name(label: label, dimensions: dimensions))
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}
}

// Each handler keeps its name as sent (prefixed, sanitized), computed once.
private final class StatsDCounter: CounterHandler {
    let client: StatsDClient
    let name: String
    init(client: StatsDClient, name: String) { self.client = client; self.name = client.wireName(name) }
    func increment(by amount: Int64) { client.increment(wireName: name, by: amount) }
    // A StatsD counter is a stream of increments; there is nothing to reset on the wire.
    func reset() {}
}

private final class StatsDRecorder: RecorderHandler {
    let client: StatsDClient
    let name: String
    let aggregate: Bool
    init(client: StatsDClient, name: String, aggregate: Bool) {
        self.client = client
        self.name = client.wireName(name)
        self.aggregate = aggregate
    }
    func record(_ value: Int64) { record(Double(value)) }
    func record(_ value: Double) {
        if aggregate { client.timing(wireName: name, milliseconds: value) } else { client.gauge(wireName: name, value) }
    }
}

private final class StatsDTimer: TimerHandler {
    let client: StatsDClient
    let name: String
    init(client: StatsDClient, name: String) { self.client = client; self.name = client.wireName(name) }
    func recordNanoseconds(_ duration: Int64) { client.timing(wireName: name, milliseconds: Double(duration) / 1_000_000) }
}
