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
/// the operation wins, the caller returns at once; its deadline stays on the `DeadlineTimer` until it
/// passes, holding no result. The operation runs in a task of its own, on the caller's
/// `RequestExecutor.current` when it has one.
public func withDeadline<T: Sendable>(_ limit: Duration, abandoned: AbandonedOperations? = nil,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    if let abandoned, abandoned.count >= abandoned.limit { throw TooManyAbandoned(count: abandoned.count) }
    let race = Race<T>(limit: limit, abandoned: abandoned)
    let work = Task(executorPreference: RequestExecutor.current) {
        do { race.operationFinished(.success(try await operation())) } catch { race.operationFinished(.failure(error)) }
    }
    race.setCancel { work.cancel() }
    DeadlineTimer.shared.add(race, in: limit)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.arm(continuation)
        }
    } onCancel: {
        race.giveUp(CancellationError())
    }
}

/// The first outcome resumes the caller: the operation's result, the deadline, or the caller's
/// cancellation; later ones are dropped. Holds no result once the caller has it (the timer keeps a
/// finished race until its deadline).
private final class Race<T: Sendable>: DeadlineExpiring {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// The outcome, when it came before the caller waited for it.
        var early: Result<T, any Error>?
        var decided = false
        /// How to stop the operation when the caller gives up (a task to cancel), if it can be.
        var cancel: (@Sendable () -> Void)?
        /// The caller gave up while the operation still ran; counted until it ends.
        var abandonedRunning = false
        var operationEnded = false
    }

    private let state = Mutex(State())
    private let limit: Duration
    private let abandoned: AbandonedOperations?

    init(limit: Duration, abandoned: AbandonedOperations?) {
        self.limit = limit
        self.abandoned = abandoned
    }

    func setCancel(_ cancel: @escaping @Sendable () -> Void) {
        state.withLock { $0.cancel = cancel }
    }

    /// The operation returned or threw: its result wins unless the deadline or a cancellation came
    /// first, and if it had been abandoned, it no longer counts.
    func operationFinished(_ result: Result<T, any Error>) {
        let continuation = state.withLock { s -> CheckedContinuation<T, any Error>? in
            s.operationEnded = true
            s.cancel = nil
            if s.abandonedRunning { s.abandonedRunning = false; abandoned?.ended() }
            return decide(result, &s)
        }
        continuation?.resume(with: result)
    }

    /// The caller stops waiting (the deadline, or its cancellation): true when this came first. An
    /// operation still running is then counted as abandoned, under the same lock as its end, and cancelled.
    @discardableResult
    func giveUp(_ error: any Error) -> Bool {
        let (won, continuation, cancel) = state.withLock { s -> (Bool, CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !s.decided else { return (false, nil, nil) }
            if !s.operationEnded {
                s.abandonedRunning = true
                abandoned?.abandoned()
            }
            defer { s.cancel = nil }
            return (true, decide(.failure(error), &s), s.cancel)
        }
        cancel?()
        continuation?.resume(throwing: error)
        return won
    }

    func expire() { giveUp(DeadlineExceeded(limit: limit)) }

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { s -> Result<T, any Error>? in
            guard let early = s.early else {
                s.continuation = continuation
                return nil
            }
            s.early = nil
            return early
        }
        if let early { continuation.resume(with: early) }
    }

    /// Records the outcome if none came before; returns the waiting caller to resume, if there is one.
    private func decide(_ outcome: Result<T, any Error>, _ s: inout State) -> CheckedContinuation<T, any Error>? {
        guard !s.decided else { return nil }
        s.decided = true
        guard let continuation = s.continuation else {
            s.early = outcome
            return nil
        }
        s.continuation = nil
        return continuation
    }
}
