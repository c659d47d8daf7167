import Foundation

/// A request to Consul that did not succeed.
public enum ConsulError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Consul answered with an unexpected status; `body` is its (plain text) explanation.
    case unexpectedStatus(code: Int, body: String, path: String)
    /// The answer could not be decoded.
    case badResponse(path: String, reason: String)
    /// Consul could not be reached (refused, timed out, reset).
    case unreachable(path: String, reason: String)
    /// Consul's ACLs refused the request (403): `reason` is Consul's text ("ACL not found", "Permission
    /// denied: …"), `fix` what to change ("check the token from $CONSUL_HTTP_TOKEN").
    case tokenRefused(path: String, reason: String, fix: String)
    /// The client cannot be set up as configured (a TLS file that cannot be read); nothing was sent.
    case badConfiguration(String)

    public var description: String {
        switch self {
        case .unexpectedStatus(let code, let body, let path):
            return "Consul answered \(code) for \(path): \(body.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .badResponse(let path, let reason): return "Consul's answer for \(path) was unreadable: \(reason)"
        case .unreachable(let path, let reason): return "Consul unreachable (\(path)): \(reason)"
        case .badConfiguration(let reason): return "Consul client: \(reason)"
        case .tokenRefused(let path, let reason, _):
            return "Consul refused the token for \(Self.what(path)): \(reason.trimmingCharacters(in: .whitespacesAndNewlines)); \(fix)"
        }
    }

    /// For an ACL refusal, what to change.
    public var fix: String {
        guard case .tokenRefused(_, _, let fix) = self else { return "" }
        return fix
    }

    /// An ACL refusal in a status bar's room: Consul's reason shortened, and the fix whole.
    public var shortRefusal: String? {
        guard case .tokenRefused(_, let reason, _) = self else { return nil }
        let kind = reason.hasPrefix("Permission denied") ? "permission denied" : String(reason.prefix(40)).trimmingCharacters(in: .whitespacesAndNewlines)
        return "token refused (\(kind)): \(fix)"
    }

    /// What a request path reads or writes, in an operator's words.
    static func what(_ path: String) -> String {
        let kinds: [(String, String)] = [
            ("/v1/kv/", "KV key "), ("/v1/health/service/", "the health of "), ("/v1/catalog/service/", "the instances of "),
            ("/v1/health/checks/", "the checks of "), ("/v1/agent/service/register", "registering a service"),
            ("/v1/agent/service/deregister/", "deregistering "), ("/v1/agent/", "the agent's "),
        ]
        for (prefix, words) in kinds where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            return words.hasSuffix(" ") && rest.isEmpty ? String(words.dropLast()) : words + rest
        }
        if path == "/v1/catalog/services" { return "the service catalog" }
        return path
    }

    /// Worth retrying: Consul or the network failed, not the request.
    public var isRetryable: Bool {
        switch self {
        case .unexpectedStatus(let code, _, _): return code >= 500 || code == 429
        case .badResponse: return false
        case .unreachable: return true
        case .tokenRefused, .badConfiguration: return false
        }
    }
}
