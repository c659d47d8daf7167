import Foundation
import StackSupport
import Testing

/// The config pane and `opsdeck kv` in the real binary against devconsul and real search-server instances.
@Suite(.timeLimit(.minutes(3))) struct ConfigInTmuxTests {
    static let opsdeck = ConsoleInTmuxTests.opsdeck

    /// Three instances reading their settings from `<service>/` in KV (no --log-level: KV decides it).
    func startInstances(_ service: String) throws -> [ChildProcess] {
        try (1...3).map { i in
            try ChildProcess(ConsoleInTmuxTests.searchServer,
                             ["serve", "--service-name", service, "--instance-id", "\(service)-\(i)", "--statsd-address", "",
                              "--check-interval-s", "1"],
                             environment: ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGDATABASE": "opsdeck",
                                           "PGUSER": "postgres", "CONSUL_HTTP_ADDR": "127.0.0.1:8500"])
        }
    }

    /// A KV write from outside, as an operator with curl would make it.
    func curlPut(_ key: String, _ value: String) async throws {
        let result = try await curl(["-X", "PUT", "--data-binary", value, "http://127.0.0.1:8500/v1/kv/\(key)"])
        #expect(result.status == 0 && result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "true", "curl PUT \(key): \(result.output)")
    }

    /// Programs run off the cooperative pool: every test shares its two threads, and a blocked one stalls
    /// other suites' feeds and deadlines.
    func opsdeck(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await Stack.run(Self.opsdeck, arguments, environment: ["CONSUL_HTTP_ADDR": "127.0.0.1:8500"])
    }

    func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Stack.run("/usr/bin/curl", ["-fsS"] + arguments)
    }

    @Test func editingSettingsInThePaneReachesTheInstancesAndAConflictIsRefused() async throws {
        try await Stack.ensureUp()
        let service = "cfg-\(UInt32.random(in: 0...UInt32.max))"
        let instances = try startInstances(service)
        defer {
            instances.forEach { $0.signal(SIGTERM) }
            _ = try? Stack.runBlocking("/usr/bin/curl", ["-fsS", "-X", "DELETE", "http://127.0.0.1:8500/v1/kv/\(service)/?recurse"])
        }
        // A key that is not a setting, and an "editor" that makes it two lines (as an operator in vi would).
        try await curlPut("\(service)/notes", "hello")
        let editor = NSTemporaryDirectory() + "opsdeck-editor-\(service).sh"
        try "printf 'line one\\nline two\\n' > \"$1\"\n".write(toFile: editor, atomically: true, encoding: .utf8)
        defer { unlink(editor) }
        let tmux = try Tmux(width: 160, height: 44, command: "\(Self.opsdeck) --consul 127.0.0.1:8500", environment: ["EDITOR": "/bin/sh " + editor])
        // All three registered and passing first: a change is followed onto the instances there are.
        try await tmux.waitFor("the service listed with three passing", explain: { Stack.checksOf(service) }) { screen in
            screen.split(separator: "\n").contains { $0.contains(service) && $0.contains("3●") }
        }
        try tmux.sendText(":config \(service)")
        try tmux.send("Enter", "z")  // zoomed: the whole title and the detail beside the tree
        // The registration says search-server: every setting is listed, not set yet.
        try await tmux.waitFor("the pane on the prefix, with the settings table") {
            $0.contains("config · \(service)/ · 1 key · search-server settings") && $0.contains("(default info)")
        }

        // log_level is the fifth setting (check_interval_s, default_page_size, kafka_brokers, kafka_topic, log_level).
        try tmux.send("g", "j", "j", "j", "j")
        // The pane knows the three instances (their Monitor echoes) before the change is made.
        try await tmux.waitFor("what the three run with") { $0.contains("in effect: info on 3") }
        try tmux.send("e")
        try await tmux.waitFor("the prompt on log_level") { $0.contains("\(service)/log_level =") }
        try tmux.sendText("debug")
        try tmux.send("Enter")
        try await tmux.waitFor("applied live on all three", timeout: .seconds(30)) {
            $0.contains("log_level=debug applied live on 3 instances")
        }
        for instance in instances {
            let applied = instance.stdout.split(separator: "\n").contains { $0.contains("configuration applied live") && $0.contains("log_level") && $0.contains("debug") }
            #expect(applied, "instance output:\n\(instance.stdout.suffix(2_000))")
        }

        // A value search-server would refuse is not written.
        try tmux.send("e", "C-u")
        try tmux.sendText("loud")
        try tmux.send("Enter")
        try await tmux.waitFor("the refusal") { $0.contains("not written: log_level cannot be \"loud\"") }

        // Someone writes with curl between our read and our write: refused, both values shown.
        try tmux.send("e")
        try await tmux.waitFor("the prompt again") { $0.contains("\(service)/log_level = debug") }
        try await curlPut("\(service)/log_level", "warning")
        // The prompt holds the bottom line; the tree marks the key.
        try await tmux.waitFor("their change marked") { $0.contains("● log_level") }
        try tmux.send("C-u")
        try tmux.sendText("error")
        try tmux.send("Enter")
        // All three in one capture: tmux can capture a frame half drawn (the box before the bottom line).
        try await tmux.waitFor("the conflict: both values, and why nothing was written") {
            $0.contains("yours   error") && $0.contains("theirs  warning")
                && $0.contains("not written: \(service)/log_level changed since it was shown")
        }
        let stored = try await curl(["http://127.0.0.1:8500/v1/kv/\(service)/log_level?raw"])
        #expect(stored.output == "warning")
        try tmux.send("Escape")
        // Back to info, so that the restart below is in their logs (notice lines).
        try tmux.send("e", "C-u")
        try tmux.sendText("info")
        try tmux.send("Enter")
        try await tmux.waitFor("info applied", timeout: .seconds(30)) { $0.contains("log_level=info applied live on 3 instances") }

        // A restart key: the instances restart themselves with it and the pane follows them back.
        try tmux.send("k", "e")
        try await tmux.waitFor("the prompt on kafka_topic") { $0.contains("\(service)/kafka_topic =") }
        try tmux.sendText("\(service)-logs")
        try tmux.send("Enter")
        try await tmux.waitFor("the three back with it", timeout: .seconds(90)) {
            $0.contains("kafka_topic=\(service)-logs: 3 instances restarted with it, 3 back and passing")
        }
        for instance in instances {
            #expect(instance.stdout.contains("restarting to apply configuration"), "instance output:\n\(instance.stdout.suffix(2_000))")
        }

        // E: the editor gets the terminal, its text is written, and the console comes back whole.
        try tmux.send("j", "j", "j", "E")  // kafka_topic, log_level, max_page_size, notes
        try await tmux.waitFor("the edited value shown") { $0.contains("line two") && $0.contains("config · \(service)/") }
        let notes = try await curl(["http://127.0.0.1:8500/v1/kv/\(service)/notes?raw"])
        #expect(notes.output == "line one\nline two")
        try tmux.send("q")
        try await tmux.waitFor("the console quit") { $0.contains("EXITED 0") }
    }

    @Test func theKVCommandReadsWritesCheckAndSetListsAndWatches() async throws {
        try await Stack.ensureUp()
        let prefix = "kvcli-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? Stack.runBlocking("/usr/bin/curl", ["-fsS", "-X", "DELETE", "http://127.0.0.1:8500/v1/kv/\(prefix)/?recurse"]) }
        let watcher = try ChildProcess(Self.opsdeck, ["kv", "watch", "\(prefix)/", "--recurse", "--consul", "127.0.0.1:8500"])
        defer { watcher.signal(SIGTERM) }
        try await watcher.waitUntil("the watch's first read") { _, stderr in stderr.contains("no key \(prefix)/ yet; waiting for it") }

        #expect(try await opsdeck("kv", "put", "\(prefix)/a", "one") == (0, "wrote \(prefix)/a (3 bytes)\n"))
        // A watch shows states, as Consul's blocking queries do: each step waits for the watch to show the
        // last one, or two quick writes could show as one.
        try await watcher.waitUntil("the watch showing the first write") { out, _ in out.contains("set \(prefix)/a=one (ModifyIndex ") }
        #expect(try await opsdeck("kv", "get", "\(prefix)/a") == (0, "one"))  // into a pipe: the bytes, nothing added
        let missing = try await opsdeck("kv", "get", "\(prefix)/nothing")
        #expect(missing.status == 1 && missing.output == "opsdeck kv get: no key \(prefix)/nothing\n")

        let json = try await opsdeck("kv", "get", "\(prefix)/a", "--output", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let index = try #require(object["modify_index"] as? Int)
        #expect(object["value"] as? String == "one")

        // Check-and-set: the index read works once; after that it is stale and nothing is written.
        #expect(try await opsdeck("kv", "put", "\(prefix)/a", "two", "--cas", "\(index)").status == 0)
        let stale = try await opsdeck("kv", "put", "\(prefix)/a", "three", "--cas", "\(index)")
        #expect(stale.status == 1 && stale.output.contains("not written: \(prefix)/a changed since that index (its ModifyIndex is now"))
        #expect(try await opsdeck("kv", "get", "\(prefix)/a").output == "two")
        #expect(try await opsdeck("kv", "put", "\(prefix)/a", "x", "--cas", "0").status == 1)  // 0: only a new key

        #expect(try await opsdeck("kv", "put", "\(prefix)/db/host", "10.0.0.5").status == 0)
        try await watcher.waitUntil("the watch showing the new key and the check-and-set write") { out, _ in
            out.contains("set \(prefix)/db/host=10.0.0.5") && out.contains("set \(prefix)/a=two")
        }
        #expect(try await opsdeck("kv", "ls", "\(prefix)/") == (0, "\(prefix)/a\n\(prefix)/db/\n"))
        #expect(try await opsdeck("kv", "ls", "\(prefix)/", "--recurse").output == "\(prefix)/a\n\(prefix)/db/host\n")
        #expect(try await opsdeck("kv", "delete", "\(prefix)/db", "--recurse").status == 64)  // a folder is named whole
        #expect(try await opsdeck("kv", "delete", "\(prefix)/db/", "--recurse").status == 0)
        #expect(try await opsdeck("kv", "get", "\(prefix)/db/", "--recurse").status == 1)
        #expect(try await opsdeck("kv", "put", "\(prefix)/a", "y", "--output", "yaml").status == 64)

        try await watcher.waitUntil("the watch showing the delete") { out, _ in out.contains("deleted \(prefix)/db/host") }
        #expect(!watcher.stdout.contains("a=three"))
    }
}
