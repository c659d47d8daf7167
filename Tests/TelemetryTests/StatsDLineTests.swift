import Foundation
import Testing
@testable import Telemetry

@Suite(.timeLimit(.minutes(5))) struct StatsDLineTests {
    @Test func formatsEachMetricType() {
        #expect(StatsDLine.counter("search.requests") == "search.requests:1|c")
        #expect(StatsDLine.counter("search.requests", 5, sampleRate: 0.1) == "search.requests:5|c|@0.1")
        #expect(StatsDLine.gauge("search.n_things", 177) == "search.n_things:177|g")
        #expect(StatsDLine.gauge("load", 0.25) == "load:0.25|g")
        #expect(StatsDLine.timing("search.latency", milliseconds: 1.5) == "search.latency:1.5|ms")
    }

    @Test func neverWritesExponentsOrNonFiniteValues() {
        #expect(StatsDLine.gauge("tiny", 0.00001) == "tiny:0.00001|g")
        #expect(StatsDLine.gauge("nan", .nan) == "nan:0|g")
        #expect(StatsDLine.gauge("neg", -2.5) == "neg:-2.5|g")
    }

    @Test func decimalsAreRoundedToSixPlacesWithoutTrailingZeros() {
        #expect(StatsDLine.format(1234.5678901) == "1234.56789")
        #expect(StatsDLine.format(0.1 + 0.2) == "0.3")
        #expect(StatsDLine.format(2.0000004) == "2")
        #expect(StatsDLine.format(-0.0000001) == "0")
        #expect(StatsDLine.format(-1.05) == "-1.05")
        #expect(StatsDLine.format(1e20) == "9000000000000000000")  // clamped, never a trap
    }

    @Test func separatorsInNamesCannotInjectMetrics() {
        #expect(StatsDLine.counter("a:1|c\nevil") == "a_1_c_evil:1|c")
    }

    @Test func failedSendsAreCountedNotThrown() async throws {
        // Nobody listens on UDP port 9 (discard): the kernel's "port unreachable" makes the next send on
        // the connected socket fail with ECONNREFUSED, which must be counted and never reach the caller.
        let client = try StatsDClient(host: "127.0.0.1", port: 9, prefix: "t")
        #expect(client.droppedPackets == 0)
        for _ in 0..<3 {
            client.increment("x")
            client.flush()
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(client.droppedPackets >= 1)
        #expect(throws: StatsDError.self) { try StatsDClient(host: "not-an-ip") }
    }
}

/// The batching, read off a real UDP socket on loopback.
@Suite(.timeLimit(.minutes(5))) struct StatsDBatchingTests {
    /// A UDP socket bound to a free loopback port; `receive` waits up to ten seconds for a datagram
    /// (polling: a blocking recv would hold one of the few threads the client's flush needs; and the
    /// flush's task waits its turn on a pool that other suites keep busy: over 2 s was seen).
    final class Listener {
        let fd: Int32
        let port: UInt16
        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { close(fd); throw StatsDError.system("bind", errno) }
            self.fd = fd
            self.port = UInt16(bigEndian: address.sin_port)
        }
        deinit { close(fd) }
        func receive() async throws -> String? {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count >= 0 { return String(decoding: buffer[..<count], as: UTF8.self) }
                try await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
    }

    @Test func countersAreSummedGaugesKeepTheLastValueAndTimingsEverySample() async throws {
        let listener = try Listener()
        let client = try StatsDClient(port: listener.port, prefix: "p", flushDelay: .seconds(60))
        for _ in 0..<3 { client.increment("requests") }
        client.increment("errors.unavailable", by: 2)
        client.timing("latency", milliseconds: 1.5)
        client.timing("latency", milliseconds: 2)
        client.gauge("n_things", 170)
        client.gauge("n_things", 177)
        client.flush()
        let lines = try #require(try await listener.receive()).split(separator: "\n").sorted()
        #expect(lines == ["p.errors.unavailable:2|c", "p.latency:1.5|ms", "p.latency:2|ms", "p.n_things:177|g", "p.requests:3|c"])
        client.flush()  // nothing waits: nothing is sent
        client.increment("after")
        client.flush()
        #expect(try await listener.receive() == "p.after:1|c")
    }

    @Test func timingsFillDatagramsNoneLargerThanTheLimitAndNoneLost() async throws {
        let listener = try Listener()
        let client = try StatsDClient(port: listener.port, flushDelay: .seconds(60))
        for sample in 0..<500 { client.timing("search_latency_of_some_instance", milliseconds: Double(sample)) }
        client.flush()
        var samples: [String] = []
        while samples.count < 500, let datagram = try await listener.receive() {
            #expect(datagram.utf8.count <= StatsDClient.maxDatagram)
            samples += datagram.split(separator: "\n").map { String($0.dropFirst("search_latency_of_some_instance:".count).dropLast(3)) }
        }
        #expect(samples == (0..<500).map(String.init))
        #expect(client.droppedPackets == 0)
    }

    @Test func whatWaitsIsSentAfterTheDelayWithoutAFlush() async throws {
        let listener = try Listener()
        let client = try StatsDClient(port: listener.port, flushDelay: .milliseconds(50))
        client.increment("requests")
        #expect(try await listener.receive() == "requests:1|c")
        #expect(client.droppedPackets == 0)  // alive until here: its deinit's flush is not what sent it
    }
}

@Suite(.timeLimit(.minutes(5))) struct CollectdPathsTests {
    @Test func mapsStatsDNamesToCollectdSeries() {
        #expect(CollectdPaths.path(.gauge, statsdName: "search.n_things") == "collectd.*.statsd.gauge-search_n_things")
        #expect(CollectdPaths.path(.counterRate, statsdName: "search.requests", host: "opsdeck")
                == "collectd.opsdeck.statsd.derive-search_requests")
        #expect(CollectdPaths.path(.timerAverage, statsdName: "search.latency")
                == "collectd.*.statsd.latency-search_latency-average")
    }
}

