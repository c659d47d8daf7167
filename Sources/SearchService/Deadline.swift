import Synchronization

/// The operation did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String {
        let c = limit.components
        return "no answer within \(c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000) ms"
    }
}

/// Runs `operation` and returns its result, or throws `DeadlineExceeded` once `limit` has passed.
///
/// Returns on time even when the operation ignores cancellation (postgres-nio keeps retrying a dead
/// server in the background): the operation is cancelled and left to wind down on its own.
public func withDeadline<T: Sendable>(_ limit: Duration,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await operation() }
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.arm(continuation)
            Task { race.finish(await work.result) }
            Task {
                try? await Task.sleep(for: limit)
                if race.finish(.failure(DeadlineExceeded(limit: limit))) { work.cancel() }
            }
        }
    } onCancel: {
        work.cancel()
    }
}


/// The first of two results to arrive resumes the continuation; the other is dropped.
private final class Race<T: Sendable>: Sendable {
    private let state = Mutex<(CheckedContinuation<T, any Error>?, Result<T, any Error>?)>((nil, nil))

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { s in
            if let result = s.1 { return result }
            s.0 = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// True when this result won.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (won, continuation): (Bool, CheckedContinuation<T, any Error>?) = state.withLock { s in
            guard s.1 == nil else { return (false, nil) }
            s.1 = result
            let c = s.0
            s.0 = nil
            return (true, c)
        }
        continuation?.resume(with: result)
        return won
    }
}
