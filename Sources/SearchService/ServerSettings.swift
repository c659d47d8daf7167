import Foundation
import Logging

/// Everything an operator can tune, after layering (flags > environment > Consul KV > defaults).
public struct ServerSettings: Sendable, Equatable {
    public var logLevel: Logger.Level = .info
    public var pageLimits = PageLimits()
    /// How long a request may wait for the store before it gets UNAVAILABLE.
    public var storeTimeoutMilliseconds = 2_000
    /// Extra delay added to every search (fault injection for drills and the drain test); 0 in production.
    public var simulatedLatencyMilliseconds = 0
    /// Kafka topic for log records; empty means logs go to stdout only.
    public var kafkaTopic = ""
    public var kafkaBrokers = "127.0.0.1:9092"
    /// StatsD "host:port"; empty turns metrics off.
    public var statsdAddress = "127.0.0.1:8125"
    /// Interval of the gRPC health check Consul runs against this instance.
    public var checkIntervalSeconds = 10

    public init() {}
}

/// One setting: its key in Consul KV (under `search-service/`), its environment variable and flag, and
/// whether a change can apply to a running server (else the server restarts itself cleanly).
public struct SettingKey: Sendable {
    public var key: String
    public var live: Bool
    public var help: String
    /// The setting's current value as text (for change detection and logs).
    public let read: @Sendable (ServerSettings) -> String
    let apply: @Sendable (inout ServerSettings, String) -> Bool

    /// `SEARCH_LOG_LEVEL` for `log_level`.
    public var environmentVariable: String { "SEARCH_" + key.uppercased() }
    /// `--log-level` for `log_level`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
}

extension ServerSettings {
    /// Every setting, in the order `--help` and the README list them.
    public static let keys: [SettingKey] = [
        SettingKey(key: "log_level", live: true, help: "trace|debug|info|notice|warning|error|critical (default info)", read: { $0.logLevel.rawValue }) { s, v in
            guard let level = Logger.Level(rawValue: v.lowercased()) else { return false }
            s.logLevel = level
            return true
        },
        SettingKey(key: "default_page_size", live: true, help: "results per page when a request asks 0 (default 10)", read: { "\($0.pageLimits.defaultSize)" }) { s, v in
            guard let n = Int(v), (1...1_000).contains(n) else { return false }
            s.pageLimits.defaultSize = n
            return true
        },
        SettingKey(key: "max_page_size", live: true, help: "largest result_per_page accepted (default 100)", read: { "\($0.pageLimits.maxSize)" }) { s, v in
            guard let n = Int(v), (1...1_000).contains(n) else { return false }
            s.pageLimits.maxSize = n
            return true
        },
        SettingKey(key: "store_timeout_ms", live: true, help: "deadline for the store before UNAVAILABLE (default 2000)", read: { "\($0.storeTimeoutMilliseconds)" }) { s, v in
            guard let n = Int(v), (10...60_000).contains(n) else { return false }
            s.storeTimeoutMilliseconds = n
            return true
        },
        SettingKey(key: "simulated_latency_ms", live: true, help: "extra delay per search, for drills (default 0)", read: { "\($0.simulatedLatencyMilliseconds)" }) { s, v in
            guard let n = Int(v), (0...60_000).contains(n) else { return false }
            s.simulatedLatencyMilliseconds = n
            return true
        },
        SettingKey(key: "kafka_topic", live: false, help: "ship logs to this Kafka topic (default: off)", read: { $0.kafkaTopic }) { s, v in
            s.kafkaTopic = v
            return true
        },
        SettingKey(key: "kafka_brokers", live: false, help: "Kafka bootstrap servers (default 127.0.0.1:9092)", read: { $0.kafkaBrokers }) { s, v in
            guard !v.isEmpty else { return false }
            s.kafkaBrokers = v
            return true
        },
        SettingKey(key: "statsd_address", live: false, help: "StatsD host:port, empty for none (default 127.0.0.1:8125)", read: { $0.statsdAddress }) { s, v in
            s.statsdAddress = v
            return true
        },
        SettingKey(key: "check_interval_s", live: false, help: "Consul gRPC health check interval (default 10)", read: { "\($0.checkIntervalSeconds)" }) { s, v in
            guard let n = Int(v), (1...3_600).contains(n) else { return false }
            s.checkIntervalSeconds = n
            return true
        },
    ]

    /// A value from some layer that could not be used (the previous layer's value stays).
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var source: String
        public var key: String
        public var value: String
        public var description: String { "ignoring \(source) \(key)=\"\(value)\": not a valid value" }
    }

    /// Layers `kv` (keys without the prefix), then `environment` (SEARCH_* variables), then `flags`
    /// (keyed like KV) over the defaults. Unknown KV keys are ignored, bad values are reported.
    public static func resolve(kv: [String: String], environment: [String: String],
                               flags: [String: String]) -> (ServerSettings, [Problem]) {
        var settings = ServerSettings()
        var problems: [Problem] = []
        for (source, values) in [("Consul KV", kv), ("environment", environment), ("flag", flags)] {
            for key in keys {
                let name = source == "environment" ? key.environmentVariable : key.key
                guard let value = values[name] else { continue }
                if !key.apply(&settings, value.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    problems.append(Problem(source: source, key: source == "flag" ? key.flag : name, value: value))
                }
            }
        }
        return (settings, problems)
    }

    /// The keys whose values differ, split by whether they can apply live.
    public static func changes(from old: ServerSettings, to new: ServerSettings) -> (live: [String], restart: [String]) {
        var live: [String] = [], restart: [String] = []
        for key in keys where key.read(old) != key.read(new) {
            if key.live { live.append(key.key) } else { restart.append(key.key) }
        }
        return (live, restart)
    }
}
