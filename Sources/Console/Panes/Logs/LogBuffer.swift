import KafkaModels
import LogLines
import TerminalSafety

/// A log line as the logs pane shows it: what it says, made safe once, when it arrived. The pane holds
/// its lines in `LogChunk`s and makes a `LogLine` when one is asked for.
public struct LogLine: Equatable, Sendable {
    /// Milliseconds since the epoch (the record's time).
    public var time: Int64
    public var instance: String
    public var level: String
    /// Message and fields on one row, control characters shown as visible text (`^[`), never sent.
    public var text: String
    /// What filters see: the line as printed (instance, level, message and fields), as `opsdeck tail`'s.
    /// Made when asked, not kept: 100,000 held lines would keep their text twice.
    public var printed: String { "\(instance) \(level) \(text)" }

    public init(_ entry: LogEntry) {
        var names = InstanceNames()
        self.init(entry, names: &names)
    }

    /// With the instance's name shared with the lines before it (most lines come from a few instances).
    public init(_ entry: LogEntry, names: inout InstanceNames) {
        self.init(time: entry.record.timestampMilliseconds ?? 0, instance: names.safe(entry.instance),
                  level: Self.safeLevel(entry.level), text: Self.safeText(entry.text))
    }

    /// From parts already made safe.
    init(time: Int64, instance: String, level: String, text: String) {
        (self.time, self.instance, self.level, self.text) = (time, instance, level, text)
    }

    /// The level column: the level made safe, `-` when the record has none.
    static func safeLevel(_ level: String?) -> String { level.map { TerminalText.sanitize($0) } ?? "-" }

    /// A message made safe to draw, on one row.
    static func safeText(_ raw: String) -> String {
        if TerminalText.isPlain(raw) { return raw }  // most lines: nothing to neutralise, no line break
        // Foundation's replacingOccurrences costs more than the rest of the line's making: only a
        // multi-line message needs it.
        let safe = TerminalText.sanitize(raw)
        return safe.utf8.contains(0x0A) ? safe.replacingOccurrences(of: "\n" + TerminalText.continuationIndent, with: " ⏎ ") : safe
    }
}

/// The instance names lines were made with lately, as received and made safe: a new line's name comes
/// from here when it is one of them, so that 100,000 held lines from three instances hold three names,
/// not 100,000 copies, and each is made safe once. An unstructured record's key is matched as bytes: no
/// `String` is made for it (a name past 15 bytes is a heap block of its own).
public struct InstanceNames: Sendable {
    private var recent: [(raw: [UInt8], safe: String)] = []
    private var next = 0
    private var lastHit = 0
    private static let size = 16

    public init() {}

    /// `name` made safe to draw (`TerminalText.sanitize`), shared with the lines before it.
    public mutating func safe(_ name: String) -> String {
        if let known = recent.firstIndex(where: { $0.raw.elementsEqual(name.utf8) }) { return recent[known].safe }
        return remember(Array(name.utf8), TerminalText.sanitize(name))
    }

    /// The same for a name as received, in UTF-8 (invalid sequences shown as U+FFFD).
    public mutating func safe(raw name: [UInt8]) -> String {
        if lastHit < recent.count, recent[lastHit].raw == name { return recent[lastHit].safe }  // most often the last one
        if let known = recent.firstIndex(where: { $0.raw == name }) {
            lastHit = known
            return recent[known].safe
        }
        return remember(name, TerminalText.sanitize(name))
    }

    private mutating func remember(_ raw: [UInt8], _ safe: String) -> String {
        if recent.count < Self.size { recent.append((raw, safe)) } else { recent[next] = (raw, safe); next = (next + 1) % Self.size }
        return safe
    }
}

/// Which lines show: `opsdeck tail`'s include and exclude (one implementation, `RecordFilter`), one
/// instance's only, and whether lines that do not match stay (marked matches among them).
public struct LogFilter: Equatable, Sendable {
    public private(set) var include = ""
    public private(set) var exclude = ""
    /// Only this instance's lines (nil: every instance's).
    public var instance: String?
    /// Lines that do not match the include pattern stay shown; matches are marked.
    public var keepUnmatched = false
    private var compiled = try! RecordFilter()

    public init() {}

    public static func == (a: LogFilter, b: LogFilter) -> Bool {
        a.include == b.include && a.exclude == b.exclude && a.instance == b.instance && a.keepUnmatched == b.keepUnmatched
    }

    /// Sets the patterns; a bad one throws (with the pattern in its message) and changes nothing.
    public mutating func set(include: String, exclude: String) throws {
        compiled = try RecordFilter(include: include.isEmpty ? [] : [include], exclude: exclude.isEmpty ? [] : [exclude])
        self.include = include
        self.exclude = exclude
    }

    /// No pattern and every instance: every line shows, none is marked.
    public var showsEverything: Bool { instance == nil && !hasPatterns }

    /// An include or exclude pattern is set (a line is read for it).
    public var hasPatterns: Bool { !include.isEmpty || !exclude.isEmpty }

