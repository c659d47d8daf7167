import Testing
@testable import Consul

@Suite(.timeLimit(.minutes(1))) struct KVEnvironmentTests {
    let pairs = [
        KVPair(key: "search-service/", value: []),                      // folder marker: skipped
        KVPair(key: "search-service/log_level", value: Array("debug".utf8)),
        KVPair(key: "search-service/db/host", value: Array("127.0.0.1".utf8)),
        KVPair(key: "search-service/max-page-size", value: Array("100".utf8)),
        KVPair(key: "other/thing", value: Array("x".utf8)),              // outside the prefix
    ]

    @Test func keepsKeysAsTheyAreByDefault() {
        #expect(KVEnvironment(prefix: "search-service").variables(from: pairs)
                == ["log_level": "debug", "db/host": "127.0.0.1", "max-page-size": "100"])
    }

    @Test func sanitizesThenUpcasesLikeEnvconsul() {
        #expect(KVEnvironment(prefix: "search-service/", sanitize: true, upcase: true).variables(from: pairs)
                == ["LOG_LEVEL": "debug", "DB_HOST": "127.0.0.1", "MAX_PAGE_SIZE": "100"])
    }

    @Test func canKeepThePrefix() {
        #expect(KVEnvironment(prefix: "search-service", sanitize: true, keepPrefix: true).variables(from: pairs)["search_service_log_level"] == "debug")
    }
}
