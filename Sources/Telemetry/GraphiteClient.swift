import AsyncHTTPClient
import Foundation
import NIOCore

/// Reads series from a graphite-web (or graphite-api) render API.
public struct GraphiteClient: Sendable {
    public let baseURL: String
    private let http: HTTPClient
    private let timeout: TimeAmount
    /// Sent with every request (a proxy's authorization); never printed.
    private let headers: [(String, String)]

    /// - Parameter baseURL: e.g. "http://127.0.0.1:8002" (no trailing slash needed).
    public init(baseURL: String = "http://127.0.0.1:8002", http: HTTPClient = GraphiteClient.defaultHTTPClient,
                timeout: TimeAmount = .seconds(10), headers: [(String, String)] = []) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = http
        self.timeout = timeout
        self.headers = headers
    }

    /// A refused connection is reported at once (async-http-client's default retries connecting until the
    /// request's deadline, so a Graphite that is down would look merely slow). Connecting may take 10 s,
    /// TLS handshake included, as for Consul (see `ConsulClient.connectTimeout`: 3 s was too short for a
    /// handshake on a busy machine).
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Series for `targets` (paths, wildcards or functions) over a range such as from "-10min".
    public func render(targets: [String], from: String = "-10min", until: String? = nil,
                       maxDataPoints: Int? = nil) async throws -> [GraphiteSeries] {
        var query = targets.map { ("target", $0) } + [("from", from), ("format", "json")]
        if let until { query.append(("until", until)) }
        if let maxDataPoints { query.append(("maxDataPoints", String(maxDataPoints))) }
        return try GraphiteSeries.decodeRender(try await get("/render", query))
    }

    /// Metric paths matching a pattern such as "collectd.*.statsd.*", as Graphite's tree lists them
    /// (`format=treejson`): each name once, under the pattern's parent levels as written, wildcards and all
    /// ("collectd.*.statsd.x", not each host's path). Cheap: no series file is read.
    public func find(_ pattern: String) async throws -> [GraphiteMetric] {
        try GraphiteMetric.decodeFind(try await get("/metrics/find", [("query", pattern), ("format", "treejson")]))
    }

    private func get(_ path: String, _ query: [(String, String)]) async throws -> Data {
        let url = baseURL + path + "?" + query.map { "\($0)=\(percentEncoded($1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            let text = String(buffer: body).prefix(200)
            throw GraphiteError.http(status: Int(response.status.code), url: url, body: String(text))
        }
        return Data(body.readableBytesView)
    }
}

public enum GraphiteError: Error, CustomStringConvertible {
    case http(status: Int, url: String, body: String)

    public var description: String {
        switch self {
        case .http(let status, let url, let body): return "Graphite answered \(status) for \(url): \(body)"
        }
    }
}

/// Query-component encoding: everything but unreserved characters, so `*`, `,`, `(` and `&` in
/// Graphite targets survive intact.
func percentEncoded(_ text: String) -> String {
    let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
}
