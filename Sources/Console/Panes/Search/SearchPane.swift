import SearchModels
import TUI

/// Ad-hoc searches from a prompt: the results as a table, with a map of the selected result's outline and
/// the query point on it, and who answered in how long (and whether a retry was needed).
///
/// A search is a feed that reports once: the pane wants `.search(call)` until its answer comes, so a new
/// query cancels the one in flight and a late answer to an old one is dropped.
public struct SearchPane: Pane {
    public static let id: PaneID = "search"
    public static let placement = PanePlacement(row: .bottom, width: .flexible(minimum: 44))
    /// Shown by `:search`, `F` or `:show search`: most of the time the dashboard is for watching.
    public static let startsHidden = true
    /// The service searched when the selected one does not serve `Search`.
    public static let defaultService = "search-service"
    /// Entries the prompt's history keeps (and the history file).
    public static let historyLimit = 500

    public enum Command: String, PaneCommand {
        case prompt, up, down, pageUp = "page-up", pageDown = "page-down", top, bottom
        case nextPage = "next-page", previousPage = "previous-page", copy, copyGrpcurl = "copy-grpcurl"
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.prompt, [.enter, .character("/"), .character("i")], "Type a search (↑ history, ctrl-r search the history)", hint: "search"),
        Binding(.up, [.up, .character("k")], "Select the previous result"),
        Binding(.down, [.down, .character("j")], "Select the next result"),
        Binding(.pageUp, [.pageUp], "Up one page of rows", visible: false),
        Binding(.pageDown, [.pageDown], "Down one page of rows", visible: false),
        Binding(.top, [.home, .character("g")], "First result"),
        Binding(.bottom, [.end, .character("G")], "Last result"),
        Binding(.nextPage, [.character("n"), .character("]")], "Next page of results", hint: "page"),
        Binding(.previousPage, [.character("p"), .character("[")], "Previous page of results"),
        Binding(.copy, [.character("y")], "Copy this search as an opsdeck search command (OSC 52)", hint: "copy"),
        Binding(.copyGrpcurl, [.character("Y")], "Copy it as a grpcurl command"),
    ]

    public static let lineCommands = [
        LineCommandSpec("search", argument: .init("QUERY", required: false, rest: true),
                        help: "Search: LAT LNG, LAT,LNG, a name, name:NAME near LAT,LNG; page N, size N (no QUERY: the prompt)"),
    ]

    /// The prompt's history, oldest first (loaded from the history file at start).
    public var history: [String] = []
    /// The text of the current search, as typed.
    public var text = ""
    public var query: SearchQuery?
    /// The search in flight (nil: none).
    public var pending: SearchCall?
    /// Bumped by every search: a new feed even for the same text.
    var sequence = 0
    public var answer: SearchAnswer?
    public var failure: String?
    public var cursor = TableCursor()

    public init() {}

    public func subscriptions(_ context: PaneContext) -> Set<Feed> {
        pending.map { [.search($0)] } ?? []
    }

    /// The service searched: the selected one when the operator is looking at a search service, else
    /// the default.
    func service(_ context: PaneContext) -> String {
        guard let selected = context.selection.service, selected.hasPrefix("search") else { return Self.defaultService }
        return selected
    }

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .feed(.search(let call, let result)):
            guard call == pending else { return [] }
            pending = nil
            switch result {
            case .success(let answer):
                self.answer = answer
                failure = nil
                cursor.selected = 0
                if let retries = answer.retries {
                    return [.message("\(retries) · answered by \(answer.instanceID)", isError: false)]
                }
            case .failure(let error):
                failure = error.description
            }
        case .prompt(.submitted(let line)):
            return submit(line, context)
        case .prompt(.edited), .prompt(.cancelled), .feed, .tick, .selectionChanged:
            break
        }
        return []
    }

    /// Parses and sends a search typed at the prompt or given to `:search`.
    mutating func submit(_ line: String, _ context: PaneContext) -> [Outcome] {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return [] }
        remember(trimmed)
        switch SearchQueryParser.parse(trimmed) {
        case .failure(let failure):
            return [.message(failure.description, isError: true), .effect(.rememberSearch(trimmed))]
        case .success(var query):
            query.withOutline = true  // the map
            text = trimmed
            send(query, context)
            return [.effect(.rememberSearch(trimmed))]
        }
    }

    private mutating func send(_ query: SearchQuery, _ context: PaneContext) {
        self.query = query
        sequence += 1
        pending = SearchCall(service: service(context), query: query, sequence: sequence)
        failure = nil
        answer = nil  // the old page must not be paged or mapped with the new query
    }

    private mutating func remember(_ line: String) {
        history.removeAll { $0 == line }
        history.append(line)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        let rows = answer?.results.count ?? 0
        if let move = TableCursor.move(for: command) {
            cursor.move(move, rows: rows, visible: max(1, tableHeight(context.size) - 1))
            return []
        }
        switch command {
        case .prompt:
            return [.prompt("search: ", text: text, history: history)]
        case .nextPage, .previousPage:
            guard pending == nil else { return [.message("still searching", isError: false)] }
            guard var query, let answer else { return [.message("no results to page: press enter to search", isError: true)] }
            let page = answer.page + (command == .nextPage ? 1 : -1)
            guard page >= 1 && page <= answer.pageCount else {
                return [.message(command == .nextPage ? "this is the last page" : "this is the first page", isError: false)]
            }
            query.page = page
            send(query, context)
        case .copy, .copyGrpcurl:
            guard let query else { return [.message("no search yet: press enter to type one", isError: true)] }
            var shown = query
            shown.withOutline = false
            let text = command == .copy ? shown.commandLine : shown.grpcurlCommand(address: answer?.address ?? "127.0.0.1:50051")
            return [.effect(.copyToClipboard(text)), .message("copied: \(text)", isError: false)]
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            break
        }
        return []
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        guard let argument = command.argument, !argument.isEmpty else {
            return [.focus(Self.id), .prompt("search: ", text: text, history: history)]
        }
        return [.focus(Self.id)] + submit(argument, context)
    }

    public mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] {
        let rows = answer?.results.count ?? 0, visible = tableHeight(context.size) - 1
        switch event.kind {
        case .wheelUp: cursor.move(.by(-1), rows: rows, visible: visible)
        case .wheelDown: cursor.move(.by(1), rows: rows, visible: visible)
        case .click:
            guard event.x < tableWidth(context.size.width),
                  let row = cursor.row(atY: event.y - 1, rows: rows, visible: visible) else { return [] }
            cursor.selected = row
        }
        return []
    }

    public func title(_ context: PaneContext) -> String {
        "search · \(service(context))" + (text.isEmpty ? "" : "  \(text)")
    }

    // MARK: layout

    /// The table's width: all of a narrow pane, else about half (the map takes the rest).
    func tableWidth(_ width: Int) -> Int { width < Self.mapBesideFrom ? width : max(36, width * 2 / 5) }
    static let mapBesideFrom = 80

    /// Rows for the table (header included) under the summary line.
    func tableHeight(_ size: Size) -> Int {
        let rows = (answer?.results.count ?? 0) + 1
        if size.width >= Self.mapBesideFrom { return max(0, size.height - 1) }
        return min(max(0, size.height - 1), max(rows, size.height / 2))
    }

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        SearchView(pane: self, context: context).render(into: &grid, rect)
    }
}

/// One search to send: its service, its query and its number (two searches for the same text are two).
public struct SearchCall: Hashable, Sendable {
    public var service: String
    public var query: SearchQuery
    public var sequence: Int

    public init(service: String, query: SearchQuery, sequence: Int) {
        self.service = service
        self.query = query
        self.sequence = sequence
    }
}
