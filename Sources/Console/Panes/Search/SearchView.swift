import SearchModels
import TUI

/// The search pane's drawing: a summary line (who answered, how fast, retries; or the error), the
/// results, and the selected result's map beside them (below them on a narrow pane).
struct SearchView {
    let pane: SearchPane
    let context: PaneContext

    static let columns: [Table.Column] = [
        .init("NAME", .flexible(minimum: 14)), .init("KIND", .fixed(8)), .init("CODE", .fixed(5)), .init("SOURCE", .fixed(12)),
    ]

    func render(into grid: inout Grid, _ rect: Rect) {
        let theme = context.theme
        let (summary, body) = rect.splitTop(1)
        grid.put(summaryLine(theme), x: summary.x, y: summary.y, clip: summary)
        if pane.pending == nil, let failure = pane.failure {
            // The whole reason, wrapped: the summary line has only its start.
            let lines = HelpOverlay.wrap(failure.split(separator: " ").map(String.init), width: max(10, body.width - 2), separator: " ")
            for (i, line) in lines.prefix(max(0, body.height - 1)).enumerated() {
                grid.put(line, x: body.x + 1, y: body.y + 1 + i, style: theme[.critical], clip: body)
            }
            return
        }
        guard let answer = pane.answer else {
            let help = pane.pending != nil ? "" : "enter: type a search, e.g.  48.8566 2.3522   france   name:fr near 48.85,2.35"
            grid.put(help, x: body.x + 1, y: body.y + 1, style: theme[.muted], clip: body)
            return
        }
        let tableWidth = pane.tableWidth(rect.width)
        let beside = rect.width >= SearchPane.mapBesideFrom
        let (tableRect, mapRect) = beside ? body.splitLeft(tableWidth) : body.splitTop(pane.tableHeight(Size(width: rect.width, height: rect.height)))
        let rows = answer.results.map { result in SearchResult.Column.allCases.map { [Span(result.text($0))] } }
        Table(columns: Self.columns, rows: rows, selected: rows.isEmpty ? nil : pane.cursor.selected, sortColumn: nil, ascending: true)
            .render(into: &grid, tableRect, theme: theme)
        if rows.isEmpty {
            grid.put("nothing found", x: tableRect.x + 1, y: tableRect.y + 2, style: theme[.muted], clip: tableRect)
        }
        guard let result = answer.results[safe: pane.cursor.selected], mapRect.width >= 10, mapRect.height >= 4 else { return }
        let map = beside ? Rect(x: mapRect.x + 1, y: mapRect.y, width: mapRect.width - 1, height: mapRect.height) : mapRect
        guard let outline = result.outline else {
            grid.put("no outline for \(result.name)", x: map.x + 1, y: map.y + 1, style: theme[.muted], clip: map)
            return
        }
        let caption = "\(result.name) · \(outline.vertexCount) of \(outline.sourceVertices) vertices"
        grid.put(caption, x: map.x, y: map.y, style: theme[.muted], clip: map)
        OutlineMap(outline: outline, point: pane.query?.point).render(into: &grid, map.splitTop(1).rest, theme: theme)
    }

    func summaryLine(_ theme: Theme) -> [Span] {
        if pane.pending != nil { return [Span("searching…", theme[.muted])] }
        if pane.failure != nil { return [Span("✖ search failed", theme[.critical])] }  // the reason, whole, is below
        guard let answer = pane.answer else { return [] }
        var spans = [Span("page \(answer.page)/\(answer.pageCount) · \(answer.total) result\(answer.total == 1 ? "" : "s") · ", theme[.text]),
                     Span(answer.instanceID, theme[.header]),
                     Span(" in " + Format.milliseconds(answer.milliseconds), theme[.text])]
        if let retries = answer.retries { spans.append(Span(" · " + retries, theme[.warning])) }
        return spans
    }
}
