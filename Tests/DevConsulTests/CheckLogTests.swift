import Consul
import Foundation
import StackSupport
import Synchronization
import Testing
@testable import DevConsul

/// The agent's log of checks: Consul's line format, the probe's output made one safe line, and the lines
/// a running agent writes when a check first answers and when it changes.
@Suite(.timeLimit(.minutes(1))) struct CheckLogTests {
    static let noon = Date(timeIntervalSince1970: 1_795_000_000.25)

    @Test func linesReadAsConsulsAgentLog() {
        #expect(CheckLog.result(checkID: "service:web-1", status: .critical, output: "dial tcp 127.0.0.1:1: connection refused", at: Self.noon)
            == #"2026-11-18T11:06:40.250Z [WARN]  agent: Check is now critical: check=service:web-1 output="dial tcp 127.0.0.1:1: connection refused""#)
        #expect(CheckLog.result(checkID: "service:web-1", status: .passing, output: "ok", at: Self.noon)
            == #"2026-11-18T11:06:40.250Z [INFO]  agent: Check is now passing: check=service:web-1 output="ok""#)
        #expect(CheckLog.reaped(serviceID: "web-1", at: Self.noon)
            == "2026-11-18T11:06:40.250Z [WARN]  agent: Check for service has been critical for too long; deregistered service: service=web-1")
    }

    /// An HTTP check's body is anyone's text: one line, no terminal controls, quotes escaped, and cut.
    @Test func theOutputIsOneSafeLine() {
        #expect(CheckLog.quoted("HTTP 503\nbody \u{1b}[2J\"x\" \\") == #""HTTP 503 body ^[[2J\"x\" \\""#)
        let long = CheckLog.quoted(String(repeating: "a", count: 1_000))
        #expect(long.count == 300 + 3 && long.hasSuffix("a…\""))
    }

    /// The lines an agent logged, as they come.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// A running agent logs a check's first result, then its change, with the probe's output.
    @Test func anAgentLogsAFirstResultAndAChange() async throws {
        let lines = Lines()
        var configuration = DevConsulAgent.Configuration()
        configuration.httpPort = 0
        configuration.dnsPort = 0
        configuration.log = { line in lines.append(line) }
        let listener = try boundTCPSocket(listening: true)
        // Never accepted: a backlog of 128 holds a probe a second for the whole test (the helper's 1 would
        // fill in two probes, and a later one would time out instead of passing).
        listen(listener.fd, 128)
        let closed = Atomic<Bool>(false)
        @Sendable func closeListener() { if !closed.exchange(true, ordering: .relaxed) { close(listener.fd) } }
        defer { closeListener() }
        try await DevConsulAgent.withRunning(configuration) { endpoints in
            let consul = ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress))
            try await consul.register(ServiceRegistration(id: "web-1", name: "web", address: "127.0.0.1", port: listener.port, checks: [
                CheckDefinition(probe: .tcp("127.0.0.1:\(listener.port)"), interval: .seconds(1)),
            ]))
            try await waitForLine(lines, containing: "Check is now passing: check=service:web-1")
            closeListener()  // the port refuses from now on
            let critical = try await waitForLine(lines, containing: "Check is now critical: check=service:web-1")
            #expect(critical.lowercased().contains("connection refused"), "\(critical)")
            // Only the first result and the change: a second passing probe wrote nothing.
            #expect(lines.all.filter { $0.contains("check=service:web-1") }.count == 2, "\(lines.all)")
        }
    }

    @discardableResult
    func waitForLine(_ lines: Lines, containing text: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = lines.all.first(where: { $0.contains(text) }) { return line }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StackError(message: "no log line with \"\(text)\" within 30 s; the lines: \(lines.all)")
    }
}
