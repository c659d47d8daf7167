import Foundation

/// When to give freed heap back to the system after a flood of log lines.
///
/// A flood makes and frees millions of small strings on several threads; glibc keeps what was freed in
/// its arenas, so the console's resident memory stayed at its high-water mark (measured: 156 MiB ten
/// seconds after a million records, 114 MiB once trimmed, with the same lines held). `malloc_trim` returns
/// the free pages; it walks the arenas (a few milliseconds), so it runs at most every 250 ms, and only
/// after enough lines went through to have freed something worth it.
public struct HeapTrimSchedule: Sendable {
    public var linesBetweenTrims: Int
    public var minimumIntervalMilliseconds: Int64
    private var lines = 0
    private var lastTrim: Int64 = 0

    public init(linesBetweenTrims: Int = 25_000, minimumIntervalMilliseconds: Int64 = 250) {
        self.linesBetweenTrims = linesBetweenTrims
        self.minimumIntervalMilliseconds = minimumIntervalMilliseconds
    }

    /// Counts lines that arrived (and, past the pane's capacity, pushed older ones out).
    public mutating func note(lines count: Int) { lines += count }

    /// Whether to trim now; if so, the count starts over.
    public mutating func isDue(now: Int64) -> Bool {
        guard lines >= linesBetweenTrims, now - lastTrim >= minimumIntervalMilliseconds else { return false }
        lines = 0
        lastTrim = now
        return true
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
