import Foundation
import GRPCCore
import GRPCHealth
import GRPCNIOTransportHTTP2Posix
import Synchronization

/// A TCP listener on a free loopback port that answers every HTTP request with `status`.
final class StatusServer: Sendable {
    let port: Int
    private let fd: Int32
    let status = Atomic<Int>(200)
    /// This many next requests get no answer: their connection is closed once the request is read.
    let unanswered = Atomic<Int>(0)
    /// Requests read so far.
    let requests = Atomic<Int>(0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            Self.readRequest(client)
            requests.add(1, ordering: .relaxed)
            if unanswered.load(ordering: .relaxed) > 0 {
                unanswered.subtract(1, ordering: .relaxed)
                close(client)
                continue
            }
            let code = status.load(ordering: .relaxed)
            let body = "status=\(code)"
            let reply = "HTTP/1.1 \(code) Status\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = reply.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    /// Reads a whole request, head and body (Content-Length), however the client's writes arrive: a socket
    /// closed with unread bytes sends a reset, which the client would see instead of a plain close.
    private static func readRequest(_ client: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func headEnd() -> Int? {
            received.indices.dropLast(3).first { received[$0] == 13 && received[$0 + 1] == 10 && received[$0 + 2] == 13 && received[$0 + 3] == 10 }
        }
        var end: Int?
        while end == nil {
            let count = read(client, &buffer, buffer.count)
            if count <= 0 { return }
            received += buffer[..<count]
            end = headEnd()
        }
        let head = String(decoding: received[..<end!], as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        while received.count < end! + 4 + length {
            let count = read(client, &buffer, buffer.count)
            if count <= 0 { return }
            received += buffer[..<count]
        }
    }
}

/// A `grpc.health.v1.Health` service whose answer the test sets.
final class SettableHealth: Grpc_Health_V1_Health.SimpleServiceProtocol, Sendable {
    let serving = Atomic<Bool>(true)

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard request.service.isEmpty || request.service == "search" else {
            throw RPCError(code: .notFound, message: "unknown service \(request.service)")
        }
        return .with { $0.status = serving.load(ordering: .relaxed) ? .serving : .notServing }
    }

    func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
               context: ServerContext) async throws {
        throw RPCError(code: .unimplemented, message: "not used")
    }
}

/// Runs a gRPC server with `health` on a free loopback port for the duration of `body`.
func withHealthServer<T: Sendable>(_ health: SettableHealth, _ body: @Sendable (Int) async throws -> T) async throws -> T {
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    let server = GRPCServer(transport: transport, services: [health])
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await server.serve(); return nil }
        guard let port = try await transport.listeningAddress.ipv4?.port else { throw RPCError(code: .internalError, message: "no port") }
        let result = try await body(port)
        server.beginGracefulShutdown()
        group.cancelAll()
        return result
    }
}
