import ArgumentParser
import Deadlines
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Consul
import HelpText
import Logging
import NIOPosix
import SearchAPI
import SearchClient
import SearchModels
import SearchService
import SearchSettings
import Store
import Synchronization
import TerminalSafety

/// Load generator for the Search service: N concurrent callers for a fixed time, then the rate and
/// latency quantiles. scripts/bench-search runs it beside pgbench sending the same SQL to PostgreSQL.
@main
struct SearchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-bench",
        abstract: "Call Search/search (or, with --store, the store) as fast as N concurrent callers can; print calls/s and p50/p99.",
        discussion: HelpText.reflow("""
            Output is one line: `concurrency=N calls=C errors=E retried=T rate=R/s mean_ms=M p50_ms=X p99_ms=Y max_ms=Z` \
            (retried: calls answered after a retry on another instance, --client opsdeck only).

            With --store there is no server (--target is not used): the calls go to PostgreSQL as \
            search-server's handler sends them (its validation, deadline, clients, batches and \
            statements, on NIO's event loops), in this process. Compared with a server's figures, this \
            separates the store's share of a search from the rest; the handler's own work (its counters, \
            metrics and answer) is in neither. The line then also gives cpu_us_per_call, this process's \
            CPU time per measured call in µs (the callers' own work included), and areas_per_call, the \
            areas a search found on average (a benchmark that finds nothing measures nothing). Each \
            caller stays on the event loop that answered it, so more callers spread over the loops, \
            where a server's busy connection asks every search on its own loop: only --concurrency 1 \
            compares with a server's calls. The store settings are search-server's defaults and its \
            SEARCH_* variables (SEARCH_STORE_CONNECTIONS, SEARCH_STORE_BATCHES, SEARCH_STORE_TIMEOUT_MS); \
            Consul KV is not read. PostgreSQL is found through PGHOST, PGPORT, PGUSER, PGPASSWORD and \
            PGDATABASE (default: the local stack's, 127.0.0.1:5434).

            Examples:
              search-bench --target 127.0.0.1:50051 --concurrency 32 --seconds 5
              search-bench --store --concurrency 1 --seconds 5
            """))

    @Option(help: "Server address host:port.") var target = "127.0.0.1:50051"
    @Option(help: "Concurrent callers (each waits for its answer before the next call).") var concurrency = 1
    @Option(help: "Seconds of measured load (after a 1 s warm-up).") var seconds = 10.0
    @Option(help: "Point to look up, lat,lng.") var point = "48.8566,2.3522"
    @Option(help: "A file of points, one lat,lng per line: the callers go through them in turn instead of --point (the same list for every server compared).")
    var points: String?
    @Option(help: "A file of names, one per line: the callers search them in turn (name searches) instead of --point.")
    var names: String?
    @Option(help: "Calls per second at most, over all callers (0: as fast as they can; tests use a few dozen).")
    var rate = 0.0
    @Option(help: "raw: a bare gRPC client; opsdeck: the client of opsdeck search and the search pane (deadline, retry, answer conversion).")
    var client = "raw"
    @Option(help: "With --client opsdeck: find the instances of this service through Consul (DNS on 127.0.0.1:8600, HTTP on $CONSUL_HTTP_ADDR) instead of --target.")
    var service: String?
    @Flag(help: "Call the store in this process instead of a server: search-server's path to PostgreSQL without gRPC.")
    var store = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 (no limit) or more") }
        guard parsePoint() != nil else { throw ValidationError("--point must be lat,lng (for example 48.8566,2.3522)") }
        guard hostPort() != nil else { throw ValidationError("--target must be host:port") }
        if points != nil && names != nil { throw ValidationError("--points and --names are two different loads: give one") }
        if (points != nil || names != nil) && client != "raw" { throw ValidationError("--points and --names need --client raw") }
        guard ["raw", "opsdeck"].contains(client) else { throw ValidationError("--client must be raw or opsdeck") }
        if service != nil && client != "opsdeck" { throw ValidationError("--service needs --client opsdeck") }
        if store && client != "raw" { throw ValidationError("--store calls the store, not a client: leave out --client") }
    }

    func parsePoint() -> (Float, Float)? {
        let parts = point.split(separator: ",").compactMap { Float($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    func hostPort() -> (String, Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else { return nil }
        return (String(target[..<colon]), port)
    }

    /// The requests the callers go through in turn: --points, --names, or the one --point.
    func requests() throws -> [SearchRequest] {
        func lines(_ path: String) throws -> [Substring] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
            guard !lines.isEmpty else { throw ValidationError("\(path) holds no lines") }
            return lines
        }
        if let names {
            return try lines(names).map { name in SearchRequest.with { $0.query = String(name) } }
        }
        if let points {
            return try lines(points).enumerated().map { number, line in
                let parts = line.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 2 else { throw ValidationError("\(points):\(number + 1): expected lat,lng, got '\(line)'") }
                return SearchRequest.with { $0.lat = parts[0]; $0.lng = parts[1] }
            }
        }
        let (lat, lng) = parsePoint()!
        return [SearchRequest.with { $0.lat = lat; $0.lng = lng }]
    }

    func run() async throws {
        let (lat, lng) = parsePoint()!
        let (host, port) = hostPort()!
        let requests = try requests()
        let turns = Turns()
        let concurrency = self.concurrency
        let seconds = self.seconds
        if store {
            try await runStore(requests)
            return
        }
        if client == "opsdeck" {
            // One caller for every task, as the pane has one per service: its connection is shared.
            let discovery = service.map { _ in
                InstanceDiscovery(.consul(dns: ConsulDNS(), http: ConsulClient(configuration: .fromEnvironment())))
            } ?? InstanceDiscovery(.given([ServiceAddress(host: host, port: port)]))
            let caller = SearchCaller(service: service ?? "bench", discovery: discovery)
            let query = SearchQuery(point: GeoPoint(latitude: Double(lat), longitude: Double(lng)))
            let retried = Retried()
            let call: @Sendable () async throws -> Void = {
                if try await caller.search(query).retries != nil { retried.count.add(1, ordering: .relaxed) }
            }
            _ = try await callers(call, concurrency: concurrency, seconds: 1)
            retried.count.store(0, ordering: .relaxed)
            report(try await callers(call, concurrency: concurrency, seconds: seconds), retried: retried.count.load(ordering: .relaxed))
            await caller.close()
            return
        }
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: host, port: port),
                                                           transportSecurity: .plaintext)) { client in
            let search = Search.Client(wrapping: client)
            let call: @Sendable () async throws -> Void = {
                let turn = turns.next.add(1, ordering: .relaxed).oldValue
                _ = try await search.search(requests[turn % requests.count])
            }
            // Warm-up: connections, caches and the server's first plans.
            _ = try await callers(call, concurrency: concurrency, seconds: 1)
            report(try await callers(call, concurrency: concurrency, seconds: seconds))
        }
    }

    /// The calls to PostgreSQL as search-server makes them: the server's settings (store connections,
    /// batches, deadline; defaults and SEARCH_* variables), its clients on NIO's loops, and each caller's
    /// work on the loop that resumes it (`RequestExecutor`, as the server runs its handlers).
    func runStore(_ requests: [SearchRequest]) async throws {
        let environment = ProcessInfo.processInfo.environment
        let (settings, problems) = ServerSettings.resolve(kv: [:], environment: environment, flags: [:])
        if let problem = problems.first {  // the server would go on without it; a benchmark must not
            throw ValidationError("\(problem.key)=\"\(problem.value)\": \(problem.reason ?? "not a valid value")")
        }
        let configuration = StoreConfiguration.fromEnvironment(environment)
        var quiet = Logger(label: "postgres")
        quiet.logLevel = .warning
        let clients = LoopClients(group: MultiThreadedEventLoopGroup.singleton, connections: settings.storeConnections,
                                  backgroundLogger: quiet) { configuration.serverClientConfiguration(connections: $0) }
        let store = AreaStore(clients: clients, logger: quiet, concurrentBatches: settings.storeBatches,
                              batchTimeLimit: { .milliseconds(settings.storeTimeoutMilliseconds) })
        let abandoned = AbandonedOperations()
        let turns = Turns()
        let found = Atomic<Int>(0)
        let call: @Sendable () async throws -> Void = {
            let request = requests[turns.next.add(1, ordering: .relaxed).oldValue % requests.count]
            let query = try SearchValidation.areaQuery(from: request, limits: settings.pageLimits)
            let page = try await withDeadline(.milliseconds(settings.storeTimeoutMilliseconds), abandoned: abandoned) {
                try await store.search(query)
            }
            found.add(page.areas.count, ordering: .relaxed)
        }
        let callee = "PostgreSQL at \(configuration.host):\(configuration.port), database \(configuration.database)"
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for client in clients.all { tasks.addTask { await client.run() } }
            try await RequestExecutor.run(on: EventLoopTaskExecutor(group: .singleton)) {
                _ = try await callers(call, concurrency: concurrency, seconds: 1)
                found.store(0, ordering: .relaxed)
                let before = Self.processCPUMicroseconds()
                let result = try await callers(call, concurrency: concurrency, seconds: seconds)
                let cpu = Self.processCPUMicroseconds() - before
                let calls = Double(max(1, result.latencies.count))
                report(result, callee: callee, extra: String(format: " cpu_us_per_call=%.0f areas_per_call=%.2f",
                                                             result.latencies.isEmpty ? 0 : cpu / calls,
                                                             Double(found.load(ordering: .relaxed)) / calls))
            }
            tasks.cancelAll()
        }
    }

    /// User and system CPU time of this process so far.
    static func processCPUMicroseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func micro(_ time: timeval) -> Double { Double(time.tv_sec) * 1e6 + Double(time.tv_usec) }
        return micro(usage.ru_utime) + micro(usage.ru_stime)
    }

    func report(_ result: (latencies: [Double], errors: Int), callee: String? = nil, retried: Int = 0, extra: String = "") {
        let sorted = result.latencies.sorted()
        func quantile(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
        }
        let mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        let line = String(format: "concurrency=%d calls=%d errors=%d retried=%d rate=%.0f/s mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
                          concurrency, sorted.count, result.errors, retried, Double(sorted.count) / seconds,
                          mean, quantile(0.50), quantile(0.99), sorted.last ?? 0) + extra
        // Unbuffered, as the error below: the line comes first in a file that gets both.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        if result.errors > 0, let first = Self.firstError.text.withLock({ $0 }) {
            let to = callee ?? service.map { "the instances of \($0)" } ?? target
            FileHandle.standardError.write(Data("search-bench: failed calls to \(to): \(result.errors); the first: \(TerminalText.sanitize(first))\n".utf8))
        }
    }

    /// The first call that failed, for the user: a count alone does not say that PostgreSQL or the server
    /// is not there.
    static let firstError = FirstError()

    /// Runs `concurrency` loops until `seconds` pass; returns each successful call's latency in ms. The
    /// first error kept is this run's (not the warm-up's).
    func callers(_ call: @escaping @Sendable () async throws -> Void,
                 concurrency: Int, seconds: Double) async throws -> (latencies: [Double], errors: Int) {
        Self.firstError.text.withLock { $0 = nil }
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        // Each caller's share of the rate: a call at most every `gap`.
        let gap: Duration? = rate > 0 ? .milliseconds(Int(1000 * Double(concurrency) / rate)) : nil
        return try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = [], errors = 0
                    latencies.reserveCapacity(100_000)
                    while clock.now < end {
                        let start = clock.now
                        do {
                            try await call()
                            let elapsed = clock.now - start
                            latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                        } catch {
                            errors += 1
                            Self.firstError.text.withLock { $0 = $0 ?? String(describing: error) }
                        }
                        if let gap { try? await Task.sleep(until: start + gap, clock: clock) }
                    }
                    return (latencies, errors)
                }
            }
            var all: [Double] = [], errors = 0
            for try await (latencies, failed) in group {
                all += latencies
                errors += failed
            }
            return (all, errors)
        }
    }
}

/// What the first failed call threw, kept across the callers.
final class FirstError: Sendable {
    let text = Mutex<String?>(nil)
}

/// Calls answered after a retry, counted across the callers.
final class Retried: Sendable {
    let count = Atomic<Int>(0)
}

/// Whose turn it is in the list of requests, shared by the callers.
final class Turns: Sendable {
    let next = Atomic<Int>(0)
}
