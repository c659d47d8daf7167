import Foundation

// Agent: what this process's local agent registers and checks.
extension ConsulClient {
    public func register(_ registration: ServiceRegistration, replaceExistingChecks: Bool = false) async throws {
        let body = try JSONEncoder().encode(registration)
        try await write(.PUT, "/v1/agent/service/register",
                        query: replaceExistingChecks ? [("replace-existing-checks", "true")] : [], body: Array(body))
    }

    public func deregister(serviceID: String) async throws {
        try await write(.PUT, "/v1/agent/service/deregister/\(percentEncoded(serviceID))")
    }

    /// Reports a TTL check's status (`/v1/agent/check/update/:id`), with an output text.
    public func updateTTL(checkID: String, status: HealthStatus, output: String = "") async throws {
        let body = try JSONSerialization.data(withJSONObject: ["Status": status.rawValue, "Output": output])
        try await write(.PUT, "/v1/agent/check/update/\(percentEncoded(checkID))", body: Array(body))
    }

    /// The services registered with the local agent, by ID.
    public func agentServices() async throws -> [String: AgentService] {
        let response = try await send(.GET, "/v1/agent/services")
        guard response.status == 200 else {
            throw failure(response, path: "/v1/agent/services")
        }
        return try JSONDecoder().decode([String: AgentService].self, from: Data(response.body))
    }
}

// Catalog and health: what the cluster knows.
extension ConsulClient {
    /// Every service name with the tags seen across its instances.
    public func services(_ options: QueryOptions = QueryOptions()) async throws -> Indexed<[String: [String]]> {
        let read = try await read([String: [String]?].self, "/v1/catalog/services", options: options)
        return Indexed(value: (read.value ?? [:]).mapValues { $0 ?? [] }, meta: read.meta)
    }

    /// Instances of a service with their node and checks. `passingOnly` keeps instances whose every
    /// check (node checks included) passes; every tag in `tags` must be present.
    public func health(service: String, passingOnly: Bool = false, tags: [String] = [],
                       _ options: QueryOptions = QueryOptions()) async throws -> Indexed<[ServiceEntry]> {
        var query: [(String, String?)] = tags.map { ("tag", $0) }
        if passingOnly { query.append(("passing", "1")) }
        let read = try await read([ServiceEntry].self, "/v1/health/service/\(percentEncoded(service))",
                                  query: query, options: options)
        return Indexed(value: read.value ?? [], meta: read.meta)
    }

    /// Every check in a state (`nil`: any state).
    public func checks(in state: HealthStatus?, _ options: QueryOptions = QueryOptions()) async throws -> Indexed<[HealthCheck]> {
        // Pulled from the bytes, not through JSONDecoder: the console reads every check on each change.
        let read = try await read("/v1/health/state/\(state?.rawValue ?? "any")", options: options) { try HealthCheck.list(fromJSON: $0) }
        return Indexed(value: read.value ?? [], meta: read.meta)
    }
}

// KV store.
extension ConsulClient {
    /// One key, or nil when it does not exist (the meta is still valid to block on).
    public func get(key: String, _ options: QueryOptions = QueryOptions()) async throws -> Indexed<KVPair?> {
        let read = try await read([KVPair].self, kvPath(key), options: options, notFoundIsNil: true)
        return Indexed(value: read.value?.first, meta: read.meta)
    }

    /// A key's value as stored, without JSON or base64 (`?raw`); nil when the key does not exist.
    public func getRaw(key: String) async throws -> [UInt8]? {
        let response = try await send(.GET, kvPath(key), query: [("raw", nil)])
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw failure(response, path: kvPath(key))
        }
        return response.body
    }

    /// Every key under a prefix, with values ([] when there is none).
    public func list(prefix: String, _ options: QueryOptions = QueryOptions()) async throws -> Indexed<[KVPair]> {
        let read = try await read([KVPair].self, kvPath(prefix), query: [("recurse", nil)], options: options,
                                  notFoundIsNil: true)
        return Indexed(value: read.value ?? [], meta: read.meta)
    }

    /// Key names under a prefix; with a separator, grouped at the next one ("a/b/" for "a/b/c").
    public func keys(prefix: String, separator: String? = nil, _ options: QueryOptions = QueryOptions()) async throws -> Indexed<[String]> {
        var query: [(String, String?)] = [("keys", nil)]
        if let separator { query.append(("separator", separator)) }
        let read = try await read([String].self, kvPath(prefix), query: query, options: options, notFoundIsNil: true)
        return Indexed(value: read.value ?? [], meta: read.meta)
    }

    /// Writes a value. With `cas`, only if the key's ModifyIndex equals it (0: only if absent);
    /// returns false when that condition failed.
    @discardableResult
    public func put(key: String, value: [UInt8], flags: UInt64? = nil, cas: UInt64? = nil) async throws -> Bool {
        var query: [(String, String?)] = []
        if let flags { query.append(("flags", String(flags))) }
        if let cas { query.append(("cas", String(cas))) }
        return try await writeBool(.PUT, kvPath(key), query: query, body: value)
    }

    @discardableResult
    public func put(key: String, text: String, cas: UInt64? = nil) async throws -> Bool {
        try await put(key: key, value: Array(text.utf8), cas: cas)
    }

    /// Deletes a key, or a whole prefix with `recurse`. With `cas`, only at that ModifyIndex.
    @discardableResult
    public func delete(key: String, recurse: Bool = false, cas: UInt64? = nil) async throws -> Bool {
        var query: [(String, String?)] = []
        if recurse { query.append(("recurse", nil)) }
        if let cas { query.append(("cas", String(cas))) }
        return try await writeBool(.DELETE, kvPath(key), query: query)
    }

    private func kvPath(_ key: String) -> String { "/v1/kv/" + percentEncoded(key, keepSlash: true) }
}
