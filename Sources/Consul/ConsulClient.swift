import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Consul's HTTP API (agent, catalog, health, KV, status) over async-http-client.
///
/// Reads return the value with its `QueryMeta` (the `X-Consul-Index` to block on next); `watch...`
/// methods wrap them in blocking-query loops. The same code talks to real Consul and to devconsul.
public struct ConsulClient: Sendable {
    public let configuration: ConsulConfiguration
    let http: HTTPClient
    /// Timeout of a request that does not block.
    public var requestTimeout: Duration = .seconds(10)
    /// The TLS set-up every request uses (nil: plain HTTP, or the system's trust store), or why there is none.
    let tls: Result<TLSConfiguration?, ConsulError>

    public init(configuration: ConsulConfiguration = .fromEnvironment(), http: HTTPClient = ConsulClient.defaultHTTPClient) {
        self.configuration = configuration
        self.http = http
        tls = Result { try Self.tlsConfiguration(configuration) }.mapError { $0 as? ConsulError ?? .badConfiguration("\($0)") }
    }

    /// The TLS configuration for an https:// address with files or verification changed; nil otherwise
    /// (async-http-client's default: the system's trust store).
    static func tlsConfiguration(_ configuration: ConsulConfiguration) throws -> TLSConfiguration? {
        let files = configuration.tls
        guard configuration.baseURL.hasPrefix("https://"), files != ConsulConfiguration.TLSFiles() else { return nil }
        func read<T>(_ what: String, _ path: String, _ load: (String) throws -> T) throws -> T {
            do { return try load(path) } catch {
                throw ConsulError.badConfiguration("cannot read \(what) \(path): \(error)")
            }
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = files.caFile {
            tls.trustRoots = .certificates(try read("the CA file (CONSUL_CACERT, consul_ca)", ca) { try NIOSSLCertificate.fromPEMFile($0) })
        }
        switch (files.certificateFile, files.keyFile) {
        case (let certificate?, let key?):
            tls.certificateChain = try read("the client certificate", certificate) { try NIOSSLCertificate.fromPEMFile($0) }.map { .certificate($0) }
            tls.privateKey = .privateKey(try read("the client key", key) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        case (nil, nil): break
        default: throw ConsulError.badConfiguration("a client certificate needs both its certificate and its key (CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY, or consul_client_cert and consul_client_key)")
        }
        if !files.verify { tls.certificateVerification = .none }
        return tls
    }

    /// The HTTP client for Consul:
    /// - it reports a refused connection at once (async-http-client's default retries connecting until
    ///   the request's deadline, which for a blocking read is minutes: a dead Consul would look quiet);
    /// - it allows 256 connections to the agent: every blocking query holds one for its whole wait, and
    ///   the default of 8 would queue the ninth watch until it failed. Real Consul accepts 200 per client
    ///   address by default (`http_max_conns_per_client`), so keep a process under ~200 watches;
    /// - it gives a connection `connectTimeout` to be made.
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        configuration.timeout.connect = .nanoseconds(Int64(connectTimeout.inSeconds * 1e9))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// How long making a connection may take, TLS handshake included (async-http-client ends the handshake
    /// at the connect deadline), and how long a request waits for a free connection. 10 s, as Consul's own
    /// Go client allows for the handshake. 3 s was too short for HTTPS on a busy machine: with every test
    /// suite starting at once on 2 cores, a first request to a local agent took 2.4-5.9 s, and one CI run
    /// failed on "EOF during handshake" (async-http-client closing the connection at the deadline). A
    /// refused connection is still reported at once.
    public static let connectTimeout: Duration = .seconds(10)

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One HTTP exchange. `query` values of nil are presence flags (`?recurse`).
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], body: [UInt8]? = nil,
              timeout: Duration? = nil) async throws -> Response {
        var items = query
        if let dc = configuration.datacenter { items.append(("dc", dc)) }
        let queryText = items.map { name, value in value.map { "\(name)=\(percentEncoded($0))" } ?? name }
            .joined(separator: "&")
        let url = configuration.baseURL + path + (queryText.isEmpty ? "" : "?" + queryText)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.tlsConfiguration = try tls.get()
        if let token = configuration.token { request.headers.add(name: "X-Consul-Token", value: token) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let limit = timeout ?? requestTimeout
        var sent = 0
        while true {
            sent += 1
            do {
                let response = try await http.execute(request, timeout: .nanoseconds(Int64(limit.inSeconds * 1e9)))
                let bytes = try await response.body.collect(upTo: 64 << 20)
                return Response(status: Int(response.status.code), headers: response.headers,
                                body: Array(bytes.readableBytesView))
            } catch let error as HTTPClientError where error == .remoteConnectionClosed && method == .GET && sent == 1 {
                // The connection closed before any byte of an answer (a close during the body is another
                // error): a read goes again, once, as Go's own HTTP transport does for a kept-alive connection
                // the server let go as the request went out (Consul's server closes idle ones). A write is
                // never sent twice: it may have been applied. Seen once in ~12 full test runs, as the first
                // read of one of fifty watches on a fresh in-process devconsul, whose cause there was not
                // found (a new connection, not a kept-alive one; devconsul has no idle timeout).
                continue
            } catch let error as ConsulError {
                throw error
            } catch {
                throw ConsulError.unreachable(path: path, reason: Self.explained(error, hint: configuration.untrustedCertificateHint))
            }
        }
    }

    /// A failed exchange in words: an untrusted certificate says which setting names the CA.
    static func explained(_ error: any Error, hint: String) -> String {
        isUntrustedCertificate(error) ? "TLS: Consul's certificate is not trusted; \(hint)" : String(describing: error)
    }

    /// The TLS handshake failed on the peer's certificate (BoringSSL's CERTIFICATE_VERIFY_FAILED).
    public static func isUntrustedCertificate(_ error: any Error) -> Bool {
        let text = String(reflecting: error)
        return text.contains("CERTIFICATE_VERIFY_FAILED") || text.localizedCaseInsensitiveContains("certificate verify failed")
    }

    /// The error for an answer that is not the expected one: ACL refusals (403) said as such.
    func failure(_ response: Response, path: String) -> ConsulError {
        if response.status == 403 {
            return .tokenRefused(path: path, reason: response.text, fix: configuration.tokenFix)
        }
        return .unexpectedStatus(code: response.status, body: response.text, path: path)
    }

    /// A read: query options applied, meta parsed, 200 decoded; 404 gives nil when `notFoundIsNil`.
    func read<T: Decodable>(_ type: T.Type, _ path: String, query: [(String, String?)] = [],
                            options: QueryOptions, notFoundIsNil: Bool = false) async throws -> Indexed<T?> {
        try await read(path, query: query, options: options, notFoundIsNil: notFoundIsNil) { body in
            try JSONDecoder().decode(T.self, from: Data(body))
        }
    }

    /// A read whose 200 body `decode` turns into a value.
    func read<T>(_ path: String, query: [(String, String?)] = [], options: QueryOptions, notFoundIsNil: Bool = false,
                 decode: ([UInt8]) throws -> T) async throws -> Indexed<T?> {
        var items = query
        var timeout: Duration? = nil
        if options.index > 0 {
            items.append(("index", String(options.index)))
            if let wait = options.wait {
                items.append(("wait", GoDuration.format(wait)))
                timeout = BlockingIndex.httpTimeout(forWait: wait)
            } else {
                timeout = BlockingIndex.httpTimeout(forWait: .seconds(300))  // the server's default wait
            }
        }
        if options.stale { items.append(("stale", nil)) }
        if options.consistent { items.append(("consistent", nil)) }
        if let filter = options.filter { items.append(("filter", filter)) }
        let response = try await send(.GET, path, query: items, timeout: timeout)
        let meta = QueryMeta(headers: response.headers)
        if response.status == 404 && notFoundIsNil { return Indexed(value: nil, meta: meta) }
        guard response.status == 200 else {
            throw failure(response, path: path)
        }
        do {
            return Indexed(value: try decode(response.body), meta: meta)
        } catch {
            throw ConsulError.badResponse(path: path, reason: String(describing: error))
        }
    }

    /// A write that expects 200 and an empty (or ignorable) body.
    func write(_ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], body: [UInt8]? = nil) async throws {
        let response = try await send(method, path, query: query, body: body)
        guard response.status == 200 else {
            throw failure(response, path: path)
        }
    }

