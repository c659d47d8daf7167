import Synchronization
import Testing
@testable import Consul

@Suite(.timeLimit(.minutes(1))) struct BlockingIndexTests {
    @Test func followsTheReturnedIndex() {
        #expect(BlockingIndex.next(sent: 0, returned: 42) == 42)
        #expect(BlockingIndex.next(sent: 42, returned: 57) == 57)
    }

    @Test func resetsWhenTheIndexGoesBackwards() {
        #expect(BlockingIndex.next(sent: 57, returned: 12) == 0)
    }

    @Test func neverSendsZeroBack() {
        #expect(BlockingIndex.next(sent: 0, returned: 0) == 1)
    }

    @Test func theHTTPTimeoutOutlastsTheServersJitter() {
        let wait = Duration.seconds(300)
        #expect(BlockingIndex.httpTimeout(forWait: wait) > wait + wait / 16)
    }

    @Test func changeMeansANewIndexOrAFirstRead() {
        #expect(BlockingIndex.isChange(sent: 0, returned: 5))
        #expect(BlockingIndex.isChange(sent: 5, returned: 6))
        #expect(!BlockingIndex.isChange(sent: 5, returned: 5))
    }
}

@Suite(.timeLimit(.minutes(1))) struct BackoffTests {
    @Test func doublesUpToTheCap() {
        let backoff = Backoff(base: .milliseconds(250), cap: .seconds(2))
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(250))
        #expect(backoff.ceiling(attempt: 2) == .milliseconds(500))
        #expect(backoff.ceiling(attempt: 4) == .seconds(2))
        #expect(backoff.ceiling(attempt: 50) == .seconds(2))
    }

    @Test func jitterStaysBetweenHalfAndTheCeiling() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(8))
        #expect(backoff.delay(attempt: 3, random: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 3, random: 1) == .seconds(4))
    }
}

@Suite(.timeLimit(.minutes(1))) struct RateLimiterTests {
    @Test func allowsABurstThenOnePerRefill() {
        var limiter = RateLimiter(burst: 2, refill: .seconds(1))
        let start = ContinuousClock.now
        #expect(limiter.take(now: start) == .zero)
        #expect(limiter.take(now: start) == .zero)
        #expect(limiter.take(now: start) == .seconds(1))
        // After waiting as told, and a quiet spell, the bucket refills.
        #expect(limiter.take(now: start + .seconds(5)) == .zero)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ConfigurationTests {
    @Test func readsConsulsEnvironmentVariables() {
        let c = ConsulConfiguration.fromEnvironment(["CONSUL_HTTP_ADDR": "consul.internal:8501", "CONSUL_HTTP_SSL": "true",
                                                     "CONSUL_HTTP_TOKEN": "s3cr3t"])
        #expect(c.baseURL == "https://consul.internal:8501")
        #expect(c.token == "s3cr3t")
        #expect(ConsulConfiguration.fromEnvironment([:]).baseURL == "http://127.0.0.1:8500")
        #expect(ConsulConfiguration.fromEnvironment(["CONSUL_HTTP_ADDR": "http://10.1.2.3:8500/"]).baseURL == "http://10.1.2.3:8500")
    }

    @Test func neverPrintsTheToken() {
        let c = ConsulConfiguration(address: "127.0.0.1:8500", token: "s3cr3t")
        #expect(!String(describing: c).contains("s3cr3t"))
        #expect(String(describing: c).contains("token set"))
    }
}

/// The watch loop against a scripted sequence of answers (its rules, without a server).
@Suite(.timeLimit(.minutes(1))) struct ConsulWatchTests {
    final class Script: Sendable {
        let answers: Mutex<[Result<Indexed<String>, ConsulError>]>
        let sentIndexes = Mutex<[UInt64]>([])
        init(_ answers: [Result<Indexed<String>, ConsulError>]) { self.answers = Mutex(answers) }

        func fetch(_ options: QueryOptions) throws -> Indexed<String> {
            sentIndexes.withLock { $0.append(options.index) }
            let next = answers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            guard let next else { throw CancellationError() }
            return try next.get()
        }
    }

    static func value(_ text: String, _ index: UInt64) -> Result<Indexed<String>, ConsulError> {
        .success(Indexed(value: text, meta: QueryMeta(index: index)))
    }

    @Test func yieldsOnlyChangesAndResetsOnABackwardsIndex() async throws {
        let script = Script([
            Self.value("a", 10), Self.value("a", 10),   // a wait that timed out: no element
            Self.value("b", 12), Self.value("c", 4),    // index went backwards: reset to 0
            Self.value("c", 4),
        ])
        let watch = ConsulWatch(wait: .seconds(1), limiter: RateLimiter(burst: 100, refill: .milliseconds(1))) { options in
            try script.fetch(options)
        }
        var seen: [String] = []
        for await update in watch {
            guard case .value(let text, _) = update else { continue }
            seen.append(text)
            if seen.count == 4 { break }
        }
        #expect(seen == ["a", "b", "c", "c"])
        #expect(script.sentIndexes.withLock { $0 } == [0, 10, 10, 12, 0])
    }

    @Test func reportsFailuresWithTheirRetryAndRecovers() async throws {
        let script = Script([
            .failure(.unreachable(path: "/v1/kv/x", reason: "connection refused")),
            .failure(.unexpectedStatus(code: 500, body: "boom", path: "/v1/kv/x")),
            Self.value("back", 20),
        ])
        let watch = ConsulWatch(wait: .seconds(1), backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(20))) { options in
            try script.fetch(options)
        }
        var updates: [String] = []
        for await update in watch {
            switch update {
            case .failed(let error, let attempt, let retryIn):
                #expect(retryIn <= .milliseconds(20))
                updates.append("failed \(attempt): \(error.isRetryable)")
            case .value(let text, let index):
                updates.append("\(text)@\(index)")
            case .filteredByACLs:
                updates.append("filtered")
            }
            if updates.count == 3 { break }
        }
        #expect(updates == ["failed 1: true", "failed 2: true", "back@20"])
    }
}
