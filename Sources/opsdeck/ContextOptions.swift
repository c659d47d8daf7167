import ArgumentParser
import Console
import Consul
import Foundation
import SearchClient
import Telemetry

/// `--context NAME`, `--readonly` and `--config PATH`, taken by every command: which environment of the
/// config file it runs on, and whether it may change anything.
struct ContextOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run on this context of the config file (default: $OPSDECK_CONTEXT, else its default_context, else none: the environment's CONSUL_HTTP_ADDR, ...).",
                               valueName: "name"))
    var context: String?

    @Flag(help: "Refuse every write (KV edits), whatever the context says.")
    var readonly = false

    @Option(help: ArgumentHelp("Config file to read instead of $XDG_CONFIG_HOME/opsdeck/config (~/.config/opsdeck/config).", valueName: "path"))
    var config: String?

    /// The config file and the context chosen; errors say what to fix.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Cluster {
        let file: ConsoleConfigFile
        do { file = try ConsoleConfigFile.load(path: config, environment: environment) } catch {
            throw ValidationError("\(error)")
        }
        let name = context ?? environment["OPSDECK_CONTEXT"].flatMap { $0.isEmpty ? nil : $0 } ?? file.defaultContext
        guard let name else { return Cluster(file: file, context: nil, forcedReadOnly: readonly, environment: environment) }
        guard let chosen = file.context(named: name) else {
            throw ValidationError("no context \(name) in the config file (contexts: \(file.contextNames)); `opsdeck console --help` shows the syntax")
        }
        return Cluster(file: file, context: chosen, forcedReadOnly: readonly, environment: environment)
    }
}

/// Where a command's services are, from flags, else the context, else (without a context) the
/// environment, else the local stack's defaults. With a context, the environment's Consul, Kafka and
/// Graphite settings are not read at all: a token meant for one cluster never goes to another.
struct Cluster {
    let file: ConsoleConfigFile
    let context: ConsoleContext?
    let forcedReadOnly: Bool
    let environment: [String: String]

    /// Why writes are refused, or nil.
    var readOnly: String? {
        if forcedReadOnly { return "--readonly" }
        if let context, context.readOnly { return "context \(context.name) is read-only" }
        return nil
    }

    var badge: ContextBadge? { context.map { ContextBadge(name: $0.name, production: $0.production) } }

    /// The same file on another of its contexts (`:context NAME`); flags stay behind, `--readonly` stays.
    func switched(to name: String) throws -> Cluster {
        guard let next = file.context(named: name) else { throw ValidationError("no context \(name)") }
        return Cluster(file: file, context: next, forcedReadOnly: forcedReadOnly, environment: environment)
    }

    func consul(flag: String?) throws -> ConsulConfiguration {
        guard let context else {
            var environment = environment
            if let flag { environment["CONSUL_HTTP_ADDR"] = flag }
            return .fromEnvironment(environment)
        }
        var token: String?
        var source: String?
        if let path = context.consulTokenFile {
            // The token goes only to the Consul its context names, never to a flag's or a default address.
            guard let own = context.consul else {
                throw ValidationError("context \(context.name) has consul_token_file but no consul address: its token would go to 127.0.0.1:8500")
            }
            if let flag, flag != own {
                throw ValidationError("--consul \(flag) with context \(context.name): its token would go to another Consul; drop --consul, or use a context for that agent")
            }
            guard let line = ConsulConfiguration.readToken(file: path) else {
                throw ValidationError("context \(context.name): consul_token_file \(path): cannot read a token from it (its first line)")
            }
            token = line
            source = "context \(context.name)'s consul_token_file (\(path))"
        }
        var configuration = ConsulConfiguration(address: flag ?? context.consul ?? "127.0.0.1:8500", token: token, tokenSource: source)
        configuration.missingTokenHint = "set consul_token_file in context \(context.name)"
        configuration.untrustedCertificateHint = "set consul_ca in context \(context.name)"
        let files = ConsulConfiguration.TLSFiles(caFile: Self.expand(context.consulCA), certificateFile: Self.expand(context.consulClientCertificate),
                                                 keyFile: Self.expand(context.consulClientKey))
        if files != ConsulConfiguration.TLSFiles() {
            // The context's CA and client certificate are for its own Consul, over TLS.
            guard let own = context.consul, own.hasPrefix("https://") else {
                throw ValidationError("context \(context.name): consul_ca and consul_client_cert need an https:// consul address")
            }
            if flag == nil || flag == own { configuration.tls = files }
        }
        return configuration
    }

