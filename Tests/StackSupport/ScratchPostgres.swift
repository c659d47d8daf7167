import Foundation
import Synchronization

/// A private PostgreSQL cluster of the same installation as the stack's, for tests that stop and start
/// the database (stopping the stack's own would break the suites running beside them).
public final class ScratchPostgres: Sendable {
    public let port: Int
    public let directory: String
    private static let bin = "/usr/lib/postgresql/15/bin"

    /// initdb + start on a free port with an empty database `opsdeck` (about 3 s).
    public init() throws {
        port = try freePort()
        directory = "/var/tmp/opsdeck-scratch-pg-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try check(Stack.runBlocking("/usr/bin/chown", ["postgres:postgres", directory]))
        try check(asPostgres("\(Self.bin)/initdb", ["-D", "\(directory)/data", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]))
        try start()
        try check(Stack.runBlocking("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-qc", "CREATE DATABASE opsdeck"]))
    }

    deinit {
        _ = try? asPostgres("\(Self.bin)/pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func start() throws {
        try check(asPostgres("\(Self.bin)/pg_ctl", [
            "-D", "\(directory)/data", "-l", "\(directory)/postgres.log", "-w",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1", "start"]))
    }

    public func stop() throws {
        try check(asPostgres("\(Self.bin)/pg_ctl", ["-D", "\(directory)/data", "-m", "fast", "-w", "stop"]))
    }

    /// Runs SQL in database `opsdeck`.
    public func sql(_ statement: String) throws {
        try check(Stack.runBlocking("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "opsdeck",
                                              "-v", "ON_ERROR_STOP=1", "-qc", statement]))
    }

    private func asPostgres(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Stack.runBlocking("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
    }

    private func check(_ result: (status: Int32, output: String)) throws {
        guard result.status == 0 else {
            throw StackError(message: "scratch PostgreSQL in \(directory) failed (\(result.status)):\n\(result.output)")
        }
    }
}

/// A port nobody uses right now on TCP or UDP, below the kernel's ephemeral range, and never one this
/// process handed out before. The port is released when this returns, so a caller that starts a server
/// on it must not lose it to another socket meanwhile: the kernel gives ports of the ephemeral range to
/// every bind(0) and outgoing connection (a console test once found, at the port it had picked for "no
/// agent here", the agent another suite had started on the same port), never ports below it; and two
/// suites of this process never get the same one.
public func freePort() throws -> Int {
    let ephemeralLow = ephemeralPortRange()?.lowerBound ?? 32_768
    let candidates = (ephemeralLow / 2)..<ephemeralLow  // 16384-32767 by default; the stack's ports are below 10000
    for _ in 0..<1_000 {
        let port = Int.random(in: candidates)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        guard let tcp = try? boundSocket(type: SOCK_STREAM, port: port, listening: false) else { continue }
        close(tcp.fd)
        guard let udp = try? boundSocket(type: SOCK_DGRAM, port: port, listening: false) else { continue }
        close(udp.fd)
        return port
    }
    throw StackError(message: "no free port in \(candidates) after 1,000 tries")
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// `/proc/sys/net/ipv4/ip_local_port_range`: where the kernel picks ports for bind(0) and connect().
private func ephemeralPortRange() -> ClosedRange<Int>? {
    guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return nil }
    let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
    return bounds[0]...bounds[1]
}

/// A TCP socket bound to a free port on 127.0.0.1 (listening if asked): the caller closes it.
public func boundTCPSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    try boundSocket(type: SOCK_STREAM, port: 0, listening: listening)
}

/// A socket of `type` bound to 127.0.0.1:`port` (0: a free one the kernel picks), listening if asked.
private func boundSocket(type: __socket_type, port: Int, listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(type.rawValue), 0)
    guard fd >= 0 else { throw StackError(message: "no socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 1) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else {
        let error = errno
        close(fd)
        throw StackError(message: port == 0 ? "no free port: errno \(error)" : "port \(port) is taken: errno \(error)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

