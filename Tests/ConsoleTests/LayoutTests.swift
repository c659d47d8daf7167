import Console
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct LayoutTests {
    let services = (id: PaneID("services"), placement: ServicesPane.placement)
    let instances = (id: PaneID("instances"), placement: InstancesPane.placement)
    let chart = (id: PaneID("chart"), placement: PanePlacement(row: .bottom, width: .flexible(minimum: 30)))
    let logs = (id: PaneID("logs"), placement: PanePlacement(row: .bottom, width: .flexible(minimum: 30)))

    @Test func aWideScreenShowsEveryPane() {
        let body = Rect(x: 0, y: 1, width: 200, height: 57)
        let frames = DashboardLayout.frames(body: body, panes: [services, instances, chart, logs], focus: "services", zoomed: false)
        #expect(frames["services"] == Rect(x: 0, y: 1, width: 36, height: 31))  // 22 % is 44: the maximum, 36
        #expect(frames["instances"] == Rect(x: 36, y: 1, width: 164, height: 31))
        #expect(frames["chart"] == Rect(x: 0, y: 32, width: 100, height: 26))
        #expect(frames["logs"] == Rect(x: 100, y: 32, width: 100, height: 26))
    }

    @Test func aNarrowRowShowsTheFocusedPaneElseItsMainOne() {
        let body = Rect(x: 0, y: 1, width: 80, height: 21)
        #expect(DashboardLayout.frames(body: body, panes: [services, instances], focus: "services", zoomed: false)
                == ["services": body])
        #expect(DashboardLayout.frames(body: body, panes: [services, instances], focus: "instances", zoomed: false)
                == ["instances": body])
        // 80x24 with a bottom row too: two rows fit; the top row shows its flexible pane, the focus being below.
        let frames = DashboardLayout.frames(body: body, panes: [services, instances, chart, logs], focus: "logs", zoomed: false)
        #expect(frames.keys.sorted() == ["chart", "instances", "logs"])
    }

    @Test func zoomGivesTheFocusedPaneEverything() {
        let body = Rect(x: 0, y: 1, width: 120, height: 30)
        #expect(DashboardLayout.frames(body: body, panes: [services, instances, chart], focus: "chart", zoomed: true)
                == ["chart": body])
    }

    @Test func sidebarsAloneShareTheRow() {
        let body = Rect(x: 0, y: 0, width: 100, height: 10)
        let frames = DashboardLayout.frames(body: body, panes: [services], focus: "services", zoomed: false)
        #expect(frames == ["services": body])
    }
}

@Suite(.timeLimit(.minutes(1))) struct LineCommandTests {
    let parser = LineCommandParser([
        LineCommandSpec("instances", aliases: ["inst"], argument: .init("SERVICE", required: false, completion: .services), help: ""),
        LineCommandSpec("show", argument: .init("PANE", required: true, completion: .values(["logs", "metrics"])), help: ""),
        LineCommandSpec("quit", aliases: ["q"], help: ""),
        LineCommandSpec("metric", argument: .init("TARGET", required: false, rest: true), help: ""),
    ])

    @Test func parsesNamesAliasesAndArguments() throws {
        #expect(try parser.parse("inst web").get() == LineCommand("instances", "web"))
        #expect(try parser.parse("  q ").get() == LineCommand("quit"))
        #expect(parser.parse("").failureValue == .empty)
        // A rest-of-line argument keeps its spaces.
        #expect(try parser.parse("metric  aliasSub(a.b, 'x y', '')").get() == LineCommand("metric", "aliasSub(a.b, 'x y', '')"))
        #expect(parser.parse("quit now").failureValue?.description == ":quit: too many arguments (:quit)")
        #expect(parser.parse("show").failureValue?.description == ":show needs PANE: :show PANE")
        #expect(parser.parse("shwo x").failureValue?.description == "unknown command :shwo: did you mean :show?")
        #expect(parser.parse("zzzzzz").failureValue?.description
                == "unknown command :zzzzzz (commands: instances [SERVICE], show PANE, quit, metric [TARGET])")
    }

    @Test func completesTheLastWord() {
        let services = ["search-service", "search-bench", "web"]
        func complete(_ line: String) -> (String, [String]) {
            let result = parser.complete(line) { $0 == .services ? services : [] }
            return (result.line, result.candidates)
        }
        #expect(complete("i") == ("instances ", []))
        #expect(complete("instances sea") == ("instances search-", ["search-bench", "search-service"]))
        #expect(complete("instances w") == ("instances web ", []))
        #expect(complete("show ") == ("show ", ["logs", "metrics"]))
        #expect(complete("quit x") == ("quit x", []))  // quit takes no argument
        #expect(complete("instances web x") == ("instances web x", []))  // one argument at most
    }

    /// A smoke test on the cooperative pool, which every suite shares (2,000 lines: 20,000 held the pool
    /// for over a second of a full run's start); PromptFuzzTests runs the long loop off the pool.
    @Test func randomLinesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 11)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz -:/\t\u{1B}é漢\u{0}")
        for _ in 0..<2_000 {
            let line = String((0..<Int(generator.next() % 24)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            switch parser.parse(line) {
            case .success(let command): #expect(parser.spec(named: command.name) != nil)
            case .failure(let error): #expect(!error.description.isEmpty)
            }
            _ = parser.complete(line) { _ in ["a", "ab"] }
        }
    }
}

/// A small seeded generator, so a failure replays.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}

/// Instance addresses as Consul gives them, IPv6 included (the poller used to skip `[::1]:50051`).
@Suite(.timeLimit(.minutes(1))) struct HostPortTests {
    @Test func formatsAndParsesBothFamilies() {
        #expect(HostPort.format("127.0.0.1", 50051) == "127.0.0.1:50051")
        #expect(HostPort.format("::1", 50051) == "[::1]:50051")
        #expect(HostPort.parse("[::1]:50051")! == ("::1", 50051))
        #expect(HostPort.parse("10.0.0.7:8080")! == ("10.0.0.7", 8080))
        #expect(HostPort.parse("search.internal:443")! == ("search.internal", 443))
        for bad in ["::1:50051", "[::1]", "[::1]50051", "host", "host:", ":80", "host:0", "host:70000", "host:x"] {
            #expect(HostPort.parse(bad) == nil, "\(bad)")
        }
    }
}
