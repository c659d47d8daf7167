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
        try check(Stack.run("/usr/bin/chown", ["postgres:postgres", directory]))
        try check(asPostgres("\(Self.bin)/initdb", ["-D", "\(directory)/data", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]))
        try start()
        try check(Stack.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-qc", "CREATE DATABASE opsdeck"]))
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
        try check(Stack.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "opsdeck",
                                              "-v", "ON_ERROR_STOP=1", "-qc", statement]))
    }

    private func asPostgres(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Stack.run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
    }

    private func check(_ result: (status: Int32, output: String)) throws {
        guard result.status == 0 else {
            throw StackError(message: "scratch PostgreSQL in \(directory) failed (\(result.status)):\n\(result.output)")
        }
    }
}

/// A TCP port nobody listens on right now (bound to 0, read, released), and never one this process
/// handed out before: the kernel may give a released port to the next bind(0), and two suites running side
/// by side must not start their servers on one port (a console test once found another test's agent at the
/// address it had picked for "no agent here").
public func freePort() throws -> Int {
    while true {
        let (fd, port) = try boundTCPSocket(listening: false)
        close(fd)
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// A TCP socket bound to a free port on 127.0.0.1 (listening if asked): the caller closes it.
public func boundTCPSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 1) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else {
        close(fd)
        throw StackError(message: "no free port: errno \(errno)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

