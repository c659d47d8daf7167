import Logging
import SearchService
import Testing

@Suite(.timeLimit(.minutes(3))) struct ServerSettingsTests {
    @Test func flagsBeatEnvironmentWhichBeatsConsulKV() {
        let (settings, problems) = ServerSettings.resolve(
            kv: ["log_level": "debug", "default_page_size": "20", "max_page_size": "50"],
            environment: ["SEARCH_DEFAULT_PAGE_SIZE": "30", "SEARCH_MAX_PAGE_SIZE": "60"],
            flags: ["max_page_size": "70"])
        #expect(problems.isEmpty)
        #expect(settings.logLevel == .debug)
        #expect(settings.pageLimits == PageLimits(defaultSize: 30, maxSize: 70))
    }

    @Test func aBadValueIsReportedAndTheLayerBelowStays() {
        let (settings, problems) = ServerSettings.resolve(
            kv: ["log_level": "chatty", "store_timeout_ms": "500", "unknown_key": "x"],
            environment: ["SEARCH_STORE_TIMEOUT_MS": "soon"], flags: [:])
        #expect(settings.logLevel == .info)
        #expect(settings.storeTimeoutMilliseconds == 500)
        #expect(problems.map(\.description) == [
            "ignoring Consul KV log_level=\"chatty\": not a valid value",
            "ignoring environment SEARCH_STORE_TIMEOUT_MS=\"soon\": not a valid value",
        ])
    }

    /// Each value is valid alone; together the default page would be refused by the maximum.
    @Test func aDefaultPageAboveTheMaximumIsRefusedAndTheLastGoodPairStays() {
        let (fresh, problems) = ServerSettings.resolve(kv: ["default_page_size": "200", "max_page_size": "100"], environment: [:], flags: [:])
        #expect(fresh.pageLimits == PageLimits())
        #expect(problems.map(\.description) == [
            "ignoring settings default_page_size=\"200\": above max_page_size 100; keeping default_page_size 10 and max_page_size 100",
        ])
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let configuration = LiveConfiguration(prefix: "svc/", kv: ["default_page_size": "20", "max_page_size": "50"], environment: [:],
                                              flags: [:], logLevel: LiveLogLevel(.info), logger: logger)
        #expect(configuration.settings.pageLimits == PageLimits(defaultSize: 20, maxSize: 50))
        configuration.apply(kv: ["default_page_size": "20", "max_page_size": "5"], logger: logger)
        #expect(configuration.settings.pageLimits == PageLimits(defaultSize: 20, maxSize: 50))  // the last good pair
        configuration.apply(kv: ["default_page_size": "5", "max_page_size": "5"], logger: logger)
        #expect(configuration.settings.pageLimits == PageLimits(defaultSize: 5, maxSize: 5))
        // A maximum alone, below the built-in default of 10: the default follows it, nothing is refused.
        let (small, none) = ServerSettings.resolve(kv: ["max_page_size": "5"], environment: [:], flags: [:])
        #expect(small.pageLimits == PageLimits(defaultSize: 5, maxSize: 5) && none.isEmpty)
    }

    /// What the console and `opsdeck kv put` check before writing a setting: the server's own rules.
    @Test func aRefusalSaysWhyTheServerWouldNotTakeAValue() {
        #expect(ServerSettings.refusal(key: "log_level", value: "DEBUG", kv: [:]) == nil)
        #expect(ServerSettings.refusal(key: "log_level", value: "loud", kv: [:])
                == "log_level cannot be \"loud\": trace|debug|info|notice|warning|error|critical (default info)")
        #expect(ServerSettings.refusal(key: "store_timeout_ms", value: "5", kv: [:])?.hasPrefix("store_timeout_ms cannot be \"5\"") == true)
        #expect(ServerSettings.refusal(key: "default_page_size", value: "200", kv: ["max_page_size": "100"])
                == "default_page_size 200 would be above max_page_size 100: search-server keeps both unchanged")
        #expect(ServerSettings.refusal(key: "max_page_size", value: "20", kv: ["default_page_size": "50"])
                == "default_page_size 50 would be above max_page_size 20: search-server keeps both unchanged")
        // A maximum alone below the built-in default lowers the default: nothing to refuse.
        #expect(ServerSettings.refusal(key: "max_page_size", value: "5", kv: [:]) == nil)
        // A problem KV has already is not this value's; keys that are not settings are not judged.
        #expect(ServerSettings.refusal(key: "log_level", value: "debug", kv: ["store_timeout_ms": "x"]) == nil)
        #expect(ServerSettings.refusal(key: "feature_x", value: "anything", kv: [:]) == nil)
    }

    @Test func changesAreSplitIntoLiveAndRestart() {
        var next = ServerSettings()
        next.logLevel = .debug
        next.kafkaTopic = "logs"
        let changes = ServerSettings.changes(from: ServerSettings(), to: next)
        #expect(changes.live == ["log_level"])
        #expect(changes.restart == ["kafka_topic"])
    }

    @Test func everyKeyHasItsEnvironmentVariableAndFlag() {
        let key = ServerSettings.keys.first { $0.key == "store_timeout_ms" }
        #expect(key?.environmentVariable == "SEARCH_STORE_TIMEOUT_MS")
        #expect(key?.flag == "--store-timeout-ms")
    }

    @Test func liveConfigurationAppliesTheLogLevelAtOnceAndHoldsBackRestartKeys() {
        let level = LiveLogLevel(.info)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let configuration = LiveConfiguration(prefix: "svc/", kv: [:], environment: [:], flags: [:],
                                              logLevel: level, logger: logger)
        #expect(configuration.apply(kv: ["log_level": "debug"], logger: logger).isEmpty)
        #expect(level.level == .debug)
        #expect(configuration.apply(kv: ["log_level": "debug", "kafka_brokers": "elsewhere:9092"], logger: logger)
                == ["kafka_brokers"])
        #expect(configuration.settings.kafkaBrokers == "127.0.0.1:9092")  // unchanged until the restart
    }
}
