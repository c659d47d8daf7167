/// A named environment in the config file (`context staging` and its indented lines): where its Consul,
/// Kafka and Graphite are and how to authenticate to them, and whether it may be changed.
///
/// A context replaces the environment's settings wholesale (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, ...):
/// a token meant for one cluster is never sent to another because a context left it out. Flags still
/// win over both.
public struct ConsoleContext: Equatable, Sendable {
    public var name: String
    /// Consul's HTTP address: host:port, or a URL (https:// for TLS).
    public var consul: String?
    /// Consul's DNS interface, host:port.
    public var consulDNS: String?
    /// A file whose first line is the ACL token (a token itself is never written in the config file).
    public var consulTokenFile: String?
    /// PEM files for an https:// Consul: the CA to trust instead of the system's, a client certificate.
    public var consulCA: String?
    public var consulClientCertificate: String?
    public var consulClientKey: String?
    public var kafkaBrokers: String?
    /// librdkafka properties for every tail (TLS, SASL), in the order written.
    public var kafkaProperties: [KeyValue] = []
    public var graphite: String?
    /// Headers sent with every Graphite request (`Name: value`, e.g. for a proxy's auth).
    public var graphiteHeaders: [KeyValue] = []
    /// gRPC to the instances (Monitor, searches) over TLS: `grpc_tls` alone trusts the system's store,
    /// `grpc_ca` names the CA; a client certificate when the instances ask for one.
    public var grpcTLS = false
    public var grpcCA: String?
    public var grpcClientCertificate: String?
    public var grpcClientKey: String?
    /// Marked production: the header shows the context's name in the alarm colour.
    public var production = false
    /// Every write (KV edits) is refused.
    public var readOnly = false

    public struct KeyValue: Equatable, Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(name: String) { self.name = name }

    /// The lines a context block takes, as `opsdeck console --help` shows them (80 columns wide there).
    public static let syntax = """
        context NAME
          consul ADDRESS|URL            Consul's HTTP API (https://... for TLS)
          consul_dns HOST:PORT          its DNS interface (search discovery)
          consul_token_file PATH        first line: the ACL token
          consul_ca PATH                the CA that signed Consul's certificate (PEM)
          consul_client_cert PATH       a client certificate and key (PEM) for Consul
          consul_client_key PATH
          kafka_brokers HOST:PORT,...
          kafka_property NAME VALUE     a librdkafka property (repeatable)
          graphite URL
          graphite_header NAME: VALUE   sent with every Graphite request (repeatable)
          grpc_tls                      call instances over TLS (system trust store)
          grpc_ca PATH                  ... trusting this CA (PEM; implies grpc_tls)
          grpc_client_cert PATH         a client certificate and key for instances
          grpc_client_key PATH
          production                    the header shows the name in the alarm colour
          read_only                     every write is refused
        """

    /// Applies one indented line of the block; the error says what was expected.
    mutating func apply(_ words: [String], line: String) -> String? {
        func one() -> String? { words.count == 2 ? words[1] : nil }
        switch words[0] {
        case "consul": guard let value = one() else { return "consul ADDRESS" }; consul = value
        case "consul_dns":
            guard let value = one(), HostPort.parse(value) != nil else { return "consul_dns HOST:PORT" }
            consulDNS = value
        case "consul_token_file": guard let value = one() else { return "consul_token_file PATH" }; consulTokenFile = value
        case "consul_ca": guard let value = one() else { return "consul_ca PATH" }; consulCA = value
        case "consul_client_cert": guard let value = one() else { return "consul_client_cert PATH" }; consulClientCertificate = value
        case "consul_client_key": guard let value = one() else { return "consul_client_key PATH" }; consulClientKey = value
        case "kafka_brokers": guard let value = one() else { return "kafka_brokers HOST:PORT,..." }; kafkaBrokers = value
        case "kafka_property":
            guard words.count == 3 else { return "kafka_property NAME VALUE" }
            kafkaProperties.append(KeyValue(words[1], words[2]))
        case "graphite": guard let value = one() else { return "graphite URL" }; graphite = value
        case "graphite_header":
            let rest = line.dropFirst("graphite_header".count).trimmingCharacters(in: .whitespaces)
            guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex else { return "graphite_header NAME: VALUE" }
            graphiteHeaders.append(KeyValue(String(rest[..<colon]), rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        case "grpc_tls" where words.count == 1: grpcTLS = true
        case "grpc_ca": guard let value = one() else { return "grpc_ca PATH" }; grpcCA = value; grpcTLS = true
        case "grpc_client_cert": guard let value = one() else { return "grpc_client_cert PATH" }; grpcClientCertificate = value; grpcTLS = true
        case "grpc_client_key": guard let value = one() else { return "grpc_client_key PATH" }; grpcClientKey = value
        case "production" where words.count == 1: production = true
        case "read_only" where words.count == 1: readOnly = true
        default:
            return "one of: consul, consul_dns, consul_token_file, consul_ca, consul_client_cert, consul_client_key, kafka_brokers, kafka_property, graphite, graphite_header, grpc_tls, grpc_ca, grpc_client_cert, grpc_client_key, production, read_only"
        }
        return nil
    }
}

/// The context the console runs in, as its header shows it.
public struct ContextBadge: Equatable, Sendable {
    public var name: String
    public var production: Bool

    public init(name: String, production: Bool = false) {
        self.name = name
        self.production = production
    }
}
