import KafkaModels
import LogLines
import TerminalSafety

/// The lines made from one delivery of records, kept compactly: the texts of all of them in one buffer,
/// and per line its time, where its text ends, and which of the chunk's names are its instance and level.
///
/// Why not an array of `LogLine`s: a line's text is a `String` of its own (a heap block past 15 bytes),
/// made on the tail's thread and freed on the UI thread when the line drops out of the pane, and a flood
/// makes and drops hundreds of thousands of them a second. A chunk is a few blocks however many lines it
/// holds. A `LogLine` is made when one is asked for: the lines a frame draws, or each line a pattern reads.
public final class LogChunk: Sendable {
    fileprivate struct Entry {
        var time: Int64
        /// Where the line's text ends in `text`; it starts where the line before ends.
        var end: UInt32
        /// Indices in `names`.
        var instance: UInt32
        var level: UInt32
    }

    /// Every line's text, made safe, one after the other.
    fileprivate let text: [UInt8]
    fileprivate let entries: [Entry]
    /// The instance names and levels the lines use, made safe.
    fileprivate let names: [String]

    fileprivate init(text: [UInt8], entries: [Entry], names: [String]) {
        (self.text, self.entries, self.names) = (text, entries, names)
    }

    /// The lines of `records`, in their order; the records are used up (moved, not copied).
    public static func lines(of records: consuming [KafkaRecord], names: inout InstanceNames) -> LogChunk {
        // An unstructured record's text is its value: room for every value's bytes, the usual need.
        var builder = Builder(lines: records.count, bytes: records.reduce(0) { $0 + $1.value.count })
        records.forEachMoved { builder.append($0, names: &names) }
        return builder.finish()
    }

    public var count: Int { entries.count }

    public func time(_ i: Int) -> Int64 { entries[i].time }

    /// Where line `i`'s text starts in `text`: where the line before it ends.
    fileprivate func textStart(_ i: Int) -> Int { i == 0 ? 0 : Int(entries[i - 1].end) }

    /// The bytes of text of the lines in `range`.
    func textBytes(_ range: Range<Int>) -> Int { range.isEmpty ? 0 : Int(entries[range.upperBound - 1].end) - textStart(range.lowerBound) }

    public func instance(_ i: Int) -> String { names[Int(entries[i].instance)] }

    /// Hands `body` the lines in `range` whose instance is `instance` (every line when nil), in order.
    /// The name is compared once per name of the chunk, not once per line.
    func forEach(in range: Range<Int>, ofInstance instance: String?, _ body: (Int) -> Void) {
        guard let instance else { return range.forEach(body) }
        let wanted = names.indices.filter { names[$0] == instance }.map(UInt32.init)
        for i in range where wanted.contains(entries[i].instance) { body(i) }
    }

