import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SearchAPI
import StackSupport

/// A real `search-server` process (the binary `swift build` made), its stdout and stderr captured together.
///
/// A `ChildProcess` (posix_spawn + waitpid), not Foundation's Process: Process learns of an exit through
/// a socket the child inherits, and any program spawned meanwhile by another test could inherit it too
/// and keep an exited server looking alive (seen in CI: "still running after 30 s" after its "stopped").
final class ServerProcess: Sendable {
    static let binary = Stack.repositoryRoot.appendingPathComponent(".build/debug/search-server").path

    let instanceID: String
    private let child: ChildProcess

    /// Starts `search-server serve` for `service` with extra flags and environment over the stack's.
    init(service: String, instance: Int = 1, flags: [String] = [], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw StackError(message: "\(Self.binary) is missing: build it with `swift build` (scripts/test does)")
        }
        instanceID = "\(service)-\(instance)"
        child = try ChildProcess(
            Self.binary,
            ["serve", "--service-name", service, "--instance-id", instanceID, "--statsd-address", ""] + flags,
            environment: ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGDATABASE": "opsdeck",
                          "PGUSER": "postgres", "CONSUL_HTTP_ADDR": "127.0.0.1:8500"].merging(environment) { _, new in new },
            mergingStderr: true)
    }

    var log: String { child.stdout }
    var pid: Int32 { child.pid }
    var isRunning: Bool { child.isRunning }

    /// Waits until the output holds `count` lines containing `text`; returns the last such line.
    @discardableResult
    func waitForLine(containing text: String, count: Int = 1, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let running = isRunning
            let lines = log.split(separator: "\n").filter { $0.contains(text) }
            if lines.count >= count, let last = lines.last { return String(last) }
            if !running { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StackError(message: "search-server \(instanceID): no line with '\(text)' (x\(count)) within \(timeout); output:\n\(log)")
    }

    /// The port from the "serving address=127.0.0.1:PORT" line.
    func port(occurrence: Int = 1) async throws -> Int {
        let line = try await waitForLine(containing: "serving address=", count: occurrence)
        guard let range = line.range(of: #"address=[0-9.]+:([0-9]+)"#, options: .regularExpression),
              let port = Int(line[range].split(separator: ":").last ?? "") else {
            throw StackError(message: "no port in: \(line)")
        }
        return port
    }

    func signal(_ signal: Int32) { child.signal(signal) }

    /// Waits for exit; returns the exit status (128 + the signal when one ended it). The server bounds
    /// its own shutdown (1 s deregistration, 10 s drain, 2 s cancellation); the default leaves room for
    /// a loaded machine past those 13 s. Tests about shutdown speed pass their own, shorter timeout.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await child.waitForExit(timeout: timeout)
    }
}

/// Calls the Search service at a local port for the duration of `body`.
func withSearchClient<T: Sendable>(port: Int, _ body: @Sendable (Search.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
    try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port),
                                                       transportSecurity: .plaintext)) { client in
        try await body(Search.Client(wrapping: client))
    }
}

/// Polls `probe` until it returns a value or `timeout` passes.
func eventually<T>(within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(100),
                   _ probe: () async throws -> T?) async throws -> T? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try? await probe() { return value }
        try await Task.sleep(for: interval)
    }
    return nil
}

/// A name no other test uses (a service name, hence also a KV prefix).
func uniqueService() -> String { "search-it-\(UInt32.random(in: 0...UInt32.max))" }
