import KafkaModels
import LogLines
import TerminalSafety

/// A log record as the logs pane keeps it: what it shows, made safe once, when it arrives.
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
        self.init(time: entry.record.timestampMilliseconds, instance: entry.instance, level: entry.level, text: entry.text, names: &names)
    }

    /// Straight from the record, which is only read, not kept or copied (a copy retains its bytes).
    public init(_ record: borrowing KafkaRecord, names: inout InstanceNames) {
        let fields = LogEntry.Fields(record)
        self.init(time: record.timestampMilliseconds, instance: fields.instance, level: fields.level, text: fields.text, names: &names)
    }

    private init(time: Int64?, instance: String, level: String?, text raw: String, names: inout InstanceNames) {
        self.time = time ?? 0
        self.instance = names.safe(instance)
        self.level = level.map { TerminalText.sanitize($0) } ?? "-"
        if TerminalText.isPlain(raw) {
            text = raw  // most lines: nothing to neutralise, no line break
        } else {
            // Foundation's replacingOccurrences costs more than the rest of the line's making: only a
            // multi-line message needs it.
            let safe = TerminalText.sanitize(raw)
            text = safe.utf8.contains(0x0A) ? safe.replacingOccurrences(of: "\n" + TerminalText.continuationIndent, with: " ⏎ ") : safe
        }
    }
}

/// The instance names lines were made with lately, as received and made safe: a new line's name comes
/// from here when it is one of them, so that 100,000 held lines from three instances hold three names,
/// not 100,000 copies (an instance name past 15 bytes is a heap allocation of its own), and each is
/// made safe once.
public struct InstanceNames: Sendable {
    private var recent: [(raw: String, safe: String)] = []
    private var next = 0
    private static let size = 16

    public init() {}

    /// `name` made safe to draw (`TerminalText.sanitize`), shared with the lines before it.
    public mutating func safe(_ name: String) -> String {
        if let known = recent.first(where: { $0.raw == name }) { return known.safe }
        let entry = (raw: name, safe: TerminalText.sanitize(name))
        if recent.count < Self.size { recent.append(entry) } else { recent[next] = entry; next = (next + 1) % Self.size }
        return entry.safe
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
    public private(set) var lines: [LogLine] = []
    /// Lines dropped to stay within the capacity.
    public private(set) var dropped = 0
    public private(set) var filter = LogFilter()
    /// Absolute numbers (counting dropped lines) of the lines shown, oldest first, and which match.
    private var shown: [Int] = []
    private var matching: Set<Int> = []
    /// Absolute number of `lines[0]`.
    private var base = 0

    public init(capacity: Int = 100_000) { self.capacity = max(1, capacity) }

    public var shownCount: Int { shown.count }

    /// The `i`th shown line, oldest first, and whether it matches the include pattern.
    public func shownLine(_ i: Int) -> (line: LogLine, matches: Bool) {
        let absolute = shown[i]
        return (lines[absolute - base], matching.contains(absolute))
    }

    /// Adds lines; returns how many of them show. Room is made first, so the buffer never holds more than
    /// its capacity, and lines of a batch larger than the buffer that it could not keep are not kept at all
    /// (only counted): a console far behind a flood does less work, and holds less, not more.
    @discardableResult
    public mutating func append(_ new: [LogLine]) -> Int {
        let kept = new.suffix(capacity)
        makeRoom(for: kept.count)
        let skipped = new.count - kept.count  // after every held line (all dropped then), before the kept ones
        base += skipped
        dropped += skipped
        var added = 0
        for line in kept {
            let absolute = base + lines.count
            lines.append(line)
            let (isShown, matches) = filter.classify(line)
            if isShown { shown.append(absolute); added += 1 }
            if matches { matching.insert(absolute) }
        }
        return added
    }

    /// Drops the oldest lines so that `count` more fit; a tenth more than needed at a time, so the cost of
    /// dropping (moving what stays) is spread over many lines.
    private mutating func makeRoom(for count: Int) {
        guard lines.count + count > capacity else { return }
        let drop = min(lines.count, lines.count + count - capacity + capacity / 10)
        lines.removeFirst(drop)
        base += drop
        dropped += drop
        let gone = shown.prefix { $0 < base }.count
        shown.removeFirst(gone)
        matching = matching.filter { $0 >= base }
    }

    /// Lines dropped before they reached the buffer (the console's inbox keeps at most a buffer's worth).
    public mutating func noteDropped(_ count: Int) { dropped += count }

    /// A new filter: the whole buffer is classified again, once.
    public mutating func setFilter(_ new: LogFilter) {
        filter = new
        shown = []
        matching = []
        for (i, line) in lines.enumerated() {
            let (isShown, matches) = filter.classify(line)
            if isShown { shown.append(base + i) }
            if matches { matching.insert(base + i) }
        }
    }

    /// Empties it (another service, another start point), keeping the filter.
    public mutating func clear() {
        base += lines.count
        lines = []
        shown = []
        matching = []
        dropped = 0
    }
}
