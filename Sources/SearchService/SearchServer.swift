import Consul
import Deadlines
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Store
import Synchronization

/// The running search-server: gRPC on a port, registered in Consul, following its KV configuration.
///
/// Shutdown order (SIGTERM/SIGINT, or a configuration change that needs a restart): stop re-registering,
/// deregister from Consul (so clients stop being sent here), report NOT_SERVING, then let in-flight calls
/// finish and close.
public final class SearchServer: Service, Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port, like the original server.
        public var port = 0
        /// The address Consul hands to clients; defaults to `host` (or 127.0.0.1 when host is 0.0.0.0).
        public var advertiseAddress: String?
        public var serviceName = "search-service"
        public var instanceID: String
        public var tags: [String] = ["grpc"]
        /// PEM certificate (chain) and key: served over TLS, and Consul's gRPC check told to use TLS.
        public var tlsCertificateFile: String?
        public var tlsKeyFile: String?
        /// With TLS: callers must present a certificate signed by this CA (mutual TLS).
        public var tlsClientCAFile: String?
        /// Where calls are read, handled and answered: the gRPC connections and the handlers run on this
        /// group's loops (`EventLoopTaskExecutor`). Give the server's PostgreSQL clients the same loops
        /// (`LoopClients(group:)`), so that a search goes on where PostgreSQL's answer arrives instead of
        /// waking a thread of Swift's pool.
        public var eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
        /// Served over TLS (both files given): what the transport and the registered check agree on.
        public var servesTLS: Bool { tlsCertificateFile != nil && tlsKeyFile != nil }

        public init(instanceID: String) { self.instanceID = instanceID }
    }

    /// Why `run` returned.
    public enum Outcome: Sendable, Equatable {
        case stopped
        case restartRequested(keys: [String])
    }

    private let options: Options
    private let configuration: LiveConfiguration
    private let consul: ConsulClient
    private let postgres: LoopClients
    private let migrations: PostgresClient
    private let logger: Logger
    private let health = HealthService()
    private let stats = RequestStats()
    private let state = Mutex<(outcome: Outcome, shutdown: (@Sendable () -> Void)?, requested: Bool)>((.stopped, nil, false))

    /// `migrations`: a client of its own for applying the schema (see `migrateWhenReachable`).
    public init(options: Options, configuration: LiveConfiguration, consul: ConsulClient, postgres: LoopClients,
                migrations: PostgresClient, logger: Logger) {
        self.options = options
        self.configuration = configuration
        self.consul = consul
        self.postgres = postgres
        self.migrations = migrations
        self.logger = logger
    }

    public var outcome: Outcome { state.withLock { $0.outcome } }

    /// grpc-swift's defaults, but flushes are coalesced by `TickFlushHandler` instead of by the transport's
    /// own handler, which holds a flush up to 100 µs: at low load every answer waited for that timer, a
    /// sleep and a wake-up of its event loop (strace: the loop armed a ~70 µs timerfd after PostgreSQL's
    /// answer, and wrote the response when it fired). Measured with the release server on the demo data,
    /// same binary, the three ways alternated in 3 rounds on a noisy machine (medians; BENCHMARKS.md):
    ///
    ///                         search 1 stream   search 32 streams   health 1 stream   health 32 streams
    ///   grpc-swift's 100 µs        1.21 ms          4,518/s            559 µs           6,408/s
    ///   no coalescing              0.98 ms          3,522/s            573 µs           4,998/s
    ///   TickFlushHandler           0.99 ms          4,341/s            421 µs           7,352/s
    static var transportConfig: HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.connection.flushCoalescing = nil
        // The transport's only hook on an accepted connection, called once its pipeline is set up.
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TickFlushHandler(), position: .first)
            }
        }
        return config
    }

    public func run() async throws {
        let store = AreaStore(clients: postgres, logger: logger, concurrentBatches: configuration.settings.storeBatches,
                              batchTimeLimit: { [configuration] in .milliseconds(configuration.settings.storeTimeoutMilliseconds) })
        let handler = SearchHandler(store: store, context: configuration,
                                    stats: stats, instanceID: options.instanceID, logger: logger)
        var security = HTTP2ServerTransport.Posix.TransportSecurity.plaintext
        if let certificate = options.tlsCertificateFile, let key = options.tlsKeyFile {
            let chain: [TLSConfig.CertificateSource] = [.file(path: certificate, format: .pem)]
            if let clientCA = options.tlsClientCAFile {
                security = .mTLS(certificateChain: chain, privateKey: .file(path: key, format: .pem)) { config in
                    config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
                }
            } else {
                security = .tls(certificateChain: chain, privateKey: .file(path: key, format: .pem))
            }
        }
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: options.host, port: options.port),
                                                   transportSecurity: security, config: Self.transportConfig,
                                                   eventLoopGroup: options.eventLoopGroup)
        let server = GRPCServer(transport: transport, services: [handler, health])

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [options] in try await Self.serve(server, on: options.eventLoopGroup) }
            guard let port = try await transport.listeningAddress.ipv4?.port else {
                throw RPCError(code: .internalError, message: "the server did not bind an IPv4 port")
            }
            let registrar = ConsulRegistrar(consul: consul, registration: registration(port: port), logger: logger)
            logger.info("serving", metadata: ["address": "\(options.host):\(port)", "instance": "\(options.instanceID)",
                                              "version": "\(SearchHandler.version)"])

            // Work that lives as long as the server takes calls; cancelled first at shutdown.
            let background = Task { [configuration, consul, logger] in
                await withDiscardingTaskGroup { tasks in
                    tasks.addTask { await registrar.run() }
                    tasks.addTask { await self.migrateWhenReachable() }
                    tasks.addTask {
                        await configuration.follow(consul: consul, logger: logger) { keys in
                            self.requestShutdown(.restartRequested(keys: keys))
                        }
                    }
                }
            }
            let shutdown: @Sendable () -> Void = { [health, logger] in
                Task {
                    background.cancel()
                    await background.value
                    await registrar.deregister()
                    health.setServing(false)
                    health.finishWatchers()
                    logger.info("draining in-flight calls")
                    server.beginGracefulShutdown()
                }
            }
            let requestedEarly = state.withLock { s -> Bool in
                s.shutdown = shutdown
                return s.requested
            }
            if requestedEarly { shutdown() }

            try await withGracefulShutdownHandler {
                try await group.next()
            } onGracefulShutdown: {
                self.requestShutdown(.stopped)
            }
            background.cancel()
            logger.info("stopped")
        }
    }

    /// Serves `server`'s calls on `group`'s loops: their tasks, and the tasks they start with
    /// `RequestExecutor.current`, run on the loop that woke them (`EventLoopTaskExecutor`).
    public static func serve<Transport: ServerTransport>(_ server: GRPCServer<Transport>,
                                                         on group: MultiThreadedEventLoopGroup) async throws {
        try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) { try await server.serve() }
    }

    /// Starts the shutdown sequence once, remembering why.
    public func requestShutdown(_ outcome: Outcome) {
        let shutdown = state.withLock { s -> (@Sendable () -> Void)? in
            guard !s.requested else { return nil }
            s.requested = true
            s.outcome = outcome
            return s.shutdown
        }
        shutdown?()
    }

    private func registration(port: Int) -> ServiceRegistration {
        let address = options.advertiseAddress ?? (options.host == "0.0.0.0" ? "127.0.0.1" : options.host)
        let interval = configuration.settings.checkIntervalSeconds
        return ServiceRegistration(
            id: options.instanceID, name: options.serviceName, tags: options.tags, address: address, port: port,
            meta: ["version": SearchHandler.version, "instance": options.instanceID, SettingsTable.metaKey: SettingsTable.metaValue],
            checks: [CheckDefinition(
                id: "\(options.instanceID):grpc", name: "gRPC health",
                // 5 s: each probe opens a new connection (as Consul's does), and on a loaded host 2 s was
                // missed by every instance at once, and the service was gone from DNS though none had stopped.
                probe: .grpc("\(address):\(port)/Search", useTLS: options.servesTLS), interval: .seconds(interval), timeout: .seconds(5),
                // Consul's floor is one minute; an instance that died without deregistering goes after that.
                deregisterCriticalServiceAfter: .seconds(60))])
    }

    /// Applies the schema, retrying while the store is unreachable (the server serves meanwhile and
    /// answers UNAVAILABLE), so starting before PostgreSQL is not an error.
    ///
    /// On a client of its own: servers starting together wait for each other's migration lock, minutes
    /// for a first migration of a large data set, and a searching connection held meanwhile stalls the
    /// searches of its loop (seen: with two connections, one per loop, first searches timed out).
    private func migrateWhenReachable() async {
        let runner = MigrationRunner(client: migrations, logger: logger)
        var attempt = 0
        while !Task.isCancelled {
            do {
                // Probe under a deadline (postgres-nio would retry a dead server forever), then migrate
                // without one: a first migration over a large data set takes minutes.
                _ = try await withDeadline(.seconds(3)) { [migrations] in try await migrations.query("SELECT 1").collect() }
                let applied = try await runner.migrate()
                if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
                return
            } catch {
                if Task.isCancelled {  // stopping: while waiting for another's lock, or cut short
                    if error is MigrationError {
                        logger.warning("migration rolled back: the server is stopping", metadata: ["reason": "\(error)"])
                    }
                    return
                }
                attempt += 1
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("cannot migrate the store yet; retrying", metadata: ["reason": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}
