import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Serves `ConsulAPI` over HTTP/1.1 with keep-alive; each request is handled in its own task so a
/// blocking query holds only its own connection.
enum HTTPServer {
    /// Request bodies above this are refused outright (the KV limit, 512 KiB, is checked by the API).
    static let maxBody = 4 << 20

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// With `tls`, every connection is HTTPS (Consul's `ports.https` with `cert_file`/`key_file`).
    static func bind(host: String, port: Int, tls: NIOSSLContext? = nil) async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try wrapAcceptedConnection(channel, as: Connection.self)
                }
            }
    }

    static func serve(_ server: NIOAsyncChannel<Connection, Never>, api: ConsulAPI) async throws {
        try await serveConnections(server) { connection in try? await handle(connection, api: api) }
    }

    private static func handle(_ connection: Connection, api: ConsulAPI) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.removeAll(keepingCapacity: true)
                    tooLarge = false
                case .body(let buffer):
                    if body.count + buffer.readableBytes > maxBody { tooLarge = true } else { body += buffer.readableBytesView }
                case .end:
                    guard let requestHead = head else { return }
                    let response: APIResponse
                    if tooLarge {
                        response = .text(413, "Request body too large")
                    } else {
                        let request = APIRequest(method: requestHead.method.rawValue, target: requestHead.uri,
                                                 headers: requestHead.headers.map { ($0.name, $0.value) }, body: body)
                        response = await api.handle(request)
                    }
                    var headers = HTTPHeaders(response.headers)
                    headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                    headers.replaceOrAdd(name: "Vary", value: "Accept-Encoding")
                    let keepAlive = requestHead.isKeepAlive && !tooLarge
                    if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                    try await outbound.write(.head(HTTPResponseHead(version: requestHead.version,
                                                                    status: HTTPResponseStatus(statusCode: response.status),
                                                                    headers: headers)))
                    if !response.body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body)))) }
                    try await outbound.write(.end(nil))
                    if !keepAlive { return }
                }
            }
        }
    }
}
