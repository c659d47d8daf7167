import NIOCore
import NIOPosix
import Synchronization

/// The operation did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String {
        let c = limit.components
        return "no answer within \(c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000) ms"
    }
}

/// Too many earlier operations were abandoned at their deadline and still run: a new one is refused at
/// once rather than piling up behind them.
public struct TooManyAbandoned: Error, CustomStringConvertible {
    public var count: Int
    public var description: String { "\(count) earlier calls still wait for it" }
}

/// Operations that missed their deadline and have not ended yet (one count per server).
///
/// An operation that ignores cancellation (postgres-nio waiting on a dead server) keeps its task, its
/// connection request and its memory after the caller got its answer. During a long outage every new call
/// would add one; past `limit` new calls fail at once instead, and Monitor shows the count.
public final class AbandonedOperations: Sendable {
    private let running = Atomic<Int>(0)
    public let limit: Int

    public init(limit: Int = 256) { self.limit = limit }

    public var count: Int { running.load(ordering: .relaxed) }
    fileprivate func abandoned() { running.add(1, ordering: .relaxed) }
    fileprivate func ended() { running.subtract(1, ordering: .relaxed) }
}

/// Runs `operation` and returns its result, or throws `DeadlineExceeded` once `limit` has passed.
///
/// Returns on time even when the operation ignores cancellation (postgres-nio keeps retrying a dead
/// server in the background): the operation is cancelled and left to wind down on its own, counted in
/// `abandoned` until it does (so is one whose caller was cancelled); with `abandoned.limit` of them still
/// running, throws `TooManyAbandoned` at once (calls arriving together may pass the bound by a few). When
/// the operation wins, its timer is cancelled at once, so nothing of the call outlives it.
///
/// The timer is a task scheduled on one of NIO's event loops, not a sleeping Swift task: `Task.sleep`
/// goes through Dispatch's timer thread, and a task created, woken and cancelled on every call cost
/// ~8 % of search-server's CPU under load (perf, 32 streams); a scheduled task is an entry in the
/// event loop's heap, added and removed under its lock, and the loop is woken only if it comes first.
public func withDeadline<T: Sendable>(_ limit: Duration, abandoned: AbandonedOperations? = nil,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    if let abandoned, abandoned.count >= abandoned.limit { throw TooManyAbandoned(count: abandoned.count) }
    let race = Race<T>(abandoned: abandoned)
    let work = Task {
        do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
        race.operationEnded()
    }
    race.setTimer(MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
        if race.finish(.failure(DeadlineExceeded(limit: limit)), abandoning: true) { work.cancel() }
    })
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.arm(continuation)
        }
    } onCancel: {
        work.cancel()
        race.finish(.failure(CancellationError()), abandoning: true)
    }
}

/// The first result to arrive resumes the caller; later ones are dropped. Cancels the timer once decided.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var timer: Scheduled<Void>?
        /// The caller got its answer while the operation still ran; counted until it ends.
        var abandonedRunning = false
        var operationEnded = false
    }

    private let state = Mutex(State())
    private let abandoned: AbandonedOperations?

    init(abandoned: AbandonedOperations?) { self.abandoned = abandoned }

    /// The operation returned or threw: if it had been abandoned, it no longer counts.
    func operationEnded() {
        state.withLock { s in
            s.operationEnded = true
            if s.abandonedRunning { s.abandonedRunning = false; abandoned?.ended() }
        }
    }

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { s in
            if let result = s.result { return result }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func setTimer(_ timer: Scheduled<Void>) {
        let decided = state.withLock { s -> Bool in
            if s.result != nil { return true }
            s.timer = timer
            return false
        }
        if decided { timer.cancel() }
    }

    /// True when this result won. `abandoning`: the caller stops waiting for an operation that may
    /// still run (the deadline, or the caller's cancellation); counted, under the same lock as its end.
    @discardableResult
    func finish(_ result: Result<T, any Error>, abandoning: Bool = false) -> Bool {
        let (won, continuation, timer) = state.withLock { s -> (Bool, CheckedContinuation<T, any Error>?, Scheduled<Void>?) in
            guard s.result == nil else { return (false, nil, nil) }
            s.result = result
            if abandoning && !s.operationEnded {
                s.abandonedRunning = true
                abandoned?.abandoned()
            }
            defer { s.continuation = nil; s.timer = nil }
            return (true, s.continuation, s.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
        return won
    }
}
