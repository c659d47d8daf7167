import Foundation
import LogLines
import TUI

/// The selected service's log topic, merged across partitions in time order as `opsdeck tail` merges
/// it (the same code), in a pane: only the selected instance's lines when one is selected, live
/// filters, follow and pause, and the jump between a moment on a chart and the lines of that moment.
public struct LogsPane: Pane {
    public static let id: PaneID = "logs"
    public static let placement = PanePlacement(row: .bottom, width: .flexible(minimum: 40))
    /// Where a new service's tail starts: its last lines, so the pane is never blank on arrival.
    public static let defaultStart = TailStart.last(200)

    public enum Command: String, PaneCommand {
        case up, down, pageUp = "page-up", pageDown = "page-down", top, live
        case filter, exclude, keep, instances, jump, chart, wrap, timestamps, copy
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.live, [.end, .character("G")], "Back to the newest lines, following", hint: "live"),
        Binding(.up, [.up, .character("k")], "One line back (pauses; new lines are counted)"),
        Binding(.down, [.down, .character("j")], "One line forward"),
        Binding(.pageUp, [.pageUp], "A page back"),
        Binding(.pageDown, [.pageDown], "A page forward"),
        Binding(.top, [.home, .character("g")], "The oldest line held"),
        Binding(.filter, [.character("/")], "Show lines matching a regular expression (empty: all)"),
        Binding(.exclude, [.character("-"), .character("!")], "Hide lines matching a regular expression"),
        Binding(.keep, [.character("m")], "Keep unmatched lines shown, matches marked (and back)"),
        Binding(.instances, [.character("a")], "The selected instance's lines only, or every instance's"),
        Binding(.jump, [.character("t")], "Jump to the chart cursor's moment (the metrics pane's ←/→)", hint: "jump"),
        Binding(.chart, [.character("c")], "Move the chart cursor to this line's time"),
        Binding(.wrap, [.character("w")], "Wrap long lines, or cut them at the edge"),
        Binding(.timestamps, [.character("T")], "Show or hide the time column"),
        Binding(.copy, [.character("y")], "Copy the current line (OSC 52; :save FILE writes every line shown)"),
    ]

    public static let lineCommands = [
        LineCommandSpec("logs", argument: .init("FROM", required: true, completion: .values(["end", "-100", "-1000", "5m", "15m", "1h"]),
                                                rest: true),
                        help: "Read the logs again from FROM (or --from FROM, as opsdeck tail): end, -N, 15m ago, a time"),
        LineCommandSpec("save", argument: .init("FILE", required: true, rest: true),
                        help: "Write the log lines shown (after filters) to a new FILE, as opsdeck tail prints them"),
    ]

    public var service: String?
    public var start = LogsPane.defaultStart
    public var buffer = LogBuffer()
    /// Lines from the newest one the view is scrolled back (0: following).
    public var scroll = 0
    /// Lines that arrived while paused.
    public var unseen = 0
    /// Only the selected instance's lines, when one is selected.
    public var instanceOnly = true
    /// The moment jumped to (milliseconds), marked among the lines.
    public var mark: Int64?
    /// Which pattern the bottom line is being typed for.
    public var editing: Command?
    /// After a jump, the view stays on the marked moment as lines arrive, until a key moves it.
    public var anchored = false
    /// Counts restarts, so that reading again from the same start is a new feed.
    public var generation = 0
    public var wrap = false
    public var showTime = true

    public init() {}

    /// The tail runs while the pane is on the dashboard, even zoomed away or squeezed out by a small
    /// terminal: stopping it there would lose the lines written meanwhile and repeat the last ones.
    public func subscriptions(_ context: PaneContext) -> Set<Feed> {
        guard let service else { return [] }
        return [.logs(LogQuery(topic: service, start: start, generation: generation))]
    }

    // MARK: updates

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .selectionChanged:
            if context.selection.service != service {
                service = context.selection.service
                mark = nil
                restart(from: Self.defaultStart)
            }
            var filter = buffer.filter
            filter.instance = instanceOnly ? context.selection.instance : nil
            if filter != buffer.filter { buffer.setFilter(filter) }
        case .feed(.logs(let query, let entries, _)):
            guard query.topic == service, !entries.isEmpty else { return [] }
            let added = buffer.append(entries)
            if anchored, let mark {
                // After a jump: the first line at or past the marked moment stays in the middle of the view.
                let first = buffer.firstShown(atOrAfter: mark)
                scroll = max(0, buffer.shownCount - 1 - first - context.size.height / 2)
            } else if scroll > 0 {
                // Paused: the view stays on the same lines while new ones are counted below it.
                scroll += added
                unseen += added
            }
            clampScroll()
        case .feed(.logsDropped(let query, let count)):
            guard query.topic == service else { return [] }
            buffer.noteDropped(count)
        case .prompt(let event):
            return prompt(event)
        default:
            break
        }
        return []
    }

    private mutating func restart(from start: TailStart) {
        self.start = start
        generation += 1
        buffer.clear()
        scroll = 0
        unseen = 0
        anchored = false
    }

    /// The view never points past the oldest line shown (lines drop out; filters change what shows).
    private mutating func clampScroll() {
        scroll = max(0, min(scroll, buffer.shownCount - 1))
        if scroll == 0 { unseen = 0 }
    }

    private mutating func prompt(_ event: PromptEvent) -> [Outcome] {
        guard let editing else { return [] }
        let text: String
        switch event {
        case .edited(let typed): text = typed
        case .submitted(let typed):
            text = typed
            self.editing = nil
        case .cancelled:
            text = editing == .filter ? buffer.filter.include : buffer.filter.exclude
            self.editing = nil
        }
        var filter = buffer.filter
        do {
            try filter.set(include: editing == .filter ? text : filter.include, exclude: editing == .exclude ? text : filter.exclude)
        } catch {
            // Half-typed patterns are often invalid: said only when submitted.
            if case .submitted = event {
                let text = "\(error)".replacingOccurrences(of: "--include ", with: "filter ").replacingOccurrences(of: "--exclude ", with: "exclude ")
                return [.message(text + "; the filter before stays", isError: true)]
            }
            return []
        }
        buffer.setFilter(filter)
        clampScroll()
        return []
    }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        let page = max(1, context.size.height - 1)
        defer { clampScroll() }
        if [.up, .down, .pageUp, .pageDown, .top, .live].contains(command) { anchored = false }
        switch command {
        case .up: scrollBy(1)
        case .down: scrollBy(-1)
        case .pageUp: scrollBy(page)
        case .pageDown: scrollBy(-page)
        case .top: scrollBy(buffer.shownCount)
        case .live:
            scroll = 0
            unseen = 0
        case .filter, .exclude:
            editing = command
            return [.prompt(command == .filter ? "/" : "-", text: command == .filter ? buffer.filter.include : buffer.filter.exclude)]
        case .keep:
            var filter = buffer.filter
            filter.keepUnmatched.toggle()
            buffer.setFilter(filter)
        case .instances:
            instanceOnly.toggle()
            var filter = buffer.filter
            filter.instance = instanceOnly ? context.selection.instance : nil
            buffer.setFilter(filter)
            return [.message(instanceOnly && context.selection.instance != nil
                             ? "logs: \(context.selection.instance!) only" : "logs: every instance", isError: false)]
        case .jump:
            guard let time = context.selection.time else {
                return [.message("no chart cursor: move one with ←/→ in the metrics pane first", isError: true)]
            }
            // A minute of lines before the moment, the moment marked, and on from there.
            mark = time * 1000
            restart(from: .time(time * 1000 - 60_000))
            anchored = true
        case .chart:
            guard let line = currentLine else { return [] }
            return [.selectTime(line.time / 1000)]
        case .wrap: wrap.toggle()
        case .timestamps: showTime.toggle()
        case .copy:
            guard let line = currentLine else { return [.message("no line to copy", isError: true)] }
            return [.effect(.copyToClipboard(line.printed)),
                    .message("copied the \(line.instance) line (\(line.printed.count) characters)", isError: false)]
        }
        return []
    }

    private mutating func scrollBy(_ lines: Int) {
        scroll += lines
        clampScroll()
    }

    /// The line the keys act on: the newest one shown.
    var currentLine: LogLine? {
        let index = buffer.shownCount - 1 - scroll
        return index >= 0 ? buffer.shownLine(index).line : nil
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        guard var text = command.argument else { return [] }
        if command.name == "save" {
            let lines = (0..<buffer.shownCount).map { buffer.shownLine($0).line.printed }
            guard !lines.isEmpty else { return [.message("no lines to save", isError: true)] }
            return [.effect(.saveLines(path: text, lines: lines))]
        }
        // `opsdeck tail`'s spelling works too: `:logs --from 15m`.
        if text.hasPrefix("--from") { text = text.dropFirst(6).trimmingCharacters(in: CharacterSet(charactersIn: " =")) }
        do {
            let start = try TailPosition.parseStart(text, now: Date(timeIntervalSince1970: Double(context.now) / 1000))
            mark = nil
            restart(from: start)
            return [.focus(Self.id)]
        } catch {
            return [.message("logs: \(error)".replacingOccurrences(of: "--from ", with: ""), isError: true)]
        }
    }

    // MARK: drawing

    public func title(_ context: PaneContext) -> String {
        guard let service else { return "logs" }
        var parts = ["logs  \(service)" + (buffer.filter.instance.map { " › \($0) only" } ?? "")]
        if !buffer.filter.include.isEmpty { parts.append("/\(buffer.filter.include)") }
        if !buffer.filter.exclude.isEmpty { parts.append("-\(buffer.filter.exclude)") }
        parts.append("\(buffer.shownCount) of \(buffer.lines.count)" + (buffer.dropped > 0 ? " (\(buffer.dropped) oldest dropped)" : ""))
        parts.append(scroll == 0 ? "following" : "paused" + (unseen > 0 ? ", \(unseen) new (G)" : ""))
        return parts.joined(separator: "  ")
    }

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        let theme = context.theme
        guard service != nil else {
            grid.put("no service selected", x: rect.x + 1, y: rect.y + 1, style: theme[.muted], clip: rect)
            return
        }
        guard buffer.shownCount > 0 else {
            let text: String
            switch context.feeds[.logs]?.phase {
            case .retrying(let reason, _)?: text = "cannot read the logs: \(reason)"
            case .waiting(let reason)?: text = reason
            case .live?: text = buffer.lines.isEmpty ? "no log lines yet" : "no line matches the filter"
            default: text = "connecting to Kafka…"
            }
            grid.put(text, x: rect.x + 1, y: rect.y + rect.height / 2, style: theme[.muted], clip: rect)
            return
        }
        // The newest visible line at the bottom; with a mark, a divider before the first line past it.
        // Screen rows from the newest visible line up: a line is one row, or several when wrapping; with a
        // mark, a divider row before the first line past it.
        var screenRows: [[Span]] = []
        var index = buffer.shownCount - scroll - 1
        let instanceWidth = min(24, max(8, (max(0, index - rect.height)...max(0, index)).lazy
            .filter { $0 < buffer.shownCount }.map { DisplayWidth.of(buffer.shownInstance($0)) }.max() ?? 8))
        while screenRows.count < rect.height && index >= 0 {
            let (line, matches) = buffer.shownLine(index)
            let current = scroll > 0 && index == buffer.shownCount - scroll - 1
            screenRows.insert(contentsOf: rows(line, matches: matches, current: current, instanceWidth: instanceWidth,
                                               width: rect.width, context), at: 0)
            if let mark, line.time >= mark, index == 0 || buffer.shownTime(index - 1) < mark {
                let label = " " + TimeChart.timeLabel(mark / 1000, span: 0, utcOffset: context.utcOffset) + " chart cursor "
                screenRows.insert([Span("──" + label + String(repeating: "─", count: rect.width), theme[.accent])], at: 0)
            }
            index -= 1
        }
        // `insert(at: 0)` above builds the rows oldest first; only the last `height` fit.
        for (row, spans) in screenRows.suffix(rect.height).reversed().enumerated() {
            let y = rect.maxY - 1 - row
            grid.put(spans, x: rect.x, y: y, clip: Rect(x: rect.x, y: y, width: rect.width, height: 1))
        }
    }

    /// One line's screen rows, newest last: the columns, then, when wrapping, the rest of the text on rows
    /// indented under the message.
    func rows(_ line: LogLine, matches: Bool, current: Bool, instanceWidth: Int, width: Int, _ context: PaneContext) -> [[Span]] {
        let theme = context.theme
        var prefix: [Span] = []
        if showTime { prefix.append(Span(Self.clock(line.time, utcOffset: context.utcOffset) + " ", theme[.muted])) }
        prefix += [Span(Self.pad(line.instance, instanceWidth) + " ", theme.series(Self.colourIndex(line.instance))),
                   Span(Self.pad(line.level, 8), Self.levelStyle(line.level, theme))]
        let indent = prefix.reduce(0) { $0 + DisplayWidth.of($1.text) }
        let textStyle = matches ? theme[.highlight] : theme[.text]
        var pieces = [line.text]
        if wrap && width - indent >= 8 {
            pieces = Self.split(line.text, width: width - indent)
        }
        var result = [prefix + [Span(pieces[0], textStyle)]]
        for piece in pieces.dropFirst() { result.append([Span(String(repeating: " ", count: indent)), Span(piece, textStyle)]) }
        if current {
            // The line the keys act on: the selection's colours over the whole width.
            result = result.map { spans in
                let used = spans.reduce(0) { $0 + DisplayWidth.of($1.text) }
                return (spans + [Span(String(repeating: " ", count: max(0, width - used)))]).map { Span($0.text, Table.selected($0.style, theme)) }
            }
        }
        return result
    }

    /// `text` cut into pieces of at most `width` columns.
    static func split(_ text: String, width: Int) -> [String] {
        var pieces: [String] = [], piece = "", used = 0
        for c in text {
            let w = DisplayWidth.of(c)
            if used + w > width { pieces.append(piece); piece = ""; used = 0 }
            piece.append(c)
            used += w
        }
        return pieces + [piece]
    }

    /// `text` and spaces to `width` columns (wide characters count two), cut with `…` when longer.
    static func pad(_ text: String, _ width: Int) -> String {
        var out = "", used = 0
        for c in text {
            let w = DisplayWidth.of(c)
            if used + w > width - (DisplayWidth.of(text) > width ? 1 : 0) { return out + "…" + String(repeating: " ", count: max(0, width - used - 1)) }
            out.append(c)
            used += w
        }
        return out + String(repeating: " ", count: max(0, width - used))
    }

    /// `HH:MM:SS.mmm` in local time.
    static func clock(_ milliseconds: Int64, utcOffset: Int64) -> String {
        let ms = ((milliseconds % 1000) + 1000) % 1000
        return TimeChart.timeLabel(milliseconds / 1000, span: 0, utcOffset: utcOffset)
            + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + "\(ms)"
    }

    /// The same instance gets the same colour every time (FNV-1a of its name over the theme's series).
    static func colourIndex(_ instance: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in instance.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(Theme.Role.series.count))
    }

    static func levelStyle(_ level: String, _ theme: Theme) -> Style {
        switch level {
        case "critical", "error": return theme[.critical]
        case "warning": return theme[.warning]
        case "debug", "trace": return theme[.muted]
        default: return theme[.text]
        }
    }
}
