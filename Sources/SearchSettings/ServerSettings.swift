import Foundation
import Logging

/// Page-size rules in effect (they can change live from Consul KV).
public struct PageLimits: Sendable, Equatable {
    public var defaultSize: Int
    public var maxSize: Int

    public init(defaultSize: Int = 10, maxSize: Int = 100) {
        self.defaultSize = defaultSize
        self.maxSize = maxSize
    }
}

/// Everything an operator can tune, after layering (flags > environment > Consul KV > defaults).
public struct ServerSettings: Sendable, Equatable {
    public var logLevel: Logger.Level = .info
    public var pageLimits = PageLimits()
    /// How long a request may wait for the store before it gets UNAVAILABLE.
    public var storeTimeoutMilliseconds = 2_000
    /// PostgreSQL connections the instance opens at start and keeps (a fixed-size pool).
    public var storeConnections = 8
    /// Point searches, and name searches, asked on one event loop: each in at most this many statements
    /// at PostgreSQL at once; searches that arrive meanwhile go together in the next (see `SearchBatches`
    /// in Store).
    public var storeBatches = 1
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
    /// The value a server runs with when no layer sets it.
    public var defaultText: String { read(ServerSettings()) }
}

extension SettingKey {
    /// A whole number within `range`.
    static func integer(_ key: String, live: Bool, _ range: ClosedRange<Int>,
                        _ path: WritableKeyPath<ServerSettings, Int> & Sendable, help: String) -> SettingKey {
        SettingKey(key: key, live: live, help: help, read: { "\($0[keyPath: path])" }) { settings, value in
            guard let number = Int(value), range.contains(number) else { return false }
            settings[keyPath: path] = number
            return true
        }
    }

    /// Free text, empty allowed unless said otherwise.
    static func text(_ key: String, live: Bool, _ path: WritableKeyPath<ServerSettings, String> & Sendable,
                     allowEmpty: Bool = true, help: String) -> SettingKey {
        SettingKey(key: key, live: live, help: help, read: { $0[keyPath: path] }) { settings, value in
            guard allowEmpty || !value.isEmpty else { return false }
            settings[keyPath: path] = value
            return true
        }
    }
}

extension ServerSettings {
    /// Every setting, in the order `--help` and the README list them.
    public static let keys: [SettingKey] = [
        SettingKey(key: "log_level", live: true, help: "trace|debug|info|notice|warning|error|critical (default info)",
                   read: { $0.logLevel.rawValue }) { s, v in
            guard let level = Logger.Level(rawValue: v.lowercased()) else { return false }
            s.logLevel = level
            return true
        },
        .integer("default_page_size", live: true, 1...1_000, \.pageLimits.defaultSize,
                 help: "results per page when a request asks 0 (default 10)"),
        .integer("max_page_size", live: true, 1...1_000, \.pageLimits.maxSize,
                 help: "largest result_per_page accepted (default 100)"),
        .integer("store_timeout_ms", live: true, 10...60_000, \.storeTimeoutMilliseconds,
                 help: "deadline for the store before UNAVAILABLE (default 2000)"),
        .integer("store_connections", live: false, 1...100, \.storeConnections,
                 help: "PostgreSQL connections each instance keeps open (default 8)"),
        .integer("store_batches", live: false, 1...50, \.storeBatches,
                 help: "search statements sent to PostgreSQL at once per event loop (default 1)"),
        .integer("simulated_latency_ms", live: true, 0...60_000, \.simulatedLatencyMilliseconds,
                 help: "extra delay per search, for drills (default 0)"),
        .text("kafka_topic", live: false, \.kafkaTopic, help: "ship logs to this Kafka topic (default: off)"),
        .text("kafka_brokers", live: false, \.kafkaBrokers, allowEmpty: false,
              help: "Kafka bootstrap servers (default 127.0.0.1:9092)"),
        .text("statsd_address", live: false, \.statsdAddress,
              help: "StatsD host:port, empty for none (default 127.0.0.1:8125)"),
        .integer("check_interval_s", live: false, 1...3_600, \.checkIntervalSeconds,
                 help: "Consul gRPC health check interval (default 10)"),
    ]

    /// A value from some layer that could not be used (the previous layer's value stays).
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var source: String
        public var key: String
        public var value: String
        /// Why, when the value is valid alone but not with the others.
        public var reason: String?
        public var description: String {
            "ignoring \(source) \(key)=\"\(value)\": " + (reason ?? "not a valid value")
        }
    }

    /// Layers `kv` (keys without the prefix), then `environment` (SEARCH_* variables), then `flags`
    /// (keyed like KV) over the defaults. Unknown KV keys are ignored, bad values are reported. A default
    /// page size above the maximum is refused as a pair: the page sizes of `previous` (the settings in
    /// effect) stay, else the defaults.
    public static func resolve(kv: [String: String], environment: [String: String], flags: [String: String],
                               previous: ServerSettings? = nil) -> (ServerSettings, [Problem]) {
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
        let defaultGiven = kv["default_page_size"] != nil || environment["SEARCH_DEFAULT_PAGE_SIZE"] != nil
            || flags["default_page_size"] != nil
        if settings.pageLimits.defaultSize > settings.pageLimits.maxSize && !defaultGiven {
            // Only a maximum below the built-in default was set: the default follows it down.
            settings.pageLimits.defaultSize = settings.pageLimits.maxSize
        }
        if settings.pageLimits.defaultSize > settings.pageLimits.maxSize {
            let kept = previous?.pageLimits ?? PageLimits()
            problems.append(Problem(source: "settings", key: "default_page_size", value: "\(settings.pageLimits.defaultSize)",
                                    reason: "above max_page_size \(settings.pageLimits.maxSize); keeping default_page_size "
                                        + "\(kept.defaultSize) and max_page_size \(kept.maxSize)"))
            settings.pageLimits = kept
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

    /// Every setting's value in effect, by KV key (what Monitor echoes, so a console can see a change land).
    public var values: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.keys.map { ($0.key, $0.read(self)) })
    }

    public static func key(named name: String) -> SettingKey? { keys.first { $0.key == name } }

    /// Why a server would refuse `key` = `value` with the other KV keys as they are (nil: it would take it).
    /// A value bad alone says what is expected; a valid value that breaks a pair (a default page size
    /// above the maximum) says which pair. Problems the KV has already are not this value's.
    public static func refusal(key: String, value: String, kv: [String: String]) -> String? {
        guard let setting = Self.key(named: key) else { return nil }
        var scratch = ServerSettings()
        if !setting.apply(&scratch, value.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return "\(key) cannot be \"\(value)\": \(setting.help)"
        }
        var proposed = kv
        proposed[key] = value
        let before = Set(resolve(kv: kv, environment: [:], flags: [:]).1.map(\.key))
        let after = resolve(kv: proposed, environment: [:], flags: [:]).1
        guard let new = after.first(where: { !before.contains($0.key) }) else { return nil }
        if new.key == "default_page_size" && new.reason != nil {
            let limits = proposed.mapValues { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return "default_page_size \(limits["default_page_size"] ?? "") would be above max_page_size "
                + "\(limits["max_page_size"] ?? PageLimits().maxSize.description): search-server keeps both unchanged"
        }
        return new.description
    }
}

/// How a search-server says so in its Consul registration: a console seeing this meta knows the keys
/// under the service's KV prefix are this table's.
public enum SettingsTable {
    public static let metaKey = "settings"
    public static let metaValue = "search-server"

    /// An instance's registration meta says it runs search-server.
    public static func announced(in meta: [String: String]) -> Bool { meta[metaKey] == metaValue }
}
