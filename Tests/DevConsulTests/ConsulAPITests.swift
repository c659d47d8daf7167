import Consul
import Foundation
import FuzzSupport
import StackSupport
import Testing
@testable import DevConsul

/// The HTTP API driven with in-memory requests: CONSUL_REFERENCE.md §11's checklist, without sockets.
@Suite(.timeLimit(.minutes(3))) struct ConsulAPITests {
    let api = ConsulAPI(state: AgentState(catalog: Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")))

    func call(_ method: String, _ target: String, _ body: String = "") async -> APIResponse {
        await api.handle(APIRequest(method: method, target: target, body: Array(body.utf8)))
    }

    func json(_ response: APIResponse) -> Any { try! JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) }

    @Test func plumbingErrorsUseConsulsTexts() async {
        let get = await call("GET", "/v1/agent/service/register")
        #expect(get.status == 405 && get.text == "method GET not allowed" && get.header("Allow") == "OPTIONS,PUT")
        let options = await call("OPTIONS", "/v1/kv/x")
        #expect(options.status == 200 && options.header("Allow") == "OPTIONS,GET,PUT,DELETE")
        #expect(await call("GET", "/v1/foo").text == "Invalid URL path: not a recognized HTTP API endpoint\n")
        #expect(await call("GET", "/foo").status == 404)
        #expect(await call("GET", "/v1/catalog/services?index=abc").text == "Invalid index")
        #expect(await call("GET", "/v1/catalog/services?index=1&wait=xyz").text == "Invalid wait time")
        #expect(await call("GET", "/v1/catalog/services?stale&consistent").text == "Cannot specify ?stale with ?consistent, conflicting semantics.")
        let dc = await call("GET", "/v1/kv/x?dc=nope")
        #expect(dc.status == 500 && dc.text == "No path to datacenter" && dc.header("X-Consul-Index") == "1")
        #expect(await call("GET", "/v1/acl/tokens").status == 401)
        // ACLs are off (the -dev default): a token is accepted and changes nothing.
        let withToken = await api.handle(APIRequest(method: "GET", target: "/v1/catalog/services",
                                                    headers: [("X-Consul-Token", "s3cr3t")]))
        #expect(withToken.status == 200 && withToken.text == #"{"consul":[]}"# + "\n")
    }

    /// With a management token, ACLs are on and deny by default: Consul's 403 texts, the token taken
    /// from where Consul takes it, Raft status open, and `token/self` for checking a token.
    @Test func aclsOnRefuseAnonymousAndUnknownTokensWithConsulsTexts() async {
        let secured = ConsulAPI(state: AgentState(catalog: Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")),
                                acl: ACLRules(managementToken: "m4n4g3"))
        func call(_ method: String, _ target: String, _ headers: [(String, String)] = [], _ body: String = "") async -> APIResponse {
            await secured.handle(APIRequest(method: method, target: target, headers: headers, body: Array(body.utf8)))
        }
        let anonymous = await call("GET", "/v1/kv/search-service/log_level")
        #expect(anonymous.status == 403)
        #expect(anonymous.text == #"Permission denied: anonymous token lacks permission 'key:read' on "search-service/log_level". The anonymous token is used implicitly when a request does not specify a token."#)
        let register = await call("PUT", "/v1/agent/service/register", [], #"{"Name":"web","Port":1}"#)
        #expect(register.status == 403 && register.text.contains("lacks permission 'service:write' on \"web\""))
        // The anonymous token's catalog and health reads are filtered, as Consul filters them: an answer
        // with nothing it may not read, and the header saying entries were left out.
        let catalog = await call("GET", "/v1/catalog/services")
        #expect(catalog.status == 200 && catalog.text == "{}" && catalog.header("X-Consul-Results-Filtered-By-ACLs") == "true")
        #expect(await call("GET", "/v1/health/service/web").text == "[]")
        #expect(await call("GET", "/v1/health/service/web").header("X-Consul-Results-Filtered-By-ACLs") == nil)  // nothing to hide
        let unknown = await call("GET", "/v1/health/service/web", [("X-Consul-Token", "m4n4g")])
        #expect(unknown.status == 403 && unknown.text == "ACL not found")
        #expect(await call("GET", "/v1/kv/x", [("X-Consul-Token", "m4n4g3x")]).text == "ACL not found")
        // The token by header, bearer or query; then the usual answers.
        #expect(await call("PUT", "/v1/kv/x", [("X-Consul-Token", "m4n4g3")], "1").text.hasPrefix("true"))
        #expect(await call("GET", "/v1/kv/x?raw", [("Authorization", "Bearer m4n4g3")]).text == "1")
        #expect(await call("GET", "/v1/kv/x?raw&token=m4n4g3").text == "1")
        #expect(await call("PUT", "/v1/agent/service/register", [("X-Consul-Token", "m4n4g3")], #"{"Name":"web","Port":1}"#).status == 200)
        let hidden = await call("GET", "/v1/health/service/web")
        #expect(hidden.text == "[]" && hidden.header("X-Consul-Results-Filtered-By-ACLs") == "true")
        let seen = await call("GET", "/v1/health/service/web", [("X-Consul-Token", "m4n4g3")])
        #expect(seen.text.contains("\"web\"") && seen.header("X-Consul-Results-Filtered-By-ACLs") == nil)
        #expect(await call("GET", "/v1/status/leader").status == 200)
        let me = await call("GET", "/v1/acl/token/self", [("X-Consul-Token", "m4n4g3")])
        #expect(me.status == 200 && me.text.contains("global-management"))
        #expect(await call("GET", "/v1/acl/token/self", [("X-Consul-Token", "nope")]).text == "ACL not found")
    }

    /// What devconsul does not implement is refused as Consul refuses it, never a silent success.
    @Test func locksAndFiltersAreRefusedNotFaked() async {
        let lone = await call("PUT", "/v1/kv/lock?acquire=", "me")
        #expect(lone.status == 500 && lone.text == "Missing session")
        let unknown = await call("PUT", "/v1/kv/lock?acquire=3f2a", "me")
        #expect(unknown.status == 500 && unknown.text == "invalid session \"3f2a\"")
        #expect(await call("PUT", "/v1/kv/lock?release=3f2a", "me").status == 500)
        #expect(await call("GET", "/v1/kv/lock").status == 404)  // nothing was written
        let filtered = await call("GET", "/v1/health/service/x?filter=Service.Port%20%3D%3D%201")
        #expect(filtered.status == 400 && filtered.text.contains("does not implement ?filter="))
    }

    @Test func registrationValidation() async {
        #expect(await call("PUT", "/v1/agent/service/register", "").text == "Request decode failed: EOF")
        #expect(await call("PUT", "/v1/agent/service/register", "{nope").text.hasPrefix("Request decode failed: "))
        #expect(await call("PUT", "/v1/agent/service/register", #"{"Port": 1}"#).text == "Missing service name")
        #expect(await call("PUT", "/v1/agent/service/register", #"{"Name":"w","Check":{"HTTP":"http://x"}}"#).text.hasPrefix("Invalid check: "))
        #expect(await call("PUT", "/v1/agent/service/register", #"{"Name":"w","Check":{"TTL":"5s","Status":"meh"}}"#).text
                == "Status for checks must 'passing', 'warning', 'critical'")
        let unknown = await call("PUT", "/v1/agent/service/deregister/ghost")
        #expect(unknown.status == 404 && unknown.text == "Unknown service ID \"ghost\". Ensure that the service ID is passed, not the service name.")
    }

    @Test func registrationNamingAndDefaults() async {
        let ok = await call("PUT", "/v1/agent/service/register",
                            #"{"name":"web","port":80,"check":{"ttl":"10s"},"checks":[{"tcp":"127.0.0.1:1","interval":"10s","deregister_critical_service_after":"90s"}]}"#)
        #expect(ok.status == 200 && ok.body.isEmpty)
        let services = json(await call("GET", "/v1/agent/services")) as! [String: [String: Any]]
        #expect(services["web"]?["Service"] as? String == "web")  // ID defaults to Name
        #expect(services["web"]?["Weights"] as? [String: Int] == ["Passing": 1, "Warning": 1])
        let one = json(await call("GET", "/v1/agent/service/web")) as! [String: Any]
        #expect(one["Port"] as? Int == 80 && one["ID"] as? String == "web")
        let missing = await call("GET", "/v1/agent/service/ghost")
        #expect(missing.status == 404 && missing.text == "unknown service ID: ghost")
        let checks = json(await call("GET", "/v1/agent/checks")) as! [String: [String: Any]]
        #expect(Set(checks.keys) == ["service:web:1", "service:web:2"])
        #expect(checks["service:web:1"]?["Status"] as? String == "critical")  // new checks start critical
        #expect(checks["service:web:1"]?["Name"] as? String == "Service 'web' check")
        #expect(checks["service:web:2"]?["Type"] as? String == "tcp")
        // replace-existing-checks drops what the new registration does not list.
        _ = await call("PUT", "/v1/agent/service/register?replace-existing-checks", #"{"Name":"web","Check":{"TTL":"10s"}}"#)
        let after = json(await call("GET", "/v1/agent/checks")) as! [String: Any]
        #expect(Set(after.keys) == ["service:web"])
    }

    @Test func ttlUpdates() async {
        _ = await call("PUT", "/v1/agent/service/register", #"{"Name":"w","Checks":[{"CheckID":"t","TTL":"30s"},{"CheckID":"tcp","TCP":"127.0.0.1:1","Interval":"30s"}]}"#)
        #expect(await call("PUT", "/v1/agent/check/pass/t?note=fine").status == 200)
        var checks = json(await call("GET", "/v1/agent/checks")) as! [String: [String: Any]]
        #expect(checks["t"]?["Status"] as? String == "passing" && checks["t"]?["Output"] as? String == "fine")
        #expect(await call("PUT", "/v1/agent/check/update/t", #"{"Status":"warning","Output":"slow"}"#).status == 200)
        checks = json(await call("GET", "/v1/agent/checks")) as! [String: [String: Any]]
        #expect(checks["t"]?["Status"] as? String == "warning")
        #expect(await call("PUT", "/v1/agent/check/update/t", #"{"Status":"great"}"#).text == "Invalid check status: 'great'")
        let notTTL = await call("PUT", "/v1/agent/check/pass/tcp")
        #expect(notTTL.status == 500 && notTTL.text == "CheckID \"tcp\" does not have associated TTL")
        #expect(await call("PUT", "/v1/agent/check/fail/nope").status == 404)
    }

    @Test func healthFiltersAndShapes() async {
        _ = await call("PUT", "/v1/agent/service/register", #"{"Name":"web","ID":"a","Tags":["x","y"],"Check":{"TTL":"30s","Status":"passing"}}"#)
        _ = await call("PUT", "/v1/agent/service/register", #"{"Name":"web","ID":"b","Tags":["x"],"Check":{"TTL":"30s","Status":"warning"}}"#)
        func ids(_ target: String) async -> [String] {
            (json(await call("GET", target)) as! [[String: Any]]).map { ($0["Service"] as! [String: Any])["ID"] as! String }.sorted()
        }
        #expect(await ids("/v1/health/service/web") == ["a", "b"])
        #expect(await ids("/v1/health/service/web?passing") == ["a"])
        #expect(await ids("/v1/health/service/web?passing=true") == ["a"])
        #expect(await ids("/v1/health/service/web?passing=false") == ["a", "b"])
        #expect(await ids("/v1/health/service/web?tag=x&tag=y") == ["a"])
        #expect(await call("GET", "/v1/health/service/web?passing=nope").text == "Invalid value for ?passing")
        let entry = (json(await call("GET", "/v1/health/service/web?tag=y")) as! [[String: Any]])[0]
        let checkIDs = (entry["Checks"] as! [[String: Any]]).map { $0["CheckID"] as! String }
        #expect(checkIDs == ["serfHealth", "service:a"])
        let unknown = await call("GET", "/v1/health/service/ghost")
        #expect(unknown.text == "[]\n" && unknown.header("X-Consul-Index") != nil)
        #expect((json(await call("GET", "/v1/catalog/services")) as! [String: [String]]) == ["consul": [], "web": ["x", "y"]])
        #expect(await call("GET", "/v1/health/state/").text == "Missing check state")
        let serviceChecks = json(await call("GET", "/v1/health/checks/web")) as! [[String: Any]]
        #expect(!serviceChecks.contains { $0["CheckID"] as? String == "serfHealth" })
    }

    @Test func kvSemantics() async {
        #expect(await call("PUT", "/v1/kv/a/b", "1").text == "true\n")
        #expect(await call("PUT", "/v1/kv/a/b?cas=0", "2").text == "false\n")
        let entry = (json(await call("GET", "/v1/kv/a/b")) as! [[String: Any]])[0]
        let modify = entry["ModifyIndex"] as! Int
        #expect(entry["Value"] as? String == "MQ==" && entry["LockIndex"] as? Int == 0)
        #expect(await call("PUT", "/v1/kv/a/b?cas=\(modify)", "2").text == "true\n")
        _ = await call("PUT", "/v1/kv/a/empty")
        #expect((json(await call("GET", "/v1/kv/a/empty")) as! [[String: Any]])[0]["Value"] is NSNull)
        #expect(await call("GET", "/v1/kv/a/b?raw").text == "2")
        #expect((json(await call("GET", "/v1/kv/a?keys&separator=/")) as! [String]) == ["a/"])
        #expect((json(await call("GET", "/v1/kv/a/?keys")) as! [String]) == ["a/b", "a/empty"])
        let missing = await call("GET", "/v1/kv/zzz")
        #expect(missing.status == 404 && missing.body.isEmpty && missing.header("X-Consul-Index") != nil)
        #expect(await call("PUT", "/v1/kv/").text == "Missing key name")
        #expect(await call("PUT", "/v1/kv/x?flags=abc").text == "strconv.ParseUint: parsing \"abc\": invalid syntax")
        #expect(await call("PUT", "/v1/kv/x?cas=1&acquire=s").text.hasPrefix("Conflicting flags: "))
        #expect(await call("DELETE", "/v1/kv/a/b?cas=0").text == "false\n")
        #expect(await call("DELETE", "/v1/kv/a?recurse").text == "true\n")
        #expect(await call("GET", "/v1/kv/a?recurse").status == 404)
    }

    @Test func blockingReadsWaitForChangesOrTheirWait() async throws {
        _ = await call("PUT", "/v1/kv/k", "v1")
        let first = await call("GET", "/v1/kv/k")
        let index = first.header("X-Consul-Index")!
        // Idle: returns after the wait (plus at most 1/16) with the same index.
        let clock = ContinuousClock()
        var idle: APIResponse?
        let elapsed = await clock.measure { idle = await call("GET", "/v1/kv/k?index=\(index)&wait=300ms") }
        #expect(idle?.header("X-Consul-Index") == index)
        // It blocked, and for the wait asked for, not the server's 5-minute default (the bound leaves room
        // for a machine busy starting every suite at once: seen 5+ s).
        #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(60))
        // A write wakes it at once with a larger index.
        async let woken = call("GET", "/v1/kv/k?index=\(index)&wait=10s")
        try await Task.sleep(for: .milliseconds(100))
        _ = await call("PUT", "/v1/kv/k", "v2")
        let answer = await woken
        #expect(UInt64(answer.header("X-Consul-Index")!)! > UInt64(index)!)
        // An older index answers at once; so does index 0.
        let older = await clock.measure { _ = await call("GET", "/v1/kv/k?index=1&wait=10s") }
        #expect(older < .seconds(9))  // at once, not after the 10 s wait
        #expect(api.state.waitingQueries == 0)
    }

    @Test func waitsDefaultToFiveMinutesAndAreCappedAtTen() throws {
        let none = try api.blockingParameters(APIRequest(method: "GET", target: "/v1/kv/x?index=5"))
        #expect(none.index == 5 && none.wait == .seconds(300))
        let long = try api.blockingParameters(APIRequest(method: "GET", target: "/v1/kv/x?index=5&wait=20m"))
        #expect(long.wait == .seconds(600))
        let go = try api.blockingParameters(APIRequest(method: "GET", target: "/v1/kv/x?index=5&wait=1m30s"))
        #expect(go.wait == .seconds(90))
    }

    @Test func aWriteThatChangesNothingWakesNobody() async throws {
        _ = await call("PUT", "/v1/kv/quiet", "1")
        let index = await call("GET", "/v1/kv/quiet").header("X-Consul-Index")!
        async let waited = call("GET", "/v1/kv/quiet?index=\(index)&wait=500ms")
        for _ in 0..<100 where api.state.waitingQueries == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(api.state.waitingQueries == 1)
        let before = api.state.wakeups
        api.state.write { _ in }  // what a probe with an unchanged result amounts to
        #expect(api.state.wakeups == before)
        _ = await call("PUT", "/v1/kv/quiet", "2")  // a real change does wake it
        #expect(api.state.wakeups == before + 1)
        _ = await waited
    }

    @Test func unrelatedWritesDoNotEndAWait() async {
        _ = await call("PUT", "/v1/kv/watched", "1")
        let index = await call("GET", "/v1/kv/watched").header("X-Consul-Index")!
        async let waited = call("GET", "/v1/kv/watched?index=\(index)&wait=400ms")
        try? await Task.sleep(for: .milliseconds(50))
        _ = await call("PUT", "/v1/kv/elsewhere", "x")
        #expect(await waited.header("X-Consul-Index") == index)
    }
}

/// Deleted keys leave tombstones (a prefix's index must not go back when its newest key goes); they are
/// bounded as Consul's are reaped, without an index ever going backwards.
@Suite(.timeLimit(.minutes(1))) struct TombstoneTests {
    @Test func tombstonesAreBoundedAndIndexesNeverGoBack() async throws {
        // Ten thousand writes and deletes: off the cooperative pool.
        let catalog = try await offPool { () -> (Catalog, backwards: [String]) in
            var catalog = Catalog(node: "n", nodeID: "id", address: "127.0.0.1", datacenter: "dc1")
            var previous: UInt64 = 0, backwards: [String] = []
            for i in 0..<(Catalog.tombstoneLimit + 10) {
                let index = catalog.touchKV()
                catalog.kv["app/k\(i)"] = Catalog.Entry(key: "app/k\(i)", value: [], flags: 0, createIndex: index, modifyIndex: index)
                catalog.deleteKV(["app/k\(i)"], at: catalog.touchKV())
                guard i % 500 == 0 || i >= Catalog.tombstoneLimit - 2 else { continue }  // each read scans them all
                let now = catalog.kvIndex(for: "app/", recurse: true)
                if now < previous { backwards.append("after \(i) deletes: \(previous) -> \(now)") }
                previous = now
            }
            return (catalog, backwards)
        }
        #expect(catalog.backwards.isEmpty)
        #expect(catalog.0.tombstones.count <= Catalog.tombstoneLimit)
        #expect(catalog.0.kvIndex(for: "app/", recurse: true) == catalog.0.kvIndex)  // the newest delete's index
        // A prefix whose tombstones were all reaped still answers an index no lower than before.
        #expect(catalog.0.kvIndex(for: "app/k1", recurse: true) >= catalog.0.reapedIndex)
        #expect(catalog.0.kvIndex(for: "other/", recurse: true) == catalog.0.kvIndex)
    }
}

/// Whatever arrives over HTTP (methods, paths, queries and bodies, damaged), the API answers with an
/// HTTP status and its state stays readable: no trap, no hang (blocking waits are cut to milliseconds).
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct HTTPFuzzTests {
    @Test func damagedRequestsAreAnsweredAndTheStateStaysWhole() async throws {
        var api = ConsulAPI(state: AgentState(catalog: Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")))
        api.defaultWait = .milliseconds(2)
        api.maxWait = .milliseconds(5)
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let methods = ["GET", "PUT", "DELETE", "POST", "OPTIONS", "", "BREW", "get"]
        let paths = ["/v1/kv/", "/v1/kv/a/b", "/v1/kv/%ff%00", "/v1/catalog/services", "/v1/catalog/service/web",
                     "/v1/health/service/web", "/v1/health/state/any", "/v1/health/state/nope", "/v1/health/checks/web",
                     "/v1/agent/services", "/v1/agent/service/register", "/v1/agent/service/deregister/web-1",
                     "/v1/agent/check/update/service:web-1", "/v1/agent/check/pass/x", "/v1/status/leader", "/v1/acl/tokens",
                     "/", "/v1/", "/v1/kv", "/v1/agent/service/maintenance/web-1", "/v1/catalog/nodes"]
        let queries = ["index=", "index=0", "index=18446744073709551615", "index=-1", "index=abc", "wait=", "wait=1ms", "wait=10m",
                       "wait=99999999999h", "wait=-1s", "recurse", "keys", "separator=/", "separator=", "cas=0", "cas=x", "cas=99",
                       "flags=18446744073709551616", "acquire=", "release=s", "filter=Service==web", "dc=dc1", "dc=x", "stale",
                       "consistent", "passing", "tag=grpc", "raw", "replace-existing-checks", "%zz", "=", "&&"]
        let register = Array(#"{"ID":"web-1","Name":"web","Tags":["grpc"],"Address":"127.0.0.1","Port":40001,"Meta":{"v":"1"}}"#.utf8)
        let update = Array(#"{"Status":"passing","Output":"ok"}"#.utf8)
        // The API is async, so this loop runs on the cooperative pool: kept short here (2,000 requests,
        // yielding often) so other suites' timers keep their turn; `scripts/fuzz` runs it longer.
        let count = SeededGenerator.iterations(2_000)
        for i in 0..<count {
            var target = paths.randomElement(using: &random)!
            if Int.random(in: 0..<4, using: &random) == 0 { target += String(decoding: random.bytes(Int.random(in: 0...12, using: &random)), as: UTF8.self) }
            let query = (0..<Int.random(in: 0...4, using: &random)).map { _ in queries.randomElement(using: &random)! }
            if !query.isEmpty { target += "?" + query.joined(separator: "&") }
            let seed = [register, update, Array("value".utf8), []].randomElement(using: &random)!
            let body = Bool.random(using: &random) ? random.mutate(seed, extra: Array(#"{"[]}:,"\"#.utf8)) : seed
            let request = APIRequest(method: methods.randomElement(using: &random)!, target: target,
                                     headers: Bool.random(using: &random) ? [("X-Consul-Token", "t")] : [], body: body)
            let started = ContinuousClock.now
            let response = await api.handle(request)
            findings.check((100..<600).contains(response.status), "status \(response.status) for \(request.method) \(target)")
            // A hang, not a slow answer: waits are cut to 5 ms, but the pool is shared with every suite.
            findings.check(ContinuousClock.now - started < .seconds(30), "\(request.method) \(target) took \(ContinuousClock.now - started)")
            if i % 8 == 0 { await Task.yield() }
        }
        print("devconsul HTTP fuzz: \(count) requests (seed \(random.seed))")
        #expect(findings.count == 0, "\(findings)")
        let services = await api.handle(APIRequest(method: "GET", target: "/v1/catalog/services"))
        #expect(services.status == 200 && (try? JSONSerialization.jsonObject(with: Data(services.body))) != nil)
        let kv = await api.handle(APIRequest(method: "GET", target: "/v1/kv/?recurse"))
        #expect([200, 404].contains(kv.status))
    }
}
