import Foundation

/// How glibc's allocator treats large blocks, for commands that stream records.
enum HeapPolicy {
    /// Fixes glibc's mmap threshold at 128 KiB (the tail and the console): a request that large which the
    /// free lists cannot serve gets a mapping of its own, given back to the system when freed.
    ///
    /// glibc starts at 128 KiB but raises the threshold each time such a mapped block is freed (up to
    /// 32 MiB). A tail frees many: each batch of 2,000 records is ~150 KiB, and the merge's queues grow and
    /// shrink. After the first few, they were carved from the heap instead, where the small records' holes
    /// kept them from going back. Reading 1M records (`opsdeck tail --no-follow`, 4 runs each): peak
    /// 114-123 MiB instead of 136-155 on an interleaved topic, 102-123 instead of 116-125 on one written
    /// partition by partition, at the same speed. The console under `scripts/bench-logs` (two runs):
    /// 87-92 MiB after the million instead of 99-124, peak 146-147 MiB over both reads instead of 154-171.
    ///
    /// `mallopt` is in <malloc.h>, which Swift's Glibc module does not export: looked up at run time, and
    /// where there is none, nothing to do.
    static func keepLargeBlocksMapped() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let M_MMAP_THRESHOLD: Int32 = -3  // <malloc.h>
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    }
}
