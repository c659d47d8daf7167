import Console
import Consul
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SearchAPI
import SearchClient
import SwiftProtobuf

/// Calls Monitor on every wanted instance, all at once (at most `concurrency` in flight),
/// each with a deadline, every `interval`. One gRPC client per instance, kept while the instance is
/// listed, so a poll measures the call and not a TCP and HTTP/2 set-up.
public actor MonitorPoller {
    private var targets: [String: String] = [:]  // instance (`ServiceEntry.instanceKey`) -> host:port
    private var connections: GRPCConnections
    private let send: @Sendable (FeedEvent) -> Void
    private let interval: Duration
    private let deadline: Duration
    private let concurrency: Int

    public init(interval: Duration = .seconds(2), deadline: Duration = .seconds(1), concurrency: Int = 16, tls: GRPCTLS? = nil,
                send: @escaping @Sendable (FeedEvent) -> Void) {
        connections = GRPCConnections(tls: tls)
        self.interval = interval
        self.deadline = deadline
        self.concurrency = concurrency
        self.send = send
    }

    /// Bumped by every change of targets: a round started before it reports nothing (its instances may
    /// belong to a service no longer shown).
    private var generation = 0
    /// One round at a time; a change during a round asks for another right after it.
    private var polling = false
    private var pollAgain = false

    public func setTargets(_ new: [String: String]) {
        // A client whose instance left, or moved, is closed.
        connections.keepOnly(Set(new.values.compactMap(Self.serviceAddress)))
        guard new != targets else { return }
        targets = new
        generation += 1
        Task { await self.pollOnce() }  // show new instances without waiting for the next round
    }

    /// Clients held now (one per address), for tests.
    var clientCount: Int { connections.count }

    /// Polls until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await pollOnce()
            try? await Task.sleep(for: interval)
        }
        connections.closeAll()
    }

    private func pollOnce() async {
        guard !polling else { pollAgain = true; return }
        polling = true
        repeat {
            pollAgain = false
            await round()
        } while pollAgain && !Task.isCancelled
        polling = false
    }

    private func round() async {
        let generation = generation
        let work = targets.compactMap { id, address in
            Self.serviceAddress(address).flatMap { connections.client(for: $0) }.map { (id, $0) }
        }
        guard !work.isEmpty else { return }
        var ok = 0, failed = 0
        await withTaskGroup(of: (String, MonitorSample).self) { group in
            var pending = work[...]
            func startNext() {
                guard let (id, client) = pending.popFirst() else { return }
                group.addTask { [deadline] in (id, await Self.call(client, deadline: deadline)) }
            }
            for _ in 0..<concurrency { startNext() }
            for await (id, sample) in group {
                if case .ok = sample.outcome { ok += 1 } else { failed += 1 }
                if self.generation == generation { send(.monitor(instance: id, sample)) }
                startNext()
            }
        }
        if self.generation == generation { send(.monitorRound(ok: ok, failed: failed, at: epochMilliseconds())) }
    }

    /// "host:port" or "[v6]:port" as discovery reports it.
    static func serviceAddress(_ text: String) -> ServiceAddress? {
        HostPort.parse(text).map { ServiceAddress(host: $0.host, port: $0.port) }
    }

    /// One Monitor call to `address` on a connection of its own (`opsdeck monitor`).
    public static func callOnce(address: String, deadline: Duration, tls: GRPCTLS? = nil) async -> MonitorSample {
        var connections = GRPCConnections(tls: tls)
        defer { connections.closeAll() }
        guard let client = serviceAddress(address).flatMap({ connections.client(for: $0) }) else {
            return MonitorSample(outcome: .failed("bad address \(address)"), roundTripMilliseconds: 0, at: epochMilliseconds())
        }
        return await call(client, deadline: deadline)
    }

    static func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>, deadline: Duration) async -> MonitorSample {
        let clock = ContinuousClock()
        let start = clock.now
        var options = CallOptions.defaults
        options.timeout = deadline
        do {
            let reply = try await Search.Client(wrapping: client).monitor(Google_Protobuf_Empty(), options: options)
            let elapsed = clock.now - start
            return MonitorSample(outcome: .ok(MonitorFigures(
                nThings: Int(reply.nThings), uptimeSeconds: reply.uptimeSeconds, requests: reply.requests,
                errors: reply.errors, p50Milliseconds: reply.latencyP50Ms, p99Milliseconds: reply.latencyP99Ms,
                version: reply.version, storeStatus: reply.storeStatus, settings: reply.settings)),
                roundTripMilliseconds: elapsed.milliseconds, at: epochMilliseconds())
        } catch let error as RPCError {
            let reason = GRPCTargets.tlsReason(error)
                ?? (error.code == .deadlineExceeded ? "timeout" : error.code == .unavailable ? "unreachable" : "\(error.code)")
            return MonitorSample(outcome: .failed(reason), roundTripMilliseconds: (clock.now - start).milliseconds, at: epochMilliseconds())
        } catch {
            return MonitorSample(outcome: .failed("\(error)"), roundTripMilliseconds: (clock.now - start).milliseconds, at: epochMilliseconds())
        }
    }

}
