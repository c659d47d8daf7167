import DevConsul
import Foundation
import Testing

/// Binding fails cleanly: NIO traps on a bound channel dropped without being closed, so an agent whose
/// TCP DNS port is taken must close what it did bind before it throws (this crashed a test run once).
@Suite(.timeLimit(.minutes(1))) struct BindTests {
    @Test func aDNSPortTakenOnTCPIsAnErrorNotACrash() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(bound)
        var configuration = DevConsulAgent.Configuration()
        configuration.httpPort = 0
        configuration.dnsPort = Int(UInt16(bigEndian: address.sin_port))
        await #expect(throws: (any Error).self) { try await DevConsulAgent(configuration: configuration).run() }
    }
}
