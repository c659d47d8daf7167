/// A table with a header row, column widths, a selected row kept in view and a sort marker.
public struct Table {
    public struct Column: Sendable {
        public enum Width: Sendable { case fixed(Int), flexible(minimum: Int) }
        public enum Alignment: Sendable { case left, right }
        public var title: String
        public var width: Width
        public var alignment: Alignment

        public init(_ title: String, _ width: Width, _ alignment: Alignment = .left) {
            self.title = title
            self.width = width
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    /// Each row's cells; a cell is one or more spans (a health strip is several).
    public var rows: [[[Span]]]
    public var selected: Int?
    public var sortColumn: Int?
    public var ascending: Bool

    public init(columns: [Column], rows: [[[Span]]], selected: Int? = nil, sortColumn: Int? = nil, ascending: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.selected = selected
        self.sortColumn = sortColumn
        self.ascending = ascending
    }

    /// Fixed columns get their width; flexible ones share what is left (at least their minimum);
    /// one space between columns. Columns that do not fit at all get 0.
    public static func widths(_ columns: [Column], total: Int) -> [Int] {
        let gaps = max(0, columns.count - 1)
        let fixed = columns.reduce(0) { sum, c in if case .fixed(let w) = c.width { return sum + w } else { return sum } }
        let flexible = columns.filter { if case .flexible = $0.width { return true } else { return false } }
        let minimums = flexible.reduce(0) { sum, c in if case .flexible(let m) = c.width { return sum + m } else { return sum } }
        let spare = max(0, total - gaps - fixed - minimums)
        var shareLeft = spare
        var flexibleSeen = 0
        var result: [Int] = []
        var used = 0
        for column in columns {
            var w: Int
            switch column.width {
            case .fixed(let f): w = f
            case .flexible(let m):
                flexibleSeen += 1
                let share = flexibleSeen == flexible.count ? shareLeft : spare / max(1, flexible.count)
                shareLeft -= share
                w = m + share
            }
            let room = max(0, total - used - (result.isEmpty ? 0 : 1))
            w = min(w, room)
            used += w + (result.isEmpty ? 0 : 1)
            result.append(w)
        }
        return result
    }

    /// The first row shown so that the selection is visible.
    public static func firstVisible(selected: Int?, rows: Int, visible: Int) -> Int {
        guard let selected, visible > 0, rows > visible else { return 0 }
        return min(max(0, selected - visible + 1), rows - visible)
    }

    public func render(into grid: inout Grid, _ rect: Rect, theme: Theme) {
        guard !rect.isEmpty else { return }
        let widths = Self.widths(columns, total: rect.width)
        var x = rect.x
        for (i, column) in columns.enumerated() where widths[i] > 0 {
            var title = column.title
            if sortColumn == i { title += ascending ? "▲" : "▼" }
            put([Span(title, theme[.header])], in: &grid, x: x, y: rect.y, width: widths[i], alignment: column.alignment)
            x += widths[i] + 1
        }
        let visible = rect.height - 1
        let first = Self.firstVisible(selected: selected, rows: rows.count, visible: visible)
        for (line, index) in (first..<min(rows.count, first + visible)).enumerated() {
            let y = rect.y + 1 + line
            let isSelected = index == selected
            if isSelected { grid.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: theme[.selection]) }
            x = rect.x
            for (i, cell) in rows[index].enumerated() where i < widths.count && widths[i] > 0 {
                let spans = isSelected ? cell.map { Span($0.text, Self.selected($0.style, theme)) } : cell
                put(spans, in: &grid, x: x, y: y, width: widths[i], alignment: columns[i].alignment)
                x += widths[i] + 1
            }
        }
    }

    /// On the selected row the selection's background wins, the cell's foreground stays (a red
    /// "critical" is still red when selected).
    public static func selected(_ style: Style, _ theme: Theme) -> Style {
        let selection = theme[.selection]
        var s = style
        s.background = selection.background
        if s.foreground == .default { s.foreground = selection.foreground }
        s.attributes.formUnion(selection.attributes)
        return s
    }

    private func put(_ spans: [Span], in grid: inout Grid, x: Int, y: Int, width: Int, alignment: Column.Alignment) {
        let clip = Rect(x: x, y: y, width: width, height: 1)
        let textWidth = spans.reduce(0) { $0 + DisplayWidth.of($1.text) }
        let start = alignment == .right ? x + max(0, width - textWidth) : x
        if textWidth > width && width > 1 {
            // Too long: cut and mark with an ellipsis.
            var remaining = width - 1
            var cut: [Span] = []
            for span in spans where remaining > 0 {
                var text = ""
                for c in span.text {
                    let w = DisplayWidth.of(c)
                    if w > remaining { remaining = 0; break }
                    text.append(c)
                    remaining -= w
                }
                cut.append(Span(text, span.style))
            }
            let used = grid.put(cut, x: x, y: y, clip: clip)
            grid.put("…", x: x + used, y: y, style: spans.last?.style ?? .plain, clip: clip)
        } else {
            grid.put(spans, x: start, y: y, clip: clip)
        }
    }
}
