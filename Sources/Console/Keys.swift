import TUI

/// The console's key bindings: one table that drives key handling and the `?` overlay, and that a
/// config file can remap (`bind ACTION KEY[,KEY...]`).
public enum ConsoleKeys {
    public static let defaults = Keymap([
        KeyBinding("quit", [.character("q"), .ctrl("c")], "Quit"),
        KeyBinding("help", [.character("?")], "This help"),
        KeyBinding("command", [.character(":")], "Command line: services, instances NAME, theme NAME, q"),
        KeyBinding("filter", [.character("/")], "Filter the rows by name"),
        KeyBinding("back", [.escape, .left, .character("h")], "Back: close help, clear the filter, leave a service"),
        KeyBinding("open", [.enter, .right, .character("l")], "Open the selected service's instances"),
        KeyBinding("up", [.up, .character("k")], "Select the previous row"),
        KeyBinding("down", [.down, .character("j")], "Select the next row"),
        KeyBinding("page-up", [.pageUp], "Up one page", visible: false),
        KeyBinding("page-down", [.pageDown], "Down one page", visible: false),
        KeyBinding("top", [.home, .character("g")], "First row"),
        KeyBinding("bottom", [.end, .character("G")], "Last row"),
        KeyBinding("sort", [.character("s")], "Sort by the next column"),
        KeyBinding("reverse", [.character("S")], "Reverse the sort"),
    ])
}
