import Consul
import Logging
import Synchronization

/// The settings in effect, re-resolved whenever the Consul KV prefix changes.
///
/// Live keys apply at once; a change to any other key asks the server to restart itself cleanly (what
/// envconsul did by restarting its child), through `onRestartNeeded`.
public final class LiveConfiguration: ServerContextProviding, Sendable {
    public let prefix: String
    private let environment: [String: String]
    private let flags: [String: String]
    private let current: Mutex<ServerSettings>
    private let logLevel: LiveLogLevel
    private let counters: @Sendable () -> (logs: Int, metrics: Int)

    public init(prefix: String, kv: [String: String], environment: [String: String], flags: [String: String],
                logLevel: LiveLogLevel, counters: @escaping @Sendable () -> (logs: Int, metrics: Int) = { (0, 0) },
                logger: Logger) {
        self.prefix = prefix
        self.environment = environment
        self.flags = flags
        let (settings, problems) = ServerSettings.resolve(kv: kv, environment: environment, flags: flags)
        for problem in problems { logger.warning("\(problem)") }
        self.current = Mutex(settings)
        self.logLevel = logLevel
        self.counters = counters
        logLevel.set(settings.logLevel)
    }

    public var settings: ServerSettings { current.withLock { $0 } }
    public var logRecordsDropped: Int { counters().logs }
    public var metricsDropped: Int { counters().metrics }

    /// Applies a new KV snapshot; returns the keys that need a restart (empty when all applied live).
    @discardableResult
    public func apply(kv: [String: String], logger: Logger) -> [String] {
        let (next, problems) = ServerSettings.resolve(kv: kv, environment: environment, flags: flags, previous: settings)
        for problem in problems { logger.warning("\(problem)") }
        let (previous, changes) = current.withLock { settings -> (ServerSettings, (live: [String], restart: [String])) in
            let changes = ServerSettings.changes(from: settings, to: next)
            let previous = settings
            if changes.restart.isEmpty { settings = next }
            return (previous, changes)
        }
        guard changes.restart.isEmpty else {
            logger.notice("configuration change needs a restart", metadata: ["keys": "\(changes.restart.joined(separator: ","))"])
            return changes.restart
        }
        logLevel.set(next.logLevel)
        for key in ServerSettings.keys where changes.live.contains(key.key) {
            logger.notice("configuration applied live", metadata: [
                "key": "\(key.key)", "from": "\(key.read(previous))", "to": "\(key.read(next))"])
        }
        return []
    }

    /// Follows the KV prefix until cancelled; calls `onRestartNeeded` once when a change cannot apply live.
    public func follow(consul: ConsulClient, logger: Logger, onRestartNeeded: @Sendable ([String]) -> Void) async {
        var reportedFailure = false
        for await update in consul.watchEnvironment(KVEnvironment(prefix: prefix)) {
            switch update {
            case .value(let kv, _):
                if reportedFailure { logger.info("configuration watch reconnected to Consul") }
                reportedFailure = false
                let restart = apply(kv: kv, logger: logger)
                if !restart.isEmpty {
                    onRestartNeeded(restart)
                    return
                }
            case .filteredByACLs:
                logger.warning("Consul's ACLs hide some keys under the configuration prefix from this instance's token; they are not applied",
                               metadata: ["prefix": "\(prefix)", "fix": "\(consul.configuration.tokenFix)"])
            case .failed(let error, let attempt, let retryIn):
                if !reportedFailure {
                    logger.warning("configuration watch cannot reach Consul; keeping the current settings",
                                   metadata: ["reason": "\(error)", "attempt": "\(attempt)", "retry_in": "\(retryIn)"])
                }
                reportedFailure = true
            }
        }
    }
}
