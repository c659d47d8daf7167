import Foundation
@testable import SearchService
import StackSupport
import Testing

@Suite(.timeLimit(.minutes(3))) struct RequestStatsTests {
    @Test func quantilesAreNearestRankOverTheWindow() {
        let stats = RequestStats()
        for ms in 1...100 { stats.record(milliseconds: Double(ms), failed: ms % 10 == 0) }
        let snapshot = stats.snapshot()
        #expect(snapshot.requests == 100 && snapshot.errors == 10)
        #expect(snapshot.p50 == 50 && snapshot.p99 == 99)
    }

    @Test func onlyTheRecentWindowCounts() {
        let stats = RequestStats()
        for _ in 0..<RequestStats.window { stats.record(milliseconds: 500, failed: false) }
        for _ in 0..<RequestStats.window { stats.record(milliseconds: 2, failed: false) }
        #expect(stats.snapshot().p99 == 2)
        #expect(stats.snapshot().requests == Int64(2 * RequestStats.window))
    }

    @Test func noCallsMeansZeroNotACrash() {
        #expect(RequestStats().snapshot() == .init(requests: 0, errors: 0, p50: 0, p99: 0))
    }
}

@Suite(.timeLimit(.minutes(3))) struct LogRecordTests {
    let record = LogRecord(date: Date(timeIntervalSince1970: 1_795_000_000.25), level: .warning,
                           instance: "search-service-1", message: "store \"slow\"", source: "SearchService",
                           meta: ["b": "2", "a": "1"])

    @Test func jsonIsOneObjectWithAnRFC3339Timestamp() throws {
        let text = String(decoding: record.json(), as: UTF8.self)
        #expect(text == #"{"instance":"search-service-1","level":"warning","message":"store \"slow\"","meta":{"a":"1","b":"2"},"source":"SearchService","ts":"2026-11-18T11:06:40.250Z"}"#)
        #expect(try JSONDecoder().decode(LogRecord.self, from: Data(text.utf8)) == record)
    }

    @Test func theStdoutLineHasSortedMetadata() {
        #expect(record.line() == #"2026-11-18T11:06:40.250Z warning  store "slow" a=1 b=2"#)
    }

    /// A client's query text cannot forge a line or send an escape sequence to whoever reads the log.
    @Test func valuesAndMessagesCannotForgeLinesOrEscapes() {
        let forged = LogRecord(date: Date(timeIntervalSince1970: 1_763_464_000.25), level: .debug, instance: "i", message: "search\nFAKE",
                               source: "s", meta: ["query": "x\n2026-11-18T11:06:40.250Z error    store down", "point": "",
                                                   "name": "a \"b\" c\\d", "esc": "\u{1B}[2J", "ok": "48.85,2.35", "rtl": "a\u{202E}b\u{2028}c"])
        let line = forged.line()
        #expect(!line.contains("\n") && !line.contains("\u{1B}"))
        #expect(line == #"2025-11-18T11:06:40.250Z debug    search\nFAKE esc="\u{1b}[2J" name="a \"b\" c\\d" ok=48.85,2.35 point="" query="x\n2026-11-18T11:06:40.250Z error    store down" rtl="a\u{202e}b\u{2028}c""#)
    }
}

/// The log's stdout writer never blocks a caller: a reader that stalls costs lines (counted), not time.
@Suite(.timeLimit(.minutes(1))) struct LineWriterTests {
    @Test func aStalledReaderDropsAndCountsLinesWithoutBlockingTheCaller() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let writer = LineWriter(descriptor: fds[1], capacity: 10)
        let line = String(repeating: "x", count: 1_000)
        let clock = ContinuousClock()
        let start = clock.now
        var accepted = 0
        for i in 0..<500 where writer.write("\(i) \(line)") { accepted += 1 }
        // 500 KB into a 64 KiB pipe nobody reads: a blocking write would never return.
        #expect(clock.now - start < .seconds(2))
        #expect(writer.dropped == 500 - accepted && writer.dropped > 0)
        // The reader comes back: what was accepted arrives whole, in order.
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        var received = Data()
        let deadline = clock.now + .seconds(10)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.filter({ $0 == 10 }).count < accepted && clock.now < deadline {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { received.append(contentsOf: buffer[0..<n]) } else { usleep(1_000) }
        }
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == accepted)
        #expect(lines.allSatisfy { $0.hasSuffix(line) })
        let numbers = lines.compactMap { Int($0.prefix { $0 != " " }) }
        #expect(numbers == numbers.sorted() && numbers.first == 0)
        close(fds[1])
    }
}

@Suite(.timeLimit(.minutes(1))) struct LogShipperTests {
    /// Log records that cannot be queued for Kafka (its local queue full: the broker is away) are dropped
    /// and counted, never waited for: the number Monitor reports as log_records_dropped.
    @Test func logRecordsKafkaCannotTakeAreDroppedAndCounted() async throws {
        // Off the pool: the producer's teardown waits on the absent broker for a while.
        let (elapsed, dropped) = try await offPool {
            let shipper = try LogShipper(brokers: "127.0.0.1:1", topic: "dropped", instanceID: "i-1", queueLimit: 5)
            let started = ContinuousClock.now
            for i in 0..<20 {
                shipper.ship(LogRecord(date: Date(), level: .info, instance: "i-1", message: "record \(i)", source: "test", meta: [:]))
            }
            return (ContinuousClock.now - started, shipper.droppedRecords)
        }
        #expect(elapsed < .seconds(1))  // never blocked on the absent broker
        #expect(dropped == 15)
    }
}
