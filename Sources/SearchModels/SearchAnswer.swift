import Geo

/// One area in an answer.
public struct SearchResult: Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var kind: String
    public var code: String
    public var source: String
    /// Present when the query asked for outlines.
    public var outline: Outline?

    public init(id: Int64, name: String, kind: String, code: String, source: String, outline: Outline? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.code = code
        self.source = source
        self.outline = outline
    }

    /// The table's columns, shared by the search pane and `opsdeck search`.
    public enum Column: String, CaseIterable, Sendable {
        case name = "NAME", kind = "KIND", code = "CODE", source = "SOURCE"
    }

    public func text(_ column: Column) -> String {
        switch column {
        case .name: return name
        case .kind: return kind
        case .code: return code.isEmpty ? "-" : code
        case .source: return source
        }
    }
}

/// An instance that failed a call before another one answered it.
public struct SearchAttempt: Equatable, Sendable {
    public var address: String
    public var reason: String

    public init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }
}

/// A page of results, and who answered it how fast.
public struct SearchAnswer: Equatable, Sendable {
    public var results: [SearchResult]
    public var total: Int
    public var page: Int
    public var size: Int
    /// The instance that answered (its id as it reports it) and where it was reached.
    public var instanceID: String
    public var address: String
    /// From the call's start to the answer, retries included.
    public var milliseconds: Double
    /// Failed tries before the answer (a retry happened when not empty).
    public var failedAttempts: [SearchAttempt]
    /// How the instances were found: "dns", "http" (Consul's health API) or "given".
    public var discovery: String

    public init(results: [SearchResult], total: Int, page: Int, size: Int, instanceID: String, address: String,
                milliseconds: Double, failedAttempts: [SearchAttempt] = [], discovery: String) {
        self.results = results
        self.total = total
        self.page = page
        self.size = size
        self.instanceID = instanceID
        self.address = address
        self.milliseconds = milliseconds
        self.failedAttempts = failedAttempts
        self.discovery = discovery
    }

    public var pageCount: Int { size > 0 ? max(1, (total + size - 1) / size) : 1 }

    /// "page 1/3 · 25 results · search-1 (127.0.0.1:50051) in 1.2 ms · retried after 127.0.0.1:50052: unavailable"
    public var summary: String {
        var parts = ["page \(page)/\(pageCount)", "\(total) result\(total == 1 ? "" : "s")",
                     "\(instanceID) (\(address)) in \(SearchAnswer.format(milliseconds))"]
        if let retries { parts.append(retries) }
        return parts.joined(separator: " · ")
    }

    /// "retried after 127.0.0.1:50051: unavailable" (nil without a retry).
    public var retries: String? {
        failedAttempts.isEmpty ? nil : "retried after " + failedAttempts.map { "\($0.address): \($0.reason)" }.joined(separator: ", ")
    }

    static func format(_ milliseconds: Double) -> String {
        milliseconds < 10 ? String(format: "%.1f ms", milliseconds) : String(format: "%.0f ms", milliseconds)
    }
}

/// A search that got no answer: the server's refusal (its code and message as it said them), or no
/// instance to ask, or every try failed.
public struct SearchFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The server refused the request (INVALID_ARGUMENT with the field): retrying cannot help.
        case refused(code: String)
        /// Discovery found no instance.
        case noInstance
        /// Discovery could not ask Consul at all (neither DNS nor HTTP answered).
        case consulUnreachable
        /// Every try failed (unreachable, deadline).
        case unavailable
    }
    public var kind: Kind
    public var message: String
    public var attempts: [SearchAttempt]

    public init(kind: Kind, message: String, attempts: [SearchAttempt] = []) {
        self.kind = kind
        self.message = message
        self.attempts = attempts
    }

    public var description: String {
        var text: String
        switch kind {
        case .refused(let code): text = "\(code): \(message)"
        case .noInstance, .consulUnreachable, .unavailable: text = message
        }
        if !attempts.isEmpty { text += " (tried " + attempts.map { "\($0.address): \($0.reason)" }.joined(separator: ", ") + ")" }
        return text
    }
}
