import Consul
import DevConsul
import Foundation
import GRPCCore
import Kafka
import SearchAPI
import StackSupport
import SwiftProtobuf
import Testing

/// The real search-server binary against the real stack (PostgreSQL+PostGIS with the demo data, the
/// stack's Consul agent). Each test uses its own service name, so it also has its own KV prefix.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SearchServerTests {
    let consul = ConsulClient(configuration: ConsulConfiguration(address: "127.0.0.1:8500"))

    func passing(_ service: String) async throws -> [ServiceEntry] {
        try await consul.health(service: service, passingOnly: true).value
    }

    @Test func threeInstancesRegisterAndPassTheirGRPCChecks() async throws {
        try await Stack.ensureUp()
        let service = uniqueService()
        let servers = try (1...3).map { try ServerProcess(service: service, instance: $0, flags: ["--check-interval-s", "1"]) }
        let ports = try await withThrowingTaskGroup(of: Int.self) { group in
            for server in servers { group.addTask { try await server.port() } }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        let healthy = try await eventually { () -> [ServiceEntry]? in
            let entries = try await passing(service)
            return entries.count == 3 ? entries : nil
        }
        #expect(Set(healthy?.map(\.service.port) ?? []) == ports)
        #expect(Set(healthy?.map(\.service.id) ?? []) == Set(servers.map(\.instanceID)))
        #expect(healthy?.allSatisfy { $0.checks.allSatisfy { $0.status == .passing } } == true)
        for server in servers { server.signal(SIGTERM) }
        for server in servers { #expect(try await server.waitForExit() == 0) }
        #expect(try await consul.health(service: service).value.isEmpty)
    }

    @Test func searchesAndMonitorOverTheWire() async throws {
        try await Stack.ensureUp()
        let server = try ServerProcess(service: uniqueService())
        let port = try await server.port()
        try await withSearchClient(port: port) { search in
            let paris = try await search.search(.with { $0.lat = 48.8566; $0.lng = 2.3522 })
            #expect(paris.responses.contains { $0.response == "France" && $0.kind == "country" })
            #expect(paris.instanceID == server.instanceID)
            let page = try await search.search(.with { $0.query = "land"; $0.resultPerPage = 3 })
            #expect(page.responses.count == 3 && page.total > 3 && page.resultPerPage == 3 && page.pageNumber == 1)
            let report = try await search.monitor(Google_Protobuf_Empty())
            #expect(report.nThings >= 177 && report.storeStatus == "ok" && report.requests == 2 && report.errors == 0)
            #expect(report.instanceID == server.instanceID && report.latencyP99Ms > 0)
        }
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(arguments: [
        ("lat out of range", SearchRequest.with { $0.lat = 91; $0.lng = 1 }, RPCError.Code.invalidArgument),
        ("lng out of range", SearchRequest.with { $0.lat = 1; $0.lng = -181 }, .invalidArgument),
        ("NaN", SearchRequest.with { $0.lat = .nan; $0.lng = 1 }, .invalidArgument),
        ("negative page", SearchRequest.with { $0.query = "fr"; $0.pageNumber = -2 }, .invalidArgument),
        ("oversize page", SearchRequest.with { $0.query = "fr"; $0.resultPerPage = 500 }, .invalidArgument),
        ("empty", SearchRequest(), .invalidArgument),
    ])
    func eachBadInputGetsItsCodeAndTheServerKeepsServing(_ label: String, _ request: SearchRequest, _ code: RPCError.Code) async throws {
        try await Stack.ensureUp()
        let server = try ServerProcess(service: uniqueService())
        try await withSearchClient(port: try await server.port()) { search in
            await #expect(throws: RPCError.self, "\(label)") {
                do { _ = try await search.search(request) } catch let error as RPCError {
                    #expect(error.code == code, "\(label): \(error)")
                    throw error
                }
            }
            let after = try await search.search(.with { $0.query = "france" })
            #expect(after.responses.contains { $0.response == "France" })
        }
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    /// Deregistration comes first, so Consul stops sending clients within a second, while the calls
    /// already running (slowed to 1.5 s each by the drill setting) still complete.
    @Test func sigtermLeavesConsulWithinASecondAndInFlightCallsComplete() async throws {
        try await Stack.ensureUp()
        let service = uniqueService()
        let server = try ServerProcess(service: service, flags: ["--simulated-latency-ms", "1500", "--check-interval-s", "1"])
        let port = try await server.port()
        _ = try await eventually { try await passing(service).count == 1 ? true : nil }
        try await withSearchClient(port: port) { search in
            try await withThrowingTaskGroup(of: [String].self) { calls in
                for _ in 0..<4 {
                    calls.addTask { try await search.search(.with { $0.query = "france" }).responses.map(\.response) }
                }
                try await Task.sleep(for: .milliseconds(300))
                let clock = ContinuousClock()
                let signalled = clock.now
                server.signal(SIGTERM)
                let gone = try await eventually(within: .seconds(5), every: .milliseconds(20)) {
                    try await consul.health(service: service).value.isEmpty ? clock.now - signalled : nil
                }
                #expect(gone != nil && gone! < .seconds(1), "left Consul after \(String(describing: gone))")
                for try await names in calls { #expect(names.contains("France")) }
            }
        }
        #expect(try await server.waitForExit() == 0)
        let log = server.log
        let deregistered = log.range(of: "deregistered from Consul"), draining = log.range(of: "draining in-flight calls")
        #expect(deregistered != nil && draining != nil && deregistered!.lowerBound < draining!.lowerBound)
    }

    @Test func aStoppedDatabaseIsUnavailableWithinTheDeadlineAndServedAgainOnceBack() async throws {
        try await Stack.ensureUp()
        let postgres = try await offPool { try ScratchPostgres() }  // initdb and start: seconds
        let server = try ServerProcess(service: uniqueService(), flags: ["--store-timeout-ms", "500"],
                                       environment: ["PGPORT": "\(postgres.port)"])
        try await server.waitForLine(containing: "migrations applied")
        try await offPool { try postgres.sql("INSERT INTO area (source, kind, name, geom) VALUES ('test', 'country', 'Scratchland', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))") }
        try await withSearchClient(port: try await server.port()) { search in
            let before = try await search.search(.with { $0.lat = 0.5; $0.lng = 0.5 })
            #expect(before.responses.map(\.response) == ["Scratchland"])

            try await offPool { try postgres.stop() }
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: RPCError.self) {
                do { _ = try await search.search(.with { $0.query = "scratch" }) } catch let error as RPCError {
                    #expect(error.code == .unavailable && error.message.hasPrefix("store unreachable"), "\(error)")
                    throw error
                }
            }
            #expect(clock.now - start < .milliseconds(1_500))
            let report = try await search.monitor(Google_Protobuf_Empty())
            #expect(report.storeStatus.hasPrefix("store unreachable"))

            try await offPool { try postgres.start() }
            let back = try await eventually(within: .seconds(20), every: .milliseconds(250)) {
                try await search.search(.with { $0.query = "scratch" }).responses.map(\.response)
            }
            #expect(back == ["Scratchland"])
        }
        #expect(server.log.components(separatedBy: "serving address").count == 2)  // one start, no restart
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    @Test func aLogLevelChangeInConsulKVAppliesWithoutARestart() async throws {
        try await Stack.ensureUp()
        let service = uniqueService()
        let server = try ServerProcess(service: service)
        let port = try await server.port()
        defer { Task { [consul] in _ = try? await consul.delete(key: "\(service)/", recurse: true) } }
        try await withSearchClient(port: port) { search in
            _ = try await search.search(.with { $0.query = "chile" })
            #expect(!server.log.contains(" debug "))
            #expect(try await consul.put(key: "\(service)/log_level", text: "debug"))
            try await server.waitForLine(containing: "configuration applied live from=info key=log_level to=debug")
            _ = try await search.search(.with { $0.query = "chile" })
            try await server.waitForLine(containing: "debug    search ")
            #expect(try await search.monitor(Google_Protobuf_Empty()).logLevel == "debug")
        }
        #expect(server.isRunning && !server.log.contains("restarting"))
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    /// A key that cannot change live (the check interval is part of the registration) makes the server
    /// restart itself: same process id, a new serving line, registered again with the new interval.
    @Test func aRestartKeyInConsulKVRestartsTheServerCleanly() async throws {
        try await Stack.ensureUp()
        let service = uniqueService()
        let server = try ServerProcess(service: service)
        _ = try await server.port()
        defer { Task { [consul] in _ = try? await consul.delete(key: "\(service)/", recurse: true) } }
        #expect(try await consul.put(key: "\(service)/check_interval_s", text: "3"))
        try await server.waitForLine(containing: "restarting to apply configuration keys=check_interval_s")
        let newPort = try await server.port(occurrence: 2)
        #expect(server.isRunning)
        let entry = try await eventually {
            try await consul.health(service: service).value.first { $0.service.port == newPort }
        }
        #expect(entry != nil)
        let checks = try await consul.checks(in: nil).value.filter { $0.serviceID == server.instanceID }
        #expect(checks.count == 1)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    /// Consul down at start: the server serves anyway and registers once an agent answers.
    @Test func consulDownAtStartStillServesAndRegistersWhenItComesBack() async throws {
        try await Stack.ensureUp()
        let consulPort = try freePort()
        let service = uniqueService()
        let server = try ServerProcess(service: service, environment: ["CONSUL_HTTP_ADDR": "127.0.0.1:\(consulPort)"])
        try await withSearchClient(port: try await server.port()) { search in
            let names = try await search.search(.with { $0.query = "peru" }).responses.map(\.response)
            #expect(names.contains("Peru"))
        }
        try await server.waitForLine(containing: "cannot reach Consul; serving anyway")
        var configuration = DevConsulAgent.Configuration()
        configuration.httpPort = consulPort
        configuration.dnsPort = 0
        try await DevConsulAgent.withRunning(configuration) { endpoints in
            let late = ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress))
            let registered = try await eventually(within: .seconds(30), every: .milliseconds(200)) {
                try await late.agentServices()[server.instanceID]
            }
            #expect(registered?.name == service)
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    /// Logs reach the configured topic as JSON records keyed by the instance id, and stdout keeps them too.
    @Test func logsAreShippedToKafkaAsJSONKeyedByInstance() async throws {
        try await Stack.ensureUp()
        let topic = uniqueName("search-logs")
        let producer = try KafkaProducer(bootstrapServers: Stack.kafkaBootstrap)
        try producer.createTopic(topic, partitions: 1)
        let server = try ServerProcess(service: uniqueService(), flags: ["--kafka-topic", topic, "--log-level", "debug"])
        try await withSearchClient(port: try await server.port()) { search in
            _ = try await search.search(.with { $0.query = "norway" })
        }
        try await server.waitForLine(containing: "debug    search ")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)   // flushes the producer on the way out

        let reader = try PartitionReader(bootstrapServers: Stack.kafkaBootstrap)
        let events = try reader.read([PartitionStart(topic: topic, partition: 0, offset: .beginning)])
        // Read until the last record the server logs ("stopped"), or give up after 20 s.
        let (raw, keys) = try await withThrowingTaskGroup(of: ([String: Data], Set<String>)?.self) { group in
            group.addTask {
                var messages: [String: Data] = [:], keys = Set<String>()
                for await event in events {
                    guard case .records(let records) = event else { continue }
                    for record in records {
                        keys.insert(String(decoding: record.key ?? [], as: UTF8.self))
                        let object = try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any]
                        if let message = object?["message"] as? String { messages[message] = Data(record.value) }
                    }
                    if messages["stopped"] != nil { break }
                }
                return (messages, keys)
            }
            group.addTask { try await Task.sleep(for: .seconds(20)); return nil }
            let first = try await group.next()!
            group.cancelAll()
            return first ?? ([:], [])
        }
        let messages = try raw.mapValues { try JSONSerialization.jsonObject(with: $0) as? [String: Any] ?? [:] }
        #expect(keys == [server.instanceID])
        let search = try #require(messages["search"])
        #expect(search["level"] as? String == "debug" && search["instance"] as? String == server.instanceID)
        #expect((search["meta"] as? [String: String])?["query"] == "norway")
        #expect((search["ts"] as? String)?.hasSuffix("Z") == true)
        #expect(messages["deregistered from Consul"] != nil && messages["stopped"] != nil)
    }
}
