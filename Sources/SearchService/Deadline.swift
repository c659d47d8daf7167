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
    func abandoned() { running.add(1, ordering: .relaxed) }
    func ended() { running.subtract(1, ordering: .relaxed) }
}

/// Runs `operation` and returns its result, or throws `DeadlineExceeded` once `limit` has passed.
///
/// Returns on time even when the operation ignores cancellation (postgres-nio keeps retrying a dead
/// server in the background): the operation is cancelled and left to wind down on its own, counted in
/// `abandoned` until it does; with `abandoned.limit` of them still running, throws `TooManyAbandoned` at
/// once. When the operation wins, its timer is cancelled at once, so no sleeping task outlives the call.
public func withDeadline<T: Sendable>(_ limit: Duration, abandoned: AbandonedOperations? = nil,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    if let abandoned, abandoned.count >= abandoned.limit { throw TooManyAbandoned(count: abandoned.count) }
    let race = Race<T>()
    let work = Task {
        do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
        if race.timedOut { abandoned?.ended() }
    }
    race.setTimer(Task {
        guard (try? await Task.sleep(for: limit)) != nil else { return }
        if race.finish(.failure(DeadlineExceeded(limit: limit)), timedOut: true) {
            abandoned?.abandoned()
            work.cancel()
        }
    })
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.arm(continuation)
        }
    } onCancel: {
        work.cancel()
        race.finish(.failure(CancellationError()))
    }
}

/// The first result to arrive resumes the caller; later ones are dropped. Cancels the timer once decided.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var timer: Task<Void, Never>?
        var timedOut = false
    }

    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { s in
            if let result = s.result { return result }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let decided = state.withLock { s -> Bool in
            if s.result != nil { return true }
            s.timer = timer
            return false
        }
        if decided { timer.cancel() }
    }

    /// Did the deadline win (so the operation, when it ends, ends abandoned)?
    var timedOut: Bool { state.withLock { $0.timedOut } }

    /// True when this result won.
    @discardableResult
    func finish(_ result: Result<T, any Error>, timedOut: Bool = false) -> Bool {
        let (won, continuation, timer) = state.withLock { s -> (Bool, CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard s.result == nil else { return (false, nil, nil) }
            s.result = result
            s.timedOut = timedOut
            defer { s.continuation = nil; s.timer = nil }
            return (true, s.continuation, s.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
        return won
    }
}
