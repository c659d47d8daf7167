import Foundation
import StackSupport
import Testing

/// gRPC over TLS end to end, with a throw-away CA: search-server serving TLS, devconsul's gRPC check over
/// TLS trusting the CA (Consul's ca_file), and opsdeck's Monitor calls and searches over TLS, from flags
/// and from a context in the console.
@Suite(.timeLimit(.minutes(3))) struct TLSEndToEndTests {
    static let devconsul = Stack.repositoryRoot.appendingPathComponent(".build/debug/devconsul").path

    func opsdeck(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Stack.run(ConsoleInTmuxTests.opsdeck, arguments)
    }

    @Test func instancesServingTLSAreCheckedPolledAndSearched() async throws {
        try await Stack.ensureUp()  // PostgreSQL for the server
        let certificates = try await offPool { try TestCertificates() }
        defer { certificates.remove() }
        let consulPort = try freePort()
        let agent = try ChildProcess(Self.devconsul, ["--http-port", "\(consulPort)", "--dns-port", "0", "--ca-file", certificates.caFile])
        defer { agent.signal(SIGTERM) }
        try await agent.waitUntil("devconsul's banner") { out, _ in out.contains("devconsul: development agent") }
        let consul = "127.0.0.1:\(consulPort)"
        let service = "tls-\(UInt32.random(in: 0...UInt32.max))"
        let server = try ChildProcess(ConsoleInTmuxTests.searchServer,
                                      ["serve", "--service-name", service, "--instance-id", "\(service)-1", "--statsd-address", "",
                                       "--check-interval-s", "1", "--tls-cert-file", certificates.serverCertificate,
                                       "--tls-key-file", certificates.serverKey],
                                      environment: ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGDATABASE": "opsdeck",
                                                    "PGUSER": "postgres", "CONSUL_HTTP_ADDR": consul])
        defer { server.signal(SIGTERM) }

        // devconsul's check reaches it over TLS (registered with GRPCUseTLS) and trusts the CA: passing.
        var health = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            health = try await Stack.run("/usr/bin/curl", ["-fsS", "http://\(consul)/v1/health/service/\(service)?passing"]).output
            if health.contains("gRPC check") && health.contains(": success") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try #require(health.contains(": success"), "the TLS check never passed: \(health)\nserver:\n\(server.stdout.suffix(2_000))")
        let port = try #require(try JSONSerialization.jsonObject(with: Data(health.utf8)) as? [[String: Any]])
            .first.flatMap { ($0["Service"] as? [String: Any])?["Port"] as? Int }
        let address = "127.0.0.1:\(try #require(port))"

        // An agent that does not know the CA fails the same check, unless the check skips verification.
        let strangerPort = try freePort()
        let stranger = try ChildProcess(Self.devconsul, ["--http-port", "\(strangerPort)", "--dns-port", "0"])
        defer { stranger.signal(SIGTERM) }
        try await stranger.waitUntil("the second agent's banner") { out, _ in out.contains("devconsul: development agent") }
        for (name, skip) in [("strict", false), ("lenient", true)] {
            let body = #"{"Name":"\#(name)","Port":\#(port!),"Check":{"GRPC":"\#(address)/Search","GRPCUseTLS":true,"TLSSkipVerify":\#(skip),"Interval":"1s"}}"#
            let registered = try await Stack.run("/usr/bin/curl", ["-fsS", "-X", "PUT", "--data", body,
                                                                   "http://127.0.0.1:\(strangerPort)/v1/agent/service/register"])
            #expect(registered.status == 0, "\(registered.output)")
        }
        var checks = ""
        var states: [String: (status: String, output: String)] = [:]
        let checksDeadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < checksDeadline {
            checks = try await Stack.run("/usr/bin/curl", ["-fsS", "http://127.0.0.1:\(strangerPort)/v1/health/state/any"]).output
            states = (try JSONSerialization.jsonObject(with: Data(checks.utf8)) as? [[String: Any]] ?? [])
                .reduce(into: [:]) { $0[$1["ServiceName"] as? String ?? ""] = ($1["Status"] as? String ?? "", $1["Output"] as? String ?? "") }
            if states["lenient"]?.status == "passing", states["strict"]?.output.isEmpty == false { break }  // both probed
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(states["lenient"]?.status == "passing" && states["strict"]?.status == "critical", "checks: \(checks)")

        // Monitor over TLS trusting the CA; the system's store alone does not know it; plaintext gets nothing.
        let trusted = try await opsdeck(["monitor", service, "--consul", consul, "--grpc-ca", certificates.caFile])
        #expect(trusted.status == 0, "\(trusted.output)")
        let untrusted = try await opsdeck(["monitor", service, "--consul", consul, "--grpc-tls"])
        #expect(untrusted.status == 1 && untrusted.output.contains("TLS: the instance's certificate is not trusted"), "\(untrusted.output)")
        #expect(try await opsdeck(["monitor", service, "--consul", consul]).status == 1)

        // A search over TLS, with a client certificate too (the server does not ask for one).
        let search = try await opsdeck(["search", "--instance", address, "--grpc-ca", certificates.caFile,
                                        "--grpc-cert", certificates.clientCertificate, "--grpc-key", certificates.clientKey, "48.8566", "2.3522"])
        #expect(search.status == 0 && search.output.contains("France"), "\(search.output)")

        // Mutual TLS: a server that asks for a client certificate refuses a caller without one, answers one
        // with it, and an agent presenting its own certificate (as Consul's does) passes its check.
        let mutual = try ChildProcess(ConsoleInTmuxTests.searchServer,
                                      ["serve", "--service-name", "\(service)-mutual", "--instance-id", "\(service)-mutual-1",
                                       "--statsd-address", "", "--check-interval-s", "1",
                                       "--tls-cert-file", certificates.serverCertificate, "--tls-key-file", certificates.serverKey,
                                       "--tls-client-ca-file", certificates.caFile],
                                      environment: ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGDATABASE": "opsdeck",
                                                    "PGUSER": "postgres", "CONSUL_HTTP_ADDR": consul])
        defer { mutual.signal(SIGTERM) }
        let serving = try await offPool { () throws -> String in
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let line = mutual.stdout.split(separator: "\n").first(where: { $0.contains(" serving ") }),
                   let range = line.range(of: "address=") {
                    return String(line[range.upperBound...].prefix { !$0.isWhitespace })
                }
                usleep(100_000)
            }
            throw StackError(message: "the mutual-TLS server never served:\n\(mutual.stdout)")
        }
        let anonymousCaller = try await opsdeck(["search", "--instance", serving, "--grpc-ca", certificates.caFile, "48.8566", "2.3522"])
        #expect(anonymousCaller.status == 2 && !anonymousCaller.output.contains("France"), "\(anonymousCaller.output)")
        let knownCaller = try await opsdeck(["search", "--instance", serving, "--grpc-ca", certificates.caFile,
                                             "--grpc-cert", certificates.clientCertificate, "--grpc-key", certificates.clientKey, "48.8566", "2.3522"])
        #expect(knownCaller.status == 0 && knownCaller.output.contains("France"), "\(knownCaller.output)")
        let identityPort = try freePort()
        let withIdentity = try ChildProcess(Self.devconsul, ["--http-port", "\(identityPort)", "--dns-port", "0", "--ca-file", certificates.caFile,
                                                             "--tls-cert-file", certificates.serverCertificate, "--tls-key-file", certificates.serverKey])
        defer { withIdentity.signal(SIGTERM) }
        try await withIdentity.waitUntil("the HTTPS agent's banner") { out, _ in out.contains("HTTPS 127.0.0.1:\(identityPort)") }
        for (agentURL, curlTLS) in [("https://127.0.0.1:\(identityPort)", ["--cacert", certificates.caFile]), ("http://127.0.0.1:\(strangerPort)", [])] {
            let body = #"{"Name":"mutual","Port":1,"Check":{"GRPC":"\#(serving)/Search","GRPCUseTLS":true,"TLSSkipVerify":true,"Interval":"1s"}}"#
            let registered = try await Stack.run("/usr/bin/curl", ["-fsS", "-X", "PUT", "--data", body] + curlTLS + ["\(agentURL)/v1/agent/service/register"])
            #expect(registered.status == 0, "\(registered.output)")
        }
        var mutualStates: [String] = []
        let mutualDeadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < mutualDeadline {
            mutualStates = try await offPool {
                [try Stack.runBlocking("/usr/bin/curl", ["-fsS", "--cacert", certificates.caFile, "https://127.0.0.1:\(identityPort)/v1/health/checks/mutual"]).output,
                 try Stack.runBlocking("/usr/bin/curl", ["-fsS", "http://127.0.0.1:\(strangerPort)/v1/health/checks/mutual"]).output]
            }
            if mutualStates[0].contains("\"passing\""), mutualStates[1].contains("gRPC check") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(mutualStates.count == 2 && mutualStates[0].contains("\"passing\"") && mutualStates[1].contains("\"critical\""), "\(mutualStates)")

        // The console through a context: its Monitor poll goes over TLS.
        let config = certificates.directory + "/config"
        try "context tls\n  consul \(consul)\n  grpc_ca \(certificates.caFile)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tmux = try Tmux(width: 180, height: 40, command: "\(ConsoleInTmuxTests.opsdeck) --config \(config) --context tls")
        try await tmux.waitFor("the service listed") { $0.contains(service) }
        try tmux.sendText(":instances \(service)")
        try tmux.send("Enter")
        try await tmux.waitFor("the instance polled over TLS") { $0.contains("monitor 1/1") && $0.contains("\(service)-1") }
        try tmux.send("q")
        try await tmux.waitFor("the console quit") { $0.contains("EXITED 0") }
    }
}