    /// A write whose body is JSON `true` or `false` (KV put and delete).
    func writeBool(_ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], body: [UInt8]? = nil) async throws -> Bool {
        let response = try await send(method, path, query: query, body: body)
        guard response.status == 200 else {
            throw failure(response, path: path)
        }
        switch response.text.trimmingCharacters(in: .whitespacesAndNewlines) {
        case "true": return true
        case "false": return false
        case let other: throw ConsulError.badResponse(path: path, reason: "expected true or false, got '\(other)'")
        }
    }

    /// The address of the Raft leader, "" when there is none (a quick liveness probe).
    public func leader() async throws -> String {
        try await read(String.self, "/v1/status/leader", options: QueryOptions()).value ?? ""
    }
}

/// Options of a read: blocking (`index`, `wait`), consistency and a filter expression.
public struct QueryOptions: Sendable, Equatable {
    /// Block until the data's index exceeds this (0: answer at once).
    public var index: UInt64
    /// How long the server may hold a blocking read (server default 5 min, max 10 min).
    public var wait: Duration?
    public var stale: Bool
    public var consistent: Bool
    public var filter: String?

    public init(index: UInt64 = 0, wait: Duration? = nil, stale: Bool = false, consistent: Bool = false,
                filter: String? = nil) {
        self.index = index
        self.wait = wait
        self.stale = stale
        self.consistent = consistent
        self.filter = filter
    }
}

