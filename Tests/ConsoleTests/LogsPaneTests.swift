import Console
import KafkaModels
import LogLines
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct LogsPaneTests {
    /// A search-server JSON record, as the runtime hands it over.
    static func entry(_ instance: String, _ level: String, _ message: String, at ms: Int64, offset: Int64 = 0) -> LogEntry {
        let json = #"{"ts":"x","level":"\#(level)","instance":"\#(instance)","message":\#(Fixture.json(message)),"meta":{}}"#
        return LogEntry(KafkaRecord(topic: "search-service", partition: 0, offset: offset, timestampMilliseconds: ms,
                                    key: Array(instance.utf8), value: Array(json.utf8)))
    }

    /// search-service selected, its first instance too, the console at 120x40 with the logs pane focused.
    func console() -> (ConsoleState, ConsoleReducer, LogQuery) {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 120, height: 40)
        _ = reducer.keys(&state, [.end])
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Fixture.searchInstances, at: Fixture.t0)))
        _ = reducer.keys(&state, [.tab, .tab, .tab])
        return (state, reducer, Self.logsQuery(state)!)
    }

    /// The logs feed the state wants.
    static func logsQuery(_ state: ConsoleState) -> LogQuery? {
        state.subscriptions.lazy.compactMap { if case .logs(let q) = $0 { return q } else { return nil } }.first
    }

    func feed(_ reducer: ConsoleReducer, _ state: inout ConsoleState, _ query: LogQuery, _ entries: [LogEntry]) {
        _ = reducer.reduce(&state, .feed(.logs(query, LogBatch(entries.map(LogLine.init)), at: Fixture.t0)))
    }

    var logs: (ConsoleState) -> LogsPane { { $0.pane(LogsPane.self)! } }

    @Test func theSelectedServicesTopicIsTailedAndItsInstancesLinesShown() {
        var (state, reducer, query) = console()
        #expect(state.focus == LogsPane.id)
        #expect(query.topic == "search-service" && query.start == LogsPane.defaultStart)
        feed(reducer, &state, query, (0..<6).map { i in Self.entry("search-service-\(i % 2 + 1)", "info", "line \(i)", at: Fixture.t0 + Int64(i)) })
        #expect(logs(state).buffer.shownCount == 3)  // search-service-1's only
        _ = reducer.keys(&state, [.character("z")])
        let screen = ConsoleView.render(state, reducer).text
        _ = reducer.keys(&state, [.character("z")])
        #expect(screen.contains("logs  search-service › search-service-1 only  3 of 6  following"))
        #expect(screen.contains("search-service-1 info    line 4") && !screen.contains("line 5"))
        _ = reducer.keys(&state, [.character("a")])
        #expect(logs(state).buffer.shownCount == 6 && state.message?.text == "logs: every instance")
        _ = reducer.keys(&state, [.character("a")])
        // From the instances pane, one key shows the selected instance's lines.
        _ = reducer.keys(&state, [.tab, .tab, .character("j"), .character("L")])
        #expect(state.focus == LogsPane.id && state.selection.instance == "search-service-2")
        #expect(logs(state).buffer.shownCount == 3 && logs(state).buffer.shownLine(0).line.instance == "search-service-2")
        _ = reducer.keys(&state, [.character("a")])
        // Another service: its topic, from its last lines, nothing of the old one kept.
        _ = reducer.keys(&state, [.tab, .character("k")])
        #expect(Self.logsQuery(state)?.topic == "consul" && Self.logsQuery(state)?.start == LogsPane.defaultStart)
        #expect(logs(state).buffer.lines.isEmpty)
    }

    @Test func scrollingBackPausesAndCountsWhatArrives() {
        var (state, reducer, query) = console()
        _ = reducer.keys(&state, [.character("a")])
        feed(reducer, &state, query, (0..<50).map { Self.entry("i", "info", "old \($0)", at: Fixture.t0 + Int64($0)) })
        _ = reducer.keys(&state, [.up, .up])
        #expect(logs(state).scroll == 2)
        feed(reducer, &state, query, (0..<5).map { Self.entry("i", "info", "new \($0)", at: Fixture.t0 + 100 + Int64($0)) })
        // The view stays on the same lines; the title counts the new ones.
        #expect(logs(state).scroll == 7 && logs(state).unseen == 5)
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("paused, 5 new (G)") && screen.contains("old 47") && !screen.contains("new 0"))
        _ = reducer.keys(&state, [.character("G")])
        #expect(logs(state).scroll == 0 && logs(state).unseen == 0)
        #expect(ConsoleView.render(state, reducer).text.contains("new 4"))
    }

    @Test func filtersApplyToWhatIsHeldAtOnce() {
        var (state, reducer, query) = console()
        _ = reducer.keys(&state, [.character("a")])
        feed(reducer, &state, query, (0..<1_000).map { i in
            Self.entry("search-service-\(i % 3 + 1)", i % 10 == 0 ? "warning" : "info", "call \(i) results=\(i % 7)", at: Fixture.t0 + Int64(i))
        })
        _ = reducer.type(&state, "/results=3")
        #expect(logs(state).buffer.shownCount == 143)  // live, as typed
        _ = reducer.keys(&state, [.enter])
        _ = reducer.type(&state, "-warning")
        _ = reducer.keys(&state, [.enter])
        #expect(logs(state).buffer.shownCount == 128)  // 15 of the 143 are warnings
        _ = reducer.keys(&state, [.character("z")])
        #expect(ConsoleView.render(state, reducer).text.contains("/results=3  -warning  128 of 1000"))
        // Keep unmatched lines: everything not excluded shows, the matches marked.
        _ = reducer.keys(&state, [.character("m")])
        #expect(logs(state).buffer.shownCount == 900)
        // A bad pattern is said when submitted, and the last good one stays (`/` edits the one in force).
        _ = reducer.type(&state, "/([")
        _ = reducer.keys(&state, [.enter])
        #expect(state.message?.text.hasPrefix("filter results=3([: not a valid regular expression") == true)
        #expect(state.message?.text.hasSuffix("; the filter before stays") == true)
        #expect(logs(state).buffer.filter.include == "results=3")
    }

    /// `y` copies the current line as printed; `:save FILE` writes every line the filters show.
    @Test func copyTheLineAndSaveTheFilteredView() {
        var (state, reducer, query) = console()
        _ = reducer.keys(&state, [.character("a")])  // every instance's lines
        feed(reducer, &state, query, (0..<6).map { i in Self.entry("search-service-\(i % 2 + 1)", i == 4 ? "error" : "info", "line \(i)", at: Fixture.t0 + Int64(i)) })
        let copy = reducer.keys(&state, [.character("y")])
        let newest = logs(state).buffer.shownLine(logs(state).buffer.shownCount - 1).line
        #expect(copy == [.copyToClipboard(newest.printed)] && newest.printed.contains("line 5"))
        #expect(state.message?.text == "copied the search-service-2 line (\(newest.printed.count) characters)")
        _ = reducer.keys(&state, [.character("/")])
        _ = reducer.type(&state, "line [13]")
        _ = reducer.keys(&state, [.enter])
        let save = reducer.command(&state, "save /tmp/incident.log")
        guard case .saveLines(let path, let lines)? = save.first else { Issue.record("no save: \(save)"); return }
        #expect(path == "/tmp/incident.log" && lines.count == 2 && lines[0].contains("line 1") && lines[1].contains("line 3"))
        _ = reducer.reduce(&state, .notice("saved 2 lines to /tmp/incident.log", isError: false, at: Fixture.t0))
        #expect(state.message?.text == "saved 2 lines to /tmp/incident.log")
    }

    /// The tail's lag reaches the status bar: how far behind, then caught up.
    @Test func lagAndCaughtUpShowOnTheStatusBar() {
        var (state, reducer, query) = console()
        feed(reducer, &state, query, [Self.entry("search-service-1", "info", "x", at: Fixture.t0)])
        _ = reducer.reduce(&state, .feed(.logsBehind(query, records: 12_345, at: Fixture.t0)))
        #expect(ConsoleView.render(state, reducer).lines().last?.contains("● logs 12.3k behind") == true)
        _ = reducer.reduce(&state, .feed(.logsBehind(query, records: 0, at: Fixture.t0)))
        feed(reducer, &state, query, [Self.entry("search-service-1", "info", "y", at: Fixture.t0 + 1)])
        #expect(ConsoleView.render(state, reducer).lines().last?.contains("● logs caught up") == true)
        // A report for a tail no longer wanted changes nothing.
        _ = reducer.reduce(&state, .feed(.logsBehind(LogQuery(topic: "other", start: .end), records: 9, at: Fixture.t0)))
        #expect(state.feeds[.logs]?.detail == "caught up")
    }

    /// A service that ships no logs (consul) has no topic: the pane and the status bar say the tail waits
    /// for it, as a state, not as a failure that retries; once a line arrives the feed is live.
    @Test func aTopicNotThereYetIsWaitedForNotAFailure() {
        var (state, reducer, query) = console()
        _ = reducer.reduce(&state, .feed(.waiting(.logs(query), reason: "waiting for topic search-service (nothing logged yet)",
                                                  at: Fixture.t0)))
        let screen = ConsoleView.render(state, reducer).lines()
        #expect(screen.contains { $0.contains("┃ waiting for topic search-service (nothing logged yet)") })
        let bar = screen.last ?? ""
        #expect(bar.contains("◌ logs waiting") && !bar.contains("✖") && !bar.contains("retry"), "\(bar)")
        feed(reducer, &state, query, [Self.entry("search-service-1", "info", "first", at: Fixture.t0 + 1)])
        #expect(state.feeds[.logs]?.phase == .live)
    }

    @Test func theBufferIsBoundedAndSaysWhatItDropped() throws {
        var buffer = LogBuffer(capacity: 100)
        var filter = LogFilter()
        try filter.set(include: "7", exclude: "")
        buffer.setFilter(filter)
        for chunk in stride(from: 0, to: 250, by: 25) {
            buffer.append(LogBatch((chunk..<chunk + 25).map { LogLine(Self.entry("i", "info", "n\($0)", at: Int64($0))) }))
        }
        #expect(buffer.lines.count <= 100 && buffer.dropped + buffer.lines.count == 250)
        // What shows is exactly the held lines with a 7, oldest first, after every drop.
        let held = buffer.lines.map(\.text).filter { $0.contains("7") }
        #expect((0..<buffer.shownCount).map { buffer.shownLine($0).line.text } == held)
        #expect(held.last == "n247" && buffer.shownLine(0).matches)
        // A batch larger than the buffer (a console far behind a flood): its newest 100 are held, the rest
        // and every line before them counted as dropped, and the filter's positions still line up.
        buffer.append(LogBatch((250..<500).map { LogLine(Self.entry("i", "info", "n\($0)", at: Int64($0))) }))
        #expect(buffer.lines.map(\.text) == (400..<500).map { "n\($0)" } && buffer.dropped == 400)
        #expect((0..<buffer.shownCount).map { buffer.shownLine($0).line.text } == buffer.lines.map(\.text).filter { $0.contains("7") })
    }

    @Test func readingAgainFromTheSameStartIsANewTailAndZoomingAwayKeepsIt() {
        var (state, reducer, query) = console()
        _ = reducer.command(&state, "logs end")
        let first = state.subscriptions.first { if case .logs = $0 { return true } else { return false } }
        _ = reducer.command(&state, "logs end")
        let second = state.subscriptions.first { if case .logs = $0 { return true } else { return false } }
        #expect(first != second && first != .logs(query))
        // Zoomed onto another pane, the logs pane is off screen: its tail keeps running.
        _ = reducer.keys(&state, [.backTab, .character("z")])
        #expect(state.subscriptions.contains(second!))
        _ = reducer.command(&state, "logs --from 15m")
        #expect(Self.logsQuery(state)?.start == .time(Fixture.t0 - 15 * 60_000))
        _ = reducer.command(&state, "logs soon")
        #expect(state.message?.text.hasPrefix("logs: soon: expected end, beginning, -N") == true)
    }

    @Test func aChartMomentAndALineMomentAreOneKeyApart() {
        var (state, reducer, _) = console()
        _ = reducer.keys(&state, [.character("t")])
        #expect(state.message?.text == "no chart cursor: move one with ←/→ in the metrics pane first")
        // The cursor on the metrics pane, then t in the logs pane: the tail starts a minute before it.
        _ = reducer.keys(&state, [.backTab, .left, .left, .tab])
        let moment = state.selection.time!
        _ = reducer.keys(&state, [.character("t")])
        let jumped = Self.logsQuery(state)!
        #expect(jumped.start == .time(moment * 1000 - 60_000) && logs(state).mark == moment * 1000)
        _ = reducer.keys(&state, [.character("a")])
        feed(reducer, &state, jumped, [Self.entry("i", "info", "before", at: moment * 1000 - 5_000),
                                       Self.entry("i", "error", "after", at: moment * 1000 + 2_000)])
        let screen = ConsoleView.render(state, reducer).lines()
        let divider = screen.firstIndex { $0.contains("chart cursor ─") }
        #expect(divider != nil && screen[divider! - 1].contains("before") && screen[divider! + 1].contains("after"))
        // c on a line sends the chart's cursor to its time.
        _ = reducer.keys(&state, [.character("c")])
        #expect(state.selection.time == moment + 2 && state.pane(MetricsPane.self)?.cursor == moment + 2)
        // More lines after the moment than the pane holds: the view stays on the moment, not the newest.
        feed(reducer, &state, jumped, (0..<60).map { Self.entry("i", "info", "later \($0)", at: moment * 1000 + 3_000 + Int64($0)) })
        let anchored = ConsoleView.render(state, reducer).text
        #expect(anchored.contains("chart cursor ─") && anchored.contains("after") && !anchored.contains("later 59"))
    }

    /// Instance names are made safe once and shared; a name with control characters is shown as text
    /// whether it is new or remembered, and more names than are remembered change no answer.
    @Test func instanceNamesAreMadeSafeAndShared() {
        var names = InstanceNames()
        let hostile = "evil\u{1B}]0;owned\u{07}-1"
        let first = names.safe(hostile)
        #expect(first == "evil^[]0;owned^G-1" && !first.unicodeScalars.contains { $0.value < 0x20 })
        for i in 0..<40 { #expect(names.safe("search-service-\(i)") == "search-service-\(i)") }  // past what is remembered
        #expect(names.safe(hostile) == first && names.safe("search-service-39") == "search-service-39")
        let record = KafkaRecord(topic: "t", partition: 0, offset: 0, timestampMilliseconds: 1, key: Array(hostile.utf8), value: Array("hello".utf8))
        let line = LogLine(LogEntry(record), names: &names)  // a plain-text record: its key names the instance
        #expect(line.instance == first && line.text == "hello")
    }

    /// The pane makes its lines from the records, into a chunk (`LogChunk.Builder`, plain records taken as
    /// bytes); the same record through the CLI's `LogEntry` gives the same line, whatever the record holds.
    @Test func aLineMadeFromTheRecordIsTheLineOfItsEntry() {
        func record(key: [UInt8]?, _ value: [UInt8], time: Int64? = 5) -> KafkaRecord {
            KafkaRecord(topic: "search-service", partition: 1, offset: 0, timestampMilliseconds: time, key: key, value: value)
        }
        func record(key: [UInt8]?, _ value: String, time: Int64? = 5) -> KafkaRecord { record(key: key, Array(value.utf8), time: time) }
        let records = [
            record(key: Array("i-1".utf8), "plain text"),
            record(key: nil, "no key: the partition names it", time: nil),
            record(key: [0xFF, 0xFE, 0x41], "a key that is not UTF-8"),
            record(key: Array("i-2".utf8), #"{"level":"error","instance":"i-2","message":"m\u001b[2J","meta":{"b":"2","a":1}}"#),
            record(key: Array("i-3".utf8), #"{"instance":"i-3","message":"no level"}"#),
            record(key: Array("i-4".utf8), #"{"message":"two\nlines"}"#),
            record(key: Array("i-5".utf8), #"{"broken json"#),
            record(key: Array("i-1".utf8), "plain, with \u{1B}[2J and \u{9B}31m in it"),
            record(key: Array("i-1".utf8), "plain\nover two lines"),
            record(key: Array("i-1".utf8), [0x62, 0x61, 0x64, 0xC3, 0x28]),  // not UTF-8
            record(key: Array("a-name-longer-than-15-bytes".utf8), "wide 日本語 text"),
        ]
        var fromRecords = InstanceNames(), fromEntries = InstanceNames()
        var builder = LogChunk.Builder()
        for r in records { builder.append(r, names: &fromRecords) }
        let chunk = builder.finish()
        #expect(chunk.count == records.count)
        for (i, r) in records.enumerated() {
            #expect(chunk[i] == LogLine(LogEntry(r), names: &fromEntries), "\(String(decoding: r.value, as: UTF8.self))")
            #expect(chunk.time(i) == chunk[i].time && chunk.instance(i) == chunk[i].instance)
        }
        let lines = (0..<chunk.count).map { chunk[$0] }
        #expect(lines.map(\.instance) == ["i-1", "search-service[1]", "\u{FFFD}\u{FFFD}A", "i-2", "i-3", "i-4", "i-5", "i-1", "i-1", "i-1",
                                          "a-name-longer-than-15-bytes"])
        #expect(lines.map(\.level) == ["-", "-", "-", "error", "-", "-", "-", "-", "-", "-", "-"])
        #expect(lines[3].text == "m^[[2J a=1 b=2" && lines[5].text == "two ⏎ lines" && lines[1].time == 0)
        #expect(lines[7].text == "plain, with ^[[2J and <U+009B>31m in it" && lines[8].text == "plain ⏎ over two lines")
        #expect(lines[9].text == "bad\u{FFFD}(" && lines[10].text == "wide 日本語 text")
    }

    /// Batches join without losing or repeating a line, small pieces are joined into one chunk, and
    /// dropping the oldest lines keeps every other one where it was, across and inside chunks.
    @Test func aBatchHoldsItsLinesInOrderAcrossChunksAndDrops() {
        func lines(_ range: Range<Int>) -> LogBatch {
            LogBatch(range.map { LogLine(Self.entry("i-\($0 % 3)", "info", "n\($0)", at: Int64($0))) })
        }
        var batch = LogBatch()
        var expected: [Int] = []
        var next = 0
        for size in [1, 1, 3, 200, 5, 70, 1, 1000, 2] {  // small and large deliveries mixed
            batch.append(contentsOf: lines(next..<next + size))
            expected += next..<next + size
            next += size
        }
        #expect(batch.map(\.text) == expected.map { "n\($0)" })
        #expect(batch.indices.allSatisfy { batch.time($0) == Int64(expected[$0]) && batch.instance($0) == "i-\(expected[$0] % 3)" })
        for cut in [0, 1, 4, 199, 300, 1, 700] {  // inside a chunk, at its end, across several
            batch.removeFirst(cut)
            expected.removeFirst(cut)
            #expect(batch.map(\.text) == expected.map { "n\($0)" })
        }
        // Appending after drops, and a batch that was itself cut, keep the order too.
        var cut = lines(5000..<5100)
        cut.removeFirst(40)
        batch.append(contentsOf: cut)
        expected += 5040..<5100
        #expect(batch.map(\.text) == expected.map { "n\($0)" } && batch.count == expected.count)
        batch.removeFirst(batch.count + 5)
        #expect(batch.isEmpty)
        batch.append(contentsOf: lines(7..<9))
        #expect(batch.map(\.text) == ["n7", "n8"])
        // Onto a small piece that was itself cut: joined into one chunk, the cut lines not back.
        batch.append(contentsOf: lines(9..<19))
        batch.removeFirst(5)
        batch.append(contentsOf: lines(19..<21))
        #expect(batch.map(\.text) == (12..<21).map { "n\($0)" } && batch.chunkCount == 1)
        // A trickle of one-line deliveries is held in a few chunks, not one per line.
        var trickle = LogBatch()
        for n in 0..<1_000 { trickle.append(contentsOf: lines(n..<n + 1)) }
        #expect(trickle.map(\.text) == (0..<1_000).map { "n\($0)" } && trickle.chunkCount <= 1_000 / 63 + 1)
    }

    /// A jump finds the first shown line at or after its moment, with a filter or without, across chunks.
    @Test func theFirstLineAtOrAfterAMomentIsFound() throws {
        var buffer = LogBuffer(capacity: 1_000)
        for start in stride(from: 0, to: 600, by: 100) {  // times 0, 10, 20, ... in six chunks
            buffer.append(LogBatch((start..<start + 100).map { LogLine(Self.entry("i-\($0 % 2)", "info", "n\($0)", at: Int64($0) * 10)) }))
        }
        #expect(buffer.firstShown(atOrAfter: -5) == 0 && buffer.firstShown(atOrAfter: 0) == 0)
        #expect(buffer.firstShown(atOrAfter: 2_345) == 235 && buffer.firstShown(atOrAfter: 2_350) == 235)
        #expect(buffer.firstShown(atOrAfter: 5_990) == 599 && buffer.firstShown(atOrAfter: 6_000) == 600)
        var filter = LogFilter()
        filter.instance = "i-1"  // odd lines only
        buffer.setFilter(filter)
        #expect(buffer.firstShown(atOrAfter: 2_345) == 117 && buffer.shownLine(117).line.text == "n235")
        try filter.set(include: "n4", exclude: "")
        buffer.setFilter(filter)
        #expect(buffer.shownLine(buffer.firstShown(atOrAfter: 100)).line.text == "n41")
    }

    /// A topic keyed by request has a name per line: every line keeps its own, in a chunk and when its
    /// lines are joined into another.
    @Test func aChunkOfManyNamesKeepsEachLinesOwn() {
        var names = InstanceNames()
        var builder = LogChunk.Builder()
        for i in 0..<300 {
            builder.append(KafkaRecord(topic: "t", partition: 0, offset: Int64(i), timestampMilliseconds: Int64(i),
                                       key: Array("request-\(i)".utf8), value: Array("line \(i)".utf8)), names: &names)
        }
        let chunk = builder.finish()
        #expect((0..<300).allSatisfy { chunk.instance($0) == "request-\($0)" && chunk[$0].text == "line \($0)" })
        var batch = LogBatch(LogChunk.lines(of: [KafkaRecord(topic: "t", partition: 0, offset: 0, timestampMilliseconds: 0,
                                                             key: Array("request-5".utf8), value: Array("first".utf8))], names: &names))
        var tail = LogBatch(chunk)
        tail.removeFirst(290)  // ten lines left: joined onto the one-line piece
        batch.append(contentsOf: tail)
        #expect(batch.chunkCount == 1 && batch.map(\.instance) == ["request-5"] + (290..<300).map { "request-\($0)" })
    }

    /// Whatever is appended, filtered or cleared, the buffer holds the newest lines since the last clear
    /// (at most its capacity, the rest counted as dropped) and shows exactly those its filter passes,
    /// whether the filter was set before the lines came or after.
    @Test func theBufferAgreesWithItsFilterOverEveryLineHeld() throws {
        var buffer = LogBuffer(capacity: 50)
        var since: [LogLine] = []  // every line appended since the last clear
        var seed: UInt64 = 42
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % n
        }
        var filters: [LogFilter] = [LogFilter()]
        var one = LogFilter()
        one.instance = "i-1"
        filters.append(one)
        var pattern = LogFilter()
        try pattern.set(include: "7", exclude: "")
        filters.append(pattern)
        pattern.keepUnmatched = true
        pattern.instance = "i-2"
        filters.append(pattern)
        var made = 0
        for step in 0..<400 {
            switch next(10) {
            case 0: buffer.setFilter(filters[next(filters.count)])
            case 1 where step % 7 == 0:
                buffer.clear()
                since = []
            default:
                let new = (0..<(1 + next(80))).map { _ -> LogLine in
                    defer { made += 1 }
                    return LogLine(Self.entry("i-\(made % 3)", "info", "n\(made)", at: Int64(made)))
                }
                buffer.append(LogBatch(new))
                since += new
            }
            let held = Array(buffer.lines)
            #expect(held.count <= 50 && held == Array(since.suffix(held.count)) && buffer.dropped + held.count == since.count)
            let expected = held.compactMap { line -> (String, Bool)? in
                let (shown, matches) = buffer.filter.classify(line)
                return shown ? (line.text, matches) : nil
            }
            let shown = (0..<buffer.shownCount).map { (buffer.shownLine($0).line.text, buffer.shownLine($0).matches) }
            #expect(shown.map(\.0) == expected.map(\.0) && shown.map(\.1) == expected.map(\.1), "step \(step)")
        }
    }

    @Test func hostileAndWideTextIsShownNotObeyed() throws {
        var (state, reducer, query) = console()
        state.size = Size(width: 100, height: 24)
        _ = reducer.keys(&state, [.character("z"), .character("a")])
        feed(reducer, &state, query, [
            Self.entry("search-service-1", "warning", "\u{1B}[2J\u{1B}]0;owned\u{07}cleared?\r\ncarriage", at: Fixture.t0),
            Self.entry("漢字-instance", "info", "wide 漢字 and bidi \u{202E}reversed", at: Fixture.t0 + 1),
            Self.entry("search-service-2", "error", String(repeating: "long ", count: 40), at: Fixture.t0 + 2),
        ])
        try SnapshotTests().expectSnapshot(ConsoleView.render(state, reducer), "logs")
        // Wrapped, without times: the long line continues under the message column.
        _ = reducer.keys(&state, [.character("w"), .character("T")])
        try SnapshotTests().expectSnapshot(ConsoleView.render(state, reducer), "logs-wrapped")
        #expect(!ConsoleView.render(state, reducer).cells.contains { $0.character.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E } })
    }
}
