import GRPCCore
import GRPCHealth
import Synchronization

/// `grpc.health.v1.Health` for this server: SERVING while it takes calls, NOT_SERVING once it drains.
///
/// Answers for the whole server ("") and for the `Search` service by name, which is what Consul's gRPC
/// check asks when the check target ends in `/Search`.
public final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol, Sendable {
    public static let knownServices: Set<String> = ["", "Search"]

    private struct State {
        var serving = true
        var watchers: [Int: AsyncStream<Bool>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isServing: Bool { state.withLock { $0.serving } }

    /// Sets the status and tells every Watch stream.
    public func setServing(_ serving: Bool) {
        let watchers = state.withLock { s -> [AsyncStream<Bool>.Continuation] in
            guard s.serving != serving else { return [] }
            s.serving = serving
            return Array(s.watchers.values)
        }
        for watcher in watchers { watcher.yield(serving) }
    }

    /// Ends every Watch stream (at shutdown, so draining does not wait for them).
    public func finishWatchers() {
        let watchers = state.withLock { s in
            defer { s.watchers.removeAll() }
            return Array(s.watchers.values)
        }
        for watcher in watchers { watcher.finish() }
    }

    public func check(request: Grpc_Health_V1_HealthCheckRequest,
                      context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.knownServices.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service)'")
        }
        return Self.response(isServing)
    }

    public func watch(request: Grpc_Health_V1_HealthCheckRequest,
                      response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
                      context: ServerContext) async throws {
        // The protocol says: an unknown service is not an error for Watch, it reports SERVICE_UNKNOWN.
        guard Self.knownServices.contains(request.service) else {
            try await response.write(.with { $0.status = .serviceUnknown })
            return
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        let (id, current) = state.withLock { s in
            defer { s.nextID += 1 }
            s.watchers[s.nextID] = continuation
            return (s.nextID, s.serving)
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        try await response.write(Self.response(current))
        for await serving in stream {
            try await response.write(Self.response(serving))
        }
    }

    private static func response(_ serving: Bool) -> Grpc_Health_V1_HealthCheckResponse {
        .with { $0.status = serving ? .serving : .notServing }
    }
}
