import Foundation
import GRPCCore
import SearchAPI
import StackSupport
import Telemetry
import Testing

/// search-server's StatsD metrics through the real collectd → carbon → graphite-web chain: each metric
/// arrives both service-wide and under the instance's own name. Slow by nature (collectd flushes every
/// 10 s, and a new series appears in Graphite a flush later).
@Suite(.timeLimit(.minutes(3))) struct MetricsTests {
    @Test func callsAndErrorsArriveInGraphitePerInstanceAndServiceWide() async throws {
        try await Stack.ensureUp()
        let server = try ServerProcess(service: uniqueService(), flags: ["--statsd-address", "127.0.0.1:\(Stack.statsdPort)"])
        defer { server.signal(SIGTERM) }
        let port = try await server.port()
        let graphite = GraphiteClient(baseURL: Stack.graphiteURL)
        let instance = CollectdPaths.graphiteSafe(server.instanceID)
        let requests = CollectdPaths.path(.counterRate, statsdName: CollectdPaths.instanceStatsDName("requests", instance: server.instanceID))
        let errors = CollectdPaths.path(.counterRate,
                                        statsdName: CollectdPaths.instanceStatsDName("errors", instance: server.instanceID) + ".invalid_argument")
        let latency = CollectdPaths.path(.timerAverage, statsdName: CollectdPaths.instanceStatsDName("latency", instance: server.instanceID))
        let serviceWide = CollectdPaths.path(.counterRate, statsdName: "search_requests")
        #expect(requests == "collectd.*.statsd.derive-search_instance_\(instance)_requests")

        let deadline = ContinuousClock.now + .seconds(120)
        let (seen, failedRenders) = try await withSearchClient(port: port) { search in
            var seen: [String: Double] = [:]
            var failedRenders: [String] = []
            while ContinuousClock.now < deadline {
                for _ in 0..<5 { _ = try await search.search(.with { $0.lat = 48.8566; $0.lng = 2.3522 }) }
                _ = try? await search.search(.with { $0.lat = 91; $0.lng = 0 })  // INVALID_ARGUMENT
                // A render that outlasts its 10 s deadline (seen in CI: graphite-web starved while every suite
                // ran) is asked again; the 120 s deadline is what says the metrics never arrived. Graphite's
                // own refusal or an answer that does not decode is a failure at once.
                do {
                    for series in try await graphite.render(targets: [requests, errors, latency, serviceWide], from: "-3min") {
                        if let last = series.values.last(where: { $0 > 0 }) { seen[series.target] = last }
                    }
                } catch let error where !(error is GraphiteError || error is DecodingError) {
                    failedRenders.append("\(error)")
                }
                if seen.count == 4 { break }
                try await Task.sleep(for: .seconds(2))
            }
            return (seen, failedRenders)
        }
        #expect(seen.count == 4, "series seen in Graphite after 120 s: \(seen); \(failedRenders.count) renders failed, the last: \(failedRenders.last ?? "-")")
        #expect(seen.keys.contains { $0.hasSuffix("derive-search_instance_\(instance)_requests") })
        #expect(seen.keys.contains { $0.hasSuffix("derive-search_instance_\(instance)_errors_invalid_argument") })
        #expect(seen.keys.contains { $0.hasSuffix("latency-search_instance_\(instance)_latency-average") })
        // Every instance of every service adds to the service-wide rate: at least this one's.
        let mine = seen.first { $0.key.hasSuffix("_requests") && $0.key.contains(instance) }?.value ?? 0
        let total = seen.first { $0.key.hasSuffix("derive-search_requests") }?.value ?? 0
        #expect(total > 0 && mine > 0)
    }
}
