import ArgumentParser
import Consul
import Deadlines
import Foundation
import HelpText
import Logging
import Metrics
import PostgresNIO
import SearchService
import ServiceLifecycle
import Store
import Synchronization
import Telemetry

@main
struct SearchServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-server",
        abstract: "The gRPC Search service over PostGIS, registered in Consul.",
        discussion: HelpText.reflow("""
            Settings come from flags, then SEARCH_* environment variables, then Consul KV keys under
            <service-name>/ (for example search-service/log_level), then defaults. The KV prefix is watched:
            live keys apply at once, other keys restart the server cleanly (see 'search-server help serve').

            The store is PostgreSQL+PostGIS, found through PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE
            (default 127.0.0.1:5434, user postgres, database opsdeck). Consul is found through CONSUL_HTTP_ADDR
            (default 127.0.0.1:8500) and CONSUL_HTTP_TOKEN.
            """),
        version: SearchHandler.version,
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve searches (the default command).",
        discussion: HelpText.reflow("Keys (KV, flag, environment; live ones apply without a restart):\n"
            + ServerSettings.keys.map { key in "  \(key.key) (\(key.live ? "live" : "restart"))\n      \(key.help)" }
                .joined(separator: "\n")))

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(help: "Address registered in Consul (default: --host).") var advertiseAddress: String?
    @Option(help: "Name registered in Consul; also the KV prefix and the log topic convention.") var serviceName = "search-service"
    @Option(help: "Unique id of this instance (default: <service-name>-<random>).") var instanceID: String?

    @Option(help: "Log level.") var logLevel: String?
    @Option(help: "Results per page when a request asks 0.") var defaultPageSize: String?
    @Option(help: "Largest result_per_page accepted.") var maxPageSize: String?
    @Option(help: "Store deadline in milliseconds.") var storeTimeoutMs: String?
    @Option(help: "PostgreSQL connections kept open.") var storeConnections: String?
    @Option(help: "Point (and name) search statements at PostgreSQL at once; searches arriving meanwhile are batched.")
    var storeBatches: String?
    @Option(help: "Extra delay per search in milliseconds (drills).") var simulatedLatencyMs: String?
    @Option(help: "Kafka topic for logs (default: none).") var kafkaTopic: String?
    @Option(help: "Kafka bootstrap servers.") var kafkaBrokers: String?
    @Option(help: "StatsD host:port, empty for none.") var statsdAddress: String?
    @Option(help: "Consul gRPC check interval in seconds.") var checkIntervalS: String?
    @Option(help: ArgumentHelp("Serve gRPC over TLS with this PEM certificate (chain); needs --tls-key-file. Consul's check is then told to use TLS.",
                               valueName: "path")) var tlsCertFile: String?
    @Option(help: ArgumentHelp("The PEM private key of --tls-cert-file.", valueName: "path")) var tlsKeyFile: String?
    @Option(help: ArgumentHelp("With TLS, require callers' certificates signed by this CA (mutual TLS; Consul's agent presents its own).",
                               valueName: "path")) var tlsClientCAFile: String?

    func validate() throws {
        guard (tlsCertFile == nil) == (tlsKeyFile == nil) else { throw ValidationError("--tls-cert-file and --tls-key-file go together") }
        if tlsClientCAFile != nil && tlsCertFile == nil { throw ValidationError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file") }
        for path in [tlsCertFile, tlsKeyFile, tlsClientCAFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("\(path): cannot read it")
        }
    }

    func run() async throws {
        // A peer gone mid-write (the broker under the log shipper's librdkafka, a gRPC client) is an error
        // each of them reports and recovers from; the default action would end the server.
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessInfo.processInfo.environment
        let instanceID = instanceID ?? "\(serviceName)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let consul = ConsulClient(configuration: .fromEnvironment(environment))
        let prefix = "\(serviceName)/"

        // The KV layer is read before anything starts, so settings that cannot change live are right from
        // the start; with Consul down the server starts on flags, environment and defaults.
        var bootLogger = Logger(label: "search-server") { _ in StreamLogHandler.standardOutput(label: "search-server") }
        bootLogger.logLevel = .info
        var kv: [String: String] = [:]
        do {
            let pairs = try await withDeadline(.seconds(2)) { try await consul.list(prefix: prefix).value }
            kv = KVEnvironment(prefix: prefix).variables(from: pairs)
        } catch {
            bootLogger.warning("Consul KV unreadable at start; using flags, environment and defaults", metadata: ["reason": "\(error)"])
        }

        let level = LiveLogLevel(.info)
        let drops = DropCounters()
        let configuration = LiveConfiguration(prefix: prefix, kv: kv, environment: environment, flags: flagValues,
                                              logLevel: level, counters: { drops.read() }, logger: bootLogger)
        let settings = configuration.settings

        var shipper: LogShipper?
        if !settings.kafkaTopic.isEmpty {
            do {
                shipper = try LogShipper(brokers: settings.kafkaBrokers, topic: settings.kafkaTopic, instanceID: instanceID)
            } catch {
                bootLogger.error("log shipping to Kafka is off", metadata: ["reason": "\(error)"])
            }
        }
        let logShipper = shipper
        LoggingSystem.bootstrap { label in
            ServerLogHandler(label: label, level: level, instanceID: instanceID, shipper: logShipper)
        }
        let logger = Logger(label: "search-server")
        if let logShipper { logger.info("shipping logs to Kafka", metadata: ["topic": "\(logShipper.topic)", "brokers": "\(settings.kafkaBrokers)"]) }

        var statsd: StatsDClient?
        if let (host, port) = Self.hostPort(settings.statsdAddress) {
            do {
                statsd = try StatsDClient(host: host, port: port)
                MetricsSystem.bootstrap(StatsDMetricsFactory(client: statsd!))
            } catch {
                logger.error("metrics are off", metadata: ["reason": "\(error)", "statsd": "\(settings.statsdAddress)"])
            }
        }
        drops.set(logShipper, statsd)
        defer { statsd?.flush() }  // the last updates wait in its batch, also when the group throws

        var options = SearchServer.Options(instanceID: instanceID)
        options.host = host
        options.port = port
        options.advertiseAddress = advertiseAddress
        options.serviceName = serviceName
        options.tlsCertificateFile = tlsCertFile
        options.tlsKeyFile = tlsKeyFile
        options.tlsClientCAFile = tlsClientCAFile

        // postgres-nio logs every failed connection attempt at info; an outage is reported by requests
        // (UNAVAILABLE) and by monitor, so only its warnings and errors go to the log.
        var postgresLogger = Logger(label: "postgres")
        postgresLogger.logLevel = .warning
        let store = StoreConfiguration.fromEnvironment(environment)
        let postgres = LoopClients(group: options.eventLoopGroup, connections: settings.storeConnections,
                                   backgroundLogger: postgresLogger) { store.serverClientConfiguration(connections: $0) }
        // One connection more, opened for the migration and closed once idle (postgres-nio's idle timeout).
        var migrationConfiguration = store.clientConfiguration
        migrationConfiguration.options.maximumConnections = 1
        let migrations = PostgresClient(configuration: migrationConfiguration, eventLoopGroup: options.eventLoopGroup,
                                        backgroundLogger: postgresLogger)
        let server = SearchServer(options: options, configuration: configuration, consul: consul,
                                  postgres: postgres, migrations: migrations, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: (postgres.all + [migrations]).map { .init(service: $0) }
                + [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "lifecycle"))
        // Bounded shutdown: in-flight calls get this long to finish, then whatever still runs is cancelled
        // (seen: the PostgreSQL pool waiting on a connection attempt abandoned by a timed-out request).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        statsd?.flush()  // before a restart too, which never returns here
        await Self.flushLogs(logShipper, kafkaMilliseconds: 2_000)

        if case .restartRequested(let keys) = server.outcome {
            logger.notice("restarting to apply configuration", metadata: ["keys": "\(keys.joined(separator: ","))"])
            await Self.flushLogs(logShipper, kafkaMilliseconds: 1_000)
            Self.reexec()
        }
    }

    /// The flag layer, keyed like Consul KV.
    private var flagValues: [String: String] {
        let pairs: [(String, String?)] = [
            ("log_level", logLevel), ("default_page_size", defaultPageSize), ("max_page_size", maxPageSize),
            ("store_timeout_ms", storeTimeoutMs), ("store_connections", storeConnections),
            ("store_batches", storeBatches),
            ("simulated_latency_ms", simulatedLatencyMs),
            ("kafka_topic", kafkaTopic), ("kafka_brokers", kafkaBrokers), ("statsd_address", statsdAddress),
            ("check_interval_s", checkIntervalS),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    static func hostPort(_ address: String) -> (String, UInt16)? {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { return nil }
        return (String(address[..<colon]), port)
    }

    /// Replaces this process with a fresh copy of itself: same PID, arguments and environment.
    /// Lets queued log records reach Kafka and stdout, on a thread of its own: rd_kafka_flush and the stdout
    /// drain block, and Swift's cooperative pool has few threads, which the rest of the shutdown needs.
    static func flushLogs(_ shipper: LogShipper?, kafkaMilliseconds: Int32) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                shipper?.flush(milliseconds: kafkaMilliseconds)
                LineWriter.standardOutput.flush(timeout: .seconds(1))
                done.resume()
            }.start()
        }
    }

    static func reexec() -> Never {
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        perror("search-server: restart failed")
        Foundation.exit(1)
    }
}

