import Foundation
import FuzzSupport
import Telemetry
import Testing

/// Graphite's answers, damaged: decoded or an error, never a trap; a point is a number or a gap.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct GraphiteDecodeFuzzTests {
    static let render = Array(#"[{"target": "sumSeries(collectd.*.statsd.derive-search_requests)", "tags": {"name": "x"}, "datapoints": [[1.5, 1795788300], [null, 1795788310], [3, 1795788320]]}]"#.utf8)
    static let find = Array(#"[{"id": "collectd.vm.statsd.derive-search_requests", "text": "derive-search_requests", "leaf": 1, "expandable": 0, "allowChildren": 0}]"#.utf8)

    @Test func damagedAnswersDecodeOrFail() async {
        let findings = await fuzzOffPool { Self.fuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func fuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let extra = Array(#"[{"null,1e999,-1e999,"NaN",]}"#.utf8)
        for _ in 0..<SeededGenerator.iterations(20_000) {
            let damaged = random.mutate(Bool.random(using: &random) ? render : find, extra: extra)
            if let series = try? GraphiteSeries.decodeRender(Data(damaged)) {
                for point in series.flatMap(\.points) {
                    findings.check(point.value.map { $0.isFinite } ?? true, "a value that is not a number: \(point)")
                }
            }
            _ = try? GraphiteMetric.decodeFind(Data(damaged))
        }
        return findings
    }
}
