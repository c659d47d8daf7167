/// A scrolling view of lines: follows the end unless scrolled back.
public struct TextView {
    public var lines: [[Span]]
    /// Lines scrolled back from the end (0: follow the newest).
    public var scrollBack: Int

    public init(lines: [[Span]], scrollBack: Int = 0) {
        self.lines = lines
        self.scrollBack = scrollBack
    }

    public func render(into grid: inout Grid, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let end = max(0, lines.count - max(0, scrollBack))
        let start = max(0, end - rect.height)
        for (row, index) in (start..<end).enumerated() {
            grid.put(lines[index], x: rect.x, y: rect.y + row, clip: Rect(x: rect.x, y: rect.y + row, width: rect.width, height: 1))
        }
    }
}

extension Grid {
    /// A framed box drawn over whatever is below (help, confirmations), its inside cleared.
    public mutating func overlay(_ rect: Rect, title: String, lines: [[Span]], theme: Theme) {
        fill(rect, style: theme[.text])
        box(rect, title: title, style: theme[.border], titleStyle: theme[.title])
        let inside = Rect(x: rect.x + 2, y: rect.y + 1, width: rect.width - 4, height: rect.height - 2)
        for (row, line) in lines.prefix(inside.height).enumerated() {
            put(line, x: inside.x, y: inside.y + row, clip: Rect(x: inside.x, y: inside.y + row, width: inside.width, height: 1))
        }
    }

    /// One row: `left` from the left edge, `right` against the right edge, in the bar's style.
    public mutating func statusBar(_ rect: Rect, left: [Span], right: [Span], style: Style) {
        fill(rect, style: style)
        let rightWidth = right.reduce(0) { $0 + DisplayWidth.of($1.text) }
        let leftRoom = Rect(x: rect.x, y: rect.y, width: max(0, rect.width - rightWidth - 1), height: 1)
        put(left, x: rect.x, y: rect.y, clip: leftRoom)
        if rightWidth < rect.width { put(right, x: rect.maxX - rightWidth, y: rect.y, clip: rect) }
    }
}