    public subscript(i: Int) -> LogLine {
        let entry = entries[i]
        let start = textStart(i)
        let line = text.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<Int(entry.end)]), as: UTF8.self) }
        return LogLine(time: entry.time, instance: names[Int(entry.instance)], level: names[Int(entry.level)], text: line)
    }

    /// Makes a chunk, line after line.
    public struct Builder {
        private var text: [UInt8] = []
        private var entries: [Entry] = []
        private var names: [String] = []

        /// Room for `lines` lines of `bytes` bytes of text in all: a chunk keeps what it reserved.
        public init(lines: Int = 0, bytes: Int = 0) {
            entries.reserveCapacity(lines)
            text.reserveCapacity(bytes)
        }

        /// The line of a record, read from it, not kept. An unstructured record (not JSON: most, in a
        /// flood) is taken as bytes: its key matched against the names known, its text copied when nothing
        /// in it needs neutralising. Anything else goes through `LogEntry.Fields`, the parser `opsdeck tail`
        /// uses.
        public mutating func append(_ record: borrowing KafkaRecord, names known: inout InstanceNames) {
            let time = record.timestampMilliseconds ?? 0
            guard LogEntry.Fields.isUnstructured(record.value) else {
                let fields = LogEntry.Fields(record)
                add(time: time, instance: known.safe(fields.instance), level: LogLine.safeLevel(fields.level),
                    text: LogLine.safeText(fields.text).utf8)
                return
            }
            let instance = record.key.map { known.safe(raw: $0) } ?? known.safe(LogEntry.Fields.unstructuredInstance(record))
            if record.value.withUnsafeBufferPointer(TerminalText.isPlain) {
                add(time: time, instance: instance, level: LogLine.safeLevel(nil), text: record.value)
            } else {
                add(time: time, instance: instance, level: LogLine.safeLevel(nil),
                    text: LogLine.safeText(String(decoding: record.value, as: UTF8.self)).utf8)
            }
        }

        /// A line already made safe.
        public mutating func append(_ line: LogLine) {
            add(time: line.time, instance: line.instance, level: line.level, text: line.text.utf8)
        }

        /// Lines of another chunk, copied (each name they use looked up once).
        mutating func append(_ chunk: LogChunk, lines: Range<Int>) {
            var indices = [UInt32?](repeating: nil, count: chunk.names.count)
            func mapped(_ i: UInt32) -> UInt32 {
                if let known = indices[Int(i)] { return known }
                let new = index(chunk.names[Int(i)])
                indices[Int(i)] = new
                return new
            }
            for i in lines {
                let entry = chunk.entries[i]
                let start = chunk.textStart(i)
                text.append(contentsOf: chunk.text[start..<Int(entry.end)])
                entries.append(Entry(time: entry.time, end: offset(), instance: mapped(entry.instance), level: mapped(entry.level)))
            }
        }

        private mutating func add(time: Int64, instance: String, level: String, text line: some Collection<UInt8>) {
            let instance = index(instance), level = index(level)
            text.append(contentsOf: line)
            entries.append(Entry(time: time, end: offset(), instance: instance, level: level))
        }

        /// Where the text ends now, as an entry keeps it (a delivery is far below 4 GiB of text).
        private func offset() -> UInt32 {
            precondition(text.count <= Int(UInt32.max), "a chunk's text past 4 GiB")
            return UInt32(text.count)
        }

        /// A chunk usually has few names (its instances and levels): a look through them, newest first
        /// (names shared through `InstanceNames` are one string, which `==` tells at once). Past
        /// `Self.scanned` of them (a topic keyed by request), a table, so that a line never costs a look
        /// through thousands.
        private mutating func index(_ name: String) -> UInt32 {
            if names.count <= Self.scanned {
                if let known = names.lastIndex(of: name) { return UInt32(known) }
            } else if let known = byName[name] {
                return known
            }
            names.append(name)
            let new = UInt32(names.count - 1)
            if names.count > Self.scanned {
                if byName.isEmpty { for (i, name) in names.enumerated() { byName[name] = UInt32(i) } } else { byName[name] = new }
            }
            return new
        }

        private var byName: [String: UInt32] = [:]
        private static let scanned = 8

        public var isEmpty: Bool { entries.isEmpty }

        /// The chunk, holding no more than its text needs: search-server's JSON values are reserved for
        /// whole, and a line keeps only their message and fields, a third of them or less.
        public consuming func finish() -> LogChunk {
            if text.capacity > text.count + text.count / 4 + 4_096 { text = text.withUnsafeBufferPointer { Array($0) } }
            return LogChunk(text: text, entries: entries, names: names)
        }
    }
}

/// Lines in arrival order, held in the chunks they were made in: dropping the oldest lets go of whole
/// chunks (a chunk partly dropped stays until its last line goes), and batches join without copying a
/// line. Small pieces are joined into one chunk as they come, so that a trickle of one-line deliveries
/// does not become a chunk per line.
public struct LogBatch: RandomAccessCollection, Equatable, Sendable {
    /// A range of one chunk's lines.
    private struct Piece: Sendable {
        var chunk: LogChunk
        var lines: Range<Int>
    }

