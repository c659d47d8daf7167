import AsyncHTTPClient
import Consul
import GRPCCore
import GRPCHealth
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization

/// Runs every registered check on its interval, as the agent does: TCP connect, HTTP status, gRPC
/// `grpc.health.v1.Health/Check`, TTL expiry; and reaps services critical past their
/// DeregisterCriticalServiceAfter. One task per check; nothing polls between probes.
final class CheckRunner: Sendable {
    private let state: AgentState
    private let running = Mutex<[String: (identity: String, task: Task<Void, Never>)]>([:])
    let reapInterval: Duration
    /// The CA that TLS checks trust (Consul's `tls.defaults.ca_file`); nil: the system's trust store.
    let caFile: String?
    /// The agent's own certificate and key (PEM), presented to TLS checks that ask for one, as Consul's
    /// agent presents `cert_file`.
    let identity: (certificate: String, key: String)?
    /// Where the agent's log lines go (see `CheckLog`); nil: nowhere.
    let log: (@Sendable (String) -> Void)?
    /// Called by `sync` between reading the catalog and acting on it: tests pause a sync there.
    let afterReadingCatalog: @Sendable () -> Void

    init(state: AgentState, reapInterval: Duration = .seconds(30), caFile: String? = nil, identity: (certificate: String, key: String)? = nil,
         log: (@Sendable (String) -> Void)? = nil, afterReadingCatalog: @escaping @Sendable () -> Void = {}) {
        self.state = state
        self.reapInterval = reapInterval
        self.caFile = caFile
        self.identity = identity
        self.log = log
        self.afterReadingCatalog = afterReadingCatalog
    }

    /// Starts probes for new or changed checks and stops those of removed checks.
    ///
    /// The catalog is read while holding `running`'s lock: registrations arrive concurrently, and a sync
    /// that read the catalog before a registration but took the lock after that registration's own sync
    /// stopped the new check's probe as "removed", leaving it critical until some later change (CI: two of
    /// three instances started together never probed).
    func sync() {
        running.withLock { running in
            let wanted = state.read { catalog in
                catalog.checks.mapValues { check in (identity: "\(check.definition.probe.map { String(describing: $0) } ?? "")|\(check.definition.effectiveInterval)|\(check.definition.effectiveTimeout)", spec: check.definition) }
            }
            afterReadingCatalog()
            for (id, entry) in running where wanted[id]?.identity != entry.identity {
                entry.task.cancel()
                running.removeValue(forKey: id)
            }
            for (id, want) in wanted where running[id] == nil {
                let task = Task { [self] in await self.run(checkID: id, spec: want.spec) }
                running[id] = (want.identity, task)
            }
        }
    }

    /// The checks being probed (or TTL-watched) now.
    var probedCheckIDs: Set<String> { running.withLock { Set($0.keys) } }

    func stopAll() {
        running.withLock { running in
            for entry in running.values { entry.task.cancel() }
            running.removeAll()
        }
    }

