import HeapModule
import NIOCore
import NIOPosix
import Synchronization

/// Something that gives up once its deadline has passed (a call's race: see `withDeadline`).
protocol DeadlineExpiring: AnyObject, Sendable {
    func expire()
}

/// Many calls' deadlines on one timer: a call adds its deadline to a heap; one task scheduled on an
/// event loop expires, when it fires, every deadline that has passed, then waits for the earliest left,
/// but at least `granularity` (a deadline may end that much late).
///
/// Why not a timer per call: scheduling an event-loop task for every store call and cancelling it when
/// the call returns cost search-server 13-26 µs of CPU a call under load (a promise, the loop's lock, a
/// wake-up of the loop when the new timer came first; paired runs, 32 streams). Adding to the heap is a
/// push under a lock; under load the timer fires once per `granularity`.
///
/// A finished call is not taken out: its entry expires as a no-op at its deadline (the race is decided),
/// so the heap holds the calls of the last deadline's length (~10,000 at 5,000 calls/s and 2 s; the store
/// deadline may be set up to 60 s: thirty times that, a few MiB).
final class DeadlineTimer: Sendable {
    static let shared = DeadlineTimer(granularity: .milliseconds(20))

    private struct Entry: Comparable {
        var deadline: NIODeadline
        var call: any DeadlineExpiring
        static func < (a: Entry, b: Entry) -> Bool { a.deadline < b.deadline }
        static func == (a: Entry, b: Entry) -> Bool { a.deadline == b.deadline }
    }

    private struct State {
        var entries = Heap<Entry>()
        /// When the timer fires next, if it is set.
        var firesAt: NIODeadline?
        var timer: Scheduled<Void>?
    }

    private let state = Mutex(State())
    private let granularity: TimeAmount
    private let loop: any EventLoop

    init(granularity: Duration, loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.granularity = TimeAmount(granularity)
        self.loop = loop
    }

    /// `call.expire()` runs once `limit` from now has passed (up to `granularity` later).
    func add(_ call: any DeadlineExpiring, in limit: Duration) {
        let deadline = NIODeadline.now() + TimeAmount(limit)
        state.withLock { s in
            s.entries.insert(Entry(deadline: deadline, call: call))
            // The timer fires no later than this deadline (plus the granularity); most calls come after
            // the one it waits for and change nothing. Scheduling under the lock keeps one timer.
            if let firesAt = s.firesAt, firesAt <= deadline + granularity { return }
            s.timer?.cancel()
            schedule(at: deadline, &s)
        }
    }

    private func schedule(at deadline: NIODeadline, _ s: inout State) {
        s.firesAt = deadline
        s.timer = loop.scheduleTask(deadline: deadline) { [self] in fire() }
    }

    private func fire() {
        var expired: [any DeadlineExpiring] = []
        state.withLock { s in
            let now = NIODeadline.now()
            while let first = s.entries.min, first.deadline <= now {
                expired.append(s.entries.removeMin().call)
            }
            s.timer = nil
            s.firesAt = nil
            if let next = s.entries.min { schedule(at: max(next.deadline, now + granularity), &s) }
        }
        for call in expired { call.expire() }
    }
}
