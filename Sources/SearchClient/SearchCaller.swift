import Consul
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SearchAPI
import SearchModels

/// Sends searches to a service's instances: round-robin over what discovery finds, each call with a
/// deadline, and an UNAVAILABLE or a missed deadline retried once on another instance (with one instance
/// there is no other: its failure is the answer). One gRPC client per address discovery lists.
public actor SearchCaller {
    public let service: String
    private let discovery: InstanceDiscovery
    private let deadline: Duration
    /// Discovery's answer is reused for this long (Consul's DNS TTL is 0; asking on every call would add a
    /// lookup to each search without making the list fresher in practice).
    private let discoveryTTL: Duration
    private var discovered: (addresses: [ServiceAddress], via: String, at: ContinuousClock.Instant)?
    /// The last list discovery gave: used when Consul cannot be asked (an agent restarting must not stop
    /// searches to instances that still run), until discovery answers again.
    private var lastKnown: (addresses: [ServiceAddress], via: String)?
    // Random start: each `opsdeck search` process makes one call, and they must not all go to the first instance.
    private var next = Int.random(in: 0..<1_000)
    private var connections: GRPCConnections

    public init(service: String, discovery: InstanceDiscovery, deadline: Duration = .seconds(2),
                discoveryTTL: Duration = .seconds(2), tls: GRPCTLS? = nil) {
        connections = GRPCConnections(tls: tls)
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
        let tries = addresses.count > 1 ? [first, addresses[next % addresses.count]] : [first]
        for address in tries {
            // A newer search replaced this one (the pane cancels its feed): no retry, no answer.
            guard !Task.isCancelled else { throw SearchFailure(kind: .unavailable, message: "cancelled", attempts: failed) }
            guard let client = connections.client(for: address) else {
                failed.append(SearchAttempt(address: address.description, reason: "not an address"))
                continue
            }
            do {
                let reply = try await Search.Client(wrapping: client).search(Self.request(query), options: callOptions)
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
    public func close() { connections.closeAll() }

    private var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = deadline
        options.waitForReady = false  // an instance that is down fails now, and the retry goes elsewhere
        return options
    }

    private func instances() async throws(SearchFailure) -> ([ServiceAddress], String) {
        if let discovered, ContinuousClock.now - discovered.at < discoveryTTL { return (discovered.addresses, discovered.via) }
        let addresses: [ServiceAddress], via: String
        do {
            (addresses, via) = try await discovery.instances(of: service)
        } catch let failure where failure.kind == .noInstance {
            lastKnown = nil  // Consul's answer: what it listed before is not to be called any more
            throw failure
        } catch let failure where failure.kind == .consulUnreachable {
            // Not "no healthy instance", which is an answer: Consul could not be asked at all.
            guard let lastKnown else { throw failure }
            discovered = (lastKnown.addresses, lastKnown.via + ", stale: Consul unreachable", .now)
            return (lastKnown.addresses, lastKnown.via + ", stale: Consul unreachable")
        }
        guard !addresses.isEmpty else {
            lastKnown = nil
            throw SearchFailure(kind: .noInstance, message: "no instance of \(service)")
        }
        discovered = (addresses, via, .now)
        lastKnown = (addresses, via)
        connections.keepOnly(Set(addresses))  // instances that left take their connections with them
        return (addresses, via)
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

    /// The wire's outline, keeping only vertices on the globe: what a server sends is drawn, and a NaN
    /// or a 1e30 must not reach the map.
    static func outline(_ wire: AreaOutline) -> Outline {
        var rings: [[GeoPoint]] = []
        for ring in wire.rings {
            var points: [GeoPoint] = []
            for (lat, lng) in zip(ring.lat, ring.lng) where abs(lat) <= 90 && abs(lng) <= 180 {  // false for NaN
                points.append(GeoPoint(latitude: Double(lat), longitude: Double(lng)))
            }
            if !points.isEmpty { rings.append(points) }
        }
        return Outline(rings: rings, sourceVertices: Int(wire.sourceVertices))
    }

    static func reason(_ error: RPCError) -> String {
        GRPCTargets.tlsReason(error) ?? (error.code == .deadlineExceeded ? "deadline exceeded" : "unavailable")
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
