import Consul
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// gRPC clients kept per address, each with the task that runs its connections: a call then measures the
/// call, not a TCP and HTTP/2 set-up. Owned by one actor (the Monitor poller, a search caller).
public struct GRPCConnections {
    public typealias Client = GRPCClient<HTTP2ClientTransport.Posix>
    private var clients: [ServiceAddress: (client: Client, task: Task<Void, Never>)] = [:]
    /// TLS for every connection; nil: plaintext.
    private let tls: GRPCTLS?

    public init(tls: GRPCTLS? = nil) { self.tls = tls }

    /// Addresses with a client now.
    public var count: Int { clients.count }

    /// The client for `address`, made on first use (nil when no transport can be made for it).
    public mutating func client(for address: ServiceAddress) -> Client? {
        if let existing = clients[address] { return existing.client }
        guard let transport = try? GRPCTargets.transport(host: address.host, port: address.port, tls: tls) else { return nil }
        let client = GRPCClient(transport: transport)
        let task = Task<Void, Never> { _ = try? await client.runConnections() }
        clients[address] = (client, task)
        return client
    }

    /// Closes the clients of addresses not in `addresses` (instances that left, or moved to a new port).
    public mutating func keepOnly(_ addresses: Set<ServiceAddress>) {
        for (address, entry) in clients where !addresses.contains(address) {
            entry.client.beginGracefulShutdown()
            entry.task.cancel()
            clients[address] = nil
        }
    }

    public mutating func closeAll() { keepOnly([]) }
}
