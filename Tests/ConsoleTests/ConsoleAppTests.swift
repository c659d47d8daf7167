import Console
import ConsulModels
import Testing
import TUI

/// The UI loop with the in-memory terminal: frames are drawn only when the state changed, and the
/// runtime hears of every change of the wanted feeds, once.
@Suite(.timeLimit(.minutes(1))) struct ConsoleAppTests {
    /// Records what the loop asks of the runtime.
    final class RecordingRuntime: ConsoleRuntime {
        var reconciled: [Set<Feed>] = []
        var performed: [ConsoleEffect] = []
        var stopped = false
        func reconcile(_ wanted: Set<Feed>) { reconciled.append(wanted) }
        func perform(_ effect: ConsoleEffect) { performed.append(effect) }
        func stop() { stopped = true }
    }

    @Test func framesOnlyWhenSomethingChangedAndQuitEndsTheLoop() {
        let terminal = MemoryBackend(width: 80, height: 24)
        // Nothing (the first frame), help, idle reads, Esc (help closes), idle reads, q.
        let idle = Array(repeating: [InputEvent](), count: 10)  // 5 ms each: well inside the 1 s tick
        terminal.script = [[], [.key(.character("?"))]] + idle + [[.key(.escape)]] + idle + [[.key(.character("q"))]]
        let runtime = RecordingRuntime()
        var options = ConsoleApp.Options(reducer: ConsoleReducer())
        options.frameIntervalMilliseconds = 0  // no frame waits for the clock: the count depends on changes only
        options.clock = { 1_000_000 }  // and no tick comes between them
        let app = ConsoleApp(backend: terminal, inbox: ActionInbox(), runtime: runtime, options: options)
        app.run()
        #expect(app.state.quit && runtime.stopped)
        // Three frames: the first, help open, help closed. Twenty idle reads drew nothing.
        #expect(app.frames == 3)
        #expect(terminal.presents == 3)
        #expect(terminal.screen.lines()[1].hasPrefix("┏ services"))
        #expect(!terminal.screen.text.contains("any key closes"))
        // The services pane's feeds, asked for once.
        #expect(runtime.reconciled == [[.services, .checks]])
    }

    /// `E` in the config pane: the terminal is lent to the editor, what it gives back is written
    /// check-and-set, and the next frame is drawn whole.
    @Test func theEditorGetsTheTerminalAndItsTextBecomesTheWrite() throws {
        // The config pane on a key, then E, then quit.
        func session() -> ActionInbox {
            let inbox = ActionInbox()
            inbox.send(.feed(.services(["search-service": ["grpc"]], at: 1)))
            for c in ":config search-service" { inbox.send(.input(.key(.character(c)))) }
            inbox.send(.input(.key(.enter)))
            inbox.send(.feed(.kv(prefix: "search-service/", [KVPair(key: "search-service/notes", value: Array("one".utf8), modifyIndex: 9)], at: 1)))
            inbox.send(.input(.key(.character("E"))))
            inbox.send(.quitRequested)
            return inbox
        }
        let terminal = MemoryBackend(width: 120, height: 30)
        let inbox = session()
        var options = ConsoleApp.Options(reducer: ConsoleReducer())
        var given: [String] = []
        options.editor = { text in given.append(text); return .success("one\ntwo") }
        let app = ConsoleApp(backend: terminal, inbox: inbox, runtime: RecordingRuntime(), options: options)
        app.run()
        #expect(given == ["one"] && terminal.suspensions == 1)
        let write = try #require(app.state.pane(ConfigPane.self)?.pendingWrite)
        #expect(write.key == "search-service/notes" && write.operation == .put(Array("one\ntwo".utf8)) && write.cas == 9)

        // An editor that fails writes nothing, and says why.
        let second = session()
        options.editor = { _ in .failure(ExternalEditor.Failure(description: "vi exited with 1")) }
        let failing = ConsoleApp(backend: MemoryBackend(width: 120, height: 30), inbox: second, runtime: RecordingRuntime(), options: options)
        failing.run()
        #expect(failing.state.pane(ConfigPane.self)?.pendingWrite == nil)
        #expect(failing.state.message?.text == "vi exited with 1: nothing written")
    }

    @Test func feedEventsFromOtherThreadsReachThePanesAndTheRuntimeFollows() {
        let terminal = MemoryBackend(width: 80, height: 24)
        let inbox = ActionInbox()
        inbox.send(.feed(.services(["web": ["v1"]], at: 1)))
        inbox.send(.input(.key(.character(":"))))
        for c in "theme light" { inbox.send(.input(.key(.character(c)))) }
        inbox.send(.input(.key(.enter)))
        inbox.send(.quitRequested)
        let runtime = RecordingRuntime()
        let registry = PaneRegistry([ServicesPane.self, InstancesPane.self])
        let app = ConsoleApp(backend: terminal, inbox: inbox, runtime: runtime, options: .init(reducer: ConsoleReducer(registry: registry)))
        app.run()
        #expect(app.state.pane(ServicesPane.self)?.catalog == ["web": ["v1"]])
        #expect(app.state.quit)
        // The first service selected: its instances wanted, in a second reconcile; the theme is an effect.
        #expect(runtime.reconciled == [[.services, .checks], [.services, .checks, .health(service: "web")]])
        #expect(runtime.performed == [.loadTheme("light")])
    }
}

