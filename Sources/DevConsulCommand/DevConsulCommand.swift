import ArgumentParser
import DevConsul
import Foundation
import HelpText

@main
struct DevConsulCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devconsul",
        abstract: "A single-node, in-memory Consul development agent (like `consul agent -dev`).",
        discussion: HelpText.reflow("""
            FOR DEVELOPMENT AND TESTS ONLY. No Consul binary can be installed on opsdeck's build machines, so \
            this agent stands in for one: it speaks the parts of Consul's HTTP API and DNS interface the stack \
            uses (service registration with TCP/HTTP/gRPC/TTL checks, catalog, health with ?passing, blocking \
            queries, KV with CAS, DNS A/SRV for <service>.service.consul). Everything lives in memory and is \
            gone when it stops. In production run a real Consul cluster: opsdeck and search-server use the \
            same client code against both.

            Each check's first result and every change of status its probe (or its TTL running out) makes \
            are logged to standard error, with the probe's output: `Check is now critical: \
            check=service:web-1 output="..."`.

            Examples:
              devconsul                               # HTTP on :8500, DNS on :8600
              devconsul --http-port 18500 --dns-port 18600
              devconsul --acl-token-file token.txt    # ACLs on: requests need that token
              devconsul --tls-cert-file c.pem --tls-key-file k.pem   # HTTPS only
              curl -s 127.0.0.1:8500/v1/catalog/services
              dig @127.0.0.1 -p 8600 search-service.service.consul SRV
            """))

    @Option(help: "Address to listen on. Keep it on loopback: without --acl-token-file the agent has no ACLs.")
    var bind = "127.0.0.1"

    @Option(help: "HTTP API port (0: any free port).")
    var httpPort = 8500

    @Option(help: "DNS port, UDP and TCP (0: any free port).")
    var dnsPort = 8600

    @Option(help: "Node name (default: the host name).")
    var node: String?

    @Option(help: "Datacenter name.")
    var datacenter = "dc1"

    @Option(help: "Seconds between sweeps that remove services critical past DeregisterCriticalServiceAfter.")
    var reapInterval = 30

    @Flag(help: "DNS answers leave out instances in warning state too (Consul's dns_config.only_passing).")
    var dnsOnlyPassing = false

    @Option(help: ArgumentHelp("Turn ACLs on (default policy deny), with the first line of this file as the management token: requests without it get Consul's 403s. A file, not an argument: arguments are visible to every user in ps.",
                               valueName: "path"))
    var aclTokenFile: String?

    @Option(help: ArgumentHelp("Serve the HTTP API over HTTPS with this PEM certificate (chain); needs --tls-key-file.", valueName: "path"))
    var tlsCertFile: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert-file.", valueName: "path"))
    var tlsKeyFile: String?

    @Option(help: ArgumentHelp("The CA that TLS checks (GRPCUseTLS) trust, as Consul's ca_file (default: the system's).", valueName: "path"))
    var caFile: String?

    func validate() throws {
        guard (0...65535).contains(httpPort), (0...65535).contains(dnsPort) else {
            throw ValidationError("ports must be between 0 and 65535")
        }
        guard reapInterval >= 1 else { throw ValidationError("--reap-interval must be at least 1 second") }
        guard (tlsCertFile == nil) == (tlsKeyFile == nil) else { throw ValidationError("--tls-cert-file and --tls-key-file go together") }
    }

    func run() async throws {
        var configuration = DevConsulAgent.Configuration()
        configuration.host = bind
        configuration.httpPort = httpPort
        configuration.dnsPort = dnsPort
        if let node { configuration.node = node }
        configuration.datacenter = datacenter
        configuration.reapInterval = .seconds(reapInterval)
        configuration.dnsOnlyPassing = dnsOnlyPassing
        configuration.tlsCertificateFile = tlsCertFile
        configuration.tlsKeyFile = tlsKeyFile
        configuration.caFile = caFile
        // Checks' results and changes, as Consul's agent logs them: one write per line, in order, from a queue
        // of its own, so a slow disk never holds a probe's task (they share Swift's few pool threads).
        let logQueue = DispatchQueue(label: "devconsul.log")
        // A failed write (a full disk) loses the line; it must not end the agent.
        configuration.log = { line in logQueue.async { try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8)) } }
        if let aclTokenFile {
            guard let text = try? String(contentsOfFile: aclTokenFile, encoding: .utf8),
                  let token = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }),
                  !token.isEmpty else {
                throw ValidationError("--acl-token-file \(aclTokenFile): cannot read a token from it (one line)")
            }
            configuration.aclManagementToken = token
        }
        let agent = DevConsulAgent(configuration: configuration)

        // SIGINT/SIGTERM end the agent cleanly (it holds nothing to save).
        let signals = [SIGINT, SIGTERM].map { signal -> DispatchSourceSignal in
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { Foundation.exit(0) }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        try await agent.run { endpoints in
            let acl = aclTokenFile == nil ? "" : ", ACLs on (default deny)"
            let banner = "devconsul: development agent (not for production) — \(endpoints.scheme.uppercased()) \(endpoints.httpAddress), DNS \(bind):\(endpoints.dnsPort) udp+tcp, datacenter \(datacenter)\(acl)\n"
            FileHandle.standardOutput.write(Data(banner.utf8))
        }
    }
}
