import Foundation
import Synchronization

/// Forwards a local port to another, and can cut the path and restore it: what a client sees when its
/// broker dies and comes back, without restarting the server (Tansu here keeps data in memory only,
/// and cannot rebind its port while old connections sit in TIME_WAIT).
///
/// Blocking sockets and one thread per direction: test traffic only.
public final class TCPRelay: Sendable {
    public let port: Int
    private let target: Int
    private let sockets = Mutex<(listener: Int32?, open: Set<Int32>)>((nil, []))

    public init(to target: Int) throws {
        self.target = target
        port = try freePort()
        try restore()
    }

    deinit { cut() }

    /// Listens again on the same port and forwards new connections.
    public func restore() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw StackError(message: "relay cannot listen on \(port): errno \(errno)")
        }
        sockets.withLock { $0.listener = fd }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.start()
    }

    /// Closes the listener and every forwarded connection (both sides see a reset path).
    public func cut() {
        let (listener, open) = sockets.withLock { state in
            defer { state = (nil, []) }
            return state
        }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        if let listener { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let accepted = sockets.withLock { state -> Bool in
                guard state.listener == listener, connected == 0 else { return false }
                state.open.formUnion([client, upstream])
                return true
            }
            guard accepted else { close(client); close(upstream); continue }
            let stopped = Atomic<Int>(0)
            for (from, to) in [(client, upstream), (upstream, client)] {
                Thread { [self] in
                    pump(from, to)
                    // The second direction to stop closes the pair.
                    if stopped.add(1, ordering: .acquiringAndReleasing).newValue == 2 {
                        sockets.withLock { $0.open.subtract([client, upstream]) }
                        close(client)
                        close(upstream)
                    }
                }.start()
            }
        }
    }

    private func pump(_ from: Int32, _ to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            var sent = 0
            while sent < n {
                let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                if w <= 0 { break }
                sent += w
            }
            if sent < n { break }
        }
        shutdown(from, Int32(SHUT_RDWR))
        shutdown(to, Int32(SHUT_RDWR))
    }

    static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
