import ConsulModels
import TUI

/// A service as the services pane and `opsdeck services` show it: one row, the same for both.
public struct ServiceSummary: Equatable, Sendable {
    public var name: String
    public var tags: [String]
    public var passing = 0, warning = 0, critical = 0

    public var instances: Int { passing + warning + critical }

    /// The columns: the pane shows and sorts by `full` ones (or `compact` ones as a narrow sidebar), and
    /// the CLI prints the `full` ones.
    public enum Column: Int, CaseIterable, Sendable {
        case name, tags, instances, passing, warning, critical
        /// Every count in one cell, `2● 1✖`; sorted worst first.
        case health

        public static let full: [Column] = [.name, .tags, .instances, .passing, .warning, .critical]
        public static let compact: [Column] = [.name, .health]

        public var title: String {
            switch self {
            case .name: return "SERVICE"
            case .tags: return "TAGS"
            case .instances: return "INST"
            case .passing: return "PASSING"
            case .warning: return "WARNING"
            case .critical: return "CRITICAL"
            case .health: return "HEALTH"
            }
        }

        var table: Table.Column {
            switch self {
            case .name: return .init(title, .flexible(minimum: 16))
            case .tags: return .init(title, .flexible(minimum: 8))
            case .instances: return .init(title, .fixed(5), .right)
            case .passing: return .init(title, .fixed(7), .right)
            case .warning: return .init(title, .fixed(7), .right)
            case .critical: return .init(title, .fixed(8), .right)
            case .health: return .init(title, .fixed(9))
            }
        }
    }

    /// The row's cell in `column`, as plain text.
    public func text(_ column: Column) -> String {
        switch column {
        case .name: return name
        case .tags: return tags.joined(separator: ",")
        case .instances: return "\(instances)"
        case .passing: return "\(passing)"
        case .warning: return "\(warning)"
        case .critical: return "\(critical)"
        case .health:
            let parts = healthParts.map { "\($0.count)\($0.symbol)" }
            return parts.isEmpty ? "-" : parts.joined(separator: " ")
        }
    }

    /// The counts that are not zero, worst last, with their symbol and theme role: `2● 1✖`.
    var healthParts: [(count: Int, symbol: String, role: Theme.Role)] {
        [(passing, "●", .ok), (warning, "▲", .warning), (critical, "✖", .critical)].filter { $0.0 > 0 }
    }

    /// Services with instance counts by health, filtered and sorted: each instance counts once, at its
    /// worst check. Counted from the checks (one blocking query for all services); an instance without any
    /// check has no health to count and shows in the instances pane only.
    public static func rows(catalog: [String: [String]], checks: [HealthCheck], cursor: TableCursor = TableCursor()) -> [ServiceSummary] {
        ordered(counted(catalog: catalog, checks: checks), cursor: cursor)
    }

    /// Every service in the catalog with its instances counted by health, in no order. An instance is a
    /// service ID on a node: without an ID of its own, Consul gives an instance its service's name, so
    /// the same ID on three nodes is three instances.
    public static func counted(catalog: [String: [String]], checks: [HealthCheck]) -> [ServiceSummary] {
        struct Instance: Hashable { var node: String, serviceID: String }
        var worst: [String: [Instance: HealthStatus]] = [:]  // service -> instance -> status
        for check in checks where !check.serviceID.isEmpty {
            let instance = Instance(node: check.node, serviceID: check.serviceID)
            let current = worst[check.serviceName]?[instance] ?? .passing
            worst[check.serviceName, default: [:]][instance] = max(current, check.status)
        }
        return catalog.map { name, tags in
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
    }

    /// `summaries` the cursor's filter matches, in its sort order.
    public static func ordered(_ summaries: [ServiceSummary], cursor: TableCursor) -> [ServiceSummary] {
        let column = Column(rawValue: cursor.sort.column) ?? .name
        let key: (ServiceSummary) -> String = { s in
            switch column {
            case .name: return s.name
            case .tags: return s.tags.joined(separator: ",")
            case .instances: return format6(s.instances) + s.name
            case .passing: return format6(s.passing) + s.name
            case .warning: return format6(s.warning) + s.name
            case .critical: return format6(s.critical) + s.name
            case .health: return format6(999_999 - s.critical) + format6(999_999 - s.warning) + s.name
            }
        }
        // Each row's key built once, not once per comparison.
        let keyed = summaries.filter { cursor.matches($0.name) }.map { (key: key($0), summary: $0) }
        return keyed.sorted { a, b in cursor.sort.ascending ? a.key < b.key : a.key > b.key }.map(\.summary)
    }
}
