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
}
