import Consul
import Foundation
import Synchronization

/// The agent's state behind one lock, and the waiters of blocking queries.
///
/// Every write bumps the global index and resumes every waiting query; each query then recomputes its
/// own table index and goes back to sleep if nothing it reads changed. Nothing polls.
final class AgentState: Sendable {
    private struct Locked {
        var catalog: Catalog
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        /// Blocked queries woken by writes, in total.
        var wakeups = 0
    }

    private let locked: Mutex<Locked>
    /// Called after every change of the check set, to start or stop probes.
    let checksChanged: @Sendable () -> Void

    init(catalog: Catalog, checksChanged: @escaping @Sendable () -> Void = {}) {
        locked = Mutex(Locked(catalog: catalog))
        self.checksChanged = checksChanged
    }

    /// Reads a consistent view.
    func read<T>(_ body: (Catalog) throws -> T) rethrows -> T {
        try locked.withLock { try body($0.catalog) }
    }

    /// Changes the catalog and, when the change moved the index, wakes every blocked query. (A probe
    /// that finds what it found last time writes nothing and wakes nobody.)
    @discardableResult
    func write<T>(_ body: (inout Catalog) throws -> T) rethrows -> T {
        let (result, waiters) = try locked.withLock { state -> (T, [CheckedContinuation<Void, Never>]) in
            let before = state.catalog.index
            let result = try body(&state.catalog)
            guard state.catalog.index != before else { return (result, []) }
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            state.wakeups += waiters.count
            return (result, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return result
    }

    /// Returns once a write happened after global index `index`, or at `deadline`.
    func waitForWrite(after index: UInt64, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            group.addTask { await self.waitForWrite(after: index) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWrite(after index: UInt64) async {
        let id = locked.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = locked.withLock { state -> Bool in
                    // Checked under the lock: a write or a cancel that came first is never missed.
                    if state.catalog.index > index || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            locked.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Blocked queries right now (for tests and the status line).
    var waitingQueries: Int { locked.withLock { $0.waiters.count } }

    /// Blocked queries woken by writes since start.
    var wakeups: Int { locked.withLock { $0.wakeups } }
}
