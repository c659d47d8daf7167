import TUI

/// Draws the state into a grid: the title row, every visible pane in its frame (the focused one in a
/// heavy frame), the bottom line (prompt or message), the status bar and the help overlay. A pure
/// function: same state, same grid.
public enum ConsoleView {
    /// The panes' frames for this state.
    public static func frames(_ state: ConsoleState, _ registry: PaneRegistry) -> [PaneID: Rect] {
        guard fits(state.size) else { return [:] }
        let body = Rect(x: 0, y: 1, width: state.size.width, height: state.size.height - 3)
        let panes = state.panes.filter { state.visible.contains($0.id) }.map { (id: $0.id, placement: $0.placement) }
        return DashboardLayout.frames(body: body, panes: panes, focus: state.focus, zoomed: state.zoomed)
    }

    static func fits(_ size: Size) -> Bool { size.width >= 20 && size.height >= 6 }

    public static func render(_ state: ConsoleState, _ reducer: ConsoleReducer) -> Grid {
        let theme = state.theme
        var grid = Grid(width: state.size.width, height: state.size.height, fill: Cell(" ", style: theme[.text]))
        guard fits(state.size) else {
            // A word per row if need be: whatever the size, say why nothing else is drawn.
            for (row, word) in ["opsdeck:", "terminal", "too small"].enumerated() {
                grid.put(word, x: 0, y: row, style: theme[.critical])
            }
            return grid
        }
        title(state, &grid)
        let frames = frames(state, reducer.registry)
        for pane in state.panes {
            guard let frame = frames[pane.id] else { continue }
            let context = reducer.context(pane.id, state, frames: frames)
            let focused = pane.id == state.focus
            grid.box(frame, title: pane.title(context), style: focused ? theme[.accent] : theme[.border],
                     titleStyle: focused ? theme[.title] : theme[.header], heavy: focused)
            pane.render(into: &grid, frame.inset(1), context)
        }
        bottomLine(state, &grid)
        statusBar(state, reducer.keymap, &grid)
        if case .help(let page) = state.mode { HelpOverlay.render(page, state, reducer, into: &grid) }
        return grid
    }

    static func title(_ state: ConsoleState, _ grid: inout Grid) {
        let theme = state.theme
        var spans = [Span(" opsdeck ", theme[.title])]
        if let context = state.context {
            // Production is hard to miss: the alarm colour, reversed (visible in the mono theme too).
            var style = context.production ? theme[.critical] : theme[.accent]
            if context.production { style.attributes.insert(.reverse) }
            spans.append(Span(context.production ? " \(context.name) · production " : " \(context.name) ", style))
        }
        if state.readOnly != nil { spans.append(Span(" read-only ", theme[.warning])) }
        if !state.header.isEmpty { spans.append(Span(" " + state.header + " ", theme[.muted])) }
        if let service = state.selection.service {
            spans += [Span(" ", theme[.muted]), Span(service, theme[.header])]
            if let instance = state.selection.instance { spans += [Span(" › ", theme[.muted]), Span(instance, theme[.header])] }
        }
        if state.zoomed { spans.append(Span("  [zoomed]", theme[.accent])) }
        grid.put(spans, x: 0, y: 0, clip: Rect(x: 0, y: 0, width: state.size.width, height: 1))
    }

    static func bottomLine(_ state: ConsoleState, _ grid: inout Grid) {
        let theme = state.theme
        let rect = Rect(x: 0, y: state.size.height - 2, width: state.size.width, height: 1)
        switch state.mode {
        case .command(let editor):
            editor.render(into: &grid, rect, prompt: ":", style: theme[.input])
            if !state.completions.isEmpty {
                let shown = DisplayWidth.of(":" + editor.string) + 2
                grid.put(state.completions.joined(separator: "  "), x: shown + 1, y: rect.y, style: theme[.muted], clip: rect)
            }
        case .input(_, let prompt, let editor):
            editor.render(into: &grid, rect, prompt: prompt, style: theme[.input])
        default:
            if let message = state.message {
                grid.put(message.text, x: 1, y: rect.y, style: message.isError ? theme[.critical] : theme[.accent], clip: rect)
            }
        }
    }

    /// What a feed's trouble is, for grouping: the reason or the note, not when it retries.
    static func trouble(_ phase: FeedStatus.Phase?) -> String? {
        switch phase {
        case .retrying(let reason, _)?: "✖" + reason
        case .limited(let note)?: "▲" + note
        default: nil
        }
    }

    static func statusBar(_ state: ConsoleState, _ keymap: Keymap, _ grid: inout Grid) {
        let theme = state.theme
        let bar = theme[.status]
        var left: [Span] = [Span(" ", bar)]
        let kinds = state.feeds.keys.sorted()
        var said: Set<FeedKind> = []
        // Feeds in trouble for one reason (Consul down, a token refused, entries hidden) say it once: the
        // names of every feed whose phase says the same, marked said.
        func sharing(_ kind: FeedKind) -> String {
            let same = kinds.filter { Self.trouble(state.feeds[$0]?.phase) == Self.trouble(state.feeds[kind]?.phase) }
            said.formUnion(same)
            return same.map(\.rawValue).joined(separator: ", ")
        }
        for kind in kinds where !said.contains(kind) {
            guard let status = state.feeds[kind] else { continue }
            var style = bar
            let text: String
            switch status.phase {
            case .connecting:
                style.foreground = theme[.muted].foreground
                text = "◌ \(kind.rawValue) connecting"
            case .live:
                style.foreground = theme[.ok].foreground
                let detail = status.detail.map { $0 + " " } ?? ""
                text = "● \(kind.rawValue) \(detail)" + (status.lastUpdate.map { Format.age(state.now - $0) } ?? "live")
            case .retrying(let reason, let retry):
                style.foreground = theme[.critical].foreground
                text = "✖ \(sharing(kind)): \(Format.oneLine(reason)), retry in \(Format.age(retry))"
            case .off(let reason):
                style.foreground = theme[.muted].foreground
                text = "○ \(kind.rawValue): \(Format.oneLine(reason))"
            case .waiting:  // what it waits for is the pane's to say: the bar only says the feed is fine
                style.foreground = theme[.muted].foreground
                text = "◌ \(kind.rawValue) waiting"
            case .limited(let note):
                style.foreground = theme[.warning].foreground
                text = "▲ \(sharing(kind)): \(Format.oneLine(note))"
            }
            left += [Span(" " + text + " ", style), Span("│", bar)]
        }
        let room = state.size.width - left.reduce(0) { $0 + DisplayWidth.of($1.text) } - 1
        var hints = Shell.hints(keymap, focus: state.focus, room: room - (state.readOnly == nil ? 0 : 11))
        if state.readOnly != nil { hints = " read-only ·" + hints }
        grid.statusBar(Rect(x: 0, y: state.size.height - 1, width: state.size.width, height: 1),
                       left: left, right: [Span(hints, bar)], style: bar)
    }
}
