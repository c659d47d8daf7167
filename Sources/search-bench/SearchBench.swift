import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Consul
import HelpText
import SearchAPI
import SearchClient
import SearchModels
import Synchronization

/// Load generator for the Search service: N concurrent callers for a fixed time, then the rate and
/// latency quantiles. scripts/bench-search runs it beside pgbench sending the same SQL to PostgreSQL.
@main
struct SearchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-bench",
        abstract: "Call Search/search as fast as N concurrent callers can; print calls/s and p50/p99.",
        discussion: HelpText.reflow("""
            Output is one line: `concurrency=N calls=C errors=E retried=T rate=R/s mean_ms=M p50_ms=X p99_ms=Y max_ms=Z` \
            (retried: calls answered after a retry on another instance, --client opsdeck only).
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

    func report(_ result: (latencies: [Double], errors: Int), retried: Int = 0) {
        let sorted = result.latencies.sorted()
        func quantile(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
        }
        let mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        print(String(format: "concurrency=%d calls=%d errors=%d retried=%d rate=%.0f/s mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
                     concurrency, sorted.count, result.errors, retried, Double(sorted.count) / seconds,
                     mean, quantile(0.50), quantile(0.99), sorted.last ?? 0))
    }

    /// Runs `concurrency` loops until `seconds` pass; returns each successful call's latency in ms.
    func callers(_ call: @escaping @Sendable () async throws -> Void,
                 concurrency: Int, seconds: Double) async throws -> (latencies: [Double], errors: Int) {
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

/// Calls answered after a retry, counted across the callers.
final class Retried: Sendable {
    let count = Atomic<Int>(0)
}

/// Whose turn it is in the list of requests, shared by the callers.
final class Turns: Sendable {
    let next = Atomic<Int>(0)
}
