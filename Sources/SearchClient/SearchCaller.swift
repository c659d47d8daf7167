import Consul
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SearchAPI
import SearchModels

/// Sends searches to a service's instances: round-robin over what discovery finds, each call with a
/// deadline, and an UNAVAILABLE or a missed deadline retried once on another instance. One gRPC client per
/// address, kept while the caller lives, so a call measures the call and not a connection set-up.
public actor SearchCaller {
    public let service: String
    private let discovery: InstanceDiscovery
    private let deadline: Duration
    /// Discovery's answer is reused for this long (Consul's DNS TTL is 0; asking on every call would add a
    /// lookup to each search without making the list fresher in practice).
    private let discoveryTTL: Duration
    private var discovered: (addresses: [ServiceAddress], via: String, at: ContinuousClock.Instant)?
    // Random start: each `opsdeck search` process makes one call, and they must not all go to the first instance.
    private var next = Int.random(in: 0..<1_000)
    private var clients: [ServiceAddress: (client: GRPCClient<HTTP2ClientTransport.Posix>, task: Task<Void, Never>)] = [:]

    public init(service: String, discovery: InstanceDiscovery, deadline: Duration = .seconds(2),
                discoveryTTL: Duration = .seconds(2)) {
        self.service = service
        self.discovery = discovery
        self.deadline = deadline
        self.discoveryTTL = discoveryTTL
    }

    public func search(_ query: SearchQuery) async throws(SearchFailure) -> SearchAnswer {
        let clock = ContinuousClock()
        let start = clock.now
        let (addresses, via) = try await instances()
        let first = addresses[next % addresses.count]
        next &+= 1
        var failed: [SearchAttempt] = []
        // The retry goes to another instance when there is one.
        let second = addresses.count > 1 ? addresses[next % addresses.count] : first
        for address in [first, second] {
            do {
                let reply = try await Search.Client(wrapping: client(for: address))
                    .search(Self.request(query), options: callOptions)
                return Self.answer(reply, address: address, milliseconds: (clock.now - start).milliseconds,
                                   failed: failed, via: via)
            } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
                failed.append(SearchAttempt(address: address.description, reason: Self.reason(error)))
                discovered = nil  // the list may be stale: ask again next time
            } catch let error as RPCError {
                throw SearchFailure(kind: .refused(code: Self.codeName(error.code)), message: error.message, attempts: failed)
            } catch {
                failed.append(SearchAttempt(address: address.description, reason: "\(error)"))
            }
        }
        throw SearchFailure(kind: .unavailable, message: "no instance of \(service) answered", attempts: failed)
    }

    /// Closes every connection.
    public func close() {
        for entry in clients.values {
            entry.client.beginGracefulShutdown()
            entry.task.cancel()
        }
        clients = [:]
    }

    private var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = deadline
        options.waitForReady = false  // an instance that is down fails now, and the retry goes elsewhere
        return options
    }

    private func instances() async throws(SearchFailure) -> ([ServiceAddress], String) {
        if let discovered, ContinuousClock.now - discovered.at < discoveryTTL { return (discovered.addresses, discovered.via) }
        let (addresses, via) = try await discovery.instances(of: service)
        guard !addresses.isEmpty else { throw SearchFailure(kind: .noInstance, message: "no instance of \(service)") }
        discovered = (addresses, via, .now)
        return (addresses, via)
    }

    private func client(for address: ServiceAddress) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        if let existing = clients[address] { return existing.client }
        let client = GRPCClient(transport: try GRPCTargets.transport(host: address.host, port: address.port))
        let task = Task<Void, Never> { _ = try? await client.runConnections() }
        clients[address] = (client, task)
        return client
    }

    static func request(_ query: SearchQuery) -> SearchRequest {
        SearchRequest.with {
            if let name = query.name { $0.query = name }
            if let point = query.point {
                $0.lat = Float(point.latitude)
                $0.lng = Float(point.longitude)
            }
            $0.pageNumber = Int32(clamping: query.page)
            if let size = query.size { $0.resultPerPage = Int32(clamping: size) }
            $0.withOutline = query.withOutline
        }
    }

    static func answer(_ reply: SearchResponses, address: ServiceAddress, milliseconds: Double,
                       failed: [SearchAttempt], via: String) -> SearchAnswer {
        SearchAnswer(
            results: reply.responses.map { response in
                SearchResult(id: response.id, name: response.response, kind: response.kind, code: response.code,
                             source: response.source, outline: response.hasOutline ? outline(response.outline) : nil)
            },
            total: Int(reply.total), page: Int(reply.pageNumber), size: Int(reply.resultPerPage),
            instanceID: reply.instanceID.isEmpty ? address.description : reply.instanceID, address: address.description,
            milliseconds: milliseconds, failedAttempts: failed, discovery: via)
    }

    static func outline(_ wire: AreaOutline) -> Outline {
        Outline(rings: wire.rings.map { ring in
            zip(ring.lat, ring.lng).map { GeoPoint(latitude: Double($0), longitude: Double($1)) }
        }, sourceVertices: Int(wire.sourceVertices))
    }

    static func reason(_ error: RPCError) -> String {
        error.code == .deadlineExceeded ? "deadline exceeded" : "unavailable"
    }

    /// INVALID_ARGUMENT, as the gRPC status names are written.
    static func codeName(_ code: RPCError.Code) -> String {
        String(describing: code).reduce(into: "") { name, c in
            if c.isUppercase { name += "_" }
            name += c.uppercased()
        }
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
