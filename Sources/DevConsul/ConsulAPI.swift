import Consul
import Foundation

/// Consul's HTTP API over `AgentState`: routing, parameter rules, blocking reads, error texts.
struct ConsulAPI: Sendable {
    let state: AgentState
    /// The server's default and maximum blocking wait (Consul: 5 and 10 minutes).
    var defaultWait: Duration = .seconds(300)
    var maxWait: Duration = .seconds(600)
    /// ACL enforcement when the agent was given a management token; nil: ACLs disabled (`-dev`).
    var acl: ACLRules?

    func handle(_ request: APIRequest) async -> APIResponse {
        do {
            return try await route(request)
        } catch let failure as APIFailure {
            return failure.response
        } catch {
            return .text(500, String(describing: error))
        }
    }

    /// An endpoint: the methods it declares, and its handler.
    private struct Endpoint {
        var methods: [String]
        var handler: (APIRequest, String) async throws -> APIResponse
    }

    private func route(_ request: APIRequest) async throws -> APIResponse {
        let path = request.path
        guard path.hasPrefix("/v1/") else {
            if path == "/" { return .text(200, "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.") }
            return .text(404, "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n")
        }
        guard let (endpoint, rest) = endpoint(for: path) else {
            return .text(404, "Invalid URL path: not a recognized HTTP API endpoint\n")
        }
        let allow = (["OPTIONS"] + endpoint.methods).joined(separator: ",")
        if request.method == "OPTIONS" { return APIResponse(status: 200, headers: [("Allow", allow)]) }
        guard endpoint.methods.contains(request.method) else {
            throw APIFailure(405, "method \(request.method) not allowed", headers: [("Allow", allow)])
        }
        var filterAll = false
        if let acl {
            switch acl.decide(request, node: state.read({ $0.node })) {
            case .allow: break
            case .filterAll: filterAll = true
            case .refuse(let failure): throw failure
            }
        }
        if let dc = request.query.value("dc"), !dc.isEmpty, dc != state.read({ $0.datacenter }) {
            throw APIFailure(500, "No path to datacenter", headers: [("X-Consul-Index", "1"), ("X-Consul-KnownLeader", "false"), ("X-Consul-LastContact", "0")])
        }
        // Consul filters with bexpr expressions; a filter ignored would answer with everything as if it
        // had matched. Refused, as Consul refuses an expression it cannot use.
        if request.query.has("filter") {
            throw APIFailure(400, "Failed to create boolean expression evaluator: devconsul does not implement ?filter=; filter on the client side")
        }
        let response = try await endpoint.handler(request, rest)
        return filterAll ? ACLRules.filteredOut(response) : response
    }

    /// The endpoint for a path, with what follows its prefix (an ID, a name, a key).
    private func endpoint(for path: String) -> (Endpoint, String)? {
        let put = ["PUT"], get = ["GET"]
        let table: [(String, Bool, Endpoint)] = [
            // (path or prefix, is prefix, endpoint)
            ("/v1/agent/service/register", false, Endpoint(methods: put) { r, _ in try registerService(r) }),
            ("/v1/agent/service/deregister/", true, Endpoint(methods: put) { _, id in try deregisterService(id) }),
            ("/v1/agent/service/", true, Endpoint(methods: get) { _, id in try agentService(id) }),
            ("/v1/agent/services", false, Endpoint(methods: get) { _, _ in agentServices() }),
            ("/v1/agent/checks", false, Endpoint(methods: get) { _, _ in agentChecks() }),
            ("/v1/agent/self", false, Endpoint(methods: get) { _, _ in agentSelf() }),
            ("/v1/agent/check/register", false, Endpoint(methods: put) { r, _ in try registerCheck(r) }),
            ("/v1/agent/check/deregister/", true, Endpoint(methods: put) { _, id in try deregisterCheck(id) }),
            ("/v1/agent/check/pass/", true, Endpoint(methods: put) { r, id in try updateTTL(id, .passing, r.query.value("note") ?? "") }),
            ("/v1/agent/check/warn/", true, Endpoint(methods: put) { r, id in try updateTTL(id, .warning, r.query.value("note") ?? "") }),
            ("/v1/agent/check/fail/", true, Endpoint(methods: put) { r, id in try updateTTL(id, .critical, r.query.value("note") ?? "") }),
            ("/v1/agent/check/update/", true, Endpoint(methods: put) { r, id in try updateCheck(r, id) }),
            ("/v1/catalog/services", false, Endpoint(methods: get) { r, _ in try await catalogServices(r) }),
            ("/v1/catalog/service/", true, Endpoint(methods: get) { r, name in try await catalogService(r, name) }),
            ("/v1/catalog/nodes", false, Endpoint(methods: get) { r, _ in try await catalogNodes(r) }),
            ("/v1/catalog/node/", true, Endpoint(methods: get) { r, name in try await catalogNode(r, name) }),
            ("/v1/catalog/datacenters", false, Endpoint(methods: get) { _, _ in .json([state.read { $0.datacenter }]) }),
            ("/v1/health/service/", true, Endpoint(methods: get) { r, name in try await healthService(r, name) }),
            ("/v1/health/checks/", true, Endpoint(methods: get) { r, name in try await healthChecks(r, name) }),
            ("/v1/health/state/", true, Endpoint(methods: get) { r, s in try await healthState(r, s) }),
            ("/v1/health/node/", true, Endpoint(methods: get) { r, n in try await healthNode(r, n) }),
            ("/v1/kv/", true, Endpoint(methods: ["GET", "PUT", "DELETE"]) { r, key in try await kv(r, key) }),
            ("/v1/status/leader", false, Endpoint(methods: get) { _, _ in .json("127.0.0.1:8300") }),
            ("/v1/status/peers", false, Endpoint(methods: get) { _, _ in .json(["127.0.0.1:8300"]) }),
            ("/v1/acl/", true, Endpoint(methods: ["GET", "PUT", "DELETE", "POST"]) { r, rest in aclEndpoint(r, rest) }),
        ]
        for (pattern, isPrefix, endpoint) in table {
            if isPrefix, path.hasPrefix(pattern) { return (endpoint, String(path.dropFirst(pattern.count))) }
            if !isPrefix, path == pattern { return (endpoint, "") }
        }
        return nil
    }

