import Foundation

/// An HTTP request as the API sees it (no sockets: the server and the tests build these).
struct APIRequest: Sendable {
    var method: String
    /// The path, percent-decoded, without the query.
    var path: String
    var query: QueryParameters
    var headers: [(String, String)]
    var body: [UInt8]

    init(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(parts[0])
        path = rawPath.removingPercentEncoding ?? rawPath
        query = QueryParameters(parts.count > 1 ? String(parts[1]) : "")
        self.headers = headers
        self.body = body
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// Query parameters in order; a parameter without `=` is a presence flag (`?recurse`).
struct QueryParameters: Sendable {
    private(set) var items: [(name: String, value: String?)] = []

    init(_ text: String) {
        for part in text.split(separator: "&") where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(pair[0])
            items.append((name, pair.count > 1 ? decode(pair[1]) : nil))
        }
    }

    func has(_ name: String) -> Bool { items.contains { $0.name == name } }
    /// The first value ("" for a bare flag), or nil when absent.
    func value(_ name: String) -> String? {
        items.first { $0.name == name }.map { $0.value ?? "" }
    }
    func values(_ name: String) -> [String] { items.filter { $0.name == name }.map { $0.value ?? "" } }

    /// The query as the client sent it (for "Conflicting flags" messages).
    var encoded: String {
        items.map { item in item.value.map { "\(item.name)=\($0)" } ?? item.name }.joined(separator: "&")
    }
}

private func decode(_ text: Substring) -> String {
    let plus = text.replacingOccurrences(of: "+", with: " ")
    return plus.removingPercentEncoding ?? plus
}

/// An HTTP response from the API.
struct APIResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Consul's error bodies are plain text.
    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: status, headers: headers + [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// A JSON body (keys sorted, so answers are stable).
    static func json(_ value: Any, status: Int = 200, headers: [(String, String)] = []) -> APIResponse {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("null".utf8)
        return APIResponse(status: status, headers: headers + [("Content-Type", "application/json")], body: Array(data) + [0x0a])
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// A request the API refuses: becomes a plain-text response.
struct APIFailure: Error {
    var response: APIResponse
    init(_ status: Int, _ text: String, headers: [(String, String)] = []) {
        response = .text(status, text, headers: headers)
    }
}
