import TUI

/// A table pane's selection, filter and sort: what the list keys every table shares act on.
public struct TableCursor: Equatable, Sendable {
    public var selected = 0
    public var filter = ""
    public var sort: Sort

    public init(sort: Sort = Sort(column: 0, ascending: true)) { self.sort = sort }

    /// The list keys, with the keys every table binds them to by default.
    public enum Move: Equatable, Sendable {
        case up, down, pageUp, pageDown, top, bottom
        case by(Int)
    }

    /// The move a table pane's list command names (its raw value: `up`, `down`, `page-up`, `page-down`,
    /// `top`, `bottom`, as `ListKeys.bindings` binds them), so every table moves the same way.
    public static func move<Command: PaneCommand>(for command: Command) -> Move? {
        switch command.rawValue {
        case "up": return .up
        case "down": return .down
        case "page-up": return .pageUp
        case "page-down": return .pageDown
        case "top": return .top
        case "bottom": return .bottom
        default: return nil
        }
    }

    /// Moves within `rows` rows; a page is the rows the table shows (`visible`).
    public mutating func move(_ move: Move, rows: Int, visible: Int) {
        let page = max(1, visible - 1)
        let delta: Int
        switch move {
        case .up: delta = -1
        case .down: delta = 1
        case .pageUp: delta = -page
        case .pageDown: delta = page
        case .top: delta = -rows
        case .bottom: delta = rows
        case .by(let n): delta = n
        }
        selected = Self.clamp(selected + delta, rows)
    }

    public mutating func clamp(rows: Int) { selected = Self.clamp(selected, rows) }

    /// The next sort column of `columns` sortable ones.
    public mutating func nextSortColumn(of columns: Int) { sort.column = (sort.column + 1) % max(1, columns) }

    /// The row a click at pane-local `y` lands on, under a one-row header, or nil.
    public func row(atY y: Int, rows: Int, visible: Int) -> Int? {
        let first = Table.firstVisible(selected: selected, rows: rows, visible: visible)
        let row = first + y - 1
        return y >= 1 && y <= visible && row < rows ? row : nil
    }

    static func clamp(_ value: Int, _ count: Int) -> Int { max(0, min(value, count - 1)) }

    /// Does `text` pass the filter (case-insensitive substring)?
    public func matches(_ texts: String...) -> Bool {
        filter.isEmpty || texts.contains { $0.lowercased().contains(filter.lowercased()) }
    }
}

public struct Sort: Equatable, Sendable {
    public var column: Int
    public var ascending: Bool
    public init(column: Int, ascending: Bool) {
        self.column = column
        self.ascending = ascending
    }
}

/// The list commands every table pane has; its `Command` enum repeats them as its own cases so that
/// `perform` stays one exhaustive switch and the config file names them per pane (`services.down`) or
/// for every pane at once (`down`).
public enum ListKeys {
    /// The default bindings of a table of `noun`s (`service`): move, page, first and last, filter, sort.
    public static func bindings<Command: PaneCommand>(
        of noun: String, up: Command, down: Command, pageUp: Command, pageDown: Command, top: Command,
        bottom: Command, filter: Command, sort: Command, reverse: Command) -> [Binding<Command>] {
        [
            Binding(filter, [.character("/")], "Filter the \(noun)s"),
            Binding(up, [.up, .character("k")], "Select the previous \(noun)"),
            Binding(down, [.down, .character("j")], "Select the next \(noun)"),
            Binding(pageUp, [.pageUp], "Up one page", visible: false),
            Binding(pageDown, [.pageDown], "Down one page", visible: false),
            Binding(top, [.home, .character("g")], "First \(noun)"),
            Binding(bottom, [.end, .character("G")], "Last \(noun)"),
            Binding(sort, [.character("s")], "Sort by the next column"),
            Binding(reverse, [.character("S")], "Reverse the sort"),
        ]
    }
}

/// The same as text, for tables that sort by number: zero-padded, so numbers sort as text.
func format6(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 6 - s.count)) + s
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
