import Testing
@testable import Consul

@Suite(.timeLimit(.minutes(1))) struct GoDurationTests {
    @Test(arguments: [
        ("10s", Duration.seconds(10)), ("1m30s", .seconds(90)), ("1.5h", .seconds(5400)), ("300ms", .milliseconds(300)),
        ("0", .zero), ("2h45m", .seconds(9900)), ("250us", .microseconds(250)), ("100ns", .nanoseconds(100)),
    ])
    func parsesGoDurations(text: String, expected: Duration) {
        #expect(GoDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "10", "s", "1x", "ten seconds", "1.2.3s", "-"])
    func rejectsWhatGoRejects(text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test func formatsTheShortWay() {
        #expect(GoDuration.format(.seconds(10)) == "10s")
        #expect(GoDuration.format(.milliseconds(1500)) == "1500ms")
        #expect(GoDuration.parse(GoDuration.format(.milliseconds(2750))) == .milliseconds(2750))
    }
}