    /// With ACLs off, Consul's 401. With them on, only `token/self` (the check an operator makes of
    /// a token: `consul acl token read -self`); devconsul manages no other ACL objects.
    private func aclEndpoint(_ request: APIRequest, _ rest: String) -> APIResponse {
        guard acl != nil else { return .text(401, "ACL support disabled") }
        guard rest == "token/self", request.method == "GET", let token = ACLRules.token(of: request) else {
            return .text(404, "devconsul implements only /v1/acl/token/self: it has one token, the management token it was started with")
        }
        return .json(["AccessorID": ACLRules.managementAccessorID, "SecretID": token, "Description": "Initial Management Token",
                      "Policies": [["ID": "00000000-0000-0000-0000-000000000001", "Name": "global-management"]],
                      "Local": false, "CreateIndex": 1, "ModifyIndex": 1] as [String: Any])
    }

    // MARK: blocking reads

    /// The index and wait a read asked for, validated with Consul's error texts.
    func blockingParameters(_ request: APIRequest) throws -> (index: UInt64, wait: Duration) {
        let q = request.query
        if q.has("stale") && q.has("consistent") {
            throw APIFailure(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        }
        if q.has("cached") && q.has("consistent") {
            throw APIFailure(400, "Cannot specify ?cached with ?consistent, conflicting semantics.")
        }
        var wait = defaultWait
        if let text = q.value("wait"), !text.isEmpty {
            guard let parsed = GoDuration.parse(text), parsed >= .zero else { throw APIFailure(400, "Invalid wait time") }
            wait = min(parsed, maxWait)
        }
        var index: UInt64 = 0
        if let text = q.value("index"), !text.isEmpty {
            guard let parsed = UInt64(text) else { throw APIFailure(400, "Invalid index") }
            index = parsed
        }
        return (index, wait)
    }

    /// Runs `compute` now, and again after each write, until its index passes the requested one or the
    /// wait (plus up to wait/16 of jitter, as Consul adds) runs out. Adds the index headers.
    ///
    /// `compute` runs on a copy of the catalog, outside the lock (the copy is copy-on-write: a write that
    /// follows pays for copying what it changes): the queries a write wakes answer side by side, not one
    /// after the other while writes wait. Measured with a fleet's 2,001 checks (scripts/bench-console,
    /// section 5): two blocked reads of `/v1/health/state/any` were answered ~80 ms apart.
    func blockingRead(_ request: APIRequest,
                      _ compute: @escaping (Catalog) throws -> (response: APIResponse, index: UInt64)) async throws -> APIResponse {
        let (requested, wait) = try blockingParameters(request)
        let deadline = ContinuousClock.now + wait + wait / 16 * Double.random(in: 0...1)
        while true {
            let catalog = state.read { $0 }
            let (response, index) = try compute(catalog)
            let global = catalog.index
            if requested == 0 || index > requested || ContinuousClock.now >= deadline || Task.isCancelled {
                var answered = response
                answered.headers += [("X-Consul-Index", String(max(index, 1))), ("X-Consul-KnownLeader", "true"),
                                     ("X-Consul-LastContact", "0"), ("X-Consul-Effective-Consistency", "leader")]
                return answered
            }
            await state.waitForWrite(after: global, until: deadline)
        }
    }
}
