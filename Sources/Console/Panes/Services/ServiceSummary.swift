import ConsulModels
import TUI

/// A service as the services pane and `opsdeck services` show it: one row, the same for both.
public struct ServiceSummary: Equatable, Sendable {
    public var name: String
    public var tags: [String]
    public var passing = 0, warning = 0, critical = 0

    public var instances: Int { passing + warning + critical }

    /// The columns, in order; the pane sorts by them and the CLI prints them.
    public enum Column: Int, CaseIterable, Sendable {
        case name, tags, instances, passing, warning, critical

        public var title: String {
            switch self {
            case .name: return "SERVICE"
            case .tags: return "TAGS"
            case .instances: return "INST"
            case .passing: return "PASSING"
            case .warning: return "WARNING"
            case .critical: return "CRITICAL"
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
            }
        }
    }

    /// The pane's columns when it is a narrow sidebar.
    static let compactColumns: [Table.Column] = [.init("SERVICE", .flexible(minimum: 10)), .init("HEALTH", .fixed(9))]

    /// The row's cells as plain text, column by column.
    public var texts: [String] {
        Column.allCases.map { column in
            switch column {
            case .name: return name
            case .tags: return tags.joined(separator: ",")
            case .instances: return "\(instances)"
            case .passing: return "\(passing)"
            case .warning: return "\(warning)"
            case .critical: return "\(critical)"
            }
        }
    }

    /// Services with instance counts by health, filtered and sorted: each instance counts once, at its
    /// worst check. Counted from the checks (one blocking query for all services); an instance without any
    /// check has no health to count and shows in the instances pane only.
    public static func rows(catalog: [String: [String]], checks: [HealthCheck], cursor: TableCursor = TableCursor()) -> [ServiceSummary] {
        var worst: [String: [String: HealthStatus]] = [:]  // service -> instance id -> status
        for check in checks where !check.serviceID.isEmpty {
            let current = worst[check.serviceName]?[check.serviceID] ?? .passing
            worst[check.serviceName, default: [:]][check.serviceID] = max(current, check.status)
        }
        var rows = catalog.compactMap { name, tags -> ServiceSummary? in
            guard cursor.matches(name) else { return nil }
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
        let column = Column(rawValue: cursor.sort.column) ?? .name
        let key: (ServiceSummary) -> String = { s in
            switch column {
            case .name: return s.name
            case .tags: return s.tags.joined(separator: ",")
            case .instances: return format6(s.instances) + s.name
            case .passing: return format6(s.passing) + s.name
            case .warning: return format6(s.warning) + s.name
            case .critical: return format6(s.critical) + s.name
            }
        }
        rows.sort { a, b in cursor.sort.ascending ? key(a) < key(b) : key(a) > key(b) }
        return rows
    }
}
