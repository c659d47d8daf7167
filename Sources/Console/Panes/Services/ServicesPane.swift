import ConsulModels
import TUI

/// Every service in Consul with its instances counted by health. Its cursor is the console's selection:
/// the other panes follow the service it is on.
public struct ServicesPane: Pane {
    public static let id: PaneID = "services"
    public static let placement = PanePlacement(row: .top, width: .sidebar(fraction: 0.22, minimum: 26, maximum: 36))

    public enum Command: String, PaneCommand {
        case open, back, filter, up, down, pageUp = "page-up", pageDown = "page-down", top, bottom, sort, reverse
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.open, [.enter, .right, .character("l")], "Open the selected service's instances", hint: "open"),
        Binding(.back, [.escape, .left, .character("h")], "Clear the filter"),
    ] + ListKeys.bindings(of: "service", up: .up, down: .down, pageUp: .pageUp, pageDown: .pageDown, top: .top,
                          bottom: .bottom, filter: .filter, sort: .sort, reverse: .reverse)

    public static let lineCommands = [LineCommandSpec("services", aliases: ["svc"], help: "Focus the services pane")]

    public var catalog: [String: [String]] = [:] { didSet { recount() } }  // name -> tags
    public var checks: [HealthCheck] = [] { didSet { recount() } }
    public var cursor = TableCursor() {
        didSet { if cursor.filter != oldValue.filter || cursor.sort != oldValue.sort { reorder() } }
    }
    /// Every service with its counts, and `rows`, those shown in their order: kept, not recomputed on each
    /// look (a fleet's 2,000 checks are counted once per change, not a few times per frame and key).
    private var counted: [ServiceSummary] = []
    public private(set) var rows: [ServiceSummary] = []

    private mutating func recount() {
        counted = ServiceSummary.counted(catalog: catalog, checks: checks)
        reorder()
    }

    private mutating func reorder() { rows = ServiceSummary.ordered(counted, cursor: cursor) }

    public init() {}

    public func subscriptions(_ context: PaneContext) -> Set<Feed> { [.services, .checks] }

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .feed(.services(let services, _)):
            catalog = services
        case .feed(.checks(let all, _)):
            checks = all
        case .selectionChanged:
            // Someone else chose a service (`:instances NAME`): the cursor goes to it.
            followSelection(context)
            return []
        case .prompt(.edited(let text)), .prompt(.submitted(let text)):
            cursor.filter = text
            followSelection(context)
            return publishSelection(context)
        case .prompt(.cancelled):
            cursor.filter = ""
            followSelection(context)
            return publishSelection(context)
        default:
            return []
        }
        followSelection(context)
        // New data never moves the selection away from a service the operator chose: not when the filter
        // hides it (chosen by `:instances NAME`), and not when it leaves the catalog for a while (every
        // instance restarting deregisters it). The panes that follow it say what they see meanwhile.
        if let name = context.selection.service, !rows.contains(where: { $0.name == name }) {
            return []
        }
        return publishSelection(context)
    }

    /// Rows changed or moved: the selected service stays selected wherever it is now.
    private mutating func followSelection(_ context: PaneContext) {
        if let name = context.selection.service, let index = rows.firstIndex(where: { $0.name == name }) {
            cursor.selected = index
        }
    }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        let visible = context.size.height - 1
        switch command {
        case .open: return rows.isEmpty ? [] : [.focus(InstancesPane.id)]
        case .back:
            cursor.filter = ""
            followSelection(context)
        case .filter: return [.prompt("/", text: cursor.filter)]
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            if let move = TableCursor.move(for: command) { cursor.move(move, rows: rows.count, visible: visible) }
        case .sort:
            // The next of the columns on screen.
            let shown = Self.columns(width: context.size.width)
            let current = shown.firstIndex { $0.rawValue == cursor.sort.column } ?? -1
            cursor.sort.column = shown[(current + 1) % shown.count].rawValue
            followSelection(context)
        case .reverse:
            cursor.sort.ascending.toggle()
            followSelection(context)
        }
        return publishSelection(context)
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        [.focus(Self.id)]  // `:services`
    }

    public mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] {
        let visible = context.size.height - 1
        switch event.kind {
        case .wheelUp: cursor.move(.by(-3), rows: rows.count, visible: visible)
        case .wheelDown: cursor.move(.by(3), rows: rows.count, visible: visible)
        case .click:
            guard let row = cursor.row(atY: event.y, rows: rows.count, visible: visible) else { return [] }
            cursor.selected = row
        }
        return publishSelection(context)
    }

    private mutating func publishSelection(_ context: PaneContext) -> [Outcome] {
        let rows = rows
        cursor.clamp(rows: rows.count)
        let name = rows[safe: cursor.selected]?.name
        return name == context.selection.service ? [] : [.selectService(name)]
    }

    public func title(_ context: PaneContext) -> String {
        "services" + (cursor.filter.isEmpty ? "" : "  /\(cursor.filter)")
    }

    /// Below this width the pane shows the name and a compact health cell only.
    static let compactBelow = 50

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        let theme = context.theme
        let rows = rows
        let columns = Self.columns(width: rect.width)
        let cells = rows.map { s in columns.map { Self.cell($0, s, theme) } }
        // No row is lit while the selected service is not among the rows (filtered out, or gone for now).
        let lit = rows[safe: cursor.selected]?.name == context.selection.service ? cursor.selected : nil
        Table(columns: columns.map(\.table), rows: cells, selected: lit,
              sortColumn: columns.firstIndex { $0.rawValue == cursor.sort.column }, ascending: cursor.sort.ascending)
            .render(into: &grid, rect, theme: theme)
        if rows.isEmpty {
            let waiting = context.feeds[.services]?.lastUpdate == nil ? "waiting for Consul…" : "no services match"
            grid.put(waiting, x: rect.x + 1, y: rect.y + 2, style: theme[.muted], clip: rect)
        }
    }

    /// The columns for a pane this wide.
    static func columns(width: Int) -> [ServiceSummary.Column] {
        width < compactBelow ? ServiceSummary.Column.compact : ServiceSummary.Column.full
    }

    static func cell(_ column: ServiceSummary.Column, _ s: ServiceSummary, _ theme: Theme) -> [Span] {
        func count(_ n: Int, _ style: Style) -> Span { n == 0 ? Span("0", theme[.muted]) : Span("\(n)", style) }
        switch column {
        case .name: return [Span(s.name)]
        case .tags: return [Span(s.text(.tags), theme[.muted])]
        case .instances: return [Span(s.text(.instances))]
        case .passing: return [count(s.passing, theme[.ok])]
        case .warning: return [count(s.warning, theme[.warning])]
        case .critical: return [count(s.critical, theme[.critical])]
        case .health:
            // `2● 1✖`, each count in its colour.
            let parts = s.healthParts
            guard !parts.isEmpty else { return [Span("-", theme[.muted])] }
            return parts.enumerated().map { i, part in Span((i == 0 ? "" : " ") + "\(part.count)\(part.symbol)", theme[part.role]) }
        }
    }
}
