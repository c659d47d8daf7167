import Consul
import Foundation
import TUI

/// Draws the state into a grid. A pure function: same state, same theme, same grid.
public enum ConsoleView {
    static let serviceColumns: [Table.Column] = [
        .init("SERVICE", .flexible(minimum: 16)), .init("TAGS", .flexible(minimum: 8)),
        .init("INST", .fixed(5), .right), .init("PASSING", .fixed(7), .right),
        .init("WARNING", .fixed(7), .right), .init("CRITICAL", .fixed(8), .right),
    ]
    /// In order of importance: on a narrow terminal the last columns go first (the node is also in
    /// the detail box's title).
    static let instanceColumns: [Table.Column] = [
        .init("INSTANCE", .flexible(minimum: 16)), .init("ADDRESS", .flexible(minimum: 15)),
        .init("HEALTH", .fixed(8)), .init("HISTORY", .fixed(10)), .init("N", .fixed(5), .right),
        .init("UPTIME", .fixed(6), .right), .init("REQ", .fixed(7), .right), .init("ERR", .fixed(5), .right),
        .init("P50", .fixed(7), .right), .init("P99", .fixed(7), .right), .init("RTT", .fixed(9), .right),
        .init("NODE", .fixed(10)),
    ]

    /// Where the table is (also used to map mouse clicks to rows).
    static func tableRect(_ state: ConsoleState) -> Rect {
        let body = Rect(x: 0, y: 1, width: state.size.width, height: state.size.height - 3)
        guard case .instances = state.screen else { return body }
        let rows = max(3, state.instanceRows.count + 1)
        return body.splitTop(min(rows, Int(Double(body.height) * 0.6))).top
    }

    public static func render(_ state: ConsoleState, theme: Theme, keymap: Keymap) -> Grid {
        var grid = Grid(width: state.size.width, height: state.size.height, fill: Cell(" ", style: theme[.text]))
        guard state.size.width >= 20, state.size.height >= 6 else {
            // A word per row if need be: whatever the size, say why nothing else is drawn.
            for (row, word) in ["opsdeck:", "terminal", "too small"].enumerated() {
                grid.put(word, x: 0, y: row, style: theme[.critical])
            }
            return grid
        }
        title(state, &grid, theme)
        switch state.screen {
        case .services: servicesPane(state, &grid, theme)
        case .instances(let service): instancesPane(state, service, &grid, theme)
        }
        bottomLine(state, &grid, theme)
        statusBar(state, &grid, theme)
        if state.mode == .help { helpOverlay(&grid, theme, keymap) }
        return grid
    }

    // MARK: panes

    static func title(_ state: ConsoleState, _ grid: inout Grid, _ theme: Theme) {
        var spans = [Span(" opsdeck ", theme[.title]), Span(" services", theme[.header])]
        if case .instances(let service) = state.screen {
            spans += [Span(" › ", theme[.muted]), Span(service, theme[.header]),
                      Span("  \(state.instances.count) instance\(state.instances.count == 1 ? "" : "s")", theme[.muted])]
        }
        if !state.filter.isEmpty { spans.append(Span("  /\(state.filter)", theme[.accent])) }
        grid.put(spans, x: 0, y: 0)
    }

    static func servicesPane(_ state: ConsoleState, _ grid: inout Grid, _ theme: Theme) {
        let rows = state.serviceSummaries.map { s -> [[Span]] in
            [[Span(s.name)], [Span(s.tags.joined(separator: ","), theme[.muted])], [Span("\(s.instances)")],
             [count(s.passing, theme[.ok], theme)], [count(s.warning, theme[.warning], theme)],
             [count(s.critical, theme[.critical], theme)]]
        }
        let rect = tableRect(state)
        if rows.isEmpty {
            Table(columns: serviceColumns, rows: []).render(into: &grid, rect, theme: theme)
            let waiting = state.effects[.catalog]?.lastUpdate == nil ? "waiting for Consul…" : "no services match"
            grid.put(waiting, x: 1, y: rect.y + 2, style: theme[.muted])
            return
        }
        Table(columns: serviceColumns, rows: rows, selected: state.selectedService,
              sortColumn: state.serviceSort.column, ascending: state.serviceSort.ascending)
            .render(into: &grid, rect, theme: theme)
    }

