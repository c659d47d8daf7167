import ConsulModels
import Foundation
import SearchSettings
import TUI

/// The config pane's drawing: the tree with a preview of each value on the left; on the right the
/// selected key whole (value, indexes, flags, what the setting does), or a refused edit's two values;
/// the last row says where a written setting stands on the instances.
struct ConfigView {
    let pane: ConfigPane
    let context: PaneContext

    static let columns: [Table.Column] = [.init("KEY", .flexible(minimum: 16)), .init("VALUE", .flexible(minimum: 8))]
    /// Below this width the detail goes under the tree.
    static let detailBesideFrom = 90

    func render(into grid: inout Grid, _ rect: Rect) {
        let theme = context.theme
        guard let prefix = pane.prefix else {
            grid.put("select a service: its configuration is the Consul KV under <service>/", x: rect.x + 1, y: rect.y + 1,
                     style: theme[.muted], clip: rect)
            return
        }
        let (list, detail, status) = Self.layout(rect, following: pane.follow != nil)
        if let follow = pane.follow, let status {
            let (text, isError) = follow.summary(context.now)
            grid.put("⟳ " + text, x: status.x, y: status.y, style: isError ? theme[.critical] : theme[.warning], clip: status)
        }
        let tree = pane.tree
        let rows = tree.rows.map { row -> [[Span]] in
            let mark = pane.changedElsewhere[row.path] != nil ? "● " : "  "
            let name = mark + String(repeating: "  ", count: row.depth) + row.name
            let value: Span
            if row.isFolder {
                value = Span("\(row.keys) key\(row.keys == 1 ? "" : "s")", theme[.muted])
            } else if row.isUnset {
                let fallback = ServerSettings.key(named: String(row.path.dropFirst(prefix.count)))?.defaultText ?? ""
                value = Span(fallback.isEmpty ? "(not set)" : "(default \(fallback))", theme[.muted])
            } else {
                value = Span(KVValue(pane.pair(row.path)?.value ?? []).preview(width: 60), theme[.text])
            }
            let nameStyle = pane.changedElsewhere[row.path] != nil ? theme[.warning] : row.isFolder ? theme[.accent] : theme[.text]
            return [[Span(name, nameStyle)], [value]]
        }
        Table(columns: Self.columns, rows: rows, selected: rows.isEmpty ? nil : pane.cursor.selected)
            .render(into: &grid, list, theme: theme)
        if rows.isEmpty {
            let text = context.feeds[.config]?.phase == .connecting ? "reading \(prefix)…" : "no keys under \(prefix): n adds one"
            grid.put(text, x: list.x + 1, y: list.y + 2, style: theme[.muted], clip: list)
        }
        let area = detail.x > list.x ? Rect(x: detail.x + 2, y: detail.y, width: max(0, detail.width - 2), height: detail.height)
                                     : Rect(x: detail.x + 1, y: detail.y + 1, width: max(0, detail.width - 1), height: max(0, detail.height - 1))
        var lines: [[Span]]
        if let conflict = pane.conflict {
            lines = conflictLines(conflict, width: area.width)
        } else if let row = pane.selectedRow {
            lines = detailLines(row, area, prefix: prefix)
        } else {
            lines = []
        }
        for (i, line) in lines.prefix(area.height).enumerated() {
            grid.put(line, x: area.x, y: area.y + i, clip: area)
        }
    }

    /// The tree, the detail (beside it on a wide pane, under it on a narrow one) and the follow's status row.
    static func layout(_ rect: Rect, following: Bool) -> (list: Rect, detail: Rect, status: Rect?) {
        let (body, status) = following ? rect.splitBottom(1) : (rect, Rect(x: rect.x, y: rect.maxY, width: rect.width, height: 0))
        let (list, detail) = body.width >= detailBesideFrom ? body.splitLeft(body.width * 11 / 20) : body.splitTop(max(3, body.height / 2))
        return (list, detail, following ? status : nil)
    }

    private func detailLines(_ row: KVTree.Row, _ area: Rect, prefix: String) -> [[Span]] {
        let theme = context.theme, width = area.width
        var lines: [[Span]] = [[Span(row.path, theme[.header])]]
        if row.isFolder {
            lines.append([Span("folder · \(row.keys) key\(row.keys == 1 ? "" : "s") · n adds one, d deletes it all", theme[.muted])])
            return lines
        }
        let setting = pane.setting(for: row.path)
        if let pair = pane.pair(row.path) {
            let value = KVValue(pair.value)
            var facts = "ModifyIndex \(pair.modifyIndex) · flags \(pair.flags) · \(KVValue.size(pair.value.count))"
            if value.isBinary { facts += " · binary" }
            lines.append([Span(facts, theme[.muted])])
            if let seen = pane.changedElsewhere[row.path] {
                lines.append([Span("● changed elsewhere \(Format.age(context.now - seen)) ago", theme[.warning])])
            }
            let room = max(1, area.height - lines.count - (setting == nil ? 0 : 5))
            lines += value.lines(width: width, limit: min(room, 12)).map { [Span($0, theme[.text])] }
        } else {
            let fallback = setting?.defaultText ?? ""
            lines.append([Span("not set in KV: e sets it; until then the default, \(fallback.isEmpty ? "empty" : fallback)", theme[.muted])])
        }
        if let setting {
            lines.append([])
            lines.append([Span("search-server setting · ", theme[.muted]),
                          setting.live ? Span("applies live", theme[.ok]) : Span("a change restarts the instances", theme[.warning])])
            let effect = pane.inEffect(setting.key)
            if !effect.isEmpty {
                let text = effect.map { "\($0.value.isEmpty ? "(empty)" : $0.value) on \($0.instances)" }.joined(separator: ", ")
                lines.append([Span("in effect: ", theme[.muted]), Span(text, effect.count > 1 ? theme[.warning] : theme[.text])])
            }
            lines += wrapped(setting.help, theme[.text], width)
            lines += wrapped("flag \(setting.flag) and env \(setting.environmentVariable) override KV", theme[.muted], width)
        }
        return lines
    }

    private func conflictLines(_ conflict: ConfigPane.Conflict, width: Int) -> [[Span]] {
        let theme = context.theme
        let theirs = conflict.theirs.map { KVValue($0.value).preview(width: width - 18) } ?? "(deleted)"
        let yours = conflict.yours.map { KVValue($0).preview(width: width - 18) } ?? "(delete it)"
        return [
            [Span("✖ not written: \(conflict.key)", theme[.critical])],
            [Span("changed by someone else since it was shown", theme[.critical])],
            [],
            [Span("yours   ", theme[.muted]), Span(yours, theme[.text])],
            [Span("theirs  ", theme[.muted]), Span(theirs, theme[.text]),
             Span(conflict.theirs.map { "  (ModifyIndex \($0.modifyIndex))" } ?? "", theme[.muted])],
            [],
        ] + wrapped("e: write yours over theirs (asks again) · esc: keep theirs", theme[.muted], width)
    }

    /// Text over as many rows of `width` as it needs, cut between words.
    private func wrapped(_ text: String, _ style: Style, _ width: Int) -> [[Span]] {
        HelpOverlay.wrap(text.split(separator: " ").map(String.init), width: max(10, width), separator: " ").map { [Span($0, style)] }
    }
}
