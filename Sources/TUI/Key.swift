/// A key press, as the backend decodes it.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    case ctrl(Character)  // lower-case letter
    case enter, escape, backspace, tab, backTab, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)

    /// Parses the names used in key bindings and config files: `q`, `?`, `ctrl-c`, `esc`, `enter`,
    /// `space`, `up`, `pgdn`, `f5`, ...
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

    public init(_ action: String, _ keys: [Key], _ help: String, visible: Bool = true) {
        self.action = action
        self.keys = keys
        self.help = help
        self.visible = visible
    }
}

/// Bindings as data: the one table both key handling and the help overlay read.
public struct Keymap: Sendable {
    public private(set) var bindings: [KeyBinding]
    private var byKey: [Key: String] = [:]

    public init(_ bindings: [KeyBinding]) {
        self.bindings = bindings
        reindex()
    }

    public func action(for key: Key) -> String? { byKey[key] }

    private mutating func reindex() {
        byKey = [:]
        for binding in bindings { for key in binding.keys where byKey[key] == nil { byKey[key] = binding.action } }
    }

    /// Applies `bind ACTION KEY[,KEY...]` lines (the config file's form), replacing that action's keys.
    /// Returns a message per line it could not use; the rest still apply.
    public mutating func remap(_ lines: [String]) -> [String] {
        var problems: [String] = []
        for raw in lines {
            let parts = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 3, parts[0] == "bind" else {
                problems.append("'\(raw)': expected: bind ACTION KEY[,KEY...]")
                continue
            }
            guard let index = bindings.firstIndex(where: { $0.action == parts[1] }) else {
                problems.append("'\(raw)': no action '\(parts[1])' (actions: \(bindings.map(\.action).joined(separator: ", ")))")
                continue
            }
            let keys = parts[2].split(separator: ",").map { Key(name: String($0)) }
            guard !keys.isEmpty, keys.allSatisfy({ $0 != nil }) else {
                problems.append("'\(raw)': unknown key name in '\(parts[2])'")
                continue
            }
            let newKeys = keys.compactMap { $0 }
            // A key moved to this action leaves the action it had.
            for i in bindings.indices where i != index { bindings[i].keys.removeAll { newKeys.contains($0) } }
            bindings[index].keys = newKeys
        }
        reindex()
        return problems
    }
}
