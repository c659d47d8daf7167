import Foundation
import StackSupport
import Synchronization
import Testing
@testable import DevConsul

/// The agent's check runner when registrations arrive together, as when several instances start at once.
@Suite(.timeLimit(.minutes(1))) struct CheckRunnerTests {
    /// The runner, reachable from the state's change callback (the agent wires them the same way).
    final class RunnerSlot: Sendable {
        let runner = Mutex<CheckRunner?>(nil)
    }

    static func register(_ api: ConsulAPI, _ id: String) throws {
        // A 10-minute TTL: its probe is a task that sleeps, nothing on the network.
        let body = #"{"ID":"\#(id)","Name":"web","Port":1,"Check":{"TTL":"10m"}}"#
        _ = try api.registerService(APIRequest(method: "PUT", target: "/v1/agent/service/register", body: Array(body.utf8)))
    }

    /// The interleaving that left two of three instances started together critical in CI: the first
    /// registration's sync reads the catalog, the second registration lands and its own sync runs, then
    /// the first sync carries on with what it read. The second check must keep its probe.
    @Test func aSyncThatReadBeforeARegistrationKeepsTheNewChecksProbe() async throws {
        let slot = RunnerSlot()
        let state = AgentState(catalog: Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")) {
            slot.runner.withLock { $0 }?.sync()
        }
        let pauseNextSync = Atomic<Bool>(false)
        let firstSyncRead = DispatchSemaphore(value: 0)
        let runner = CheckRunner(state: state, afterReadingCatalog: {
            guard pauseNextSync.exchange(false, ordering: .relaxed) else { return }
            firstSyncRead.signal()
            // Until the second registration is in the catalog, then long enough for its sync to finish
            // where syncs can overlap (where they cannot, that sync waits for this one instead).
            let deadline = Date() + 10
            while state.read({ $0.checks["service:web-2"] == nil }), Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            Thread.sleep(forTimeInterval: 0.3)
        })
        slot.runner.withLock { $0 = runner }
        defer { runner.stopAll() }
        let api = ConsulAPI(state: state)

        let done = DispatchGroup()
        let failures = Mutex<[String]>([])
        func onThread(_ id: String) {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                do { try Self.register(api, id) } catch { failures.withLock { $0.append("\(id): \(error)") } }
            }
        }
        pauseNextSync.store(true, ordering: .relaxed)
        onThread("web-1")
        // The waits block their thread: off Swift's cooperative pool, which every suite shares.
        #expect(try await offPool { firstSyncRead.wait(timeout: .now() + 10) } == .success, "the first registration's sync never ran")
        onThread("web-2")
        #expect(try await offPool { done.wait(timeout: .now() + 20) } == .success, "the registrations did not finish in 20 s")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(runner.probedCheckIDs == ["service:web-1", "service:web-2"])
    }

    /// Many registrations and deregistrations at once, on more threads than cores: afterwards, exactly
    /// the registered checks are probed.
    @Test func afterABurstOfChangesExactlyTheRegisteredChecksAreProbed() async throws {
        let slot = RunnerSlot()
        let state = AgentState(catalog: Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")) {
            slot.runner.withLock { $0 }?.sync()
        }
        let runner = CheckRunner(state: state)
        slot.runner.withLock { $0 = runner }
        defer { runner.stopAll() }
        let api = ConsulAPI(state: state)
        let done = DispatchGroup()
        let failures = Mutex<[String]>([])
        for t in 0..<16 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                for i in 0..<6 {
                    let id = "web-\(t)-\(i)"
                    do {
                        try Self.register(api, id)
                        if i % 2 == 1 { _ = try api.deregisterService(id) }
                    } catch { failures.withLock { $0.append("\(id): \(error)") } }
                }
            }
        }
        #expect(try await offPool { done.wait(timeout: .now() + 20) } == .success, "the registrations did not finish in 20 s")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let expected = Set((0..<16).flatMap { t in [0, 2, 4].map { "service:web-\(t)-\($0)" } })
        #expect(Set(state.read { Array($0.checks.keys) }).isSuperset(of: expected))
        #expect(runner.probedCheckIDs == expected)
    }
}
