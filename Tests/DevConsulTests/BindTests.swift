import DevConsul
import Foundation
import StackSupport
import Testing

/// Binding fails cleanly: NIO traps on a bound channel dropped without being closed, so an agent whose
/// TCP DNS port is taken must close what it did bind before it throws (this crashed a test run once).
@Suite(.timeLimit(.minutes(1))) struct BindTests {
    @Test func aDNSPortTakenOnTCPIsAnErrorNotACrash() async throws {
        let (listener, port) = try boundTCPSocket(listening: true)
        defer { close(listener) }
        var configuration = DevConsulAgent.Configuration()
        configuration.httpPort = 0
        configuration.dnsPort = port
        await #expect(throws: (any Error).self) { try await DevConsulAgent(configuration: configuration).run() }
    }
}