@Suite(.timeLimit(.minutes(5))) struct GraphiteDecodingTests {
    @Test func decodesRenderJSONWithNulls() throws {
        let json = #"[{"target":"collectd.h.statsd.gauge-x","tags":{},"datapoints":[[null,1700000000],[2.5,1700000010],[3,1700000020]]}]"#
        let series = try GraphiteSeries.decodeRender(Data(json.utf8))
        #expect(series.count == 1)
        #expect(series[0].target == "collectd.h.statsd.gauge-x")
        #expect(series[0].points.map(\.timestamp) == [1_700_000_000, 1_700_000_010, 1_700_000_020])
        #expect(series[0].points.map(\.value) == [nil, 2.5, 3])
        #expect(series[0].values == [2.5, 3])
    }

    @Test func decodesFindTreeJSON() throws {
        let json = #"[{"leaf":0,"context":{},"text":"statsd","expandable":1,"id":"collectd.h.statsd","allowChildren":1},{"leaf":1,"context":{},"text":"gauge-x","expandable":0,"id":"collectd.h.gauge-x","allowChildren":0}]"#
        let metrics = try GraphiteMetric.decodeFind(Data(json.utf8))
        #expect(metrics.map(\.id) == ["collectd.h.statsd", "collectd.h.gauge-x"])
        #expect(metrics.map(\.isLeaf) == [false, true])
    }

    @Test func rejectsMalformedRender() {
        #expect(throws: (any Error).self) { try GraphiteSeries.decodeRender(Data("{}".utf8)) }
    }

    @Test func encodesTargetsForTheQueryString() {
        #expect(percentEncoded("sumSeries(a.*,b)&x=1") == "sumSeries%28a.%2A%2Cb%29%26x%3D1")
    }
}
