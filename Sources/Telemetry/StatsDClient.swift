#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Sends StatsD updates over UDP, batched, without ever blocking or failing the caller.
///
/// Updates wait up to `flushDelay` to share datagrams: counters are summed per name and sent as one line,
/// a gauge sends its last value, and timings (whose samples the StatsD server needs one by one, for its
/// percentiles) are packed as lines into datagrams of at most `maxDatagram` bytes. One datagram per update
/// cost search-server a quarter of its calls per second under load (four `send`s per call, and four
/// packets for collectd to read, on the same cores). collectd's statsd plugin aggregates over its own
/// interval (10 s in the stack), so the delay changes no chart.
///
/// The socket is non-blocking and connected once; a datagram that cannot be sent at once (buffer full,
/// nobody listening) is dropped and counted in `droppedPackets`, because metrics must never slow a request.
/// `flush()` sends what waits at once: call it before exiting.
public final class StatsDClient: Sendable {
    /// Fits one Ethernet frame with IP and UDP headers, as StatsD clients commonly size their packets.
    public static let maxDatagram = 1_400

    private let socket: Int32
    private let dropped = Atomic<Int>(0)
    public let prefix: String
    public let flushDelay: Duration
    private let pending = Mutex(Pending())

    private struct Pending {
        var counters: [String: Int64] = [:]
        var gauges: [String: Double] = [:]
        /// Timing lines, already formatted.
        var lines = Packer()
        var flushScheduled = false
        var isEmpty: Bool { counters.isEmpty && gauges.isEmpty && lines.bytes.isEmpty }
    }

    /// Lines packed newline-separated into datagrams of at most `maxDatagram` bytes.
    private struct Packer {
        var bytes: [UInt8] = []

        /// Adds a line; returns the datagram it did not fit in, to be sent.
        mutating func add(_ line: String) -> [UInt8]? {
            var full: [UInt8]?
            if !bytes.isEmpty && bytes.count + 1 + line.utf8.count > StatsDClient.maxDatagram {
                full = bytes
                bytes.removeAll(keepingCapacity: true)
            }
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "\n")) }
            bytes.append(contentsOf: line.utf8)
            return full
        }
    }

    /// - Parameter prefix: prepended with a dot to every metric name (e.g. "search" → "search.requests").
    public init(host: String = "127.0.0.1", port: UInt16 = 8125, prefix: String = "",
                flushDelay: Duration = .milliseconds(250)) throws {
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
        self.flushDelay = flushDelay
    }

    deinit {
        flush()
        close(socket)
    }

    public func increment(_ name: String, by value: Int64 = 1) { increment(wireName: wireName(name), by: value) }
    public func gauge(_ name: String, _ value: Double) { gauge(wireName: wireName(name), value) }
    public func timing(_ name: String, milliseconds: Double) { timing(wireName: wireName(name), milliseconds: milliseconds) }

    /// The name as sent: prefixed and sanitized. Metric handlers compute it once, not on every update.
    func wireName(_ name: String) -> String { StatsDLine.sanitize(prefix.isEmpty ? name : "\(prefix).\(name)") }

    func increment(wireName name: String, by value: Int64) {
        update { $0.counters[name, default: 0] &+= value }
    }

    func gauge(wireName name: String, _ value: Double) {
        update { $0.gauges[name] = value }
    }

    func timing(wireName name: String, milliseconds: Double) {
        let line = StatsDLine.line(name, StatsDLine.format(milliseconds), "ms")
        updateFilling { $0.lines.add(line) }
    }

    /// Applies `change` under the lock, sends a datagram it filled, and schedules the flush of what waits.
    private func updateFilling(_ change: (inout Pending) -> [UInt8]?) {
        let (full, schedule) = pending.withLock { pending -> ([UInt8]?, Bool) in
            let full = change(&pending)
            defer { pending.flushScheduled = true }
            return (full, !pending.flushScheduled)
        }
        if let full { send(bytes: full) }
        if schedule {
            let delay = flushDelay
            Task.detached { [weak self] in
                try? await Task.sleep(for: delay)
                self?.flush()
            }
        }
    }

    private func update(_ change: (inout Pending) -> Void) {
        updateFilling { pending in change(&pending); return nil }
    }

    /// Sends everything that waits, in as few datagrams as fit.
    public func flush() {
        let taken = pending.withLock { pending -> Pending in
            defer { pending = Pending() }
            return pending
        }
        guard !taken.isEmpty else { return }
        var packer = taken.lines
        let lines = taken.counters.map { StatsDLine.line($0.key, String($0.value), "c") }
            + taken.gauges.map { StatsDLine.line($0.key, StatsDLine.format($0.value), "g") }
        for line in lines {
            if let full = packer.add(line) { send(bytes: full) }
        }
        if !packer.bytes.isEmpty { send(bytes: packer.bytes) }
    }

    /// Sends one raw line (or several separated by newlines, up to one datagram) at once.
    public func send(_ line: String) {
        send(bytes: Array(line.utf8))
    }

    private func send(bytes: [UInt8]) {
        let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if sent < 0 { dropped.add(1, ordering: .relaxed) }
    }

    /// Datagrams that could not be handed to the kernel.
    public var droppedPackets: Int { dropped.load(ordering: .relaxed) }
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
