import Foundation

/// ACL enforcement as a Consul agent with `acl.enabled = true`, `default_policy = "deny"` and a single
/// token, the initial management token (`acl.tokens.initial_management`): that token may do anything,
/// a request without a token is the anonymous token's and may do nothing, any other token is unknown.
///
/// Errors are Consul's (403, plain text): "ACL not found" for an unknown token, and for the anonymous
/// token "Permission denied: anonymous token lacks permission '<resource>:<access>' on "<name>". …".
/// The anonymous token's catalog, health and agent *reads* are answered as Consul answers them: with
/// the entries it may see (here none) and `X-Consul-Results-Filtered-By-ACLs: true` when some were
/// left out; its KV reads and every write are refused. DNS answers as an agent whose DNS token
/// (`acl.tokens.dns`) may read every service, which is how clusters with ACLs keep DNS discovery.
struct ACLRules: Sendable {
    /// The token that may do anything. Compared in constant time; never logged or echoed.
    let managementToken: [UInt8]

    /// The accessor ID Consul gives the initial management token's record (the secret is not it).
    static let managementAccessorID = "d1b8e4b0-8c4e-4a1e-9c11-0ddc0b5e1c2a"

    init(managementToken: String) {
        self.managementToken = Array(managementToken.utf8)
    }

    enum Decision {
        case allow
        /// Answer, with every entry filtered out (the anonymous token's catalog, health and agent reads).
        case filterAll
        case refuse(APIFailure)
    }

    /// What Consul would do with the request.
    func decide(_ request: APIRequest, node: String) -> Decision {
        if Self.isOpen(request.path) { return .allow }
        guard let token = Self.token(of: request) else {
            if request.method == "GET", Self.isFilteredRead(request.path) { return .filterAll }
            let (rule, resource) = Self.permission(for: request, node: node)
            let on = resource.map { " on \(Self.quoted($0))" } ?? ""
            return .refuse(APIFailure(403, "Permission denied: anonymous token lacks permission '\(rule)'\(on). "
                                           + "The anonymous token is used implicitly when a request does not specify a token."))
        }
        return constantTimeEqual(Array(token.utf8), managementToken) ? .allow : .refuse(APIFailure(403, "ACL not found"))
    }

    /// Reads Consul filters by ACL instead of refusing: lists of services, nodes, checks and instances.
    static func isFilteredRead(_ path: String) -> Bool {
        ["/v1/catalog/", "/v1/health/"].contains { path.hasPrefix($0) } || path == "/v1/agent/services" || path == "/v1/agent/checks"
    }

    /// The answer with everything left out: `{}` or `[]` (nothing to say when it was empty already).
    static func filteredOut(_ response: APIResponse) -> APIResponse {
        guard response.status == 200, let first = response.body.first(where: { $0 != 0x20 && $0 != 0x0a }) else { return response }
        let empty: [UInt8] = first == UInt8(ascii: "{") ? Array("{}".utf8) : first == UInt8(ascii: "[") ? Array("[]".utf8) : Array("null".utf8)
        var filtered = response
        let trimmed = response.body.filter { $0 != 0x20 && $0 != 0x0a }
        filtered.body = empty
        if trimmed != empty { filtered.headers.append(("X-Consul-Results-Filtered-By-ACLs", "true")) }
        return filtered
    }

    /// Consul's order: `?token=`, else `X-Consul-Token`, else `Authorization: Bearer`. Empty is none.
    static func token(of request: APIRequest) -> String? {
        let candidates = [request.query.value("token"), request.header("X-Consul-Token"),
                          request.header("Authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }]
        return candidates.lazy.compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
    }

    /// Endpoints Consul answers without a token: Raft status and the datacenter list.
    static func isOpen(_ path: String) -> Bool {
        path.hasPrefix("/v1/status/") || path == "/v1/catalog/datacenters"
    }

    /// The rule a request needs and what it is on (nil: the whole kind, Consul's "unnamed" wording).
    static func permission(for request: APIRequest, node: String) -> (rule: String, resource: String?) {
        let path = request.path
        let reads = request.method == "GET"
        func after(_ prefix: String) -> String { String(path.dropFirst(prefix.count)) }
        switch path {
        case _ where path.hasPrefix("/v1/kv/"):
            return (reads ? "key:read" : "key:write", after("/v1/kv/"))
        case "/v1/agent/service/register":
            let name = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?
                .first { $0.key.lowercased() == "name" }?.value as? String
            return ("service:write", name)
        case _ where path.hasPrefix("/v1/agent/service/deregister/"):
            return ("service:write", after("/v1/agent/service/deregister/"))
        case _ where path.hasPrefix("/v1/agent/check/"):
            return ("service:write", nil)
        case _ where path.hasPrefix("/v1/agent/service/"):
            return ("service:read", after("/v1/agent/service/"))
        case _ where path.hasPrefix("/v1/catalog/service/"):
            return ("service:read", after("/v1/catalog/service/"))
        case _ where path.hasPrefix("/v1/health/service/"):
            return ("service:read", after("/v1/health/service/"))
        case _ where path.hasPrefix("/v1/health/checks/"):
            return ("service:read", after("/v1/health/checks/"))
        case _ where path.hasPrefix("/v1/catalog/node/"):
            return ("node:read", after("/v1/catalog/node/"))
        case _ where path.hasPrefix("/v1/health/node/"):
            return ("node:read", after("/v1/health/node/"))
        case "/v1/catalog/nodes":
            return ("node:read", nil)
        case "/v1/agent/self":
            return ("agent:read", node)
        case _ where path.hasPrefix("/v1/acl/"):
            return (reads ? "acl:read" : "acl:write", nil)
        default:
            return ("service:read", nil)
        }
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Equal bytes, in a time that depends on the lengths only (a token is not guessed byte by byte).
    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = a.count ^ b.count
        for i in 0..<max(a.count, b.count) {
            difference |= Int((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0))
        }
        return difference == 0
    }
}