    /// Shown at all, and a match of the include pattern.
    public func classify(_ line: LogLine) -> (shown: Bool, matches: Bool) {
        if let instance, line.instance != instance { return (false, false) }
        if include.isEmpty && exclude.isEmpty { return (true, false) }  // no pattern: no printed line to make
        let (excluded, matches) = compiled.classify(line.printed)
        return (!excluded && (matches || keepUnmatched), matches && !include.isEmpty)
    }
}

/// The lines a logs pane holds: at most `capacity`, the oldest dropped (and counted) first, and the
/// positions of those its filter shows, kept as lines arrive so that drawing never scans the buffer.
public struct LogBuffer: Equatable, Sendable {
    public let capacity: Int
    public private(set) var lines = LogBatch()
    /// Lines dropped to stay within the capacity.
    public private(set) var dropped = 0
    public private(set) var filter = LogFilter()
    /// Absolute numbers (counting dropped lines) of the lines shown, oldest first, and which match; nil
    /// while the filter shows every line (no pattern, every instance): then nothing is kept per line.
    private var shown: [Int]?
    private var matching: Set<Int> = []
    /// Absolute number of `lines[0]`.
    private var base = 0

    public init(capacity: Int = 100_000) { self.capacity = max(1, capacity) }

    public var shownCount: Int { shown?.count ?? lines.count }

    /// The `i`th shown line, oldest first, and whether it matches the include pattern.
    public func shownLine(_ i: Int) -> (line: LogLine, matches: Bool) {
        guard let shown else { return (lines[i], false) }
        let absolute = shown[i]
        return (lines[absolute - base], matching.contains(absolute))
    }

    /// The `i`th shown line's time, without making the line.
    public func shownTime(_ i: Int) -> Int64 { lines.time(shown.map { $0[i] - base } ?? i) }

    /// The first shown line stamped at or after `time` (`shownCount` when none is), found by halving: the
    /// lines come in time order (the merge's), so a jump's view is placed without reading every time held.
    public func firstShown(atOrAfter time: Int64) -> Int {
        var low = 0, high = shownCount
        while low < high {
            let middle = (low + high) / 2
            if shownTime(middle) < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The `i`th shown line's instance, without making the line.
    public func shownInstance(_ i: Int) -> String { lines.instance(shown.map { $0[i] - base } ?? i) }

    /// Adds lines; returns how many of them show. Room is made first, so the buffer never holds more than
    /// its capacity, and lines of a batch larger than the buffer that it could not keep are not kept at all
    /// (only counted): a console far behind a flood does less work, and holds less, not more.
    @discardableResult
    public mutating func append(_ new: consuming LogBatch) -> Int {
        var new = new
        let skipped = max(0, new.count - capacity)  // after every held line (all dropped then), before the kept ones
        new.removeFirst(skipped)
        makeRoom(for: new.count)
        base += skipped
        dropped += skipped
        let from = lines.count
        lines.append(contentsOf: new)
        guard shown != nil else { return lines.count - from }
        let before = shown!.count
        classify(from: from)
        return shown!.count - before
    }

    /// Adds the held lines from `start` on that the filter shows to `shown`, and those that match its
    /// include pattern to `matching`. Only the lines of the filter's instance are looked at, and a line is
    /// made only for a pattern to read.
    private mutating func classify(from start: Int) {
        var shown = self.shown ?? []
        self.shown = nil  // `shown` is the array's only reference while lines are added to it
        defer { self.shown = shown }
        lines.forEach(from: start, ofInstance: filter.instance) { i in
            guard filter.hasPatterns else { return shown.append(base + i) }
            let (isShown, matches) = filter.classify(lines[i])
            if isShown { shown.append(base + i) }
            if matches { matching.insert(base + i) }
        }
    }

    /// Drops the oldest lines so that `count` more fit; a tenth more than needed at a time, so the cost of
    /// dropping (moving the positions of what stays) is spread over many lines.
    private mutating func makeRoom(for count: Int) {
        guard lines.count + count > capacity else { return }
        let drop = min(lines.count, lines.count + count - capacity + capacity / 10)
        lines.removeFirst(drop)
        base += drop
        dropped += drop
        guard shown != nil else { return }
        let gone = shown!.prefix { $0 < base }.count
        shown!.removeFirst(gone)
        matching = matching.filter { $0 >= base }
    }

    /// Lines dropped before they reached the buffer (the console's inbox keeps at most a buffer's worth).
    public mutating func noteDropped(_ count: Int) { dropped += count }

    /// A new filter: the whole buffer is classified again, once.
    public mutating func setFilter(_ new: LogFilter) {
        filter = new
        matching = []
        guard !filter.showsEverything else { shown = nil; return }
        shown = []
        classify(from: 0)
    }

    /// Empties it (another service, another start point), keeping the filter.
    public mutating func clear() {
        base += lines.count
        lines = LogBatch()
        if shown != nil { shown = [] }
        matching = []
        dropped = 0
    }
}
