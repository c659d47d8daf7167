import Consul
import FuzzSupport
import Testing
@testable import DevConsul

/// Builds a catalog with services for the responder (no sockets).
func makeCatalog(_ instances: [(id: String, name: String, address: String, port: Int, tags: [String], status: HealthStatus)]) -> Catalog {
    var catalog = Catalog(node: "devhost", nodeID: "n1", address: "127.0.0.1", datacenter: "dc1")
    for instance in instances {
        var input = try! ServiceInput(LooseObject(["Name": instance.name, "ID": instance.id, "Address": instance.address,
                                                   "Port": instance.port, "Tags": instance.tags,
                                                   "Check": ["TTL": "60s", "Status": instance.status.rawValue]]))
        input.checks[0].status = instance.status
        try! catalog.register(input, replaceExistingChecks: false)
    }
    return catalog
}

func query(_ name: String, _ type: DNSType, edns: Int? = nil) -> DNSQuery {
    DNSQuery(id: 7, opcode: 0, recursionDesired: true, question: DNSQuestion(name: name, type: type.rawValue, qclass: 1), ednsUDPSize: edns)
}

@Suite(.timeLimit(.minutes(3))) struct DNSCodecTests {
    @Test func parsesAQueryWithEDNS() throws {
        // id 0x1234, RD, 1 question, 1 additional (OPT 4096): web.service.consul A IN
        var bytes: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
        bytes.appendName("Web.Service.Consul")
        bytes += [0, 1, 0, 1]
        bytes += [0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]
        let query = try DNSQuery.parse(bytes)
        #expect(query.id == 0x1234 && query.recursionDesired)
        #expect(query.question == DNSQuestion(name: "web.service.consul", type: 1, qclass: 1))
        #expect(query.ednsUDPSize == 4096)
    }

    @Test func rejectsTruncatedAndLoopingMessages() {
        #expect(throws: DNSParseError.self) { try DNSQuery.parse([0x12, 0x34, 0x01]) }
        // A name that points at itself must not loop forever.
        let loop: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]
        #expect(throws: DNSParseError.self) { try DNSQuery.parse(loop) }
    }

    @Test func encodesAResponseHeaderAsConsulDoes() {
        let response = DNSResponse(id: 7, recursionDesired: true, code: .nameError,
                                   question: DNSQuestion(name: "x.consul", type: 1, qclass: 1))
        let bytes = response.encode()
        #expect(Array(bytes[0..<2]) == [0, 7])
        #expect(bytes[2] & 0x80 != 0)       // QR
        #expect(bytes[2] & 0x04 != 0)       // AA
        #expect(bytes[2] & 0x02 == 0)       // TC never set
        #expect(bytes[2] & 0x01 != 0)       // RD echoed
        #expect(bytes[3] & 0x80 == 0)       // RA clear: no recursors
        #expect(bytes[3] & 0x0f == 3)       // NXDOMAIN
    }
}

