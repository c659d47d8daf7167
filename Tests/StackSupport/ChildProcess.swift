import Foundation
import Synchronization

/// A program run by a test, with stdout and stderr in files (readable while it runs), kept apart unless
/// `mergingStderr` asks for one file as a terminal would show them.
///
/// posix_spawn + waitpid, like `Stack.runBlocking`; ended by PID (SIGTERM, then SIGKILL if the test forgets).
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let command: String
    private let stdoutPath: String
    private let stderrPath: String
    private let exitStatus = Mutex<Int32?>(nil)

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                mergingStderr: Bool = false) throws {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("opsdeck-child-\(UInt64.random(in: 0...UInt64.max))").path
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        command = ([executable] + arguments).joined(separator: " ")
        let pid = try Stack.spawn(executable, arguments, environment: environment, stdout: stdoutPath,
                                  stderr: mergingStderr ? nil : stderrPath)
        self.pid = pid
    }

    deinit {
        if (try? reap(block: false)) == nil {
            kill(pid, SIGKILL)
            _ = try? reap(block: true)
        }
        unlink(stdoutPath)
        unlink(stderrPath)
    }

    public var stdoutBytes: [UInt8] { (FileManager.default.contents(atPath: stdoutPath)).map { Array($0) } ?? [] }
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The exit code (128 + signal when killed), or nil while it runs.
    @discardableResult
    private func reap(block: Bool) throws -> Int32? {
        try exitStatus.withLock { known in
            if let known { return known }
            var status: Int32 = 0
            let result = waitpid(pid, &status, block ? 0 : WNOHANG)
            if result == 0 { return nil }
            guard result == pid else { throw StackError(message: "waitpid(\(pid)): errno \(errno)") }
            known = Stack.exitCode(status)
            return known
        }
    }

    public var isRunning: Bool { (try? reap(block: false)) == nil }

    /// Waits for a process that is about to end (after SIGKILL), without a timeout.
    public func waitForExitBlocking() throws -> Int32 {
        try reap(block: true) ?? -1
    }

    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = try reap(block: false) { return status }
            guard ContinuousClock.now < deadline else {
                throw StackError(message: "\(command) still running after \(timeout)\n\(outputForErrors)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until `condition` holds for (stdout, stderr); fails with both if it does not in time.
    public func waitUntil(_ what: String, timeout: Duration = .seconds(20),
                          _ condition: (String, String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(stdout, stderr) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StackError(message: "\(command): not \(what) within \(timeout)\n\(outputForErrors)")
    }

    /// What a failure message shows of the program: the end of its stdout, and its stderr.
    private var outputForErrors: String {
        "stdout (tail):\n\(stdout.suffix(2_000))\nstderr:\n\(stderr)"
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }
}

/// Runs blocking or CPU-heavy test work (spawning and waiting for a program, producing thousands of
/// records, parsing a large output) on a dispatch thread. Swift's cooperative pool has two threads
/// here: a test that blocks one slows every other test's timers, and timing assertions elsewhere fail.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
