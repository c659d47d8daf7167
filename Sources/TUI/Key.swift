/// A key press, as the backend decodes it.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    case ctrl(Character)  // lower-case letter
    case enter, escape, backspace, tab, backTab, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)

    /// Parses the names used in key bindings and config files: `q`, `?`, `ctrl-c`, `esc`, `enter`,
    /// `space`, `hash`, `up`, `pgdn`, `f5`, ...
    public init?(name: String) {
        let lower = name.lowercased()
        switch lower {
        case "enter", "return": self = .enter
        case "esc", "escape": self = .escape
        case "backspace", "bs": self = .backspace
        case "tab": self = .tab
        case "backtab", "shift-tab": self = .backTab
        case "delete", "del": self = .delete
        case "up": self = .up
        case "down": self = .down
        case "left": self = .left
        case "right": self = .right
        case "home": self = .home
        case "end": self = .end
        case "pgup", "pageup": self = .pageUp
        case "pgdn", "pagedown": self = .pageDown
        case "space": self = .character(" ")
        case "hash": self = .character("#")  // `#` itself starts a comment in the config file
        default:
            if lower.hasPrefix("ctrl-"), lower.count == 6, let c = lower.last, c.isLetter {
                self = .ctrl(c)
            } else if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...12).contains(n) {
                self = .function(n)
            } else if name.count == 1, let c = name.first {
                self = .character(c)
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .character(" "): return "space"
        case .character(let c): return String(c)
        case .ctrl(let c): return "ctrl-\(c)"
        case .enter: return "enter"
        case .escape: return "esc"
        case .backspace: return "backspace"
        case .tab: return "tab"
        case .backTab: return "shift-tab"
        case .delete: return "delete"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .home: return "home"
        case .end: return "end"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        case .function(let n): return "f\(n)"
        }
    }
}

/// What the terminal reports.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case resize(width: Int, height: Int)
    case mouse(MouseEvent)
}

public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case click, wheelUp, wheelDown }
    public var kind: Kind
    public var x: Int
    public var y: Int
    public init(kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

/// One binding: the action it triggers, its keys, and how the help overlay describes it.
public struct KeyBinding: Hashable, Sendable {
    public var action: String
    public var keys: [Key]
    public var help: String
    /// Shown in the `?` overlay (movement keys every list shares can be left out).
    public var visible: Bool
    /// A word for the hint bar (`enter open`), for the few bindings it shows.
    public var hint: String?

    public init(_ action: String, _ keys: [Key], _ help: String, visible: Bool = true, hint: String? = nil) {
        self.action = action
        self.keys = keys
        self.help = help
        self.visible = visible
        self.hint = hint
    }
}

/// Bindings as data: the one table that key handling, the `?` overlay and the hint bar read.
///
/// An action is named `SCOPE.COMMAND` (`shell.quit`, `services.open`). A key is looked up in a list of
/// scopes, the first that binds it wins: the focused pane's scope, then the shell's.
public struct Keymap: Sendable {
    public private(set) var bindings: [KeyBinding]
    private var byKey: [Key: [String]] = [:]

    public init(_ bindings: [KeyBinding]) {
        self.bindings = bindings
        reindex()
    }

    /// The action `key` triggers in the first of `scopes` that binds it.
    public func action(for key: Key, scopes: [String]) -> String? {
        guard let actions = byKey[key] else { return nil }
        for scope in scopes {
            if let action = actions.first(where: { Self.scope(of: $0) == scope }) { return action }
        }
        return nil
    }

    /// The bindings of one scope, in their order.
    public func bindings(in scope: String) -> [KeyBinding] { bindings.filter { Self.scope(of: $0.action) == scope } }

    /// The keys bound to `action` now.
    public func keys(for action: String) -> [Key] { bindings.first { $0.action == action }?.keys ?? [] }

    static func scope(of action: String) -> Substring { action.split(separator: ".", maxSplits: 1).first ?? "" }
    static func command(of action: String) -> Substring { action.split(separator: ".", maxSplits: 1).last ?? "" }

    private mutating func reindex() {
        byKey = [:]
        for binding in bindings { for key in binding.keys { byKey[key, default: []].append(binding.action) } }
    }

    /// Applies `bind ACTION KEY[,KEY...]` lines (the config file's form), replacing that action's keys.
    /// ACTION is `SCOPE.COMMAND`, or a bare COMMAND for that command in every scope (`bind down n`).
    /// A key given to a pane's action leaves that pane's other actions (in that pane it now shadows the
    /// shell's key, elsewhere the shell keeps it); a key given to a shell action leaves every other action.
    /// Returns a message per line it could not use; the rest still apply.
    public mutating func remap(_ lines: [String], shellScope: String = "shell") -> [String] {
        var problems: [String] = []
        for raw in lines {
            let parts = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 3, parts[0] == "bind" else {
                problems.append("'\(raw)': expected: bind ACTION KEY[,KEY...]")
                continue
            }
            let name = parts[1]
            let targets = bindings.indices.filter {
                bindings[$0].action == name || (!name.contains(".") && Self.command(of: bindings[$0].action) == name)
            }
            guard !targets.isEmpty else {
                problems.append("'\(raw)': no action '\(name)' (actions: \(bindings.map(\.action).joined(separator: ", ")))")
                continue
            }
            let keys = parts[2].split(separator: ",").map { Key(name: String($0)) }
            guard !keys.isEmpty, keys.allSatisfy({ $0 != nil }) else {
                problems.append("'\(raw)': unknown key name in '\(parts[2])'")
                continue
            }
            let newKeys = keys.compactMap { $0 }
            for index in targets {
                let scope = Self.scope(of: bindings[index].action)
                for i in bindings.indices where i != index && !targets.contains(i) {
                    let other = Self.scope(of: bindings[i].action)
                    if scope == shellScope || other == scope {
                        bindings[i].keys.removeAll { newKeys.contains($0) }
                    }
                }
                bindings[index].keys = newKeys
            }
        }
        reindex()
        return problems
    }
}
