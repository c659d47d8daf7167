import Foundation
import NIOCore
import NIOSSL

/// A single-node, in-memory stand-in for `consul agent -dev`, for development and tests only.
///
/// It speaks the parts of Consul's HTTP API and DNS interface that opsdeck's stack uses. Production
/// uses a real Consul; clients cannot tell the difference for what they use.
public struct DevConsulAgent: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (tests); Consul's defaults are 8500 and 8600.
        public var httpPort = 8500
        public var dnsPort = 8600
        public var node = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "devconsul"
        public var datacenter = "dc1"
        /// How often services critical past DeregisterCriticalServiceAfter are removed (Consul: 30 s).
        public var reapInterval: Duration = .seconds(30)
        /// Drop warning instances from DNS answers too (Consul's dns_config.only_passing).
        public var dnsOnlyPassing = false
        /// With a token, ACLs are on and deny by default: this token (Consul's initial management token)
        /// may do anything, requests without it get Consul's 403s. nil: ACLs off, as `consul agent -dev`.
        public var aclManagementToken: String?
        /// PEM certificate (chain) and key: the HTTP API is served over HTTPS only (Consul's `ports.https`
        /// with `tls.defaults.cert_file`/`key_file`). Both or neither.
        public var tlsCertificateFile: String?
        public var tlsKeyFile: String?
        /// The CA that TLS checks (GRPCUseTLS) trust, Consul's `tls.defaults.ca_file`; nil: the system's.
        public var caFile: String?
        /// Where the agent writes its log lines (checks' first results and changes of status, services
        /// reaped), as Consul's agent log; nil: nowhere (in-process agents in tests).
        public var log: (@Sendable (String) -> Void)?

        public init() {}
    }

    /// Where the agent listens once bound.
    public struct Endpoints: Sendable {
        public var httpAddress: String
        public var dnsPort: Int
        /// "https" when served with a certificate, else "http".
        public var scheme = "http"
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Binds, calls `onReady` with the bound endpoints, then serves until the task is cancelled.
    public func run(onReady: @Sendable (Endpoints) -> Void = { _ in }) async throws {
        let c = configuration
        let catalog = Catalog(node: c.node, nodeID: UUID().uuidString.lowercased(), address: c.host, datacenter: c.datacenter)
        let runnerBox = RunnerBox()
        let state = AgentState(catalog: catalog) { runnerBox.runner?.sync() }
        let identity = c.tlsCertificateFile.flatMap { certificate in c.tlsKeyFile.map { (certificate, $0) } }
        let runner = CheckRunner(state: state, reapInterval: c.reapInterval, caFile: c.caFile, identity: identity, log: c.log)
        runnerBox.runner = runner
        defer { runner.stopAll() }
        let api = ConsulAPI(state: state, acl: c.aclManagementToken.map(ACLRules.init(managementToken:)))
        let responder = DNSResponder(onlyPassing: c.dnsOnlyPassing)

        var tls: NIOSSLContext?
        if let certificate = c.tlsCertificateFile, let key = c.tlsKeyFile {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            tls = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain,
                                                                             privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        }
        let http = try await HTTPServer.bind(host: c.host, port: c.httpPort, tls: tls)
        let udp: DNSServer.UDPChannel, tcp: NIOAsyncChannel<DNSServer.TCPConnection, Never>
        do {
            (udp, tcp) = try await Self.bindDNS(host: c.host, port: c.dnsPort)
        } catch {
            // A bound NIOAsyncChannel must be closed through executeThenClose, or its deinit traps.
            try? await http.executeThenClose { _ in }
            throw error
        }
        let dnsPort = udp.channel.localAddress?.port ?? c.dnsPort
        let answer: @Sendable ([UInt8], DNSResponder.Transport) -> [UInt8]? = { bytes, transport in
            guard let query = try? DNSQuery.parse(bytes) else { return nil }
            return state.read { responder.respond(to: query, catalog: $0, transport: transport) }.encode()
        }
        onReady(Endpoints(httpAddress: "\(c.host):\(http.channel.localAddress?.port ?? c.httpPort)", dnsPort: dnsPort,
                          scheme: tls == nil ? "http" : "https"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await HTTPServer.serve(http, api: api) }
            group.addTask { try await DNSServer.serveUDP(udp, answer: answer) }
            group.addTask { try await DNSServer.serveTCP(tcp, answer: answer) }
            group.addTask { await runner.reapForever() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// DNS on UDP and TCP at one port number. With port 0 the system picks the UDP port, and that number
    /// may be taken on TCP (by anything on the machine): then another UDP port is tried. A channel bound
    /// and not kept is closed through executeThenClose (NIO traps on a channel dropped without it).
    static func bindDNS(host: String, port: Int) async throws
        -> (DNSServer.UDPChannel, NIOAsyncChannel<DNSServer.TCPConnection, Never>) {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try await DNSServer.bindUDP(host: host, port: port)
            do {
                let tcp = try await DNSServer.bindTCP(host: host, port: udp.channel.localAddress?.port ?? port)
                return (udp, tcp)
            } catch {
                try? await udp.executeThenClose { _, _ in }
                guard port == 0, attempt < 10 else { throw error }
            }
        }
    }

    /// Runs an agent for the duration of `body` (tests): bound to free ports unless configured.
    public static func withRunning<T: Sendable>(_ configuration: Configuration = {
        var c = Configuration(); c.httpPort = 0; c.dnsPort = 0; return c
    }(), _ body: @Sendable (Endpoints) async throws -> T) async throws -> T {
        let agent = DevConsulAgent(configuration: configuration)
        let (ready, continuation) = AsyncStream.makeStream(of: Endpoints.self)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                defer { continuation.finish() }  // a failed bind must not leave the caller waiting
                try await agent.run { continuation.yield($0); continuation.finish() }
                return nil
            }
            var iterator = ready.makeAsyncIterator()
            guard let endpoints = await iterator.next() else {
                _ = try await group.next()  // rethrows the bind error
                throw CancellationError()
            }
            let result = try await body(endpoints)
            group.cancelAll()
            return result
        }
    }
}

/// Lets the state's change hook reach the runner created after it.
private final class RunnerBox: @unchecked Sendable {
    // Set once during start-up, before any request can arrive.
    var runner: CheckRunner?
}
