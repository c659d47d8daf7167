import Consul
import TUI

/// Everything the console shows, as a value. Only the reducer changes it; views only read it.
public struct ConsoleState: Equatable {
    public enum Screen: Equatable, Sendable {
        case services
        case instances(service: String)
    }

    /// What the keyboard is doing: moving in a table, or typing into a line.
    public enum Mode: Equatable {
        case normal
        case command(LineEditor)
        case filter(LineEditor)
        case help
    }

    public var screen: Screen = .services
    public var mode: Mode = .normal
    /// `:` and `/` keep their own histories across uses.
    public var commandHistory: [String] = []
    public var filter = ""

    // Consul
    public var services: [String: [String]] = [:]  // name -> tags
    public var checks: [HealthCheck] = []          // every check (health/state/any)
    public var instances: [ServiceEntry] = []       // the open service's instances
    /// Recent aggregate health per instance id, oldest first (one sample per second).
    public var healthHistory: [String: [HealthStatus]] = [:]
    public var monitor: [String: MonitorSample] = [:]  // by instance id

    // Selection and sort, per screen
    public var selectedService = 0
    public var selectedInstance = 0
    public var serviceSort = Sort(column: 0, ascending: true)
    public var instanceSort = Sort(column: 0, ascending: true)

    public var effects: [EffectID: EffectStatus] = [:]
    public var message: Message?
    public var themeName = "dark"
    public var now: Int64 = 0  // milliseconds since the epoch, from ticks
    public var size = Size(width: 80, height: 24)
    public var quit = false

    /// The terminal's size in cells. A struct rather than a tuple so that the state's `==` is synthesized
    /// and a field added later cannot be left out of it.
    public struct Size: Equatable, Sendable {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) { self.width = width; self.height = height }
    }

    public init() {}

    public static let historyLength = 30
}

public struct Sort: Equatable, Sendable {
    public var column: Int
    public var ascending: Bool
    public init(column: Int, ascending: Bool) {
        self.column = column
        self.ascending = ascending
    }
}

public struct Message: Equatable, Sendable {
    public var text: String
    public var isError: Bool
    public var at: Int64

    public init(text: String, isError: Bool, at: Int64) {
        self.text = text
        self.isError = isError
        self.at = at
    }
}

/// The outside-world tasks the console runs, each reporting its liveness.
public enum EffectID: String, CaseIterable, Sendable, Comparable {
    case catalog = "services"
    case checks = "checks"
    case instances = "instances"
    case monitor = "monitor"

    public static func < (a: EffectID, b: EffectID) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public struct EffectStatus: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        case connecting
        case live
        case retrying(reason: String, retryInMilliseconds: Int64)
    }
    public var phase: Phase
    public var lastUpdate: Int64?

    public init(phase: Phase, lastUpdate: Int64? = nil) {
        self.phase = phase
        self.lastUpdate = lastUpdate
    }
}

/// One Monitor call's outcome for an instance.
public struct MonitorSample: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case ok(MonitorFigures)
        case failed(String)
    }
    public var outcome: Outcome
    /// The call's round trip, as the console measured it.
    public var roundTripMilliseconds: Double
    public var at: Int64

    public init(outcome: Outcome, roundTripMilliseconds: Double, at: Int64) {
        self.outcome = outcome
        self.roundTripMilliseconds = roundTripMilliseconds
        self.at = at
    }
}

/// What Monitor reports that the console shows (a copy, so the state does not depend on protobuf).
public struct MonitorFigures: Equatable, Sendable {
    public var nThings: Int
    public var uptimeSeconds: Double
    public var requests: Int64
    public var errors: Int64
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var version: String
    public var storeStatus: String

    public init(nThings: Int, uptimeSeconds: Double, requests: Int64, errors: Int64, p50Milliseconds: Double,
                p99Milliseconds: Double, version: String, storeStatus: String) {
        self.nThings = nThings
        self.uptimeSeconds = uptimeSeconds
        self.requests = requests
        self.errors = errors
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.version = version
        self.storeStatus = storeStatus
    }
}

/// A service as the services pane shows it.
public struct ServiceSummary: Equatable, Sendable {
    public var name: String
    public var tags: [String]
    public var passing = 0, warning = 0, critical = 0

    public var instances: Int { passing + warning + critical }
}

extension ConsoleState {
    /// Services with instance counts by health: each instance counts once, at its worst check.
    /// Counted from the checks (one blocking query for all services); an instance without any check
    /// has no health to count and shows in the instances pane only.
    public var serviceSummaries: [ServiceSummary] {
        var worst: [String: [String: HealthStatus]] = [:]  // service -> instance id -> status
        for check in checks where !check.serviceID.isEmpty {
            let current = worst[check.serviceName]?[check.serviceID] ?? .passing
            worst[check.serviceName, default: [:]][check.serviceID] = max(current, check.status)
        }
        var rows = services.map { name, tags -> ServiceSummary in
            var summary = ServiceSummary(name: name, tags: tags.sorted())
            for status in (worst[name] ?? [:]).values {
                switch status {
                case .passing: summary.passing += 1
                case .warning: summary.warning += 1
                default: summary.critical += 1
                }
            }
            return summary
        }
        rows = rows.filter { filter.isEmpty || $0.name.lowercased().contains(filter.lowercased()) }
        rows.sort { a, b in
            let key: (ServiceSummary) -> String = { s in
                switch self.serviceSort.column {
                case 1: return s.tags.joined(separator: ",")
                case 2: return String(format6(s.instances)) + s.name
                case 3: return String(format6(s.passing)) + s.name
                case 4: return String(format6(s.warning)) + s.name
                case 5: return String(format6(s.critical)) + s.name
                default: return s.name
                }
            }
            return serviceSort.ascending ? key(a) < key(b) : key(a) > key(b)
        }
        return rows
    }

    /// The open service's instances, filtered and sorted as the table shows them.
    public var instanceRows: [ServiceEntry] {
        var rows = instances.filter {
            filter.isEmpty || $0.service.id.lowercased().contains(filter.lowercased())
                || "\($0.address):\($0.service.port)".contains(filter)
        }
        rows.sort { a, b in
            let key: (ServiceEntry) -> String = { e in
                switch self.instanceSort.column {
                case 1: return "\(e.address):\(format6(e.service.port))"
                case 2: return e.node.name + e.service.id
                case 3: return String(e.aggregateStatus.severityRank) + e.service.id
                default: return e.service.id
                }
            }
            return instanceSort.ascending ? key(a) < key(b) : key(a) > key(b)
        }
        return rows
    }
}

/// Zero-padded, so numbers sort as text.
func format6(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 6 - s.count)) + s
}

extension HealthStatus {
    var severityRank: Int { HealthStatus.allCases.firstIndex(of: self) ?? 0 }
}
