import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct WidgetTests {
    let columns: [Table.Column] = [.init("NAME", .flexible(minimum: 6)), .init("N", .fixed(3), .right), .init("NOTE", .flexible(minimum: 4))]

    @Test func columnWidthsShareWhatIsLeft() {
        #expect(Table.widths(columns, total: 30) == [13, 3, 12])  // 15 spare: 7 and the rest
        #expect(Table.widths(columns, total: 12) == [6, 3, 1])  // the last column squeezed
        #expect(Table.widths(columns, total: 5) == [5, 0, 0])
    }

    @Test func tableRendersHeaderSortMarkerRightAlignmentAndEllipsis() {
        var grid = Grid(width: 24, height: 4)
        let rows: [[[Span]]] = [[[Span("alpha")], [Span("7")], [Span("ok")]],
                                [[Span("a-very-long-name")], [Span("123")], [Span("x")]]]
        Table(columns: columns, rows: rows, selected: 1, sortColumn: 1, ascending: false)
            .render(into: &grid, grid.bounds, theme: .monochrome)
        #expect(grid.lines() == ["NAME        N▼ NOTE", "alpha        7 ok", "a-very-lo… 123 x", ""])
        // The selected row is drawn in the selection style across the whole width.
        #expect(grid[23, 2].style.attributes.contains(.reverse))
        #expect(!grid[23, 1].style.attributes.contains(.reverse))
    }

    @Test func theSelectionStaysVisible() {
        #expect(Table.firstVisible(selected: 0, rows: 100, visible: 10) == 0)
        #expect(Table.firstVisible(selected: 9, rows: 100, visible: 10) == 0)
        #expect(Table.firstVisible(selected: 10, rows: 100, visible: 10) == 1)
        #expect(Table.firstVisible(selected: 99, rows: 100, visible: 10) == 90)
        #expect(Table.firstVisible(selected: 5, rows: 3, visible: 10) == 0)
    }

    @Test func brailleDotsAndLines() {
        var canvas = BrailleCanvas(width: 2, height: 1)
        canvas.set(0, 0)
        canvas.set(1, 3)
        #expect(canvas.character(x: 0, y: 0) == "\u{2881}")  // dots 1 and 8
        #expect(canvas.character(x: 1, y: 0) == nil)
        var diagonal = BrailleCanvas(width: 2, height: 1)
        diagonal.line(0, 0, 3, 3)
        #expect(diagonal.character(x: 0, y: 0) == "⠑")
        #expect(diagonal.character(x: 1, y: 0) == "⢄")
    }

    @Test func lineChartScalesToTheRangeAndLabelsIt() {
        var grid = Grid(width: 12, height: 2)
        LineChart(series: [.init(values: [0, 10, 5, 10], style: .plain)])
            .render(into: &grid, grid.bounds, axisStyle: .plain) { "\(Int($0))" }
        let lines = grid.lines()
        #expect(lines[0].hasPrefix("10"))
        #expect(lines[1].hasPrefix("0"))
        #expect(lines.joined().unicodeScalars.contains { (0x2801...0x28ff).contains($0.value) })
        var empty = Grid(width: 12, height: 2)
        LineChart(series: []).render(into: &empty, empty.bounds, axisStyle: .plain) { "\($0)" }
        #expect(empty.text.contains("no data"))
    }

    @Test func sparklines() {
        #expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(sparkline([5, 5, nil, 5]) == "▄▄ ▄")
        #expect(sparkline([1, 2, 3], width: 2) == "▁█")
    }

    @Test func statusBarKeepsTheRightSideWhenTheLeftIsLong() {
        var grid = Grid(width: 30, height: 1)
        grid.statusBar(grid.bounds, left: [Span(String(repeating: "x", count: 40))], right: [Span("? help")], style: .plain)
        #expect(grid.lines() == [String(repeating: "x", count: 23) + " ? help"])
    }

    @Test func overlayClearsWhatIsUnder() {
        var grid = Grid(width: 14, height: 4)
        grid.fill(grid.bounds, with: "#")
        grid.overlay(grid.bounds, title: "help", lines: [[Span("q  quit")]], theme: .monochrome)
        #expect(grid.lines() == ["┌ help ──────┐", "│ q  quit    │", "│            │", "└────────────┘"])
    }
}
