import Consul
import Foundation
import StackSupport
import Testing

/// What search-server promises about the parts around it, each checked for real.
@Suite(.timeLimit(.minutes(2))) struct ReliabilityTests {
    /// An agent that loses the registration (restarted without its state, or reaped after a long critical
    /// spell) has it back within the anti-entropy interval (10 s), as Consul's own anti-entropy would.
    @Test func aRegistrationTheAgentLostIsPutBackWithinTenSeconds() async throws {
        try await Stack.ensureUp()
        let server = try ServerProcess(service: uniqueService())
        defer { server.signal(SIGTERM) }
        try await server.waitForLine(containing: "registered in Consul")
        let consul = ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:8500"))
        try await consul.deregister(serviceID: server.instanceID)
        let lostAt = ContinuousClock.now
        #expect(try await consul.agentServices()[server.instanceID] == nil)
        try await server.waitForLine(containing: "re-registered in Consul (the agent had lost us)", timeout: .seconds(15))
        let back = try await eventually(within: .seconds(5)) { try await consul.agentServices()[server.instanceID] }
        #expect(back != nil)
        #expect(ContinuousClock.now - lostAt < .seconds(12))
    }

}