@Suite(.timeLimit(.minutes(3))) struct DNSResponderTests {
    let responder = DNSResponder(serial: { 1_700_000_000 })

    @Test func answersOnlyHealthyInstances() {
        let catalog = makeCatalog([("w1", "web", "10.0.0.1", 80, [], .passing), ("w2", "web", "10.0.0.2", 80, [], .warning),
                                   ("w3", "web", "10.0.0.3", 80, [], .critical)])
        let response = responder.respond(to: query("web.service.consul", .a), catalog: catalog, transport: .tcp)
        #expect(Set(response.answers.map(\.data)) == [.a([10, 0, 0, 1]), .a([10, 0, 0, 2])])
        var strict = responder
        strict.onlyPassing = true
        #expect(strict.respond(to: query("web.service.consul", .a), catalog: catalog, transport: .tcp).answers.map(\.data) == [.a([10, 0, 0, 1])])
    }

    @Test func srvUsesAddrTargetsWithGlue() {
        let catalog = makeCatalog([("w1", "web", "10.0.0.12", 8080, ["v1"], .passing)])
        let response = responder.respond(to: query("_web._v1.service.consul", .srv), catalog: catalog, transport: .udp)
        #expect(response.answers.map(\.data) == [.srv(priority: 1, weight: 1, port: 8080, target: "0a00000c.addr.dc1.consul")])
        #expect(response.additional.map(\.data) == [.a([10, 0, 0, 12])])
    }

    @Test func aServiceWithoutAddressPointsAtTheNode() {
        let catalog = makeCatalog([("w1", "web", "", 8080, [], .passing)])
        let response = responder.respond(to: query("web.service.dc1.consul", .srv), catalog: catalog, transport: .udp)
        #expect(response.answers.map(\.data) == [.srv(priority: 1, weight: 1, port: 8080, target: "devhost.node.dc1.consul")])
        #expect(response.additional.map(\.data) == [.a([127, 0, 0, 1])])
    }

    @Test func unknownNamesGetNXDOMAINAndTheSOA() {
        let catalog = makeCatalog([])
        for name in ["nosuch.service.consul", "web.service.dc9.consul", "bogus.consul"] {
            let response = responder.respond(to: query(name, .a), catalog: catalog, transport: .udp)
            #expect(response.code == .nameError, "\(name)")
            #expect(response.authority.map(\.data) == [.soa(mname: "ns.consul", rname: "hostmaster.consul", serial: 1_700_000_000,
                                                            refresh: 3600, retry: 600, expire: 86400, minimum: 0)])
        }
        #expect(responder.respond(to: query("example.com", .a), catalog: catalog, transport: .udp).code == .refused)
    }

    @Test func udpWithoutEDNSKeepsThreeAnswersAndNeverSetsTC() {
        let catalog = makeCatalog((1...10).map { ("w\($0)", "web", "10.0.1.\($0)", 80, [], .passing) })
        let udp = responder.respond(to: query("web.service.consul", .a), catalog: catalog, transport: .udp)
        #expect(udp.answers.count == 3)
        #expect(udp.encode()[2] & 0x02 == 0)
        #expect(responder.respond(to: query("web.service.consul", .a, edns: 4096), catalog: catalog, transport: .udp).answers.count == 10)
        #expect(responder.respond(to: query("web.service.consul", .a), catalog: catalog, transport: .tcp).answers.count == 10)
    }

    @Test func nodeAndConsulServiceLookups() {
        let catalog = makeCatalog([])
        #expect(responder.respond(to: query("devhost.node.consul", .a), catalog: catalog, transport: .udp).answers.map(\.data) == [.a([127, 0, 0, 1])])
        let consul = responder.respond(to: query("consul.service.consul", .srv), catalog: catalog, transport: .udp)
        #expect(consul.answers.map(\.data) == [.srv(priority: 1, weight: 1, port: 8300, target: "devhost.node.dc1.consul")])
    }
}

/// Damaged, truncated, oversized and self-referencing packets: the codec ends every parse (an answer or
/// a parse error), and whatever parses gets an answer that encodes within the UDP limit.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct DNSFuzzTests {
    @Test func damagedPacketsAlwaysEnd() async {
        let findings = await fuzzOffPool { Self.fuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func fuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        var valid: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
        valid.appendName("web.service.consul")
        valid += [0, 33, 0, 1]
        valid += [0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]
        // Compression pointers to the header, to themselves, past the end; a huge count.
        let pointers: [UInt8] = [0xC0, 0x0C, 0xC0, 0x00, 0xC0, 0xFF, 0x3F, 0xFF, 0xFF]
        let catalog = makeCatalog([("w1", "web", "10.0.0.1", 80, [], .passing)])
        let responder = DNSResponder(serial: { 1 })
        var parsed = 0
        let count = SeededGenerator.iterations(200_000)
        for i in 0..<count {
            let packet = i % 10 == 0 ? random.bytes(Int.random(in: 0...600, using: &random)) : random.mutate(valid, extra: pointers)
            guard let query = try? DNSQuery.parse(packet) else { continue }
            parsed += 1
            let bytes = responder.respond(to: query, catalog: catalog, transport: .udp).encode()
            findings.check(bytes.count >= 12 && bytes.count <= max(512, query.ednsUDPSize ?? 512) && Array(bytes[0..<2]) == Array(packet[0..<2]),
                           "\(packet)")
        }
        print("DNS fuzz: \(count) packets (seed \(random.seed)), \(parsed) parsed and answered")
        return findings
    }
}
