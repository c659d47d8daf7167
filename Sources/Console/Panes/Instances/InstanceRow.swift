import ConsulModels

/// One instance as the instances pane's table shows it, as text: what `opsdeck monitor` prints, and what
/// the pane styles and draws (the history strip is the pane's own, it needs time).
public struct InstanceRow: Sendable {
    public var entry: ServiceEntry
    public var sample: MonitorSample?

    public init(entry: ServiceEntry, sample: MonitorSample?) {
        self.entry = entry
        self.sample = sample
    }

    public enum Column: String, CaseIterable, Sendable {
        case instance = "INSTANCE", address = "ADDRESS", health = "HEALTH", things = "N", uptime = "UPTIME"
        case requests = "REQ", errors = "ERR", p50 = "P50", p99 = "P99", roundTrip = "RTT", node = "NODE"

        /// The Monitor figures' columns (blank, "…" or "-" without an answer).
        static let monitor: [Column] = [.things, .uptime, .requests, .errors, .p50, .p99]
        public var alignsRight: Bool { Column.monitor.contains(self) || self == .roundTrip }
    }

    /// Polled for Monitor at all (tagged `grpc`)?
    public var isPolled: Bool { entry.service.tags.contains(InstancesPane.monitorTag) }

    public func text(_ column: Column) -> String {
        switch column {
        case .instance: return entry.service.id
        case .address: return HostPort.format(entry.address, entry.service.port)
        case .health: return entry.aggregateStatus.rawValue
        case .node: return entry.node.name
        default: break
        }
        switch sample?.outcome {
        case .ok(let m)?:
            switch column {
            case .things: return "\(m.nThings)"
            case .uptime: return Format.duration(m.uptimeSeconds)
            case .requests: return "\(m.requests)"
            case .errors: return "\(m.errors)"
            case .p50: return Format.milliseconds(m.p50Milliseconds)
            case .p99: return Format.milliseconds(m.p99Milliseconds)
            default: return Format.milliseconds(sample!.roundTripMilliseconds)
            }
        case .failed(let reason)?:
            return column == .roundTrip ? "✖ " + reason : "-"
        case nil:
            return isPolled ? "…" : "-"
        }
    }
}
