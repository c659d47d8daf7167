/// The state of a one-line input (the `:` command line, the `/` filter, the search prompt): text,
/// cursor, and history recalled with ↑/↓.
public struct LineEditor: Equatable, Sendable {
    public private(set) var text: [Character] = []
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
    private var recalled: Int?
    private var draft: [Character] = []
    /// While ctrl-r searches the history: the text searched for, and where the last match was.
    public private(set) var historySearch: HistorySearch?
    public struct HistorySearch: Equatable, Sendable {
        public var term: String
        public var at: Int
    }
    public let historyLimit: Int

    public init(history: [String] = [], historyLimit: Int = 100) {
        self.history = history
        self.historyLimit = historyLimit
    }

    public enum Outcome: Equatable, Sendable {
        case edited
        case submitted(String)
        case cancelled
        case ignored
    }

    public var string: String { String(text) }

    public mutating func set(_ string: String) {
        text = Array(string)
        cursor = text.count
    }

    /// Applies a key: editing (characters, ←/→, home/end, backspace, delete, ctrl-a/e/u/w), history
    /// (↑/↓; ctrl-r: the latest entry containing the text typed, again for an older one), enter (submits
    /// and records in history), esc (cancels).
    public mutating func handle(_ key: Key) -> Outcome {
        if key != .ctrl("r") { historySearch = nil }
        switch key {
        case .ctrl("r"):
            let term = historySearch?.term ?? string
            let from = historySearch?.at ?? history.count
            guard let index = history[..<min(from, history.count)].lastIndex(where: {
                term.isEmpty || $0.lowercased().contains(term.lowercased())
            }) else {
                historySearch = HistorySearch(term: term, at: from)
                return .ignored
            }
            if recalled == nil { draft = text }
            recalled = index
            historySearch = HistorySearch(term: term, at: index)
            set(history[index])
        case .character(let c):
            text.insert(c, at: cursor)
            cursor += 1
        case .backspace:
            guard cursor > 0 else { return text.isEmpty ? .cancelled : .ignored }
            text.remove(at: cursor - 1)
            cursor -= 1
        case .delete, .ctrl("d"):
            guard cursor < text.count else { return .ignored }
            text.remove(at: cursor)
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .ctrl("u"):
            text.removeFirst(cursor)
            cursor = 0
        case .ctrl("w"):
            var start = cursor
            while start > 0 && text[start - 1] == " " { start -= 1 }
            while start > 0 && text[start - 1] != " " { start -= 1 }
            text.removeSubrange(start..<cursor)
            cursor = start
        case .up:
            guard !history.isEmpty else { return .ignored }
            if recalled == nil { draft = text }
            let index = max(0, (recalled ?? history.count) - 1)
            recalled = index
            set(history[index])
        case .down:
            guard let index = recalled else { return .ignored }
            if index + 1 < history.count {
                recalled = index + 1
                set(history[index + 1])
            } else {
                recalled = nil
                text = draft
                cursor = text.count
            }
        case .enter:
            let line = string
            if !line.trimmingCharacters(in: .whitespaces).isEmpty && history.last != line {
                history.append(line)
                if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
            }
            clear()
            return .submitted(line)
        case .escape, .ctrl("c"):
            clear()
            return .cancelled
        default:
            return .ignored
        }
        return .edited
    }

    public mutating func clear() {
        historySearch = nil
        text = []
        cursor = 0
        recalled = nil
        draft = []
    }

    /// Draws `prompt` and the text, scrolled so the cursor is visible, the cursor as a reverse cell.
    public func render(into grid: inout Grid, _ rect: Rect, prompt: String, style: Style) {
        grid.fill(rect, style: style)
        let label = historySearch.map { prompt + "(history '\($0.term)') " } ?? prompt
        let used = grid.put(label, x: rect.x, y: rect.y, style: style, clip: rect)
        let room = max(1, rect.width - used - 1)
        let start = max(0, cursor - room)
        let visible = String(text[start..<min(text.count, start + room)])
        grid.put(visible, x: rect.x + used, y: rect.y, style: style, clip: rect)
        let cursorX = rect.x + used + DisplayWidth.of(String(text[start..<cursor]))
        let under = cursor < text.count ? String(text[cursor]) : " "
        grid.put(under, x: cursorX, y: rect.y, style: style.with(.reverse), clip: rect)
    }
}

import Foundation
