import GRPCCore
import GRPCHealth
import SearchService
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(3))) struct HealthServiceTests {
    /// Collects what a server-streaming handler writes.
    final class Collected: RPCWriterProtocol, Sendable {
        let statuses = Mutex<[Grpc_Health_V1_HealthCheckResponse.ServingStatus]>([])
        func write(_ element: Grpc_Health_V1_HealthCheckResponse) async throws {
            statuses.withLock { $0.append(element.status) }
        }
        func write(contentsOf elements: some Sequence<Grpc_Health_V1_HealthCheckResponse>) async throws {
            for element in elements { try await write(element) }
        }
        var seen: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] { statuses.withLock { $0 } }
    }

    func context() -> ServerContext {
        ServerContext(descriptor: Grpc_Health_V1_Health.Method.Watch.descriptor, remotePeer: "in-process:test",
                      localPeer: "in-process:test", cancellation: .init())
    }

    @Test func checkAnswersForTheServerAndTheSearchServiceOnly() async throws {
        let health = HealthService()
        #expect(try await health.check(request: .with { $0.service = "" }, context: context()).status == .serving)
        #expect(try await health.check(request: .with { $0.service = "Search" }, context: context()).status == .serving)
        await #expect(throws: RPCError.self) {
            _ = try await health.check(request: .with { $0.service = "Other" }, context: context())
        }
        health.setServing(false)
        #expect(try await health.check(request: .with { $0.service = "Search" }, context: context()).status == .notServing)
    }

    /// Watch sends the current status, then each change, and ends when the server finishes its watchers.
    @Test func watchStreamsChangesUntilShutdown() async throws {
        let health = HealthService()
        let collected = Collected()
        let watch = Task {
            try await health.watch(request: .with { $0.service = "Search" }, response: RPCWriter(wrapping: collected),
                                   context: context())
        }
        while collected.seen.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        health.setServing(false)
        while collected.seen.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        health.finishWatchers()
        try await watch.value
        #expect(collected.seen == [.serving, .notServing])
    }

    @Test func watchingAnUnknownServiceSaysSoInsteadOfFailing() async throws {
        let collected = Collected()
        try await HealthService().watch(request: .with { $0.service = "Other" }, response: RPCWriter(wrapping: collected),
                                        context: context())
        #expect(collected.seen == [.serviceUnknown])
    }
}
