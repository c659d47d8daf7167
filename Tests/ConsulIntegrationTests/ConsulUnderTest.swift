import Consul
import DevConsul
import Foundation

/// The Consul these tests judge the client against.
///
/// With `CONSUL_HTTP_ADDR` set they run against that agent, a real Consul (DNS from `OPSDECK_CONSUL_DNS`,
/// default 127.0.0.1:8600); otherwise against a devconsul started in-process on free ports. The same
/// assertions hold for both: that is the point.
enum ConsulUnderTest {
    static var realAddress: String? {
        ProcessInfo.processInfo.environment["CONSUL_HTTP_ADDR"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func with<T: Sendable>(reapInterval: Duration = .seconds(1),
                                  _ body: @Sendable (ConsulClient, ConsulDNS) async throws -> T) async throws -> T {
        if realAddress != nil {  // the client reads it, with the token and TLS settings, from the environment
            let dns = ProcessInfo.processInfo.environment["OPSDECK_CONSUL_DNS"] ?? "127.0.0.1:8600"
            let (host, port) = (dns.split(separator: ":").first.map(String.init) ?? "127.0.0.1",
                                Int(dns.split(separator: ":").last ?? "8600") ?? 8600)
            return try await body(ConsulClient(configuration: .fromEnvironment()), ConsulDNS(server: host, port: port))
        }
        var configuration = DevConsulAgent.Configuration()
        configuration.httpPort = 0
        configuration.dnsPort = 0
        configuration.reapInterval = reapInterval
        return try await DevConsulAgent.withRunning(configuration) { endpoints in
            try await body(ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress)),
                           ConsulDNS(server: "127.0.0.1", port: endpoints.dnsPort))
        }
    }
}

/// A name no other test uses.
func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

/// Polls `probe` until it returns a value (for states that a probe interval away).
///
/// 30 s by default: the in-process agent runs its checks on this process's cooperative pool, which every
/// suite shares; in the first 20 s of a full run it ran a 50 ms sleep up to 4.5 s late (measured), and a
/// check's probe is several such turns.
func eventually<T>(within timeout: Duration = .seconds(30), _ probe: () async throws -> T?) async throws -> T? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: .milliseconds(100))
    }
    return nil
}