/// What Consul says about a read besides the data.
public struct QueryMeta: Sendable, Equatable {
    /// `X-Consul-Index`: pass it back as `QueryOptions.index` to block until something changes.
    public var index: UInt64
    public var knownLeader: Bool
    public var lastContactMilliseconds: UInt64
    /// `X-Consul-Results-Filtered-By-ACLs`: entries the token may not read were left out.
    public var filteredByACLs: Bool

    public init(index: UInt64, knownLeader: Bool = true, lastContactMilliseconds: UInt64 = 0, filteredByACLs: Bool = false) {
        self.index = index
        self.knownLeader = knownLeader
        self.lastContactMilliseconds = lastContactMilliseconds
        self.filteredByACLs = filteredByACLs
    }

    init(headers: HTTPHeaders) {
        index = headers.first(name: "X-Consul-Index").flatMap(UInt64.init) ?? 0
        knownLeader = headers.first(name: "X-Consul-KnownLeader") == "true"
        lastContactMilliseconds = headers.first(name: "X-Consul-LastContact").flatMap(UInt64.init) ?? 0
        filteredByACLs = headers.first(name: "X-Consul-Results-Filtered-By-ACLs") == "true"
    }
}

/// A value read from Consul with its meta.
public struct Indexed<Value: Sendable>: Sendable {
    public var value: Value
    public var meta: QueryMeta

    public init(value: Value, meta: QueryMeta) {
        self.value = value
        self.meta = meta
    }
}

extension Indexed: Equatable where Value: Equatable {}

/// Path-segment and query encoding: only unreserved characters pass (and `/` inside KV keys).
func percentEncoded(_ text: String, keepSlash: Bool = false) -> String {
    // ASCII only: CharacterSet.alphanumerics would let "é" through unencoded.
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
                               + (keepSlash ? "/" : ""))
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
