import Foundation

/// A request to Consul that did not succeed.
public enum ConsulError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Consul answered with an unexpected status; `body` is its (plain text) explanation.
    case unexpectedStatus(code: Int, body: String, path: String)
    /// The answer could not be decoded.
    case badResponse(path: String, reason: String)
    /// Consul could not be reached (refused, timed out, reset).
    case unreachable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unexpectedStatus(let code, let body, let path):
            return "Consul answered \(code) for \(path): \(body.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .badResponse(let path, let reason): return "Consul's answer for \(path) was unreadable: \(reason)"
        case .unreachable(let path, let reason): return "Consul unreachable (\(path)): \(reason)"
        }
    }

    /// Worth retrying: Consul or the network failed, not the request.
    public var isRetryable: Bool {
        switch self {
        case .unexpectedStatus(let code, _, _): return code >= 500 || code == 429
        case .badResponse: return false
        case .unreachable: return true
        }
    }
}
