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
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(client.droppedPackets >= 1)
        #expect(throws: StatsDError.self) { try StatsDClient(host: "not-an-ip") }
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
