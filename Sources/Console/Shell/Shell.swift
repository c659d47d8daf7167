import TUI

/// The shell around the panes: keys and `:` commands that act on the console itself (focus, zoom,
/// help, theme, quit), whichever pane has the focus.
public enum Shell {
    public static let scope = "shell"

    public enum Command: String, PaneCommand {
        case help, command, quit
        case nextPane = "next-pane", previousPane = "previous-pane", zoom, search, config
    }

    /// Checked after the focused pane's bindings. The hint bar shows the ones with a hint.
    public static let bindings: [Binding<Command>] = [
        Binding(.help, [.character("?")], "This help", hint: "help"),
        Binding(.command, [.character(":")], "Command line (tab completes; :help lists the commands)", hint: "command"),
        Binding(.quit, [.character("q"), .ctrl("c")], "Quit", hint: "quit"),
        Binding(.nextPane, [.tab], "Focus the next pane (or click it)"),
        Binding(.previousPane, [.backTab], "Focus the previous pane"),
        Binding(.zoom, [.character("z")], "Zoom the focused pane to the full screen, and back"),
        Binding(.search, [.character("F")], "Find areas: the search pane and its prompt (:search QUERY at once)"),
        Binding(.config, [.character("K")], "The selected service's configuration in Consul KV (:config SERVICE)"),
    ]

    static var keyBindings: [KeyBinding] {
        bindings.map { KeyBinding("\(scope).\($0.command.rawValue)", $0.keys, $0.help, visible: $0.visible, hint: $0.hint) }
    }

    public static let lineCommands: [LineCommandSpec] = [
        LineCommandSpec("help", help: "Keys and commands"),
        LineCommandSpec("theme", argument: .init("NAME", required: false, completion: .themes),
                        help: "Switch the colour theme (no NAME: list them)"),
        LineCommandSpec("context", aliases: ["ctx"], argument: .init("NAME", required: false, completion: .contexts),
                        help: "Run on another context of the config file: feeds restart on it (no NAME: list them)"),
        LineCommandSpec("zoom", help: "Zoom the focused pane, and back"),
        LineCommandSpec("show", argument: .init("PANE", required: true, completion: .panes), help: "Show a pane"),
        LineCommandSpec("hide", argument: .init("PANE", required: true, completion: .panes), help: "Hide a pane (its feeds stop)"),
        LineCommandSpec("quit", aliases: ["q", "q!"], help: "Quit"),
    ]

    /// The hint bar's text: the focused pane's hinted bindings, then the shell's, with the keys in force
    /// (a remapped key shows as remapped; an unbound one drops out). When that does not fit in `room`
    /// columns, the shell's only, then the first of them: the feeds' status on the left matters more.
    static func hints(_ keymap: Keymap, focus: PaneID, room: Int) -> String {
        func words(_ bindings: [KeyBinding]) -> [String] {
            bindings.compactMap { binding in
                guard let hint = binding.hint, let key = binding.keys.first else { return nil }
                return "\(key) \(hint)"
            }
        }
        let shell = words(keymap.bindings(in: scope))
        let variants = [words(keymap.bindings(in: focus.name)) + shell, shell, Array(shell.prefix(1))]
            .map { " " + $0.joined(separator: "  ") + " " }
        return variants.first { DisplayWidth.of($0) <= room } ?? ""
    }
}
