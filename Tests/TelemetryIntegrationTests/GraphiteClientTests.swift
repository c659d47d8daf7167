import Foundation
import StackSupport
import Telemetry
import Testing

/// The Graphite client against the stack's real graphite-web: what it answers for gaps, searches, bad
/// targets, and when it is not there.
@Suite(.timeLimit(.minutes(2))) struct GraphiteClientTests {
    let graphite = GraphiteClient(baseURL: Stack.graphiteURL)

    @Test func slotsWithoutAValueComeBackAsNil() async throws {
        try await Stack.ensureUp()
        // Series Graphite computes itself: removeAboveValue turns values into nulls, which is what slots
        // without data look like on the wire.
        let gaps = try await graphite.render(targets: ["removeAboveValue(constantLine(7), 5)", "constantLine(3)"], from: "-5min")
        #expect(gaps.count == 2)
        #expect(gaps[0].points.allSatisfy { $0.value == nil } && !gaps[0].points.isEmpty)
        #expect(gaps[1].values.allSatisfy { $0 == 3 } && !gaps[1].values.isEmpty)
        #expect(gaps[1].points.map(\.timestamp) == gaps[1].points.map(\.timestamp).sorted())
    }

    @Test func findListsPathsAndBranches() async throws {
        try await Stack.ensureUp()
        let top = try await graphite.find("*")
        #expect(top.contains { $0.id == "collectd" && !$0.isLeaf })
        let nothing = try await graphite.find("no.such.path.*")
        #expect(nothing.isEmpty)
    }

    @Test func aBadTargetIsRefusedWithGraphitesReason() async throws {
        try await Stack.ensureUp()
        await #expect { try await graphite.render(targets: ["nosuchfunction(a.b)"]) } throws: { error in
            guard case GraphiteError.http(let status, _, let body) = error else { return false }
            return status == 400 && body.contains("unknown function: nosuchfunction")
        }
    }

    @Test func aGraphiteThatIsNotThereFailsFast() async throws {
        let down = GraphiteClient(baseURL: "http://127.0.0.1:\(try freePort())", timeout: .seconds(10))
        let started = ContinuousClock.now
        await #expect { try await down.render(targets: ["a.b"]) } throws: { "\($0)".contains("refused") }
        // Well under the request's 10 s deadline (a refused connection must not wait for it), with room
        // for a machine busy starting every suite at once (seen: 3.3 s).
        #expect(ContinuousClock.now - started < .seconds(8), "a refused connection waited for the request's deadline")
    }
}
