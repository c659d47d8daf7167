import CAres
import Foundation

/// An instance found through DNS: where to connect.
public struct ServiceAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
}

/// Looks services up through Consul's DNS interface (`<service>.service.consul`, SRV and A) with c-ares.
///
/// Each lookup runs on its own thread with its own c-ares channel: c-ares waits in poll(2), which must
/// not happen on Swift's cooperative pool.
public struct ConsulDNS: Sendable {
    public var server: String
    public var port: Int
    public var domain: String
    public var timeout: Duration

    public init(server: String = "127.0.0.1", port: Int = 8600, domain: String = "consul", timeout: Duration = .seconds(2)) {
        self.server = server
        self.port = port
        self.domain = domain
        self.timeout = timeout
    }

    /// Healthy instances of a service as host:port pairs, via SRV (RFC 2782 form when `rfc2782`), each
    /// target resolved to its address. An unknown service gives `DNSLookupError.notFound`.
    public func instances(of service: String, tag: String? = nil, rfc2782: Bool = false) async throws -> [ServiceAddress] {
        let name: String
        if rfc2782 {
            name = "_\(service)._\(tag ?? "tcp").service.\(domain)"
        } else {
            name = [tag, service, "service", domain].compactMap { $0 }.joined(separator: ".")
        }
        let records = try await srv(name)
        var addresses: [ServiceAddress] = []
        for record in records {
            let host = try await address(ofTarget: record.target)
            addresses.append(ServiceAddress(host: host, port: record.port))
        }
        return addresses
    }

    /// The A records of a name (e.g. "search-service.service.consul").
    public func a(_ name: String) async throws -> [String] {
        let answer = try await query(name, type: ns_t_a)
        return try parseA(answer, name: name)
    }

    /// The SRV records of a name.
    public func srv(_ name: String) async throws -> [SRVRecord] {
        let answer = try await query(name, type: ns_t_srv)
        return try parseSRV(answer, name: name)
    }

    /// `<hex>.addr.<dc>.consul` targets carry the IPv4 address in their name; others are resolved.
    private func address(ofTarget target: String) async throws -> String {
        if let decoded = Self.decodeAddrTarget(target) { return decoded }
        return try await a(target).first ?? target
    }

    /// "7f000001.addr.dc1.consul." → "127.0.0.1" (Consul's SRV target form for an IP service address).
    public static func decodeAddrTarget(_ target: String) -> String? {
        let labels = target.split(separator: ".")
        guard labels.count >= 2, labels[1] == "addr", labels[0].count == 8, let value = UInt32(labels[0], radix: 16) else {
            return nil
        }
        return "\(value >> 24).\((value >> 16) & 0xff).\((value >> 8) & 0xff).\(value & 0xff)"
    }

    private func query(_ name: String, type: ns_type) async throws -> [UInt8] {
        let server = "\(self.server):\(port)"
        let timeoutMilliseconds = Int32(timeout.inSeconds * 1000)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runQuery(name: name, type: type, server: server,
                                                                timeoutMilliseconds: timeoutMilliseconds) })
            }
            thread.name = "consul-dns"
            thread.start()
        }
    }
}

/// One SRV answer.
public struct SRVRecord: Sendable, Hashable {
    public var priority: Int
    public var weight: Int
    public var port: Int
    public var target: String
}

public enum DNSLookupError: Error, CustomStringConvertible, Equatable {
    /// NXDOMAIN: no such service (or no healthy instance of it).
    case notFound(String)
    case failed(String, String)

    public var description: String {
        switch self {
        case .notFound(let name): return "\(name): no such name (NXDOMAIN)"
        case .failed(let name, let reason): return "\(name): DNS lookup failed: \(reason)"
        }
    }
}

private let libraryInitialised: Bool = { ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS }()

private final class QueryResult {
    var done = false
    var status: Int32 = ARES_SUCCESS
    var answer: [UInt8] = []
}

