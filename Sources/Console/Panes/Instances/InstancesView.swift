import ConsulModels
import TUI

/// The instances pane's drawing: the table, and the selected instance's checks and Monitor details.
struct InstancesView {
    let pane: InstancesPane
    let context: PaneContext

    /// In order of importance: on a narrow pane the last columns go first (the node is also in the
    /// detail box's title).
    static let columns: [Table.Column] = [
        .init("INSTANCE", .flexible(minimum: 16)), .init("ADDRESS", .flexible(minimum: 15)),
        .init("HEALTH", .fixed(8)), .init("HISTORY", .fixed(10)), .init("N", .fixed(5), .right),
        .init("UPTIME", .fixed(6), .right), .init("REQ", .fixed(7), .right), .init("ERR", .fixed(5), .right),
        .init("P50", .fixed(7), .right), .init("P99", .fixed(7), .right), .init("RTT", .fixed(9), .right),
        .init("NODE", .fixed(10)),
    ]

    func render(into grid: inout Grid, _ rect: Rect) {
        let theme = context.theme
        let entries = pane.rows
        let cells = entries.map { row($0, theme) }
        let (tableRect, rest) = rect.splitTop(pane.tableHeight(rect.height))
        Table(columns: Self.columns, rows: cells, selected: entries.isEmpty ? nil : pane.cursor.selected,
              sortColumn: pane.cursor.sort.column, ascending: pane.cursor.sort.ascending)
            .render(into: &grid, tableRect, theme: theme)
        if entries.isEmpty {
            grid.put(emptyText, x: rect.x + 1, y: rect.y + 2, style: theme[.muted], clip: rect)
        }
        guard rest.height >= 3, let entry = entries[safe: pane.cursor.selected] else { return }
        grid.overlay(rest, title: "\(entry.service.id) · node \(entry.node.name)", lines: detail(entry, theme), theme: theme)
    }

    var emptyText: String {
        guard let service = pane.service else { return "no service selected" }
        switch context.feeds[.instances]?.phase {
        case .live?:
            return pane.cursor.filter.isEmpty ? "no instances of \(service) are registered" : "no instances match"
        case .retrying(let reason, _)?:
            return "cannot read instances: \(reason)"
        default:
            return "waiting for Consul…"
        }
    }

    func row(_ e: ServiceEntry, _ theme: Theme) -> [[Span]] {
        let row = InstanceRow(entry: e, sample: pane.monitor[e.instanceKey])
        var cells: [[Span]] = [
            [Span(row.text(.instance))], [Span(row.text(.address))],
            [Span(row.text(.health), Format.statusStyle(e.aggregateStatus, theme))],
            historyStrip(pane.history[e.instanceKey] ?? [], width: 10, theme),
        ]
        let answered: Bool
        switch row.sample?.outcome {
        case .ok(let m)?:
            answered = true
            cells += InstanceRow.Column.monitor.map { column in
                column == .errors ? [Span(row.text(column), m.errors > 0 ? theme[.warning] : theme[.text])] : [Span(row.text(column))]
            }
        default:
            answered = false
            cells += InstanceRow.Column.monitor.map { [Span(row.text($0), theme[.muted])] }
        }
        let failed = if case .failed? = row.sample?.outcome { true } else { false }
        cells.append(answered ? [Span(row.text(.roundTrip))] : [Span(row.text(.roundTrip), failed ? theme[.critical] : theme[.muted])])
        return cells + [[Span(row.text(.node), theme[.muted])]]
    }

    func detail(_ entry: ServiceEntry, _ theme: Theme) -> [[Span]] {
        var lines: [[Span]] = entry.checks.map { check in
            [Span(Format.symbol(check.status) + " ", Format.statusStyle(check.status, theme)),
             Span(check.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0), Format.statusStyle(check.status, theme)),
             Span(check.name + "  ", theme[.header]),
             Span(Format.oneLine(check.output), theme[.muted])]
        }
        if entry.checks.isEmpty { lines.append([Span("no checks registered", theme[.muted])]) }
        if let sample = pane.monitor[entry.instanceKey] {
            switch sample.outcome {
            case .ok(let m):
                lines.append([Span("monitor  ", theme[.header]),
                              Span("version \(m.version) · store \(Format.oneLine(m.storeStatus)) · round trip \(Format.milliseconds(sample.roundTripMilliseconds))")])
            case .failed(let reason):
                lines.append([Span("monitor  ", theme[.header]), Span("✖ \(Format.oneLine(reason))", theme[.critical])])
            }
        }
        return lines
    }

    func historyStrip(_ history: [HealthStatus], width: Int, _ theme: Theme) -> [Span] {
        history.suffix(width).map { status -> Span in
            switch status {
            case .passing: return Span("▂", theme[.ok])
            case .warning: return Span("▅", theme[.warning])
            default: return Span("█", theme[.critical])
            }
        }
    }
}
