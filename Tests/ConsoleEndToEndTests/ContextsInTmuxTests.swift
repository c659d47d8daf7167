import Foundation
import StackSupport
import Testing

/// Contexts in the real binary: two devconsul agents with different services, one of them with ACLs on;
/// the console starts on one, `:context` switches it live, the header says which and marks production,
/// a refused token is said in the status bar, and a read-only context refuses a KV edit.
@Suite(.timeLimit(.minutes(3))) struct ContextsInTmuxTests {
    static let devconsul = Stack.repositoryRoot.appendingPathComponent(".build/debug/devconsul").path

    /// An agent on free ports (with ACLs on when given a token file), up when it answers.
    func agent(tokenFile: String? = nil) async throws -> (ChildProcess, port: Int) {
        let port = try freePort()
        let agent = try ChildProcess(Self.devconsul, ["--http-port", "\(port)", "--dns-port", "0"]
                                                    + (tokenFile.map { ["--acl-token-file", $0] } ?? []))
        try await agent.waitUntil("devconsul's banner") { out, _ in out.contains("devconsul: development agent") }
        return (agent, port)
    }

    func register(_ service: String, port: Int, token: String? = nil) async throws {
        let result = try await Stack.run("/usr/bin/curl", ["-fsS", "-X", "PUT", "--data", #"{"Name":"\#(service)","Port":9}"#,
                                                           "http://127.0.0.1:\(port)/v1/agent/service/register"]
                                                          + (token.map { ["-H", "X-Consul-Token: \($0)"] } ?? []))
        #expect(result.status == 0, "register \(service): \(result.output)")
    }

    @Test func theConsoleSwitchesContextsLiveAndSaysWhichAndWhatIsRefused() async throws {
        let scratch = NSTemporaryDirectory() + "opsdeck-contexts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let token = UUID().uuidString
        try "\(token)\n".write(toFile: "\(scratch)/token", atomically: true, encoding: .utf8)
        let (plain, plainPort) = try await agent()
        defer { plain.signal(SIGTERM) }
        let (secured, securedPort) = try await agent(tokenFile: "\(scratch)/token")
        defer { secured.signal(SIGTERM) }
        try await register("alpha-svc", port: plainPort)
        try await register("beta-svc", port: securedPort, token: token)
        try """
            context alpha
              consul 127.0.0.1:\(plainPort)
            context beta
              consul 127.0.0.1:\(securedPort)
              consul_token_file \(scratch)/token
              production
              read_only
            context tokenless
              consul 127.0.0.1:\(securedPort)
            """.write(toFile: "\(scratch)/config", atomically: true, encoding: .utf8)

        // The environment points elsewhere and has a token: a context uses neither.
        let tmux = try Tmux(width: 200, height: 30, command: "\(ConsoleInTmuxTests.opsdeck) --config \(scratch)/config --context tokenless",
                            environment: ["CONSUL_HTTP_ADDR": "127.0.0.1:1", "CONSUL_HTTP_TOKEN": token])
        // As Consul does for the anonymous token: the catalog and the checks come back filtered, and the
        // status bar says so (once for both), with what to fix.
        try await tmux.waitFor("the filtering in the status bar, once for every Consul feed") {
            $0.contains("▲ services, checks: Consul's ACLs hid entries from this token: no token was sent (set consul_token_file in context tokenless)")
        }
        try tmux.sendText(":context alpha")
        try tmux.send("Enter")
        let alpha = try await tmux.waitFor("alpha's service, alpha in the header") {
            $0.contains("alpha-svc") && $0.split(separator: "\n")[0].contains(" alpha  consul 127.0.0.1:\(plainPort)")
        }
        #expect(!alpha.contains("beta-svc") && !alpha.contains("production") && !alpha.contains("refused"))
        // What alpha does not name is off, said once; never the local stack's logs or charts under alpha's name.
        try await tmux.waitFor("the logs alpha has no address for, off") { $0.contains("○ logs: context alpha sets no kafka_brokers") }
        // alpha-svc runs no search-server, so no chart is drawn and nothing asks for Graphite until one is.
        let noCharts = try await tmux.waitFor("alpha-svc's metrics pane without charts") { $0.contains("alpha-svc has no dashboard") }
        #expect(!noCharts.contains("○ graphite"))
        try tmux.sendText(":metric alpha.calls")
        try tmux.send("Enter")
        try await tmux.waitFor("the charts alpha has no address for, off") {
            $0.contains("○ graphite: context alpha sets no graphite") && $0.contains("○ logs: context alpha sets no kafka_brokers")
        }
        let tail = try await Stack.run(ConsoleInTmuxTests.opsdeck, ["tail", "alpha-svc", "--config", "\(scratch)/config", "--context", "alpha"])
        #expect(tail.status == 64 && tail.output.contains("context alpha sets no kafka_brokers: add it, or give --brokers"), "\(tail.output)")

        try tmux.sendText(":ctx beta")
        try tmux.send("Enter")
        let beta = try await tmux.waitFor("beta's service, marked production and read-only") {
            $0.contains("beta-svc") && $0.split(separator: "\n")[0].contains(" beta · production  read-only  consul 127.0.0.1:\(securedPort)")
        }
        #expect(!beta.contains("alpha-svc"))
        // Its KV: readable, not writable.
        try tmux.send("K")
        try await tmux.waitFor("the config pane on beta-svc") { $0.contains("config · beta-svc/") }
        try tmux.send("n")
        try await tmux.waitFor("the edit refused") {
            $0.contains("read-only (context beta is read-only): KV edits are refused")
        }
        #expect(!beta.contains(token))
        try tmux.send("q")
        try await tmux.waitFor("the console quit") { $0.contains("EXITED 0") }
        // The token sent by the environment went nowhere: the context without a token sent none.
        let stray = try await Stack.run(ConsoleInTmuxTests.opsdeck, ["services", "--config", "\(scratch)/config", "--context", "tokenless"],
                                        environment: ["CONSUL_HTTP_TOKEN": token])
        #expect(stray.status == 0 && stray.output.contains("Consul's ACLs hid services from this token; no token was sent (set consul_token_file in context tokenless)"),
                "\(stray.output)")
        #expect(!stray.output.contains(token) && !stray.output.contains("beta-svc"))
        // A KV read is refused outright, and said so.
        let kv = try await Stack.run(ConsoleInTmuxTests.opsdeck, ["kv", "get", "beta-svc/x", "--config", "\(scratch)/config", "--context", "tokenless"])
        #expect(kv.status == 2 && kv.output.contains("Consul refused the token for KV key beta-svc/x: Permission denied"), "\(kv.output)")
    }
}
