import ArgumentParser
import Consul
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SearchAPI
import SearchSettings
import SwiftProtobuf
import Synchronization

/// A fleet of pretend search-server instances in one process, for measuring the console at scale.
///
/// Each instance is a gRPC server on its own loopback port answering `Search/monitor` (search itself is
/// not served), registered in a Consul agent with a TTL check that holds its status: most pass; every
/// `--failing-every`th is critical and its Monitor fails; every `--slow-every`th answers Monitor after
/// `--slow-ms`; every `--flapping-every`th turns critical and back every `--flap-seconds`. One service,
/// `fleet-big`, has `--big` instances; the others are spread over the remaining services.
///
/// Every `--report-seconds` it prints one line about the Monitor calls the big service received:
/// `rounds=R last_round_ms=X max_round_ms=Y covered=C/N peers_max=P calls=K`, where a round is a burst of
/// calls (a gap of over 500 ms starts the next), its duration from its first call to its last, `covered`
/// how many instances the last complete round reached, and `peers_max` the most connections any one
/// instance saw (one per client that polls it); `rounds` and `max_round_ms` count from the start.
/// Deregisters everything on SIGINT or SIGTERM.
@main
struct FleetSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet-sim",
        abstract: "Serve Monitor for a fleet of pretend instances registered in Consul (for scripts/bench-console).")

    @Option(help: "Consul HTTP address.") var consul = "127.0.0.1:8500"
    @Option(help: "Instances in all.") var instances = 2_000
    @Option(help: "Services in all, fleet-big included.") var services = 200
    @Option(help: "Instances of fleet-big.") var big = 200
    @Option(help: "Every Nth instance answers Monitor slowly (0: none).") var slowEvery = 50
    @Option(help: "How slowly, in milliseconds.") var slowMs = 300
    @Option(help: "Every Nth instance is critical and its Monitor fails (0: none).") var failingEvery = 97
    @Option(help: "Every Nth instance flaps between passing and critical (0: none).") var flappingEvery = 0
    @Option(help: "Seconds between a flapping instance's changes.") var flapSeconds = 20
    @Option(help: "Seconds between report lines.") var reportSeconds = 5

    func validate() throws {
        guard instances >= 1, services >= 1, big >= 1, big <= instances else {
            throw ValidationError("need 1 <= --big <= --instances, and --services >= 1")
        }
        guard services == 1 || instances > big else { throw ValidationError("no instances left for the other services") }
    }

    /// Instance i's service: the first `big` are fleet-big, the rest round-robin over the others.
    func service(of index: Int) -> String {
        index < big ? "fleet-big" : String(format: "fleet-%03d", (index - big) % max(1, services - 1) + 1)
    }

    func run() async throws {
        let consul = ConsulClient(configuration: ConsulConfiguration(address: self.consul))
        let calls = BigServiceCalls()
        let started = ContinuousClock.now
        let pretend = (0..<instances).map { index in
            Pretend(index: index, id: "\(service(of: index))-\(index)", big: index < big,
                    slow: slowEvery > 0 && index % slowEvery == slowEvery - 1 ? .milliseconds(slowMs) : nil,
                    failing: failingEvery > 0 && index % failingEvery == failingEvery - 1,
                    flapping: flappingEvery > 0 && index % flappingEvery == flappingEvery - 1,
                    calls: calls, started: started)
        }
        try await withThrowingDiscardingTaskGroup { group in
            // The servers first, each on a port of its own.
            var ports: [Int] = []
            for instance in pretend {
                let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
                let server = GRPCServer(transport: transport, services: [instance])
                group.addTask { try await server.serve() }
                guard let port = try await transport.listeningAddress.ipv4?.port else {
                    throw ValidationError("instance \(instance.id) is not listening on IPv4")
                }
                ports.append(port)
            }
            // Then the registrations, 16 at a time.
            try await withThrowingTaskGroup(of: Void.self) { registrations in
                for (instance, port) in zip(pretend, ports) {
                    if instance.index >= 16 { try await registrations.next() }
                    registrations.addTask {
                        try await consul.register(ServiceRegistration(
                            id: instance.id, name: service(of: instance.index), tags: ["grpc"], address: "127.0.0.1", port: port,
                            // As search-server registers: the console draws its built-in dashboard for them.
                            meta: [SettingsTable.metaKey: SettingsTable.metaValue],
                            checks: [CheckDefinition(id: "\(instance.id)-ttl", probe: .ttl(.seconds(86_400)),
                                                     initialStatus: instance.failing ? .critical : .passing)]))
                    }
                }
                try await registrations.waitForAll()
            }
            say("fleet-sim: \(instances) instances in \(services) services registered (fleet-big: \(big)) on \(self.consul)")

            group.addTask { try await flap(pretend.filter(\.flapping), consul) }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(reportSeconds))
                    say(calls.report(instances: big))
                }
            }
            group.addTask {
                await waitForTerminationSignal()
                await withTaskGroup(of: Void.self) { deregistrations in
                    for instance in pretend { deregistrations.addTask { try? await consul.deregister(serviceID: instance.id) } }
                }
                say("fleet-sim: deregistered, stopping")
                Foundation.exit(0)
            }
        }
    }

    func flap(_ flapping: [Pretend], _ consul: ConsulClient) async throws {
        guard !flapping.isEmpty else { return }
        var critical = false
        while true {
            try await Task.sleep(for: .seconds(flapSeconds))
            critical.toggle()
            for instance in flapping {
                try? await consul.updateTTL(checkID: "\(instance.id)-ttl", status: critical ? .critical : .passing,
                                            output: critical ? "flapping: down" : "flapping: up")
            }
        }
    }
}

