import Console
import ConsoleFeeds
import Consul
import DevConsul
import Foundation
import Kafka
import SearchClient
import SearchModels
import StackSupport
import Synchronization
import Telemetry
import Testing
import TUI

/// The runtime against a real agent (devconsul, in-process on free ports): feeds start when wanted and
/// stop when not, with nothing left running and one gRPC client per address.
@Suite(.timeLimit(.minutes(2))) struct FeedRuntimeTests {
    final class Recorder: Sendable {
        let events = Mutex<[FeedEvent]>([])
        func send(_ action: ConsoleAction) {
            if case .feed(let event) = action { events.withLock { $0.append(event) } }
        }
        var all: [FeedEvent] { events.withLock { $0 } }
        let notes = Mutex<[(String, Bool)]>([])

        /// Waits bound a hang, not the machine's speed: a CI run that starts every suite at once on two
        /// cores once kept the Monitor poller from its first round for over 10 s.
        static let patience: Duration = .seconds(30)

        func waitForNote(_ match: ((String, Bool)) -> Bool) async throws {
            let deadline = ContinuousClock.now + Self.patience
            while ContinuousClock.now < deadline {
                if notes.withLock({ $0.contains(where: match) }) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("no such notice within \(Self.patience); notices: \(notes.withLock { $0 })")
            throw CancellationError()
        }
        func clear() { events.withLock { $0.removeAll() } }

        /// Waits for an event that `match` accepts; fails the test with `what` after `patience`.
        func waitFor(_ what: String, _ match: (FeedEvent) -> Bool) async throws {
            let deadline = ContinuousClock.now + Self.patience
            while ContinuousClock.now < deadline {
                if all.contains(where: match) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("no \(what) within \(Self.patience); events: \(all)")
            throw CancellationError()
        }
    }

    @Test func feedsStartWhenWantedAndStopWhenNot() async throws {
        try await DevConsulAgent.withRunning { endpoints in
            let consul = ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress))
            for i in 1...2 {
                try await consul.register(ServiceRegistration(id: "feeds-\(i)", name: "feeds", address: "127.0.0.1", port: 40000 + i))
            }
            let recorder = Recorder()
            let runtime = FeedRuntime(consul: consul, loadTheme: { _ in .monochrome }, send: recorder.send)
            defer { runtime.stop() }

            runtime.reconcile([.services, .health(service: "feeds")])
            #expect(runtime.runningFeeds == [.services, .health(service: "feeds")])
            try await recorder.waitFor("the catalog") { if case .services(let s, _) = $0 { return s["feeds"] != nil } else { return false } }
            try await recorder.waitFor("two instances") { if case .health("feeds", let e, _) = $0 { return e.count == 2 } else { return false } }

            // The same set again starts nothing new; a smaller one stops what left it, and its task ends.
            runtime.reconcile([.services, .health(service: "feeds")])
            #expect(runtime.tasksStarted == 2)
            runtime.reconcile([.services])
            #expect(runtime.runningFeeds == [.services])
            try await until("the health watch's task ended") { runtime.tasksEnded == 1 }
            recorder.clear()
            try await consul.register(ServiceRegistration(id: "feeds-3", name: "feeds", address: "127.0.0.1", port: 40003))
            try await recorder.waitFor("the catalog watch still live") { if case .services = $0 { return true } else { return false } }
            #expect(!recorder.all.contains { if case .health = $0 { return true } else { return false } })

            runtime.reconcile([])
            #expect(runtime.runningFeeds.isEmpty && runtime.tasksStarted == 2)
            try await until("every task ended") { runtime.tasksEnded == 2 }
        }
    }

    /// Polls `condition` every 20 ms; fails the test with `what` after `Recorder.patience`.
    func until(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + Recorder.patience
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("not within \(Recorder.patience): \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func monitorFeedsShareOneClientPerAddressAndCloseIt() async throws {
        // Nothing listens on this port: each poll fails fast, which is enough to make the poller hold a client.
        let address = "127.0.0.1:\(try freePort())"
        let recorder = Recorder()
        let runtime = FeedRuntime(consul: ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:1")),
                                  loadTheme: { _ in .monochrome }, send: recorder.send)
        defer { runtime.stop() }
        runtime.reconcile([.monitor(instance: "a", address: address), .monitor(instance: "b", address: address)])
        try await recorder.waitFor("a failed Monitor round") { if case .monitorRound(0, 2, _) = $0 { return true } else { return false } }
        #expect(await runtime.monitorClients() == 1)
        // Refused at once, or still refused when the 1 s deadline passes on a loaded machine: a failure either way.
        #expect(recorder.all.contains { event in
            guard case .monitor("a", let sample) = event, case .failed(let reason) = sample.outcome else { return false }
            return reason == "unreachable" || reason == "timeout"
        })

        runtime.reconcile([])
        #expect(runtime.runningFeeds.isEmpty)
        let deadline = ContinuousClock.now + .seconds(5)
        while await runtime.monitorClients() > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await runtime.monitorClients() == 0)
    }

    /// A runtime with no Consul, tailing `topic` on the stack's broker as the logs pane does.
    static func tailing(_ topic: String) -> (Recorder, FeedRuntime, LogQuery) {
        let recorder = Recorder()
        let runtime = FeedRuntime(consul: ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:1")),
                                  kafkaBrokers: Stack.kafkaBootstrap, loadTheme: { _ in .monochrome }, send: recorder.send)
        let query = LogQuery(topic: topic, start: LogsPane.defaultStart)
        runtime.reconcile([.logs(query)])
        return (recorder, runtime, query)
    }

    /// Two instances whose keys share a partition, starting together: instance 1's lines land at offsets
    /// 0-2 and instance 2's at 3-5, each stamped between the first's, so the merge releases the partition's
    /// offsets out of order. The logs pane's feed, against the stack's broker, delivers every line once (it
    /// once dropped each line released after one with a higher offset: lines 2 and 4 here). The order is
    /// left to the merge's own tests: six records read in two fetches come out by fetch.
    @Test func linesOfOnePartitionReleasedOutOfOffsetOrderAllArrive() async throws {
        try await Stack.ensureUp()
        let topic = "feeds-interleaved-\(UInt32.random(in: 0...UInt32.max))"
        let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap)
        let base = Int64(Date().timeIntervalSince1970 * 1000)
        let written = [("i-1", 0), ("i-1", 2), ("i-1", 4), ("i-2", 1), ("i-2", 3), ("i-2", 5)]
        try await offPool {
            try producer.createTopic(topic, partitions: 1)
            for (instance, step) in written {
                try producer.send(topic: topic, key: Array(instance.utf8), value: Array("line \(step)".utf8),
                                  partition: 0, timestampMilliseconds: base + Int64(step) * 10)
            }
            try producer.flush()
        }
        let (recorder, runtime, query) = Self.tailing(topic)
        defer { runtime.stop() }
        func delivered() -> [String] {
            recorder.all.flatMap { event -> [String] in
                guard case .logs(query, let batch, _) = event else { return [] }
                return batch.map(\.text)
            }
        }
        // Lost lines never come: the wait ends at the patience, and the comparison shows which are missing.
        let deadline = ContinuousClock.now + Recorder.patience
        while delivered().count < 6 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(500))  // a line twice would come with or just after the others
        #expect(delivered().sorted() == (0..<6).map { "line \($0)" })
    }

    /// A topic nothing has written to yet (a service that ships no logs) is waited for, reported as such
    /// and never as a failure; its first line, once written, arrives.
    @Test func aTopicNotThereYetIsWaitedForThenRead() async throws {
        try await Stack.ensureUp()
        let topic = "feeds-later-\(UInt32.random(in: 0...UInt32.max))"
        let (recorder, runtime, query) = Self.tailing(topic)
        defer { runtime.stop() }
        try await recorder.waitFor("waiting for the topic") {
            if case .waiting(.logs(query), let reason, _) = $0 { return reason.contains("waiting for topic \(topic)") }
            return false
        }
        let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap)
        try await offPool {
            try producer.createTopic(topic, partitions: 1)
            try producer.send(topic: topic, key: Array("i-1".utf8), value: Array("first".utf8), partition: 0,
                              timestampMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            try producer.flush()
        }
        try await recorder.waitFor("the topic's first line") {
            if case .logs(query, let batch, _) = $0 { return batch.map(\.text) == ["first"] }
            return false
        }
        // Said first, before any failure (a topic just made may still answer with a retryable problem).
        let first = recorder.all.first
        #expect({ if case .waiting? = first { return true } else { return false } }(), "first: \(String(describing: first))")
    }

    /// The config pane's feed and writes against a real agent: the prefix watched, a write check-and-set on
    /// the index read (its flags kept), and a write that meets a change made in between refused with the
    /// key as it is now.
    @Test func kvWatchAndCheckAndSetWrites() async throws {
        try await DevConsulAgent.withRunning { endpoints in
            let consul = ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress))
            try await consul.put(key: "cfg/log_level", text: "info")
            let recorder = Recorder()
            let runtime = FeedRuntime(consul: consul, loadTheme: { _ in .monochrome }, send: recorder.send)
            defer { runtime.stop() }
            runtime.reconcile([.kv(prefix: "cfg/")])
            try await recorder.waitFor("the prefix read") { if case .kv("cfg/", let pairs, _) = $0 { return pairs.first?.text == "info" } else { return false } }
            let read = try #require(try await consul.get(key: "cfg/log_level").value)

            let first = KVWrite(key: "cfg/log_level", operation: .put(Array("debug".utf8)), cas: read.modifyIndex, flags: 7, sequence: 1)
            runtime.perform(.writeKV(first))
            try await recorder.waitFor("the write done") { $0 == .kvWritten(first, .written) }
            try await recorder.waitFor("the watch saw it") { if case .kv(_, let pairs, _) = $0 { return pairs.first?.text == "debug" && pairs.first?.flags == 7 } else { return false } }

            // Someone else writes between our read (still the old index) and our write.
            try await consul.put(key: "cfg/log_level", text: "warning")
            let late = KVWrite(key: "cfg/log_level", operation: .put(Array("error".utf8)), cas: read.modifyIndex, sequence: 2)
            runtime.perform(.writeKV(late))
            try await recorder.waitFor("the conflict with theirs") {
                if case .kvWritten(late, .conflict(let theirs)) = $0 { return theirs?.text == "warning" } else { return false }
            }
            #expect(try await consul.get(key: "cfg/log_level").value?.text == "warning")

            // A delete at a stale index is refused too; at the current one it goes.
            let current = try #require(try await consul.get(key: "cfg/log_level").value)
            let staleDelete = KVWrite(key: "cfg/log_level", operation: .delete(recurse: false), cas: read.modifyIndex, sequence: 3)
            runtime.perform(.writeKV(staleDelete))
            try await recorder.waitFor("the stale delete refused") { if case .kvWritten(staleDelete, .conflict) = $0 { return true } else { return false } }
            let delete = KVWrite(key: "cfg/log_level", operation: .delete(recurse: false), cas: current.modifyIndex, sequence: 4)
            runtime.perform(.writeKV(delete))
            try await recorder.waitFor("the delete done") { $0 == .kvWritten(delete, .written) }
            #expect(try await consul.get(key: "cfg/log_level").value == nil)
        }
    }

    /// A search is a feed that reports once and ends; the prompt's history is appended to its file.
    @Test func aSearchReportsOnceAndTheHistoryIsWritten() async throws {
        try await Stack.ensureUp()
        let recorder = Recorder()
        let historyPath = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-history-\(UInt32.random(in: 0...UInt32.max))/search_history").path
        defer { try? FileManager.default.removeItem(atPath: (historyPath as NSString).deletingLastPathComponent) }
        let runtime = FeedRuntime(consul: ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:8500")),
                                  searchDiscovery: InstanceDiscovery(.consul(dns: ConsulDNS(), http: nil)),
                                  // What is tested is one report per search, not latency: a loaded machine
                                  // (every suite starting at once) must not turn it into a missed deadline.
                                  searchDeadline: .seconds(10),
                                  searchHistory: SearchHistory(path: historyPath, limit: 10),
                                  loadTheme: { _ in .monochrome }, send: recorder.send)
        defer { runtime.stop() }
        let call = SearchCall(service: "search-service", query: SearchQuery(point: GeoPoint(latitude: 48.8566, longitude: 2.3522), withOutline: true), sequence: 1)
        runtime.reconcile([.search(call)])
        try await recorder.waitFor("France") {
            if case .search(call, .success(let answer)) = $0 { return answer.results.first?.name == "France" && answer.results.first?.outline != nil }
            return false
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while runtime.tasksEnded < 1 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(runtime.tasksStarted == 1 && runtime.tasksEnded == 1)
        #expect(recorder.all.filter { if case .search = $0 { return true } else { return false } }.count == 1)

        runtime.perform(.rememberSearch("48.8566 2.3522"))
        runtime.perform(.rememberSearch("paris"))
        var text = ""
        while ContinuousClock.now < deadline + .seconds(5) {
            text = (try? String(contentsOfFile: historyPath, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count == 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(Set(text.split(separator: "\n")) == ["48.8566 2.3522", "paris"])
        #expect(SearchHistory(path: historyPath, limit: 10).load().count == 2)
    }

    /// `:save` writes a new file and says so; it never overwrites one.
    @Test func savedLinesGoToANewFileOnly() async throws {
        let recorder = Recorder()
        let runtime = FeedRuntime(consul: ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:1")),
                                  loadTheme: { _ in .monochrome }, send: { action in
                                      if case .notice(let text, let isError, _) = action { recorder.notes.withLock { $0.append((text, isError)) } }
                                  })
        defer { runtime.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-save-\(UInt32.random(in: 0...UInt32.max)).log").path
        defer { unlink(path) }
        runtime.perform(.saveLines(path: path, lines: ["a", "b"]))
        try await recorder.waitForNote { $0.0 == "saved 2 lines to \(path)" && !$0.1 }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a\nb\n")
        runtime.perform(.saveLines(path: path, lines: ["c"]))
        try await recorder.waitForNote { $0.1 && $0.0 == "save: cannot create \(path): it exists already (choose another name)" }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a\nb\n")
    }

    /// The newest of each line, at most `limit`, oldest first; a file grown past twice the limit is cut.
    @Test func theHistoryFileKeepsTheLatestDistinctLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-history-\(UInt32.random(in: 0...UInt32.max))").path
        defer { unlink(path) }
        let history = SearchHistory(path: path, limit: 3)
        #expect(history.load().isEmpty)
        for line in ["a", "b", "a", "c", "d", "c", "e\nf"] { try history.append(line) }
        #expect(history.load() == ["d", "c", "e f"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "d\nc\ne f\n")  // 7 lines > 2 x 3: rewritten
        #expect(SearchHistory.standardPath(["XDG_STATE_HOME": "/s", "HOME": "/h"]) == "/s/opsdeck/search_history")
        #expect(SearchHistory.standardPath(["HOME": "/h"]) == "/h/.local/state/opsdeck/search_history")
    }

    @Test func themesLoadOffTheUIThreadAndFailuresAreSaid() async throws {
        let actions = Mutex<[String]>([])
        let runtime = FeedRuntime(consul: ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:1")),
                                  loadTheme: { name in
                                      guard name == "light" else { throw Theme.ParseError(message: "no theme '\(name)'") }
                                      return Theme(name: "light", styles: [:])
                                  },
                                  send: { action in
                                      switch action {
                                      case .themeLoaded(let theme): actions.withLock { $0.append("loaded \(theme.name)") }
                                      case .themeFailed(let text, _): actions.withLock { $0.append("failed \(text)") }
                                      default: break
                                      }
                                  })
        defer { runtime.stop() }
        runtime.perform(.loadTheme("light"))
        runtime.perform(.loadTheme("nope"))
        let deadline = ContinuousClock.now + .seconds(5)
        while actions.withLock({ $0.count }) < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(Set(actions.withLock { $0 }) == ["loaded light", "failed no theme 'nope'"])
    }
}

/// The built-in dashboard names the series search-server sends, as `CollectdPaths` computes them: the
/// dashboard is data, and this holds it to the one place that knows the paths.
@Suite(.timeLimit(.minutes(5))) struct BuiltinDashboardTests {
    @Test func everyTargetIsAPathCollectdWrites() {
        let instance = "search-service-1"
        func path(_ series: CollectdPaths.Series, _ metric: String) -> String {
            CollectdPaths.path(series, statsdName: "search_\(metric)")
        }
        func instancePath(_ series: CollectdPaths.Series, _ metric: String) -> String {
            CollectdPaths.path(series, statsdName: CollectdPaths.instanceStatsDName(metric, instance: instance))
        }
        let expanded = Dashboard.builtin.charts.flatMap(\.series).map {
            $0.target.replacingOccurrences(of: "{instance}", with: CollectdPaths.graphiteSafe(instance))
        }
        let expected = [
            path(.counterRate, "requests"), instancePath(.counterRate, "requests"),
            path(.counterRate, "errors") + "_*", instancePath(.counterRate, "errors") + "_*",
            path(.timerAverage, "latency"),
            path(.timerAverage, "latency").replacingOccurrences(of: "-average", with: "-percentile-90"),
            path(.timerAverage, "latency").replacingOccurrences(of: "-average", with: "-upper"),
            instancePath(.timerAverage, "latency").replacingOccurrences(of: "-average", with: "-percentile-90"),
            path(.gauge, "n_things"), instancePath(.gauge, "n_things"),
            path(.gauge, "log_records_dropped"), instancePath(.gauge, "log_records_dropped"),
        ]
        #expect(expanded.count == expected.count)
        // The console's own expansion of {instance} is the sending side's.
        for id in ["search-service-1", "a.b/c d", "ünï"] {
            #expect(GraphiteQuery(targets: ["x.{instance}"], instance: id, range: 60, points: 1).expandedTargets
                    == ["x.\(CollectdPaths.graphiteSafe(id))"])
        }
        for (target, path) in zip(expanded, expected) {
            #expect(target == path || target.contains("(" + path + ")") || target.contains("(" + path + ","),
                    "\(target) does not read \(path)")
        }
    }
}
