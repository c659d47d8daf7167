import TUI

/// The help overlays, read from the same tables that handle keys and commands: `?` shows the keys in
/// force (after the config file's remaps) for the shell and the focused pane, with the `:` commands'
/// names; `:help` shows every `:` command with its aliases and what it does.
enum HelpOverlay {
    static func render(_ page: ConsoleState.HelpPage, _ state: ConsoleState, _ reducer: ConsoleReducer, into grid: inout Grid) {
        let theme = state.theme
        let width = min(grid.width - 2, 76)
        var lines: [[Span]] = []
        if page == .commands {
            lines = reducer.parser.specs.map { spec in
                let usage = ":" + spec.usage + (spec.aliases.isEmpty ? "" : " (" + spec.aliases.map { ":" + $0 }.joined(separator: ", ") + ")")
                return [Span(usage.padding(toLength: max(30, usage.count + 1), withPad: " ", startingAt: 0), theme[.accent]),
                        Span(spec.help)]
            } + [[], [Span("tab completes a command and its argument; ↑ recalls the last ones", theme[.muted])]]
            let height = min(grid.height - 2, lines.count + 2)
            grid.overlay(grid.bounds.centered(width: width, height: height), title: ": commands · any key closes it",
                         lines: lines, theme: theme)
            return
        }
        func section(_ title: String, scope: String) {
            let bindings = reducer.keymap.bindings(in: scope).filter(\.visible)
            guard !bindings.isEmpty else { return }
            lines.append([Span(title, theme[.header])])
            lines += bindings.map { binding in
                let keys = binding.keys.map(\.description).joined(separator: ", ")
                return [Span(keys.padding(toLength: max(16, keys.count + 1), withPad: " ", startingAt: 0), theme[.accent]),
                        Span(binding.help)]
            }
        }
        if let reason = state.readOnly {
            lines += [[Span("read-only (\(reason)): every write (KV edits) is refused", theme[.warning])], []]
        }
        section("everywhere", scope: Shell.scope)
        section("\(state.focus) pane", scope: state.focus.name)
        lines.append([Span("commands (:help says more)", theme[.header])])
        lines += wrap(reducer.parser.specs.map { ":" + $0.usage }, width: width - 4).map { [Span($0)] }
        let height = min(grid.height - 2, lines.count + 2)
        grid.overlay(grid.bounds.centered(width: width, height: height), title: "help · any key closes it", lines: lines, theme: theme)
    }

    /// Words joined with `separator` into lines of at most `width` (a line ends with the separator's
    /// visible part: "," for ", ").
    static func wrap(_ words: [String], width: Int, separator: String = ", ") -> [String] {
        var lines: [String] = []
        var line = ""
        for word in words {
            let next = line.isEmpty ? word : line + separator + word
            if DisplayWidth.of(next) > width && !line.isEmpty {
                lines.append(line + separator.filter { $0 != " " })
                line = word
            } else {
                line = next
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