/// Reads the drop counters of whichever sinks exist (set once they are made, after the settings).
final class DropCounters: Sendable {
    private let sinks = Mutex<(LogShipper?, StatsDClient?)>((nil, nil))
    func set(_ shipper: LogShipper?, _ statsd: StatsDClient?) { sinks.withLock { $0 = (shipper, statsd) } }
    func read() -> (logs: Int, metrics: Int) {
        let (shipper, statsd) = sinks.withLock { $0 }
        // A log record is dropped when it cannot reach Kafka or stdout (a stalled reader).
        return ((shipper?.droppedRecords ?? 0) + LineWriter.standardOutput.dropped, statsd?.droppedPackets ?? 0)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the store's schema migrations and exit (the server also does this at start).",
        discussion: HelpText.reflow("Safe to run while servers run: an advisory lock makes concurrent migrators take turns."))

    @Flag(help: "Only list the applied and pending versions.") var status = false

    func run() async throws {
        let config = StoreConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        // No background logger: an unreachable PostgreSQL is said once, below.
        let postgres = PostgresClient(configuration: config.clientConfiguration)
        let runner = MigrationRunner(client: postgres)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            do {
                _ = try await withDeadline(.seconds(5)) { try await postgres.query("SELECT 1").collect() }
            } catch {
                throw ValidationError("cannot reach PostgreSQL at \(config.host):\(config.port) (database \(config.database)): \(error)")
            }
            if status {
                let applied = Set(try await runner.appliedVersions())
                for migration in StoreSchema.migrations {
                    print("\(migration.version)  \(applied.contains(migration.version) ? "applied" : "pending")  \(migration.name)")
                }
            } else {
                let applied = try await runner.migrate()
                print(applied.isEmpty ? "migrate: up to date (version \(StoreSchema.migrations.last?.version ?? 0))"
                                      : "migrate: applied \(applied.map(String.init).joined(separator: ", "))")
            }
        }
    }
}
