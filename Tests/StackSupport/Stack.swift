import Foundation

/// The local stack (scripts/stack) as integration tests see it.
///
/// `ensureUp()` runs `scripts/stack up` once per test process: it installs what is missing, starts
/// whatever is not running and returns at once when all is up. If it fails, the tests that need the
/// stack fail with the script's output; they never skip.
public enum Stack {
    /// The repository root, found from this file's path (Tests/StackSupport/Stack.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let postgresPort = 5434
    public static let kafkaBootstrap = "127.0.0.1:9092"
    public static let statsdPort: UInt16 = 8125
    public static let graphiteURL = "http://127.0.0.1:8002"

    public static func ensureUp() async throws {
        ignoreBrokenPipes()
        try await upOnce.value
    }

    /// A write to a pipe or socket whose reader is gone fails with EPIPE instead of killing the test
    /// process, as in any program that runs librdkafka: run alone, the tail's suites died of SIGPIPE in two
    /// runs of four (their producers' brokers are killed under them; scripts/test's full run never did).
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    private static let upOnce = Task.detached {
        // No building from inside `swift test`: SwiftPM holds the build lock while tests run.
        let result = try await run(repositoryRoot.appendingPathComponent("scripts/stack").path, ["up"],
                                   environment: ["OPSDECK_STACK_NO_BUILD": "1"])
        guard result.status == 0 else {
            throw StackError(message: "scripts/stack up exited with \(result.status):\n\(result.output)")
        }
        try await waitForPassingInstances()
    }

    /// The stack's search-server instances (search-1..3) passing their Consul checks, which tests that
    /// search "search-service" rely on. `up` returns once they are registered; a check's first probe
    /// comes up to an interval (10 s) later, longer while every suite starts at once (seen in CI: none
    /// passing 13 s into the run, after scripts/test had restarted them).
    static func waitForPassingInstances(within limit: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + limit
        var last = ""
        while ContinuousClock.now < deadline {
            let result = try await run("/usr/bin/curl", ["-fsS", "--max-time", "5", "http://127.0.0.1:8500/v1/health/checks/search-service"])
            last = result.output
            if result.status == 0, let data = result.output.data(using: .utf8),
               let checks = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
                // The stack's own three, by ID: another registration of the service (a test's, a stale
                // one) is not the stack's to wait for.
                let passing = Set(checks.filter { $0["Status"] as? String == "passing" }.compactMap { $0["ServiceID"] as? String })
                if passing.isSuperset(of: (1...3).map { "search-service-\($0)" }) { return }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw StackError(message: "the stack's search-server instances did not all pass their checks within \(limit); "
                         + "last answer of /v1/health/checks/search-service:\n\(last)")
    }

    /// Consul's checks of `service` as a failure message shows them: one line per instance with its
    /// status and the probe's output, which says why one was not passing.
    public static func checksOf(_ service: String) -> String {
        guard let result = try? runBlocking("/usr/bin/curl", ["-fsS", "--max-time", "5", "http://127.0.0.1:8500/v1/health/checks/\(service)"]),
              result.status == 0, let data = result.output.data(using: .utf8),
              let checks = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            return "(Consul's checks of \(service) could not be read)"
        }
        return "Consul's checks of \(service):\n" + checks.map { check in
            "  \(check["ServiceID"] ?? "?"): \(check["Status"] ?? "?"): \(check["Output"] ?? "")"
        }.joined(separator: "\n")
    }

    /// Runs a command to completion, returning its exit status and its combined output.
    ///
    /// Output goes through a temporary file, not a pipe: a daemon the command leaves running (pg_ctl
    /// start, scripts/stack up) inherits the pipe, and reading it to the end would wait for the daemon.
    /// posix_spawn and waitpid rather than Foundation's Process, whose exit notification was seen never to
    /// arrive for `runuser` here (the child stayed a zombie and the test hung; see `spawn` for why).
    /// Blocks its thread: from async code, use `run`, which waits off the cooperative pool.
    public static func runBlocking(_ executable: String, _ arguments: [String],
                                   environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("opsdeck-run-\(UInt64.random(in: 0...UInt64.max)).out").path
        defer { unlink(outputPath) }
        let pid = try spawn(executable, arguments, environment: environment ?? [:], stdout: outputPath, stderr: nil)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (exitCode(status), text)
    }

    /// `runBlocking` from async code: the wait is on a Dispatch thread. Swift's cooperative pool has two
    /// threads here, and every test's awaits resume on them; a child waited for on one of them (an opsdeck
    /// command, protoc, initdb) held back every other suite for its whole run (gdb saw pool threads in
    /// waitpid): in a full run, starting an in-process agent took 3-9 s and a first HTTPS request 2.4 s.
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
        try await offPool { try runBlocking(executable, arguments, environment: environment) }
    }

    /// Starts a program with stdin from /dev/null and stdout and stderr into files (stderr nil: into
    /// the stdout file), the environment being this process's with `environment` over it.
    ///
    /// The child gets nothing else of the test process:
    /// - No other descriptor (closefrom 3). Tests spawn from many threads at once, and a descriptor
    ///   open at that moment would live as long as the child. Seen: Foundation's Process learns of its
    ///   child's exit when a socket the child holds closes; a long-lived program spawned meanwhile kept
    ///   that socket open, and a search-server that had exited looked alive for 30 s more.
    /// - Default signal actions and an empty mask, so a program is ended by SIGTERM even when the test
    ///   runner ignores or blocks it. Dispatch's worker threads block most signals, and `offPool` spawns
    ///   from them: a scratch broker started that way had SIGTERM blocked and seemed to ignore it.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String],
                      stdout: String, stderr: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        guard addCloseFrom(&actions, 3) == 0 else { throw StackError(message: "posix_spawn_file_actions_addclosefrom_np failed") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        var noSignal = sigset_t()
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        // Programs under test never read the developer's opsdeck config: its default_context could send
        // a test's writes to a real cluster. A test that wants a config file names it. search-server keeps
        // its PostgreSQL connections open: a few each, or the dozens of instances the suites start at once
        // would pass PostgreSQL's 100 (the default of 8 is for a server under load).
        let isolated = ["XDG_CONFIG_HOME": "/nonexistent/opsdeck-tests", "OPSDECK_CONTEXT": "", "SEARCH_STORE_CONNECTIONS": "2"]
        let env = ProcessInfo.processInfo.environment.merging(isolated) { _, new in new }.merging(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw StackError(message: "cannot start \(executable): errno \(spawned)") }
        return pid
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does not
    /// export (it is behind _GNU_SOURCE). It closes at spawn time, so a descriptor another thread opens
    /// a moment before is closed too, which a list of open descriptors made beforehand would miss.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or newer is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// WIFEXITED / WEXITSTATUS by hand (C macros): low 7 bits are the signal, bits 8-15 the exit code;
    /// a signal death is reported as 128 + the signal, as shells do.
    static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

public struct StackError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// A name no other test run uses, for topics and metrics.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(Int(Date().timeIntervalSince1970))-\(UInt32.random(in: 0...UInt32.max))"
}
