import Foundation

/// When to give freed heap back to the system after a flood of log lines.
///
/// A flood makes and frees millions of small blocks on several threads; glibc keeps what was freed in
/// its arenas, so the console's resident memory stayed at its high-water mark (measured: 156 MiB ten
/// seconds after a million records, 114 MiB once trimmed, with the same lines held). `malloc_trim` returns
/// the free pages, but a trim in the middle of a flood gives back pages that the next lines fault in again
/// (and it walks the arenas while the tail allocates): with a trim every 250 ms the pane read a topic at
/// rest at 0.77-0.84 of `opsdeck tail`'s rate, with none 0.81-1.04, but kept 132-134 MiB after the million
/// instead of 78. So a trim waits until enough lines went through to have freed something worth it, and
/// then for the lines to pause, or, in a flood that does not pause, for `longestWaitMilliseconds`.
public struct HeapTrimSchedule: Sendable {
    public var linesBetweenTrims: Int
    /// How long the lines must have paused.
    public var quietMilliseconds: Int64
    /// The longest a trim waits, from the first line counted, while lines keep coming.
    public var longestWaitMilliseconds: Int64
    private var lines = 0
    /// When the first line counted came, and the last.
    private var firstLines: Int64 = 0
    private var lastLines: Int64 = 0

    public init(linesBetweenTrims: Int = 25_000, quietMilliseconds: Int64 = 250, longestWaitMilliseconds: Int64 = 2_000) {
        self.linesBetweenTrims = linesBetweenTrims
        self.quietMilliseconds = quietMilliseconds
        self.longestWaitMilliseconds = longestWaitMilliseconds
    }

    /// Counts lines that arrived (and, past the pane's capacity, pushed older ones out).
    public mutating func note(lines count: Int, now: Int64) {
        if lines == 0 { firstLines = now }
        lines += count
        lastLines = now
    }

    /// Whether to trim now; if so, the count starts over.
    public mutating func isDue(now: Int64) -> Bool {
        guard lines >= linesBetweenTrims,
              now - lastLines >= quietMilliseconds || now - firstLines >= longestWaitMilliseconds else { return false }
        lines = 0
        return true
    }

    /// How long the loop may sleep before a trim falls due (nil: none is waiting), so that a trim comes
    /// when the lines pause, not at the next tick.
    public func dueIn(now: Int64) -> Int64? {
        guard lines >= linesBetweenTrims else { return nil }
        return max(0, min(lastLines + quietMilliseconds, firstLines + longestWaitMilliseconds) - now)
    }
}

/// Returns free heap pages to the system: glibc's `malloc_trim`, looked up at run time (it is in
/// <malloc.h>, which Swift's Glibc module does not export); where there is none, nothing to do.
enum HeapTrim {
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func run() { _ = mallocTrim?(0) }
}
