/// A service to register with the local agent (`PUT /v1/agent/service/register`).
public struct ServiceRegistration: Sendable, Equatable, Encodable {
    public var id: String?
    public var name: String
    public var tags: [String]
    public var address: String?
    public var port: Int?
    public var meta: [String: String]
    public var checks: [CheckDefinition]

    public init(id: String? = nil, name: String, tags: [String] = [], address: String? = nil, port: Int? = nil,
                meta: [String: String] = [:], checks: [CheckDefinition] = []) {
        self.id = id
        self.name = name
        self.tags = tags
        self.address = address
        self.port = port
        self.meta = meta
        self.checks = checks
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID", name = "Name", tags = "Tags", address = "Address", port = "Port", meta = "Meta", checks = "Checks"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(tags, forKey: .tags)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encodeIfPresent(port, forKey: .port)
        if !meta.isEmpty { try c.encode(meta, forKey: .meta) }
        if !checks.isEmpty { try c.encode(checks, forKey: .checks) }
    }
}

/// A health check attached to a service registration.
public struct CheckDefinition: Sendable, Equatable, Encodable {
    /// What the agent probes.
    public enum Probe: Sendable, Equatable {
        /// TCP connect to "host:port".
        case tcp(String)
        /// HTTP GET of a URL: 2xx passing, 429 warning, else critical.
        case http(String)
        /// `grpc.health.v1.Health/Check` at "host:port[/service]".
        case grpc(String, useTLS: Bool = false)
        /// The application reports in (pass/warn/fail) at least every `ttl`.
        case ttl(Duration)
    }

    public var id: String?
    public var name: String?
    public var probe: Probe
    /// How often to probe (ignored for TTL checks).
    public var interval: Duration
    public var timeout: Duration?
    /// Remove the whole service once this check has been critical this long (Consul's floor: 1 min).
    public var deregisterCriticalServiceAfter: Duration?
    /// Status before the first probe (Consul's default: critical).
    public var initialStatus: HealthStatus?

    public init(id: String? = nil, name: String? = nil, probe: Probe, interval: Duration = .seconds(10),
                timeout: Duration? = nil, deregisterCriticalServiceAfter: Duration? = nil,
                initialStatus: HealthStatus? = nil) {
        self.id = id
        self.name = name
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.deregisterCriticalServiceAfter = deregisterCriticalServiceAfter
        self.initialStatus = initialStatus
    }

    enum CodingKeys: String, CodingKey {
        case id = "CheckID", name = "Name", tcp = "TCP", http = "HTTP", grpc = "GRPC", grpcUseTLS = "GRPCUseTLS"
        case ttl = "TTL", interval = "Interval", timeout = "Timeout", status = "Status"
        case deregister = "DeregisterCriticalServiceAfter"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(name, forKey: .name)
        switch probe {
        case .tcp(let address): try c.encode(address, forKey: .tcp)
        case .http(let url): try c.encode(url, forKey: .http)
        case .grpc(let target, let useTLS):
            try c.encode(target, forKey: .grpc)
            try c.encode(useTLS, forKey: .grpcUseTLS)
        case .ttl(let ttl): try c.encode(GoDuration.format(ttl), forKey: .ttl)
        }
        if case .ttl = probe {} else { try c.encode(GoDuration.format(interval), forKey: .interval) }
        try c.encodeIfPresent(timeout.map(GoDuration.format), forKey: .timeout)
        try c.encodeIfPresent(deregisterCriticalServiceAfter.map(GoDuration.format), forKey: .deregister)
        try c.encodeIfPresent(initialStatus?.rawValue, forKey: .status)
    }
}