    private var pieces: [Piece] = []
    /// The number of each piece's first line, counted from the first line ever added (dropped ones too):
    /// they only grow, so dropping pieces changes no other's.
    private var starts: [Int] = []
    /// The number of the first line held, and of the line after the last.
    private var first = 0, end = 0
    /// Pieces smaller than this are joined with a small last piece.
    private static let small = 64

    public init() {}

    public init(_ chunk: LogChunk) { append(chunk, lines: 0..<chunk.count) }

    /// Lines already made (tests, and the lines a filter or save made).
    public init(_ lines: [LogLine]) {
        var builder = LogChunk.Builder(lines: lines.count, bytes: lines.reduce(0) { $0 + $1.text.utf8.count })
        for line in lines { builder.append(line) }
        self.init(builder.finish())
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { end - first }

    /// How many chunks hold the lines (a trickle of one-line deliveries must not make one per line).
    public var chunkCount: Int { pieces.count }

    public subscript(i: Int) -> LogLine {
        let (piece, line) = locate(i)
        return pieces[piece].chunk[line]
    }

    public func time(_ i: Int) -> Int64 {
        let (piece, line) = locate(i)
        return pieces[piece].chunk.time(line)
    }

    public func instance(_ i: Int) -> String {
        let (piece, line) = locate(i)
        return pieces[piece].chunk.instance(line)
    }

    /// The piece holding line `i` (a binary search over where pieces start), and the line in its chunk.
    private func locate(_ i: Int) -> (piece: Int, line: Int) {
        precondition(i >= 0 && i < count, "line \(i) of \(count)")
        let number = first + i
        var low = 0, high = pieces.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= number { low = middle } else { high = middle - 1 }
        }
        return (low, pieces[low].lines.lowerBound + number - starts[low])
    }

    /// Hands `body` the index of each line from `start` on whose instance is `instance` (every line when
    /// nil), oldest first, without making the lines.
    func forEach(from start: Int, ofInstance instance: String?, _ body: (Int) -> Void) {
        guard start < count else { return }
        var (piece, line) = locate(start)
        var index = start
        while piece < pieces.count {
            let lines = line..<pieces[piece].lines.upperBound
            let first = index - line  // the index of the chunk's line 0
            pieces[piece].chunk.forEach(in: lines, ofInstance: instance) { body(first + $0) }
            index += lines.count
            piece += 1
            if piece < pieces.count { line = pieces[piece].lines.lowerBound }
        }
    }

    public mutating func append(contentsOf other: LogBatch) {
        for piece in other.pieces { append(piece.chunk, lines: piece.lines) }
    }

    private mutating func append(_ chunk: LogChunk, lines: Range<Int>) {
        guard !lines.isEmpty else { return }
        defer { end += lines.count }
        if lines.count < Self.small, let last = pieces.last, last.lines.count < Self.small {
            var joined = LogChunk.Builder(lines: last.lines.count + lines.count,
                                          bytes: last.chunk.textBytes(last.lines) + chunk.textBytes(lines))
            joined.append(last.chunk, lines: last.lines)
            joined.append(chunk, lines: lines)
            let chunk = joined.finish()
            pieces[pieces.count - 1] = Piece(chunk: chunk, lines: 0..<chunk.count)
            return
        }
        pieces.append(Piece(chunk: chunk, lines: lines))
        starts.append(end)
    }

    /// Drops the oldest `n` lines (all of them when there are fewer).
    public mutating func removeFirst(_ n: Int) {
        guard n > 0 else { return }
        first = Swift.min(end, first + n)
        let gone = starts.indices.dropLast().prefix { starts[$0 + 1] <= first }.count  // pieces wholly before `first`
        if first == end {
            pieces = []
            starts = []
            return
        }
        pieces.removeFirst(gone)
        starts.removeFirst(gone)
        pieces[0].lines = (pieces[0].lines.lowerBound + first - starts[0])..<pieces[0].lines.upperBound
        starts[0] = first
    }

    public static func == (a: LogBatch, b: LogBatch) -> Bool {
        a.count == b.count && a.elementsEqual(b)
    }
}