/// One pretend instance: its Monitor answers.
struct Pretend: Search.SimpleServiceProtocol {
    let index: Int
    let id: String
    let big: Bool
    let slow: Duration?
    let failing: Bool
    let flapping: Bool
    let calls: BigServiceCalls
    let started: ContinuousClock.Instant

    func search(request: SearchRequest, context: ServerContext) async throws -> SearchResponses {
        throw RPCError(code: .unimplemented, message: "fleet-sim serves Monitor only")
    }

    func monitor(request: Google_Protobuf_Empty, context: ServerContext) async throws -> MonitorResponse {
        if big { calls.record(instance: index, peer: context.remotePeer) }
        if let slow { try await Task.sleep(for: slow) }
        if failing { throw RPCError(code: .unavailable, message: "store unreachable: fleet-sim says so") }
        let uptime = ContinuousClock.now - started
        return MonitorResponse.with {
            $0.instanceID = id
            $0.version = "fleet-sim"
            $0.nThings = 177
            $0.uptimeSeconds = Double(uptime.components.seconds)
            $0.requests = Int64(index * 10)
            $0.latencyP50Ms = 0.8
            $0.latencyP99Ms = slow.map { Double($0.components.seconds * 1000) + Double($0.components.attoseconds) / 1e15 } ?? 2.5
            $0.storeStatus = "ok"
            $0.logLevel = "info"
        }
    }
}

/// The Monitor calls fleet-big's instances received: their times, and the connections (peers) each saw.
final class BigServiceCalls: Sendable {
    private struct State {
        /// The calls since the last complete round.
        var times: [(instance: Int, at: ContinuousClock.Instant)] = []
        var peers: [Int: Set<String>] = [:]
        var total = 0
        var rounds = 0
        var longestRound = 0
    }
    private let state = Mutex(State())

    func record(instance: Int, peer: String) {
        state.withLock {
            $0.times.append((instance, .now))
            $0.peers[instance, default: []].insert(peer)
            $0.total += 1
        }
    }

    /// Rounds are bursts separated by more than 500 ms; the last one may still be running, so the last
    /// complete round is the one reported (and the times before it are dropped).
    func report(instances: Int) -> String {
        state.withLock { s in
            var rounds: [[(instance: Int, at: ContinuousClock.Instant)]] = []
            for call in s.times {
                if let last = rounds.last?.last, call.at - last.at <= .milliseconds(500) {
                    rounds[rounds.count - 1].append(call)
                } else {
                    rounds.append([call])
                }
            }
            let complete = rounds.dropLast()
            func milliseconds(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
            let durations = complete.map { milliseconds($0.last!.at - $0.first!.at) }
            let covered = complete.last.map { Set($0.map(\.instance)).count } ?? 0
            if let keep = rounds.last { s.times = keep }
            s.rounds += complete.count
            s.longestRound = max(s.longestRound, durations.max() ?? 0)
            let peersMax = s.peers.values.map(\.count).max() ?? 0
            return "rounds=\(s.rounds) last_round_ms=\(durations.last ?? -1) max_round_ms=\(s.longestRound) "
                + "covered=\(covered)/\(instances) peers_max=\(peersMax) calls=\(s.total)"
        }
    }
}

/// A line on stdout at once (a pipe to the benchmark script is not line-buffered otherwise).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

final class Fired: Sendable { let flag = Atomic(false) }

/// Returns on the first SIGINT or SIGTERM.
func waitForTerminationSignal() async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0) }
    let fired = Fired()
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        for source in sources {
            source.setEventHandler {
                if !fired.flag.exchange(true, ordering: .relaxed) { done.resume() }
            }
            source.resume()
        }
    }
    sources.forEach { $0.cancel() }
}