    /// Consul's DNS interface: the flag, the context's, else port 8600 on the context's Consul host.
    func consulDNS(flag: String?) throws -> (host: String, port: Int) {
        var text = flag ?? context?.consulDNS ?? "127.0.0.1:8600"
        if flag == nil, context?.consulDNS == nil, let address = context?.consul,
           let host = URLComponents(string: address.contains("://") ? address : "http://" + address)?.host, !host.isEmpty {
            text = HostPort.format(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), 8600)
        }
        guard let parsed = HostPort.parse(text) else { throw ValidationError("Consul DNS \(text): expected host:port") }
        return parsed
    }

    /// What a context leaves out, for the feeds that would need it: nothing falls back to the local
    /// stack under another context's name.
    func unavailable(brokersFlag: String?, graphiteFlag: String?) -> [FeedKind: String] {
        guard let context else { return [:] }
        var off: [FeedKind: String] = [:]
        if brokersFlag == nil, context.kafkaBrokers == nil { off[.logs] = "context \(context.name) sets no kafka_brokers" }
        if graphiteFlag == nil, context.graphite == nil { off[.graphite] = "context \(context.name) sets no graphite" }
        return off
    }

    func kafkaBrokers(flag: String?) -> String {
        flag ?? context?.kafkaBrokers ?? (context == nil ? environment["OPSDECK_KAFKA_BROKERS"] : nil) ?? "127.0.0.1:9092"
    }

    /// The context's librdkafka properties (flags given with -X are added over them), only for the brokers
    /// it names: SASL credentials never go to a flag's or the default brokers.
    func kafkaProperties(flag: String?) -> [String: String] {
        guard let context, context.kafkaBrokers != nil, flag == nil || flag == context.kafkaBrokers else { return [:] }
        return Dictionary(context.kafkaProperties.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    func graphite(flag: String?) -> GraphiteClient {
        let url = flag ?? context?.graphite ?? (context == nil ? environment["OPSDECK_GRAPHITE_URL"] : nil) ?? "http://127.0.0.1:8002"
        // Headers (a proxy's credentials) only go to the Graphite their context names.
        let own = context.flatMap { $0.graphite != nil && (flag == nil || flag == $0.graphite) ? $0.graphiteHeaders : nil } ?? []
        return GraphiteClient(baseURL: url, headers: own.map { ($0.key, $0.value) })
    }

    static func expand(_ path: String?) -> String? { path.map { ($0 as NSString).expandingTildeInPath } }

    /// TLS for gRPC to the instances: the flags', else the context's; nil: plaintext. (No flags: a context
    /// switched to; an unparsed ParsableArguments cannot be read.) Its files must be readable: the
    /// transport reads them only when it connects, where a failure would be said as an unreachable instance.
    func grpcTLS(_ flags: GRPCTLSOptions?) throws -> GRPCTLS? {
        var tls: GRPCTLS?
        if let flags, flags.grpcTLS || flags.grpcCA != nil || flags.grpcCert != nil {
            tls = GRPCTLS(caFile: flags.grpcCA, certificateFile: flags.grpcCert, keyFile: flags.grpcKey)
        } else if let context, context.grpcTLS {
            tls = GRPCTLS(caFile: Self.expand(context.grpcCA), certificateFile: Self.expand(context.grpcClientCertificate),
                          keyFile: Self.expand(context.grpcClientKey))
        }
        for path in [tls?.caFile, tls?.certificateFile, tls?.keyFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("gRPC TLS: cannot read \(path)")
        }
        return tls
    }

    /// Refuses a write when read-only (exit 1: nothing written, as a refused check-and-set).
    func checkWritable(_ command: String) throws {
        guard let readOnly else { return }
        FileHandle.standardError.write(Data("\(command): not written: read-only (\(readOnly))\n".utf8))
        throw ExitCode(1)
    }
}

/// `--grpc-tls`, `--grpc-ca`, `--grpc-cert`, `--grpc-key`: gRPC to the instances over TLS.
struct GRPCTLSOptions: ParsableArguments {
    @Flag(help: "Call the instances over TLS, trusting the system's store (default: the context's grpc_tls, else plaintext).")
    var grpcTLS = false

    @Option(help: ArgumentHelp("Call the instances over TLS trusting this CA (PEM).", valueName: "path"))
    var grpcCA: String?

    @Option(help: ArgumentHelp("A client certificate for the instances (PEM); needs --grpc-key.", valueName: "path"))
    var grpcCert: String?

    @Option(help: ArgumentHelp("The key of --grpc-cert (PEM).", valueName: "path"))
    var grpcKey: String?

    func validate() throws {
        guard (grpcCert == nil) == (grpcKey == nil) else { throw ValidationError("--grpc-cert and --grpc-key go together") }
    }
}