    /// The reaper loop (Consul: every 30 s, one-minute floor on the timeout).
    func reapForever() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: reapInterval) } catch { return }
            let reaped = state.write { catalog -> [String] in
                let ids = catalog.servicesToReap(now: .now)
                for id in ids { catalog.deregister(serviceID: id) }
                return ids
            }
            for id in reaped { log?(CheckLog.reaped(serviceID: id)) }
            if !reaped.isEmpty { sync() }
        }
    }

    private func run(checkID: String, spec: CheckSpec) async {
        guard let probe = spec.probe else { return }
        if case .ttl(let ttl) = probe {
            await expireTTL(checkID: checkID, ttl: ttl)
            return
        }
        let interval = spec.effectiveInterval
        // The first probe comes after a random part of the interval, spreading load as the agent does.
        do { try await Task.sleep(for: interval * Double.random(in: 0..<1)) } catch { return }
        var first = true
        while !Task.isCancelled {
            let (status, output) = await Self.probe(probe, timeout: spec.effectiveTimeout, caFile: caFile, identity: identity)
            if Task.isCancelled { return }
            let previous = state.write { catalog -> HealthStatus? in
                let previous = catalog.checks[checkID]?.status
                catalog.setResult(checkID, status: status, output: output)
                return previous
            }
            // The first result and every change of status, with the probe's output: what an operator (or a
            // failed CI run) needs to tell a dead instance from a slow probe.
            // (nil: deregistered meanwhile, and this task is about to be cancelled.)
            if let log, let previous, first || previous != status { log(CheckLog.result(checkID: checkID, status: status, output: output)) }
            first = false
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Sleeps until the TTL deadline; an update meanwhile moves the deadline and the loop sleeps again.
    private func expireTTL(checkID: String, ttl: Duration) async {
        while !Task.isCancelled {
            // Gone: its sync cancels this task. Until then it waits, rather than ending while still listed as
            // running (a re-registration landing first would find it there and start none).
            guard let deadline = state.read({ $0.checks[checkID]?.ttlDeadline }) else {
                do { try await Task.sleep(for: ttl) } catch { return }
                continue
            }
            if deadline <= .now {
                let (previous, output) = state.write { catalog -> (HealthStatus?, String) in
                    let previous = catalog.checks[checkID]?.status
                    let last = catalog.checks[checkID]?.output ?? ""
                    let output = last.hasPrefix("TTL expired") ? last : "TTL expired" + (last.isEmpty ? "" : " (last output before timeout follows): \(last)")
                    catalog.setResult(checkID, status: .critical, output: output)
                    return (previous, output)
                }
                if let previous, previous != .critical { log?(CheckLog.result(checkID: checkID, status: .critical, output: output)) }
                do { try await Task.sleep(for: ttl) } catch { return }
            } else {
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
            }
        }
    }

    // MARK: probes

    static func probe(_ probe: CheckSpec.Probe, timeout: Duration, caFile: String? = nil,
                      identity: (certificate: String, key: String)? = nil) async -> (HealthStatus, String) {
        switch probe {
        case .tcp(let address): return await tcp(address, timeout: timeout)
        case .http(let url, let method, let headers, let body): return await http(url, method: method, headers: headers, body: body, timeout: timeout)
        case .grpc(let target, let useTLS, let skipVerify):
            return await grpc(target, tls: useTLS ? (caFile, skipVerify, identity) : nil, timeout: timeout)
        case .ttl: return (.critical, "")
        }
    }

    static func tcp(_ address: String, timeout: Duration) async -> (HealthStatus, String) {
        guard let (host, port) = splitHostPort(address) else { return (.critical, "dial tcp \(address): missing port in address") }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(Int64(timeout.inSeconds * 1e9)))
                .connect(host: host, port: port).get()
            try? await channel.close()
            return (.passing, "TCP connect \(address): Success")
        } catch {
            return (.critical, "dial tcp \(address): \(error)")
        }
    }

    static func http(_ url: String, method: String, headers: [String: [String]], body: String,
                     timeout: Duration) async -> (HealthStatus, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method.isEmpty ? "GET" : method)
        request.headers.add(name: "User-Agent", value: "Consul Health Check")
        request.headers.add(name: "Accept", value: "text/plain, text/*, */*")
        for (name, values) in headers { for value in values { request.headers.add(name: name, value: value) } }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await ConsulClient.defaultHTTPClient.execute(request, timeout: .nanoseconds(Int64(timeout.inSeconds * 1e9)))
            let text = String(buffer: try await response.body.collect(upTo: 4096 + 1)).prefix(4096)
            let code = Int(response.status.code)
            let status: HealthStatus = (200..<300).contains(code) ? .passing : code == 429 ? .warning : .critical
            return (status, "HTTP \(request.method.rawValue) \(url): \(code) \(response.status.reasonPhrase) Output: \(text)")
        } catch {
            return (.critical, "Get \"\(url)\": \(error)")
        }
    }

    /// `host:port[/service]`: the text after the first `/` is the health service name ("" = whole server).
    /// With `tls`, over TLS trusting `ca` (nil: the system's store), or anything when `skipVerify`, and
    /// presenting `identity` when the agent has one.
    static func grpc(_ target: String, tls: (ca: String?, skipVerify: Bool, identity: (certificate: String, key: String)?)?,
                     timeout: Duration) async -> (HealthStatus, String) {
        let parts = target.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let service = parts.count > 1 ? String(parts[1]) : ""
        guard let (host, port) = splitHostPort(String(parts[0])) else {
            return (.critical, "gRPC check \(target): missing port in address")
        }
        var security = HTTP2ClientTransport.Posix.TransportSecurity.plaintext
        if let tls {
            security = .tls { config in
                if let ca = tls.ca { config.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                if tls.skipVerify { config.serverCertificateVerification = .noVerification }
                if let identity = tls.identity {
                    config.certificateChain = [.file(path: identity.certificate, format: .pem)]
                    config.privateKey = .file(path: identity.key, format: .pem)
                }
            }
        }
        do {
            // An address literal is not a DNS name: as one, TLS would send it as the SNI name, which is refused.
            let literal: any ResolvableTarget = host.contains(":") ? .ipv6(address: host, port: port)
                : host.allSatisfy({ $0.isNumber || $0 == "." }) ? .ipv4(address: host, port: port) : .dns(host: host, port: port)
            let transport = try HTTP2ClientTransport.Posix(target: literal, transportSecurity: security)
            let status = try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                let health = Grpc_Health_V1_Health.Client(wrapping: client)
                return try await health.check(.with { $0.service = service }, options: options).status
            }
            if status == .serving { return (.passing, "gRPC check \(target): success") }
            return (.critical, "gRPC check \(target): failed with status \(status)")
        } catch {
            return (.critical, "gRPC check \(target): \(error)")
        }
    }
}

/// "host:port" or "[v6]:port".
func splitHostPort(_ address: String) -> (String, Int)? {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
    var host = String(address[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "127.0.0.1" : host, port)
}
