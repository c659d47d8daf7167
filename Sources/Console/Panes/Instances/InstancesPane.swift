import ConsulModels
import TUI

/// The selected service's instances: address, health with a strip of its recent history, and each
/// instance's Monitor figures; below, the selected instance's checks with their output.
public struct InstancesPane: Pane {
    public static let id: PaneID = "instances"
    public static let placement = PanePlacement(row: .top, width: .flexible(minimum: 60))
    /// Health samples kept per instance (one a second).
    public static let historyLength = 30
    /// Instances carrying this tag serve gRPC; Monitor is polled on those only.
    public static let monitorTag = "grpc"

    public enum Command: String, PaneCommand {
        case back, logs, filter, up, down, pageUp = "page-up", pageDown = "page-down", top, bottom, sort, reverse
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.back, [.escape, .left, .character("h")], "Back: clear the filter, else to the services", hint: "back"),
        Binding(.logs, [.character("L")], "This instance's logs (the logs pane, focused)", hint: "logs"),
    ] + ListKeys.bindings(of: "instance", up: .up, down: .down, pageUp: .pageUp, pageDown: .pageDown, top: .top,
                          bottom: .bottom, filter: .filter, sort: .sort, reverse: .reverse)

    public static let lineCommands = [
        LineCommandSpec("instances", aliases: ["inst"], argument: .init("SERVICE", required: false, completion: .services),
                        help: "Show a service's instances (no SERVICE: the selected one)"),
    ]

    /// The service whose instances these are (the selection's, once it arrives).
    public var service: String?
    public var entries: [ServiceEntry] = []
    /// Monitor's last answer per instance (`ServiceEntry.instanceKey`: its ID on its node).
    public var monitor: [String: MonitorSample] = [:]
    /// Recent aggregate health per instance (`instanceKey`), oldest first.
    public var history: [String: [HealthStatus]] = [:]
    public var cursor = TableCursor()
    /// The row under the cursor (`instanceKey`): rows that share an ID, one per node, stay told apart when
    /// the table changes (the selection others see is the ID: what the instance's log lines are named).
    var selectedKey: String?
    /// The `instanceKey`s of `entries`: a Monitor answer is checked against them without building a key
    /// per entry for each of a round's answers (200 instances: 40,000 keys a round).
    var listed: Set<String> = []
    /// The first answer for this service came (so an instance missing from the next one has left).
    var loaded = false

    public init() {}

    public func subscriptions(_ context: PaneContext) -> Set<Feed> {
        guard let service else { return [] }
        var feeds: Set<Feed> = [.health(service: service)]
        for entry in entries where entry.service.tags.contains(Self.monitorTag) {
            feeds.insert(.monitor(instance: entry.instanceKey, address: HostPort.format(entry.address, entry.service.port)))
        }
        return feeds
    }

    /// The instances as the table shows them: filtered, sorted.
    public var rows: [ServiceEntry] {
        let column = Column(rawValue: cursor.sort.column) ?? .instance
        let key: (ServiceEntry) -> String = { e in
            switch column {
            case .instance: return e.service.id
            case .address: return "\(e.address):\(format6(e.service.port))"
            case .health: return String(e.aggregateStatus.severityRank) + e.service.id
            }
        }
        return entries.filter { cursor.matches($0.service.id, HostPort.format($0.address, $0.service.port)) }
            .sorted { a, b in
                let (ka, kb) = (key(a), key(b))
                guard ka == kb else { return cursor.sort.ascending ? ka < kb : ka > kb }
                return a.node.name < b.node.name  // one ID on several nodes: in the nodes' order, always
            }
    }

    /// The columns it sorts by.
    enum Column: Int, CaseIterable { case instance, address, health }

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .selectionChanged:
            guard context.selection.service != service else { return [] }
            let sort = cursor.sort  // the operator's sort outlives the service
            self = InstancesPane()
            service = context.selection.service
            cursor.sort = sort
            return []
        case .feed(.health(let name, let new, _)):
            guard name == service else { return [] }  // a late answer for the previous service
            // An instance that leaves (deregistered, or removed after its critical timeout) is said, not
            // just dropped from the table.
            let present = Set(new.map(\.instanceKey))
            let gone = entries.filter { !present.contains($0.instanceKey) }.map { entry in
                // The node too when the ID alone does not say which one: registered without IDs on several
                // nodes, or gone from one node and listed on another.
                let shared = entries.filter { $0.service.id == entry.service.id }.count > 1 || new.contains { $0.service.id == entry.service.id }
                return shared ? "\(entry.service.id) on \(entry.node.name)" : entry.service.id
            }.sorted()
            var outcomes: [Outcome] = []
            if loaded && !gone.isEmpty { outcomes.append(.message("\(gone.joined(separator: ", ")) left \(name)", isError: false)) }
            entries = new
            listed = present
            loaded = true
            monitor = monitor.filter { present.contains($0.key) }
            history = history.filter { present.contains($0.key) }
            followSelection(context)
            return outcomes + publishSelection(context)
        case .feed(.monitor(let id, let sample)):
            if listed.contains(id) { monitor[id] = sample }
        case .tick:
            for entry in entries {
                var samples = history[entry.instanceKey] ?? []
                samples.append(entry.aggregateStatus)
                if samples.count > Self.historyLength { samples.removeFirst(samples.count - Self.historyLength) }
                history[entry.instanceKey] = samples
            }
        case .prompt(.edited(let text)), .prompt(.submitted(let text)):
            cursor.filter = text
            return publishSelection(context)
        case .prompt(.cancelled):
            cursor.filter = ""
            return publishSelection(context)
        case .feed:
            break
        }
        return []
    }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        let count = rows.count, visible = tableHeight(context.size.height) - 1
        switch command {
        case .back:
            guard !cursor.filter.isEmpty else { return [.focus(ServicesPane.id)] }
            cursor.filter = ""
            followSelection(context)
        case .logs:
            // The incident path: from a red row to its lines in one key (the logs pane shows the selected
            // instance's own lines).
            return [.focus(LogsPane.id)]
        case .filter: return [.prompt("/", text: cursor.filter)]
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            if let move = TableCursor.move(for: command) { cursor.move(move, rows: count, visible: visible) }
        case .sort:
            cursor.nextSortColumn(of: Column.allCases.count)
            followSelection(context)
        case .reverse:
            cursor.sort.ascending.toggle()
            followSelection(context)
        }
        return publishSelection(context)
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        guard let name = command.argument ?? context.selection.service else {
            return [.message(":instances needs a service name", isError: true)]
        }
        guard context.selection.services.contains(name) else {
            let hint = LineCommandParser.closest(to: name, in: context.selection.services).map { ": did you mean \($0)?" } ?? ""
            return [.message("no service \(name)\(hint)", isError: true)]
        }
        return [.selectService(name), .focus(Self.id)]
    }

    public mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] {
        let count = rows.count, visible = tableHeight(context.size.height) - 1
        switch event.kind {
        case .wheelUp: cursor.move(.by(-3), rows: count, visible: visible)
        case .wheelDown: cursor.move(.by(3), rows: count, visible: visible)
        case .click:
            guard event.y < tableHeight(context.size.height),
                  let row = cursor.row(atY: event.y, rows: count, visible: visible) else { return [] }
            cursor.selected = row
        }
        return publishSelection(context)
    }

    /// Rows moved: the selected instance stays selected wherever it is now.
    private mutating func followSelection(_ context: PaneContext) {
        let rows = rows
        if let key = selectedKey, let index = rows.firstIndex(where: { $0.instanceKey == key }),
           rows[index].service.id == context.selection.instance {
            cursor.selected = index
        } else if let id = context.selection.instance, let index = rows.firstIndex(where: { $0.service.id == id }) {
            cursor.selected = index
        }
    }

    private mutating func publishSelection(_ context: PaneContext) -> [Outcome] {
        let rows = rows
        cursor.clamp(rows: rows.count)
        let row = rows[safe: cursor.selected]
        selectedKey = row?.instanceKey
        let id = row?.service.id
        return id == context.selection.instance ? [] : [.selectInstance(id)]
    }

    /// The table's rows (header included): 60 % of the pane at most, the rest for the detail.
    func tableHeight(_ height: Int) -> Int {
        min(max(3, entries.count + 1), Int(Double(height) * 0.6))
    }

    public func title(_ context: PaneContext) -> String {
        guard let service else { return "instances" }
        let count = entries.count
        return "\(service)  \(count) instance\(count == 1 ? "" : "s")" + (cursor.filter.isEmpty ? "" : "  /\(cursor.filter)")
    }

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        InstancesView(pane: self, context: context).render(into: &grid, rect)
    }
}

extension HealthStatus {
    var severityRank: Int { HealthStatus.allCases.firstIndex(of: self) ?? 0 }
}