    static func count(_ n: Int, _ style: Style, _ theme: Theme) -> Span {
        n == 0 ? Span("0", theme[.muted]) : Span("\(n)", style)
    }

    static func instancesPane(_ state: ConsoleState, _ service: String, _ grid: inout Grid, _ theme: Theme) {
        let entries = state.instanceRows
        let rows = entries.map { e -> [[Span]] in
            let id = e.service.id
            var cells: [[Span]] = [
                [Span(id)], [Span("\(e.address):\(e.service.port)")],
                [Span(e.aggregateStatus.rawValue, statusStyle(e.aggregateStatus, theme))],
                historyStrip(state.healthHistory[id] ?? [], width: 10, theme),
            ]
            switch state.monitor[id]?.outcome {
            case .ok(let m):
                cells += [[Span("\(m.nThings)")], [Span(duration(m.uptimeSeconds))], [Span("\(m.requests)")],
                          [Span("\(m.errors)", m.errors > 0 ? theme[.warning] : theme[.text])],
                          [Span(milliseconds(m.p50Milliseconds))], [Span(milliseconds(m.p99Milliseconds))],
                          [Span(milliseconds(state.monitor[id]!.roundTripMilliseconds))]]
            case .failed(let reason):
                cells += Array(repeating: [Span("-", theme[.muted])], count: 6) + [[Span("✖ " + reason, theme[.critical])]]
            case nil:
                cells += Array(repeating: [Span("…", theme[.muted])], count: 7)
            }
            return cells + [[Span(e.node.name, theme[.muted])]]
        }
        let rect = tableRect(state)
        Table(columns: instanceColumns, rows: rows, selected: state.selectedInstance,
              sortColumn: state.instanceSort.column, ascending: state.instanceSort.ascending)
            .render(into: &grid, rect, theme: theme)
        if entries.isEmpty {
            let text: String
            switch state.effects[.instances]?.phase {
            case .live?: text = state.filter.isEmpty ? "no instances of \(service) are registered" : "no instances match"
            case .retrying(let reason, _)?: text = "cannot read instances: \(reason)"
            default: text = "waiting for Consul…"
            }
            grid.put(text, x: 1, y: rect.y + 2, style: theme[.muted])
        }
        // The selected instance's checks and Monitor details.
        let detail = Rect(x: 0, y: rect.maxY, width: state.size.width, height: state.size.height - 2 - rect.maxY)
        guard detail.height >= 3, let entry = entries[safe: state.selectedInstance] else { return }
        var lines: [[Span]] = entry.checks.map { check in
            [Span(symbol(check.status) + " ", statusStyle(check.status, theme)),
             Span(check.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0), statusStyle(check.status, theme)),
             Span(check.name + "  ", theme[.header]),
             Span(oneLine(check.output), theme[.muted])]
        }
        if entry.checks.isEmpty { lines.append([Span("no checks registered", theme[.muted])]) }
        if let sample = state.monitor[entry.service.id] {
            switch sample.outcome {
            case .ok(let m):
                lines.append([Span("monitor  ", theme[.header]),
                              Span("version \(m.version) · store \(oneLine(m.storeStatus)) · round trip \(milliseconds(sample.roundTripMilliseconds))")])
            case .failed(let reason):
                lines.append([Span("monitor  ", theme[.header]), Span("✖ \(oneLine(reason))", theme[.critical])])
            }
        }
        grid.overlay(detail, title: "\(entry.service.id) · node \(entry.node.name)", lines: lines, theme: theme)
    }

    static func historyStrip(_ history: [HealthStatus], width: Int, _ theme: Theme) -> [Span] {
        history.suffix(width).map { status -> Span in
            switch status {
            case .passing: return Span("▂", theme[.ok])
            case .warning: return Span("▅", theme[.warning])
            default: return Span("█", theme[.critical])
            }
        }
    }

    // MARK: bottom

    static func bottomLine(_ state: ConsoleState, _ grid: inout Grid, _ theme: Theme) {
        let rect = Rect(x: 0, y: state.size.height - 2, width: state.size.width, height: 1)
        switch state.mode {
        case .command(let editor): editor.render(into: &grid, rect, prompt: ":", style: theme[.input])
        case .filter(let editor): editor.render(into: &grid, rect, prompt: "/", style: theme[.input])
        default:
            if let message = state.message {
                grid.put(message.text, x: 1, y: rect.y, style: message.isError ? theme[.critical] : theme[.accent], clip: rect)
            }
        }
    }

    static func statusBar(_ state: ConsoleState, _ grid: inout Grid, _ theme: Theme) {
        let bar = theme[.status]
        var left: [Span] = [Span(" consul ", bar)]
        for id in state.effects.keys.sorted() {
            guard let status = state.effects[id] else { continue }
            var style = bar
            let text: String
            switch status.phase {
            case .connecting:
                style.foreground = theme[.muted].foreground
                text = "◌ \(id.rawValue) connecting"
            case .live:
                style.foreground = theme[.ok].foreground
                let answering = id == .monitor ? monitorSummary(state).map { $0 + " " } ?? "" : ""
                text = "● \(id.rawValue) \(answering)" + (status.lastUpdate.map { age(state.now - $0) } ?? "live")
            case .retrying(let reason, let retry):
                style.foreground = theme[.critical].foreground
                text = "✖ \(id.rawValue): \(oneLine(reason)), retry in \(age(retry))"
            }
            left += [Span(" " + text + " ", style), Span("│", bar)]
        }
        grid.statusBar(Rect(x: 0, y: state.size.height - 1, width: state.size.width, height: 1),
                       left: left, right: [Span(" ? help  : command  q quit ", bar)], style: bar)
    }

    static func monitorSummary(_ state: ConsoleState) -> String? {
        guard case .instances = state.screen, !state.monitor.isEmpty else { return nil }
        let ok = state.monitor.values.filter { if case .ok = $0.outcome { return true } else { return false } }.count
        return "\(ok)/\(state.instances.count)"
    }

    static func helpOverlay(_ grid: inout Grid, _ theme: Theme, _ keymap: Keymap) {
        let lines = keymap.bindings.filter(\.visible).map { binding -> [Span] in
            let keys = binding.keys.map(\.description).joined(separator: ", ")
            return [Span(keys.padding(toLength: 16, withPad: " ", startingAt: 0), theme[.accent]), Span(binding.help)]
        } + [[], [Span("any key closes this help", theme[.muted])]]
        let width = min(grid.width - 2, 76), height = min(grid.height - 2, lines.count + 2)
        grid.overlay(grid.bounds.centered(width: width, height: height), title: "help", lines: lines, theme: theme)
    }

    // MARK: formatting

    static func statusStyle(_ status: HealthStatus, _ theme: Theme) -> Style {
        switch status {
        case .passing: return theme[.ok]
        case .warning: return theme[.warning]
        default: return theme[.critical]
        }
    }

    static func symbol(_ status: HealthStatus) -> String {
        switch status {
        case .passing: return "●"
        case .warning: return "▲"
        default: return "✖"
        }
    }

    /// Remote text on one row: newlines and tabs become spaces (controls are dropped by the grid).
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r\n" || $0 == "\t" ? " " : $0 })
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60 < 10 ? "0" : "")\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60 < 10 ? "0" : "")\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }

    static func milliseconds(_ ms: Double) -> String {
        ms < 10 ? String(format: "%.1fms", ms) : String(format: "%.0fms", ms)
    }

    static func age(_ milliseconds: Int64) -> String {
        let s = max(0, milliseconds / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h"
    }
}