/// A flood of log batches does not grow the inbox past what the logs pane would keep, and loses count of
/// nothing.
@Suite(.timeLimit(.minutes(1))) struct ActionInboxTests {
    @Test func logBatchesMergeAndTheExcessIsCountedNotKept() {
        let inbox = ActionInbox(logCapacity: 1_000)
        let query = LogQuery(topic: "t", start: .end)
        var sent = 0
        inbox.send(.tick(now: 1))
        for batch in 0..<50 {
            let entries = (0..<100).map { i in LogsPaneTests.entry("i", "info", "line \(batch * 100 + i)", at: Int64(batch * 100 + i), offset: Int64(batch * 100 + i)) }
            sent += entries.count
            inbox.send(.feed(.logs(query, LogBatch(entries.map(LogLine.init)), at: 0)))
        }
        let actions = inbox.drain()
        #expect(actions.count == 3)  // the drop count (at the head), the tick, one merged batch
        guard case .feed(.logsDropped(query, let dropped)) = actions[0], case .tick = actions[1],
              case .feed(.logs(query, let held, _)) = actions[2] else { Issue.record("\(actions.map { "\($0)".prefix(40) })"); return }
        #expect(held.count <= 1_250 && held.count >= 1_000)
        #expect(dropped + held.count == sent)
        #expect(held.last?.text == "line 4999")  // the newest kept, in order
        // The tail's own lag reports do not break a run of batches, and only the latest is kept.
        inbox.send(.feed(.logs(query, LogBatch([LogLine(LogsPaneTests.entry("i", "info", "x", at: 1))]), at: 0)))
        inbox.send(.feed(.logsBehind(query, records: 5, at: 0)))
        inbox.send(.feed(.logsBehind(query, records: 3, at: 0)))
        inbox.send(.feed(.logs(query, LogBatch([LogLine(LogsPaneTests.entry("i", "info", "y", at: 2))]), at: 0)))
        let merged = inbox.drain()
        #expect(merged.count == 2)
        if case .feed(.logs(_, let lines, _)) = merged[0] { #expect(lines.map(\.text) == ["x", "y"]) } else { Issue.record("\(merged)") }
        if case .feed(.logsBehind(_, let records, _)) = merged[1] { #expect(records == 3) } else { Issue.record("\(merged)") }
        // Batches split by other actions (a key, a tick) are bounded together: what a stalled UI holds
        // stays within the capacity and a quarter, and every line is counted.
        var total = 0
        for batch in 0..<100 {
            inbox.send(.tick(now: Int64(batch)))
            inbox.send(.feed(.logs(query, LogBatch((0..<100).map { LogLine(LogsPaneTests.entry("i", "info", "n\($0)", at: Int64($0))) }), at: 0)))
            total += 100
        }
        let stalled = inbox.drain()
        var kept = 0, counted = 0
        for action in stalled {
            if case .feed(.logs(_, let lines, _)) = action { kept += lines.count }
            if case .feed(.logsDropped(_, let count)) = action { counted += count }
        }
        #expect(kept <= 1_250 && kept + counted == total, "kept \(kept), dropped \(counted)")
        // Another action in between starts a new batch: order is kept.
        inbox.send(.feed(.logs(query, LogBatch([LogLine(LogsPaneTests.entry("i", "info", "a", at: 1))]), at: 0)))
        inbox.send(.tick(now: 2))
        inbox.send(.feed(.logs(query, LogBatch([LogLine(LogsPaneTests.entry("i", "info", "b", at: 2))]), at: 0)))
        #expect(inbox.drain().count == 3)
    }
}

/// The heap is trimmed after a flood of lines, and not more often than the schedule allows.
@Suite(.timeLimit(.minutes(1))) struct HeapTrimScheduleTests {
    @Test func dueWhenEnoughLinesWentThroughAndTheyPausedOrAFloodWentOnTooLong() {
        var schedule = HeapTrimSchedule(linesBetweenTrims: 1_000, quietMilliseconds: 250, longestWaitMilliseconds: 2_000)
        var due: [Bool] = []
        schedule.note(lines: 999, now: 20_000)
        due.append(schedule.isDue(now: 20_000))  // too few lines: never
        #expect(schedule.dueIn(now: 20_000) == nil)
        schedule.note(lines: 1, now: 20_000)
        #expect(schedule.dueIn(now: 20_100) == 150)  // the loop wakes when the pause is long enough
        due.append(schedule.isDue(now: 20_100))  // the lines have not paused yet
        due.append(schedule.isDue(now: 20_250))
        due.append(schedule.isDue(now: 20_600))  // the count started over
        // A flood that never pauses 250 ms: a trim 2 s after its first lines, not before, then 2 s later.
        for t in stride(from: Int64(20_700), through: 22_900, by: 100) {
            schedule.note(lines: 5_000, now: t)
            due.append(schedule.isDue(now: t))
        }
        #expect(due == [false, false, true, false] + Array(repeating: false, count: 20) + [true, false, false])
    }
}

@Suite(.timeLimit(.minutes(1))) struct DurationHistogramTests {
    @Test func percentilesMeanAndTheLongestInConstantMemory() {
        var times = DurationHistogram()
        #expect(times.percentile(0.5) == nil && times.summary == "0")
        for ms in 1...98 { times.record(.milliseconds(ms) / 10) }  // 0.1 ms to 9.8 ms
        times.record(.milliseconds(40))
        times.record(.seconds(2))  // past the histogram's last bucket: counted, and the longest
        #expect(times.count == 100 && times.longestMicroseconds == 2_000_000)
        #expect(times.percentile(0.5) == 5_000 && times.percentile(0.99) == 40_000 && times.percentile(1) == 2_000_000)
        #expect(times.summary == "100, mean 25.2 ms, p50 ≤ 5.0 ms, p99 ≤ 40.0 ms, longest 2000.0 ms")
    }
}
