import Telemetry
import Testing

@Suite(.timeLimit(.minutes(5))) struct StatsDMetricsFactoryTests {
    @Test func dimensionValuesFollowTheLabel() {
        #expect(StatsDMetricsFactory.name(label: "search_errors", dimensions: [("code", "unavailable")]) == "search_errors.unavailable")
        #expect(StatsDMetricsFactory.name(label: "search_requests", dimensions: []) == "search_requests")
    }
}
