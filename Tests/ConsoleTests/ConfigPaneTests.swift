import Console
import ConsulModels
import Foundation
import SearchSettings
import Testing
import TUI

/// The config pane as an operator drives it: the KV tree, check-and-set edits, refusals, deletes, and
/// following a written setting onto the instances.
@Suite(.timeLimit(.minutes(1))) struct ConfigPaneTests {
    static let meta = [SettingsTable.metaKey: SettingsTable.metaValue]
    static let instances = (1...3).map {
        Fixture.entry("search-service", "search-service-\($0)", port: 40000 + $0, status: "passing", meta: meta)
    }

    static func pair(_ key: String, _ value: String, index: UInt64) -> KVPair {
        KVPair(key: "search-service/" + key, value: Array(value.utf8), createIndex: index, modifyIndex: index)
    }

    static let pairs = [
        pair("log_level", "info", index: 11), pair("max_page_size", "100", index: 12),
        pair("db/host", "10.0.0.5", index: 13), pair("db/port", "5432", index: 14),
        KVPair(key: "search-service/blob", value: [0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x41], modifyIndex: 15),
    ]

    /// The console with the config pane open on search-service, its KV and its three instances read.
    func opened(pairs: [KVPair] = Self.pairs, size: Size = Size(width: 130, height: 30)) -> (ConsoleState, ConsoleReducer) {
        var (state, reducer) = Fixture.loaded()
        state.size = size
        _ = reducer.command(&state, "config search-service")
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", pairs, at: Fixture.t0)))
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Self.instances, at: Fixture.t0)))
        return (state, reducer)
    }

    func pane(_ state: ConsoleState) -> ConfigPane { state.pane(ConfigPane.self)! }

    /// Moves the cursor to the row of `path`.
    func select(_ path: String, _ state: inout ConsoleState, _ reducer: ConsoleReducer) throws {
        let index = try #require(pane(state).tree.rows.firstIndex { $0.path == path }, "no row \(path)")
        _ = reducer.keys(&state, [.home] + Array(repeating: .down, count: index))
        try #require(pane(state).selectedRowPath == path)
    }

    /// `e` on the key, its text replaced by `text`, enter.
    func edit(_ path: String, to text: String, _ state: inout ConsoleState, _ reducer: ConsoleReducer) throws {
        try select(path, &state, reducer)
        _ = reducer.keys(&state, [.character("e"), .ctrl("u")])
        _ = reducer.type(&state, text)
        _ = reducer.keys(&state, [.enter])
    }

    func sample(_ settings: [String: String], at: Int64) -> MonitorSample {
        var figures = Fixture.figures()
        figures.settings = settings
        return MonitorSample(outcome: .ok(figures), roundTripMilliseconds: 1, at: at)
    }

    @Test func kOpensTheHiddenPaneOnTheSelectedServicesPrefixWithItsFeeds() throws {
        var (state, reducer) = Fixture.loaded()
        #expect(!state.visible.contains(ConfigPane.id))
        _ = reducer.command(&state, "instances search-service")
        _ = reducer.keys(&state, [.character("K")])
        #expect(state.visible.contains(ConfigPane.id) && state.focus == ConfigPane.id)
        #expect(state.subscriptions.isSuperset(of: [.kv(prefix: "search-service/"), .health(service: "search-service")]))
        #expect(ConsoleView.render(state, reducer).text.contains("config · search-service/"))

        _ = reducer.command(&state, "config nosuch")
        #expect(state.message?.isError == true && state.message?.text.contains("no service nosuch") == true)
    }

    @Test func theTreeHasFoldersFirstUnsetSettingsAndOpensAndCloses() throws {
        var (state, reducer) = opened()
        let rows = pane(state).tree.rows
        #expect(rows.prefix(3).map(\.path) == ["search-service/db/", "search-service/db/host", "search-service/db/port"])
        #expect(rows[0].isFolder && rows[0].keys == 2 && rows[1].depth == 1)
        // Every search-server setting is listed; those KV does not set say so and are not counted as keys.
        let unset = rows.filter(\.isUnset).map(\.name)
        #expect(Set(unset) == Set(ServerSettings.keys.map(\.key)).subtracting(["log_level", "max_page_size"]))
        #expect(pane(state).title(context(state)) == "config · search-service/ · 5 keys · search-server settings")

        try select("search-service/db/port", &state, reducer)
        _ = reducer.keys(&state, [.character("h")])  // a key: to its folder
        #expect(pane(state).selectedRowPath == "search-service/db/")
        _ = reducer.keys(&state, [.character("h")])  // the open folder: closed
        #expect(!pane(state).tree.rows.contains { $0.path == "search-service/db/host" })
        _ = reducer.keys(&state, [.enter])  // open again
        #expect(pane(state).tree.rows.contains { $0.path == "search-service/db/host" })
    }

    @Test func anEditIsACheckAndSetOnTheIndexShown() throws {
        var (state, reducer) = opened()
        try select("search-service/log_level", &state, reducer)
        _ = reducer.keys(&state, [.character("e")])
        guard case .input(_, let prompt, let editor) = state.mode else { Issue.record("no prompt"); return }
        #expect(prompt == "search-service/log_level = " && editor.string == "info")
        _ = reducer.keys(&state, [.ctrl("u")])
        _ = reducer.type(&state, "DEBUG")
        let effects = reducer.keys(&state, [.enter])
        let write = try #require(pane(state).pendingWrite)
        #expect(write.key == "search-service/log_level" && write.operation == .put(Array("DEBUG".utf8)) && write.cas == 11)
        #expect(effects == [.writeKV(write)])
        // While it is on its way, no second write.
        _ = reducer.keys(&state, [.character("e")])
        #expect(state.message?.text == "still writing" && state.mode == .normal)

        _ = reducer.reduce(&state, .feed(.kvWritten(write, .written)))
        #expect(pane(state).pendingWrite == nil)
        // The server spells it its own way: the follow waits for "debug".
        let follow = try #require(pane(state).follow)
        #expect(follow.expected == "debug" && follow.live && follow.expectedCount == 3)
        #expect(state.message?.text == "log_level=debug: applied live on 0 of 3…")
        // Following means Monitor on every instance.
        #expect(state.subscriptions.filter { $0.kind == .monitor }.count == 3)
    }

    @Test func aReadOnlyConsoleRefusesEveryEditBeforeAPrompt() throws {
        var (state, reducer) = opened()
        state.readOnly = "context prod is read-only"
        try select("search-service/log_level", &state, reducer)
        for key in [Key.character("e"), .character("E"), .enter, .character("n"), .character("d")] {
            state.message = nil
            let effects = reducer.keys(&state, [key])
            #expect(effects.isEmpty && state.mode == .normal && pane(state).pendingWrite == nil, "\(key)")
            #expect(state.message?.text == "read-only (context prod is read-only): KV edits are refused; y copies a value", "\(key)")
        }
        // Folders still open and close, values are still copied.
        try select("search-service/db/", &state, reducer)
        _ = reducer.keys(&state, [.enter])
        #expect(!pane(state).tree.rows.contains { $0.path == "search-service/db/host" })
        let screen = ConsoleView.render(state, reducer)
        #expect(screen.lines()[0].contains(" read-only ") && screen.lines()[state.size.height - 1].contains("read-only ·"))
    }

    /// A write a pane sends while read-only (the pane forgot to check) is stopped by the reducer and the
    /// pane hears it failed; a write on its way holds back a context switch, whose reports would drop it.
    @Test func theReadOnlyBackstopAnswersThePaneAndAPendingWriteHoldsTheSwitch() throws {
        var (state, reducer) = opened()
        try select("search-service/log_level", &state, reducer)
        _ = reducer.keys(&state, [.character("e"), .ctrl("u")])
        _ = reducer.type(&state, "debug")
        state.readOnly = "--readonly"
        #expect(reducer.keys(&state, [.enter]).isEmpty)
        #expect(pane(state).pendingWrite == nil)
        #expect(state.message?.text.contains("read-only (--readonly)") == true)

        state.readOnly = nil
        let switching = ConsoleReducer(contexts: ["prod"])
        try edit("search-service/log_level", to: "debug", &state, switching)
        let write = try #require(pane(state).pendingWrite)
        #expect(switching.command(&state, "context prod").isEmpty)
        #expect(state.message?.text == "search-service/log_level is being written: :context once it is done")
        _ = switching.reduce(&state, .feed(.kvWritten(write, .written)))
        #expect(switching.command(&state, "context prod") == [.switchContext("prod")])
    }

    @Test func valuesSearchServerWouldRefuseAreNotWritten() throws {
        var (state, reducer) = opened()
        try edit("search-service/log_level", to: "loud", &state, reducer)
        #expect(pane(state).pendingWrite == nil)
        #expect(state.message?.isError == true)
        #expect(state.message?.text.hasPrefix("not written: log_level cannot be \"loud\": trace|debug|info") == true)

        // A default page size above the maximum in KV: refused as a pair, with both named.
        try select("search-service/default_page_size", &state, reducer)
        _ = reducer.keys(&state, [.character("e")])
        _ = reducer.type(&state, "200")
        _ = reducer.keys(&state, [.enter])
        #expect(pane(state).pendingWrite == nil)
        #expect(state.message?.text == "not written: default_page_size 200 would be above max_page_size 100: search-server keeps both unchanged")

        // A key that is not a setting takes anything.
        try edit("search-service/db/port", to: "not a number", &state, reducer)
        #expect(pane(state).pendingWrite?.operation == .put(Array("not a number".utf8)))
    }

    @Test func aConflictingWriteIsRefusedWithBothValuesShown() throws {
        var (state, reducer) = opened()
        try edit("search-service/log_level", to: "debug", &state, reducer)
        let write = try #require(pane(state).pendingWrite)
        let theirs = Self.pair("log_level", "warning", index: 57)
        _ = reducer.reduce(&state, .feed(.kvWritten(write, .conflict(theirs: theirs))))
        #expect(state.message?.isError == true)
        #expect(state.message?.text == "not written: search-service/log_level changed since it was shown (ModifyIndex now 57); both values in the pane")
        #expect(pane(state).follow == nil)
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("yours   debug") && screen.contains("theirs  warning  (ModifyIndex 57)"))

        // e: again, knowingly, against their index.
        _ = reducer.keys(&state, [.character("e")])
        guard case .input(_, _, let editor) = state.mode else { Issue.record("no prompt"); return }
        #expect(editor.string == "debug")
        _ = reducer.keys(&state, [.enter])
        #expect(pane(state).pendingWrite?.cas == 57)

        // esc: theirs stays.
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .conflict(theirs: Self.pair("log_level", "error", index: 60)))))
        _ = reducer.keys(&state, [.escape])
        #expect(pane(state).conflict == nil && state.message?.text == "kept the value of search-service/log_level as it is now")
    }

    @Test func deleteAsksFirst() throws {
        var (state, reducer) = opened()
        try select("search-service/db/host", &state, reducer)
        _ = reducer.keys(&state, [.character("d")])
        guard case .input(_, let prompt, _) = state.mode else { Issue.record("no prompt"); return }
        #expect(prompt == "delete search-service/db/host? y/N ")
        _ = reducer.keys(&state, [.character("n"), .enter])
        #expect(pane(state).pendingWrite == nil && state.message?.text == "kept search-service/db/host")
        _ = reducer.keys(&state, [.character("d"), .escape])
        #expect(pane(state).pendingWrite == nil && state.message?.text == "kept search-service/db/host")

        let effects = reducer.keys(&state, [.character("d"), .character("y"), .enter])
        let delete = try #require(pane(state).pendingWrite)
        #expect(delete.key == "search-service/db/host" && delete.operation == .delete(recurse: false) && delete.cas == 13)
        #expect(effects == [.writeKV(delete)])
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        #expect(state.message?.text == "deleted search-service/db/host")

        // A folder goes with everything in it, after saying how much.
        try select("search-service/db/", &state, reducer)
        _ = reducer.keys(&state, [.character("d")])
        guard case .input(_, let folderPrompt, _) = state.mode else { Issue.record("no prompt"); return }
        #expect(folderPrompt == "delete search-service/db/ and its 2 keys? y/N ")
        _ = reducer.type(&state, "yes")
        _ = reducer.keys(&state, [.enter])
        #expect(pane(state).pendingWrite?.operation == .delete(recurse: true) && pane(state).pendingWrite?.cas == nil)

        // An unset setting has nothing to delete.
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        try select("search-service/kafka_topic", &state, reducer)
        _ = reducer.keys(&state, [.character("d")])
        #expect(state.mode == .normal && state.message?.text == "search-service/kafka_topic is not set: nothing to delete")
    }

    @Test func aNewKeyIsCreatedOnlyIfAbsent() throws {
        var (state, reducer) = opened()
        try select("search-service/db/port", &state, reducer)
        _ = reducer.keys(&state, [.character("n")])
        guard case .input(_, let prompt, let editor) = state.mode else { Issue.record("no prompt"); return }
        #expect(prompt == "new key: search-service/" && editor.string == "db/")
        _ = reducer.type(&state, "user")
        _ = reducer.keys(&state, [.enter])
        _ = reducer.type(&state, "search")
        _ = reducer.keys(&state, [.enter])
        #expect(pane(state).pendingWrite?.key == "search-service/db/user" && pane(state).pendingWrite?.cas == 0)

        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        _ = reducer.keys(&state, [.character("n"), .ctrl("u")])
        _ = reducer.type(&state, "log_level")
        _ = reducer.keys(&state, [.enter])
        #expect(state.message?.text == "search-service/log_level exists: e edits it" && pane(state).pendingWrite == nil)
    }

    @Test func aLiveSettingIsFollowedUntilEveryInstanceEchoesIt() throws {
        var (state, reducer) = opened()
        try edit("search-service/log_level", to: "debug", &state, reducer)
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 1_000))
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        // A sample from before the write says nothing; one still at the old level neither.
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-1", sample(["log_level": "debug"], at: Fixture.t0))))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-2", sample(["log_level": "info"], at: Fixture.t0 + 1_500))))
        #expect(pane(state).follow?.applied == 0)
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-1", sample(["log_level": "debug"], at: Fixture.t0 + 2_000))))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-2", sample(["log_level": "debug"], at: Fixture.t0 + 2_000))))
        #expect(ConsoleView.render(state, reducer).text.contains("⟳ log_level=debug: applied live on 2 of 3…"))
        _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-3", sample(["log_level": "debug"], at: Fixture.t0 + 2_100))))
        #expect(pane(state).follow == nil)
        #expect(state.message == Message(text: "log_level=debug applied live on 3 instances", isError: false, at: Fixture.t0 + 1_000))
        // What the instances run with, beside what KV says.
        #expect(ConsoleView.render(state, reducer).text.contains("in effect: debug on 3"))
    }

    @Test func aRestartSettingIsFollowedThroughTheRestartsEvenUnderNewIDs() throws {
        var (state, reducer) = opened()
        try select("search-service/kafka_topic", &state, reducer)
        _ = reducer.keys(&state, [.character("e")])
        _ = reducer.type(&state, "search-logs")
        _ = reducer.keys(&state, [.enter])
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        #expect(state.message?.text == "kafka_topic=search-logs: 3 instances restarting… 0 back")
        // They leave, and come back under new ids (no fixed --instance-id), one still failing its check.
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [], at: Fixture.t0 + 1_000)))
        let back = (4...6).map { Fixture.entry("search-service", "search-service-\($0)", port: 40000 + $0,
                                               status: $0 == 6 ? "critical" : "passing", meta: Self.meta) }
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", back, at: Fixture.t0 + 3_000)))
        for i in 4...6 {
            _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-\(i)", sample(["kafka_topic": "search-logs"], at: Fixture.t0 + 4_000))))
        }
        #expect(pane(state).follow?.summary(Fixture.t0 + 4_000).text == "kafka_topic=search-logs: 3 instances restarting… 2 back")
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", back.map { entry in
            Fixture.entry("search-service", entry.service.id, port: entry.service.port, status: "passing", meta: Self.meta)
        }, at: Fixture.t0 + 5_000)))
        #expect(pane(state).follow == nil)
        #expect(state.message?.text == "kafka_topic=search-logs: 3 instances restarted with it, 3 back and passing")
    }

    /// The pane polls Monitor on search-server instances by itself (the instances pane may be hidden) and
    /// shows what each setting is in effect, which a flag or variable can make differ from KV.
    @Test func whatTheInstancesRunWithIsShownBesideKV() throws {
        var (state, reducer) = opened()
        _ = reducer.command(&state, "hide instances")
        #expect(state.subscriptions.filter { $0.kind == .monitor }.count == 3)
        for (i, level) in [(1, "info"), (2, "info"), (3, "debug")] {
            _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-\(i)", sample(["log_level": level], at: Fixture.t0))))
        }
        try select("search-service/log_level", &state, reducer)
        #expect(ConsoleView.render(state, reducer).text.contains("in effect: info on 2, debug on 1"))
        // An instance that leaves is not counted.
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Array(Self.instances.prefix(2)), at: Fixture.t0 + 1)))
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("in effect: info on 2") && !screen.contains("debug on 1"))
    }

    @Test func anInstanceThatNeverTakesItIsSaidAfterThePatience() throws {
        var (state, reducer) = opened()
        try edit("search-service/log_level", to: "warning", &state, reducer)
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        for i in 1...2 {
            _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-\(i)", sample(["log_level": "warning"], at: Fixture.t0 + 10))))
        }
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + ChangeFollow.patience + 1_000))
        #expect(pane(state).follow == nil)
        #expect(state.message?.isError == true)
        #expect(state.message?.text == "log_level=warning: 2 of 3 took it in 60s; the others run without it "
                + "(a flag or SEARCH_LOG_LEVEL there overrides KV, or see their logs)")
    }

    /// The watch can show the pane's own write before the write's result arrives, and a folder's delete
    /// removes keys with other names: neither is "elsewhere". Someone else's change to the same key is.
    @Test func ownWritesAreKnownWhicheverArrivesFirst() throws {
        var (state, reducer) = opened()
        try edit("search-service/db/port", to: "6432", &state, reducer)
        let write = try #require(pane(state).pendingWrite)
        var next = Self.pairs
        next[3] = Self.pair("db/port", "6432", index: 80)
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", next, at: Fixture.t0)))  // the watch first
        _ = reducer.reduce(&state, .feed(.kvWritten(write, .written)))
        #expect(pane(state).changedElsewhere.isEmpty && state.message?.text == "wrote search-service/db/port")
        // Then someone else writes the same key: theirs.
        next[3] = Self.pair("db/port", "7432", index: 81)
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", next, at: Fixture.t0)))
        #expect(pane(state).changedElsewhere.keys.contains("search-service/db/port"))

        try select("search-service/db/", &state, reducer)
        _ = reducer.keys(&state, [.character("d"), .character("y"), .enter])
        let delete = try #require(pane(state).pendingWrite)
        _ = reducer.reduce(&state, .feed(.kvWritten(delete, .written)))
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", next.filter { !$0.key.contains("/db/") }, at: Fixture.t0)))
        #expect(state.message?.text == "deleted search-service/db/")
    }

    /// A write keeps the key's flags (Consul stores 0 when a write gives none), and a write sent before
    /// another service was selected still says what became of it.
    @Test func flagsAreKeptAndAResultOutlivesTheSelection() throws {
        var (state, reducer) = opened(pairs: Self.pairs + [KVPair(key: "search-service/flagged", value: Array("a".utf8), flags: 42, modifyIndex: 30)])
        try edit("search-service/flagged", to: "b", &state, reducer)
        let write = try #require(pane(state).pendingWrite)
        #expect(write.flags == 42)
        _ = reducer.command(&state, "config billing")
        _ = reducer.reduce(&state, .feed(.kvWritten(write, .conflict(theirs: nil))))
        #expect(state.message == Message(text: "not written: search-service/flagged had changed meanwhile", isError: true, at: Fixture.t0))
    }

    /// The cursor stays on its key when rows appear above it (a key added elsewhere, or the settings
    /// listed once the registration says search-server).
    @Test func theCursorStaysOnItsKeyWhenRowsComeAndGo() throws {
        var (state, reducer) = Fixture.loaded()
        state.size = Size(width: 130, height: 30)
        _ = reducer.command(&state, "config search-service")
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", Self.pairs, at: Fixture.t0)))
        try select("search-service/max_page_size", &state, reducer)
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", Self.instances, at: Fixture.t0)))
        #expect(pane(state).selectedRowPath == "search-service/max_page_size")
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", [Self.pair("aaa", "1", index: 90)] + Self.pairs, at: Fixture.t0)))
        #expect(pane(state).selectedRowPath == "search-service/max_page_size")
        // Every instance away (restarting): the settings stay explained.
        _ = reducer.reduce(&state, .feed(.health(service: "search-service", [], at: Fixture.t0)))
        #expect(pane(state).isSearchServer && pane(state).selectedRowPath == "search-service/max_page_size")
    }

    /// A write that changes nothing the instances run with is said so, not followed.
    @Test func aValueAlreadyInEffectIsNotFollowed() throws {
        var (state, reducer) = opened()
        for i in 1...3 {
            _ = reducer.reduce(&state, .feed(.monitor(instance: "node-1/search-service-\(i)", sample(["log_level": "info"], at: Fixture.t0))))
        }
        try edit("search-service/log_level", to: "INFO", &state, reducer)
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        #expect(pane(state).follow == nil)
        #expect(state.message?.text == "log_level=info was in effect already on 3 instances: nothing to apply")
    }

    @Test func aChangeMadeElsewhereIsMarkedAndOwnWritesAreNot() throws {
        var (state, reducer) = opened()
        try edit("search-service/log_level", to: "debug", &state, reducer)
        _ = reducer.reduce(&state, .feed(.kvWritten(pane(state).pendingWrite!, .written)))
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 2_000))
        var next = Self.pairs
        next[0] = Self.pair("log_level", "debug", index: 70)     // ours
        next[3] = Self.pair("db/port", "6432", index: 71)         // someone else's
        next.append(Self.pair("feature_x", "on", index: 72))      // someone else's, new
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", next, at: Fixture.t0 + 2_000)))
        #expect(Set(pane(state).changedElsewhere.keys) == ["search-service/db/port", "search-service/feature_x"])
        #expect(state.message?.text == "elsewhere: changed search-service/db/port, changed search-service/feature_x")
        #expect(ConsoleView.render(state, reducer).text.contains("●   port"))
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + ConfigPane.markLifetime + 1))
        #expect(pane(state).changedElsewhere.isEmpty == false)  // 60 s after the change was seen, not after the write
        _ = reducer.reduce(&state, .tick(now: Fixture.t0 + 2_000 + ConfigPane.markLifetime))
        #expect(pane(state).changedElsewhere.isEmpty)
    }

    @Test func anotherServiceStartsOver() throws {
        var (state, reducer) = opened()
        _ = reducer.command(&state, "config billing")
        #expect(pane(state).service == "billing" && pane(state).pairs.isEmpty && pane(state).instances.isEmpty)
        #expect(state.subscriptions.contains(.kv(prefix: "billing/")) && !state.subscriptions.contains(.kv(prefix: "search-service/")))
        // A late answer for the old prefix is not taken.
        _ = reducer.reduce(&state, .feed(.kv(prefix: "search-service/", Self.pairs, at: Fixture.t0)))
        #expect(pane(state).pairs.isEmpty)
    }

    @Test func valuesAreNeverDrawnRaw() {
        #expect(KVValue([0x00, 0xff, 0x1b]).isBinary)
        #expect(KVValue(Array("a\u{1b}[2Jb".utf8)).isBinary)
        #expect(KVValue(Array("tab\there\nnext".utf8)) == .text("tab\there\nnext"))
        #expect(KVValue(Array("one\ntwo".utf8)).preview(width: 20) == "one…")
        #expect(KVValue([0x41, 0x00, 0x42]).lines(width: 40, limit: 3) == ["000000  41 00 42                  A.B"])
        let long = KVValue(Array(String(repeating: "x", count: 50).utf8))
        #expect(long.lines(width: 10, limit: 3) == ["xxxxxxxxxx", "xxxxxxxxxx", "… 50 bytes in all (`opsdeck kv get` prints it whole)"])
    }

    func context(_ state: ConsoleState) -> PaneContext {
        PaneContext(now: state.now, size: Size(width: 80, height: 20), selection: state.selection, feeds: state.feeds,
                    isFocused: true, theme: state.theme)
    }
}

extension ConfigPane {
    var selectedRowPath: String? { tree.rows[safe: cursor.selected]?.path }
}