/// Runs one query to completion on the calling (dedicated) thread.
private func runQuery(name: String, type: ns_type, server: String, timeoutMilliseconds: Int32) throws -> [UInt8] {
    guard libraryInitialised else { throw DNSLookupError.failed(name, "c-ares did not initialise") }
    var options = ares_options()
    options.timeout = timeoutMilliseconds
    options.tries = 2
    options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES
    var channel: ares_channel?
    let optmask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS
    let status = "b".withCString { lookups -> Int32 in
        options.lookups = UnsafeMutablePointer(mutating: lookups)
        return ares_init_options(&channel, &options, Int32(optmask))
    }
    guard status == ARES_SUCCESS, let channel else {
        throw DNSLookupError.failed(name, String(cString: ares_strerror(status)))
    }
    defer { ares_destroy(channel) }
    let serverStatus = ares_set_servers_ports_csv(channel, server)
    guard serverStatus == ARES_SUCCESS else {
        throw DNSLookupError.failed(name, "bad server \(server): \(String(cString: ares_strerror(serverStatus)))")
    }

    let result = QueryResult()
    let box = Unmanaged.passRetained(result)
    defer { box.release() }
    ares_query(channel, name, Int32(ns_c_in.rawValue), Int32(type.rawValue), { arg, status, _, answer, length in
        let result = Unmanaged<QueryResult>.fromOpaque(arg!).takeUnretainedValue()
        result.done = true
        result.status = status
        if let answer, length > 0 { result.answer = Array(UnsafeBufferPointer(start: answer, count: Int(length))) }
    }, box.toOpaque())

    while !result.done {
        var sockets = [ares_socket_t](repeating: ARES_SOCKET_BAD, count: Int(ARES_GETSOCK_MAXNUM))
        let bits = ares_getsock(channel, &sockets, Int32(ARES_GETSOCK_MAXNUM))
        var fds: [pollfd] = []
        for i in 0..<Int(ARES_GETSOCK_MAXNUM) {
            var events: Int16 = 0
            if bits & (1 << i) != 0 { events |= Int16(POLLIN) }
            if bits & (1 << (i + Int(ARES_GETSOCK_MAXNUM))) != 0 { events |= Int16(POLLOUT) }
            if events != 0 { fds.append(pollfd(fd: sockets[i], events: events, revents: 0)) }
        }
        var maxWait = timeval(tv_sec: 1, tv_usec: 0)
        var wait = timeval()
        let next = ares_timeout(channel, &maxWait, &wait)!.pointee
        let waitMilliseconds = Int32(next.tv_sec * 1000 + Int(next.tv_usec) / 1000)
        _ = poll(&fds, nfds_t(fds.count), max(waitMilliseconds, 1))
        let ready = fds.filter { $0.revents != 0 }
        if ready.isEmpty {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD)  // lets c-ares act on its timeouts
        }
        for fd in ready {
            let readable = fd.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 ? fd.fd : ARES_SOCKET_BAD
            let writable = fd.revents & Int16(POLLOUT) != 0 ? fd.fd : ARES_SOCKET_BAD
            ares_process_fd(channel, readable, writable)
        }
    }
    switch result.status {
    case ARES_SUCCESS: return result.answer
    case ARES_ENOTFOUND: throw DNSLookupError.notFound(name)
    case ARES_ENODATA: return []
    default: throw DNSLookupError.failed(name, String(cString: ares_strerror(result.status)))
    }
}

private func parseA(_ answer: [UInt8], name: String) throws -> [String] {
    guard !answer.isEmpty else { return [] }
    var records = [ares_addrttl](repeating: ares_addrttl(), count: 64)
    var count: Int32 = 64
    let status = ares_parse_a_reply(answer, Int32(answer.count), nil, &records, &count)
    if status == ARES_ENODATA { return [] }
    guard status == ARES_SUCCESS else { throw DNSLookupError.failed(name, String(cString: ares_strerror(status))) }
    return records.prefix(Int(count)).map { record in
        var address = record.ipaddr
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

private func parseSRV(_ answer: [UInt8], name: String) throws -> [SRVRecord] {
    guard !answer.isEmpty else { return [] }
    var head: UnsafeMutablePointer<ares_srv_reply>?
    let status = ares_parse_srv_reply(answer, Int32(answer.count), &head)
    if status == ARES_ENODATA { return [] }
    guard status == ARES_SUCCESS else { throw DNSLookupError.failed(name, String(cString: ares_strerror(status))) }
    defer { ares_free_data(head) }
    var records: [SRVRecord] = []
    var node = head
    while let current = node {
        records.append(SRVRecord(priority: Int(current.pointee.priority), weight: Int(current.pointee.weight),
                                 port: Int(current.pointee.port), target: String(cString: current.pointee.host)))
        node = current.pointee.next
    }
    return records
}
