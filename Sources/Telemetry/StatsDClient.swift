#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Sends StatsD lines over UDP without ever blocking or failing the caller.
///
/// The socket is non-blocking and connected once; a datagram that cannot be sent at once (buffer full,
/// nobody listening) is dropped and counted in `droppedPackets`, because metrics must never slow a request.
public final class StatsDClient: Sendable {
    private let socket: Int32
    private let dropped = Atomic<Int>(0)
    public let prefix: String

    /// - Parameter prefix: prepended with a dot to every metric name (e.g. "search" → "search.requests").
    public init(host: String = "127.0.0.1", port: UInt16 = 8125, prefix: String = "") throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw StatsDError.badAddress(host)
        }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StatsDError.system("socket", errno) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw StatsDError.system("connect", code)
        }
        self.socket = fd
        self.prefix = prefix
    }

    deinit { close(socket) }

    public func increment(_ name: String, by value: Int64 = 1) {
        send(StatsDLine.counter(qualified(name), value))
    }

    public func gauge(_ name: String, _ value: Double) {
        send(StatsDLine.gauge(qualified(name), value))
    }

    public func timing(_ name: String, milliseconds: Double) {
        send(StatsDLine.timing(qualified(name), milliseconds: milliseconds))
    }

    /// Sends one raw line (or several separated by newlines, up to one datagram).
    public func send(_ line: String) {
        var line = line
        let sent = line.withUTF8 { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if sent < 0 { dropped.add(1, ordering: .relaxed) }
    }

    /// Datagrams that could not be handed to the kernel.
    public var droppedPackets: Int { dropped.load(ordering: .relaxed) }

    private func qualified(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
}

public enum StatsDError: Error, CustomStringConvertible {
    case badAddress(String)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .badAddress(let host): return "StatsD host must be an IPv4 address, got '\(host)'"
        case .system(let call, let code): return "StatsD \(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
