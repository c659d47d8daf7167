import Foundation
import FuzzSupport
import Testing
@testable import Consul

@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct ModelDecodingTests {
    @Test func decodesAHealthEntryAndAggregatesItsChecks() throws {
        let json = #"""
        [{"Node":{"ID":"n1","Node":"host","Address":"10.0.0.1","Datacenter":"dc1"},
          "Service":{"ID":"web-1","Service":"web","Tags":null,"Address":"","Port":8080,"Meta":null},
          "Checks":[{"CheckID":"serfHealth","Status":"passing"},{"CheckID":"service:web-1","Status":"warning","Output":"slow"}]}]
        """#
        let entries = try JSONDecoder().decode([ServiceEntry].self, from: Data(json.utf8))
        #expect(entries.count == 1)
        #expect(entries[0].service.tags == [])
        #expect(entries[0].address == "10.0.0.1")  // empty service address: the node's
        #expect(entries[0].aggregateStatus == .warning)
        #expect(entries[0].checks[1].output == "slow")
    }

    @Test func unknownStatusesCountAsCritical() throws {
        let check = try JSONDecoder().decode(HealthCheck.self, from: Data(#"{"CheckID":"x","Status":"maintenance"}"#.utf8))
        #expect(check.status == .critical)
        #expect(HealthStatus.aggregate([.passing, .critical, .warning]) == .critical)
        #expect(HealthStatus.aggregate([]) == .passing)
    }

    /// The services pane reads every check through `HealthCheck.list(fromJSON:)`: what it gives is what
    /// `JSONDecoder` gives, escapes and unknown fields included.
    @Test func checksPulledFromTheBytesAreWhatJSONDecoderGives() throws {
        let json = #"""
        [{"Node":"n1","CheckID":"service:web-1","Name":"Service 'web' check","Status":"critical","Notes":"",
          "Output":"HTTP GET http://10.0.0.1/: 500 \u00e9 \ud83d\ude00 \"quoted\"\n\t\/","ServiceID":"web-1","ServiceName":"web",
          "ServiceTags":["a","b"],"Type":"http","Interfaces":null,"ExposedPort":0,
          "Definition":{"Interval":"10s","Nested":[[{}],true,false,null,-0.5E+2,1e3,0]},"CreateIndex":12,"ModifyIndex":13},
         {"CheckID":"serfHealth","Status":"maintenance","ServiceTags":null,"Node":null} ]
        """#
        let pulled = try HealthCheck.list(fromJSON: Array(json.utf8))
        #expect(pulled == (try JSONDecoder().decode([HealthCheck].self, from: Data(json.utf8))))
        #expect(pulled[0].output == "HTTP GET http://10.0.0.1/: 500 é 😀 \"quoted\"\n\t/")
        #expect(pulled[0].serviceTags == ["a", "b"] && pulled[0].status == .critical && pulled[0].serviceName == "web")
        #expect(pulled[1].status == .critical && pulled[1].serviceTags == [] && pulled[1].node == "")
        #expect(try HealthCheck.list(fromJSON: Array(" [ ] ".utf8)) == [])
        #expect(try HealthCheck.list(fromJSON: [0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == [])  // a byte order mark
    }

    /// What `JSONDecoder` refuses, the pulled decoder refuses too (each case is one way an answer is damaged).
    @Test(arguments: [
        #"[{"CheckID":"a","Status":"passing"}] x"#, #"[{"Status":"passing"}]"#, #"[{"CheckID":"a"}]"#,
        #"[{"CheckID":null,"Status":"passing"}]"#, #"[{"CheckID":"a","Status":3}]"#, #"[{"CheckID":"a","Status":"passing","ServiceTags":[null]}]"#,
        #"[{"CheckID":"\ud800","Status":"passing"}]"#, #"[{"CheckID":"\udc00x","Status":"passing"}]"#, #"[{"CheckID":"a\x","Status":"passing"}]"#,
        "[{\"CheckID\":\"a\tb\",\"Status\":\"passing\"}]", #"[{"CheckID":"a","Status":"passing","X":nul}]"#,
        #"{"CheckID":"a","Status":"passing"}"#, "", "null", #"[{"CheckID":"a","Status":"passing"}"#,
        "[{\"CheckID\":\"a\",\"Status\":\"passing\",\"X\u{1}\":1}]", #"[{"CheckID":"a","Status":"passing",,}]"#,
        #"[{"CheckID":"a","Status":"passing","X":"#+String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}]",
    ]) func damagedChecksAreRefusedAsJSONDecoderRefusesThem(_ json: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode([HealthCheck].self, from: Data(json.utf8)) }
        #expect(throws: JSONPull.Failure.self) { try HealthCheck.list(fromJSON: Array(json.utf8)) }
    }

    /// Text that is not JSON, which `JSONDecoder` lets by where it is in a value it does not decode, the
    /// pulled decoder refuses: a damaged answer is not half-read. (A trailing comma both let by, as
    /// Foundation's `JSONSerialization` does.)
    @Test(arguments: [
        #"[{"CheckID":"a","Status":"passing","X":01}]"#, #"[{"CheckID":"a","Status":"passing","X":-}]"#,
        #"[{"CheckID":"a","Status":"passing","X":1.}]"#, #"[{"CheckID":"a","Status":"passing","X":1e}]"#,
        #"[{"CheckID":"a","Status":"passing","X":"\ud800"}]"#, "[{\"CheckID\":\"a\",\"Status\":\"passing\",\"X\":\"\u{1}\"}]",
    ]) func textThatIsNotJSONIsRefusedWhereverItIs(_ json: String) throws {
        #expect(try JSONDecoder().decode([HealthCheck].self, from: Data(json.utf8)).count == 1)
        #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: Data(json.utf8)) }
        #expect(throws: JSONPull.Failure.self) { try HealthCheck.list(fromJSON: Array(json.utf8)) }
    }

    @Test func aRepeatedKeyAndATrailingCommaAreTakenAsJSONDecoderTakesThem() throws {
        let json = #"[{"CheckID":"a","Status":"passing","Status":"critical","Name":"x","Name":7}]"#
        let pulled = try HealthCheck.list(fromJSON: Array(json.utf8))
        #expect(pulled == (try JSONDecoder().decode([HealthCheck].self, from: Data(json.utf8))))
        #expect(pulled[0].status == .passing && pulled[0].name == "x")
        let trailing = #"[{"CheckID":"a","Status":"passing",},]"#
        #expect(try HealthCheck.list(fromJSON: Array(trailing.utf8)) == (try JSONDecoder().decode([HealthCheck].self, from: Data(trailing.utf8))))
    }

    @Test func decodesKVValuesFromBase64AndNull() throws {
        let json = #"[{"Key":"a","Value":"aGVsbG8=","Flags":3,"CreateIndex":5,"ModifyIndex":7},{"Key":"b","Value":null}]"#
        let pairs = try JSONDecoder().decode([KVPair].self, from: Data(json.utf8))
        #expect(pairs[0].text == "hello")
        #expect(pairs[0].flags == 3 && pairs[0].modifyIndex == 7)
        #expect(pairs[1].value == [])
    }

    @Test func encodesARegistrationAsConsulExpects() throws {
        let registration = ServiceRegistration(id: "search-1", name: "search-service", tags: ["v2"], address: "127.0.0.1",
                                               port: 50051, checks: [
            CheckDefinition(probe: .grpc("127.0.0.1:50051", useTLS: false), interval: .seconds(10),
                            deregisterCriticalServiceAfter: .seconds(60)),
            CheckDefinition(id: "search-1-ttl", probe: .ttl(.seconds(15)), initialStatus: .passing),
        ])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(registration)) as! [String: Any]
        #expect(object["ID"] as? String == "search-1")
        #expect(object["Name"] as? String == "search-service")
        let checks = object["Checks"] as! [[String: Any]]
        #expect(checks[0]["GRPC"] as? String == "127.0.0.1:50051")
        #expect(checks[0]["Interval"] as? String == "10s")
        #expect(checks[0]["DeregisterCriticalServiceAfter"] as? String == "60s")
        #expect(checks[1]["TTL"] as? String == "15s")
        #expect(checks[1]["Interval"] == nil)
        #expect(checks[1]["Status"] as? String == "passing")
    }

    @Test func decodesConsulsAddrTargets() {
        #expect(ConsulDNS.decodeAddrTarget("7f000001.addr.dc1.consul.") == "127.0.0.1")
        #expect(ConsulDNS.decodeAddrTarget("c000020a.addr.dc1.consul") == "192.0.2.10")
        #expect(ConsulDNS.decodeAddrTarget("host.node.dc1.consul.") == nil)
    }
}

/// Damaged answers from an agent (or anything listening on its port) are refused as errors, never a trap.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct ModelDecodingFuzzTests {
    @Test func damagedJSONNeverTraps() async {
        let decoded = await fuzzOffPool { Self.fuzz() }
        #expect(decoded >= 0)  // what the loop proves is that it ends without a trap
    }

    static func fuzz() -> Int {
        var random = SeededGenerator()
        let health = Array(#"""
        [{"Node":{"ID":"n1","Node":"host","Address":"10.0.0.1","Datacenter":"dc1"},
          "Service":{"ID":"web-1","Service":"web","Tags":["a"],"Address":"","Port":8080,"Meta":{"k":"v"}},
          "Checks":[{"CheckID":"serfHealth","Status":"passing"},{"CheckID":"service:web-1","Status":"warning","Output":"slow"}]}]
        """#.utf8)
        let kv = Array(#"[{"Key":"a/b","Value":"aGVsbG8=","Flags":0,"CreateIndex":1,"ModifyIndex":2,"LockIndex":0}]"#.utf8)
        let tokens = Array(#"{}[]:,"\-0.e+1E9 nulltruefalse\u0000\ud800"#.utf8)
        var decoded = 0
        let count = SeededGenerator.iterations(30_000)
        for i in 0..<count {
            let damaged = random.mutate(i % 2 == 0 ? health : kv, extra: [tokens.randomElement(using: &random)!])
            if (try? JSONDecoder().decode([ServiceEntry].self, from: Data(damaged))) != nil { decoded += 1 }
            if (try? JSONDecoder().decode([KVPair].self, from: Data(damaged))) != nil { decoded += 1 }
            _ = try? JSONDecoder().decode([HealthCheck].self, from: Data(damaged))
        }
        print("Consul JSON fuzz: \(count) damaged answers (seed \(random.seed)), \(decoded) still decoded")
        return decoded
    }

    /// Damaged `/v1/health/state/any` answers: the pulled decoder and `JSONDecoder` agree on every one, the
    /// same checks or both a refusal, except that the pulled one also refuses text that is not JSON
    /// (`JSONSerialization` is the judge of that).
    @Test func pulledChecksAgreeWithJSONDecoderOnDamagedAnswers() async {
        let (disagreements, agreedChecks, seed) = await fuzzOffPool { Self.differential() }
        #expect(disagreements.isEmpty, "seed \(seed): \(disagreements.count) disagreements, the first: \(disagreements.first ?? "")")
        #expect(agreedChecks > 0, "seed \(seed): no damaged answer still decoded, so no values were compared")
    }

    /// The disagreements (each with the input's bytes in hex, to replay it), how many answers both decoded
    /// to the same checks, and the seed.
    static func differential() -> (disagreements: [String], agreedChecks: Int, seed: UInt64) {
        var random = SeededGenerator()
        let checks = Array(#"""
        [{"Node":"n1","CheckID":"service:web-1","Name":"gRPC","Status":"passing","Notes":"","Output":"ok \u00e9\n",
          "ServiceID":"web-1","ServiceName":"web","ServiceTags":["a"],"Type":"grpc","Definition":{"Interval":"1s","T":[1.5e3,null,true]},
          "CreateIndex":12,"ModifyIndex":13},{"CheckID":"serfHealth","Status":"critical","ServiceTags":null}]
        """#.utf8)
        let tokens = [#"\ud800"#, #"\ud83d\ude00"#, #"\u212Aey"#, #""Status":"warning","#, #""CheckID":7,"#, #""Name":null,"#,
                      "01", "-0.5e+2", "1.", "nul", "true", "[]", "{}", "\"", "\\", ",", ":", "\u{7}", "é", "\u{FEFF}"].map { Array($0.utf8) }
        var disagreements: [String] = [], agreedChecks = 0
        let count = SeededGenerator.iterations(10_000)
        for _ in 0..<count {
            let damaged = random.mutate(checks, extra: tokens.randomElement(using: &random)!)
            let expected = Result { try JSONDecoder().decode([HealthCheck].self, from: Data(damaged)) }
            let pulled = Result { try HealthCheck.list(fromJSON: damaged) }
            switch (expected, pulled) {
            case (.success(let a), .success(let b)) where a == b: agreedChecks += 1
            case (.failure, .failure): continue
            case (.success, .failure) where (try? JSONSerialization.jsonObject(with: Data(damaged))) == nil: continue
            default:
                disagreements.append("JSONDecoder \(expected), pulled \(pulled) on \(String(decoding: damaged, as: UTF8.self).debugDescription)"
                                     + " (hex: \(damaged.map { String($0, radix: 16) }.joined(separator: " ")))")
            }
        }
        print("Consul check JSON differential: \(count) damaged answers (seed \(random.seed)), \(agreedChecks) decoded alike, \(disagreements.count) disagreements")
        return (disagreements, agreedChecks, random.seed)
    }
}
