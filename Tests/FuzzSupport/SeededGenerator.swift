import Foundation

/// A seeded random generator (SplitMix64) for fuzz tests: a failure prints its seed, and
/// `OPSDECK_FUZZ_SEED=<seed>` replays it; `OPSDECK_FUZZ_SCALE=100` runs a hundred times longer.
public struct SeededGenerator: RandomNumberGenerator {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64? = nil) {
        let chosen = seed ?? ProcessInfo.processInfo.environment["OPSDECK_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        self.seed = chosen
        state = chosen
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` times the scale the environment asks for (1 by default): inputs per run, and the minutes a
    /// fuzz suite may take (its time limit grows with the run: `scripts/fuzz 100`).
    public static func iterations(_ count: Int) -> Int {
        count * max(1, ProcessInfo.processInfo.environment["OPSDECK_FUZZ_SCALE"].flatMap { Int($0) } ?? 1)
    }

    /// A fuzz suite's time limit, in minutes: it bounds a hang, not the machine's speed. Under
    /// `scripts/test` every suite starts at once on 2 cores; a fuzz run of 100,000 prompts took 48 s there
    /// in one CI run and past its 60 s limit in another on a busier machine.
    public static var suiteMinutes: Int { iterations(3) }

    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// `input` damaged a few ways at random: bytes flipped, cut, duplicated or inserted.
    public mutating func mutate(_ input: [UInt8], extra: [UInt8] = []) -> [UInt8] {
        var out = input
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            switch Int.random(in: 0..<5, using: &self) {
            case 0 where !out.isEmpty: out[Int.random(in: 0..<out.count, using: &self)] = UInt8.random(in: 0...255, using: &self)
            case 1 where !out.isEmpty: out.removeLast(Int.random(in: 0...out.count, using: &self))
            case 2 where !out.isEmpty:
                let at = Int.random(in: 0..<out.count, using: &self)
                out.insert(contentsOf: out[at..<min(out.count, at + Int.random(in: 1...8, using: &self))], at: at)
            case 3 where !extra.isEmpty:
                out.insert(contentsOf: extra, at: Int.random(in: 0...out.count, using: &self))
            default: out.append(contentsOf: bytes(Int.random(in: 1...4, using: &self)))
            }
        }
        return out
    }
}

/// Runs a fuzz loop on a thread of its own, at idle priority, one loop at a time, and returns what it
/// found. A loop of a million iterations on Swift's cooperative pool (two threads on two cores) would hold
/// back every other test's timers for seconds; several at once at normal priority would starve the tests
/// that measure a deadline. This way the fuzzing takes what CPU the other tests leave.
public func fuzzOffPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
        let thread = Thread {
            // SCHED_IDLE (5 on Linux) for this thread only: it runs when nothing else wants the CPU.
            var parameters = sched_param(sched_priority: 0)
            _ = pthread_setschedparam(pthread_self(), 5, &parameters)
            fuzzTurn.wait()
            let result = body()
            fuzzTurn.signal()
            done.resume(returning: result)
        }
        thread.name = "fuzz"
        thread.start()
    }
}

/// One fuzz loop at a time.
private let fuzzTurn = DispatchSemaphore(value: 1)

/// Failures a fuzz loop collects (the first few, and how many), for one `#expect` after the loop.
public struct FuzzFindings: Sendable, CustomStringConvertible {
    public private(set) var count = 0
    public private(set) var first: [String] = []
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        count += 1
        if first.count < 5 { first.append(message()) }
    }

    public var description: String { "\(count) failures with OPSDECK_FUZZ_SEED=\(seed); first: \(first)" }
}

