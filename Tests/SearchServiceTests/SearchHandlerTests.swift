import Deadlines
import Foundation
import GRPCCore
import Logging
import SearchAPI
import SearchService
import Store
import SwiftProtobuf
import Synchronization
import Testing

/// Handler logic without sockets or a database: the store is an in-memory double of `AreaSearching`
/// (the PostGIS store itself is tested against the real database in StoreIntegrationTests).
@Suite(.timeLimit(.minutes(3))) struct SearchHandlerTests {
    struct Areas: AreaSearching {
        var areas: [Area]
        var delay: Duration = .zero
        func search(_ query: AreaQuery) async throws -> AreaPage {
            try await Task.sleep(for: delay)
            let matches = areas.filter { query.nameContains.map($0.name.lowercased().contains) ?? true }
            return AreaPage(areas: Array(matches.dropFirst(query.offset).prefix(query.limit)), total: matches.count)
        }
        func outlines(of ids: [Int64]) async throws -> [Int64: Outline] {
            Dictionary(uniqueKeysWithValues: ids.map { id in
                (id, Outline(rings: [[GeoPoint(latitude: 0, longitude: Double(id)), GeoPoint(latitude: 1, longitude: Double(id)),
                                      GeoPoint(latitude: 0, longitude: Double(id))]], sourceVertices: 10))
            })
        }
        func count() async throws -> Int {
            try await Task.sleep(for: delay)
            return areas.count
        }
    }

    /// Ignores cancellation, like postgres-nio retrying a dead server.
    struct Unresponsive: AreaSearching {
        func search(_ query: AreaQuery) async throws -> AreaPage {
            try? await Task.sleep(for: .seconds(30))
            return AreaPage(areas: [], total: 0)
        }
        func outlines(of ids: [Int64]) async throws -> [Int64: Outline] { [:] }
        func count() async throws -> Int { _ = try await search(AreaQuery()); return 0 }
    }

    /// Fails every call with a text that must stay on the server.
    struct Failing: AreaSearching {
        struct StoreFailure: Error, CustomStringConvertible { var description: String { "password authentication failed for user \"postgres\" at 10.0.0.5" } }
        func search(_ query: AreaQuery) async throws -> AreaPage { throw StoreFailure() }
        func outlines(of ids: [Int64]) async throws -> [Int64: Outline] { throw StoreFailure() }
        func count() async throws -> Int { throw StoreFailure() }
    }

    /// Log records, kept for the test to read.
    final class Captured: @unchecked Sendable {
        var lines: [(Logger.Level, String, Logger.Metadata)] = []
        let lock = NSLock()
        func handler() -> some LogHandler { Handler(captured: self) }
        struct Handler: LogHandler {
            let captured: Captured
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { metadata[key] } set { metadata[key] = newValue } }
            func log(event: LogEvent) {
                captured.lock.withLock { captured.lines.append((event.level, event.message.description, event.metadata ?? [:])) }
            }
        }
    }

    /// A store that ignores cancellation leaves each timed-out call running; past the bound, calls fail
    /// at once instead of adding more, and Monitor counts them.
    @Test func abandonedStoreCallsAreBoundedAndCounted() async throws {
        var settings = ServerSettings()
        settings.storeTimeoutMilliseconds = 1_000
        let abandoned = AbandonedOperations(limit: 3)
        let store = Stubborn()
        let handler = SearchHandler(store: store, context: Context(settings: settings), stats: RequestStats(),
                                    instanceID: "search-test-1", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                    abandoned: abandoned)
        func message() async -> String {
            do { _ = try await handler.search(request: .with { $0.query = "x" }, context: context()); return "answered" }
            catch let error as RPCError { return error.message } catch { return "\(error)" }
        }
        for _ in 0..<3 { #expect(await message() == "store unreachable: no answer within 1000 ms") }
        #expect(abandoned.count == 3)
        // Refused at once: the message is the bound's, not a deadline's.
        #expect(await message() == "store unreachable: 3 earlier calls still wait for it")
        #expect(try await handler.monitor(request: Google_Protobuf_Empty(), context: context()).storeCallsAbandoned == 3)
        // The store answers at last: the abandoned calls end and are no longer counted.
        store.gate.open()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while abandoned.count > 0 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(abandoned.count == 0)
    }

    /// The client gets a reference, not the store's words; the log line with that reference has them.
    @Test func storeErrorsReachTheClientAsAReferenceAndTheLogAsDetail() async throws {
        let captured = Captured()
        let handler = SearchHandler(store: Failing(), context: Context(), stats: RequestStats(), instanceID: "search-test-1",
                                    logger: Logger(label: "test") { _ in captured.handler() })
        var message = ""
        do {
            _ = try await handler.search(request: .with { $0.query = "x" }, context: context())
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
            message = error.message
        }
        #expect(!message.contains("password") && !message.contains("10.0.0.5"), "\(message)")
        let reference = try #require(message.firstMatch(of: /^store unreachable \(ref ([0-9a-f]{8})\)$/)?.1)
        let line = try #require(captured.lock.withLock { captured.lines.first { $0.1 == "search failed" } })
        #expect(line.2["ref"] == "\(reference)")
        #expect("\(line.2["detail"] ?? "")".contains("password authentication failed"))
        let report = try await handler.monitor(request: Google_Protobuf_Empty(), context: context())
        #expect(report.storeStatus.hasPrefix("store unreachable (ref ") && !report.storeStatus.contains("password"))
    }

    /// PostgreSQL going away or starting up is an outage (UNAVAILABLE, retried elsewhere), not a bug.
    @Test func operatorInterventionAndConnectionErrorsAreOutages() {
        #expect(["57P01", "57P02", "57P03", "08006", "08001", "08003"].allSatisfy(SearchHandler.isOutage(sqlState:)))
        // A cancelled or timed-out statement, a dropped database, a protocol bug, and errors of the query.
        #expect(!["57014", "57P04", "08P01", "42P01", "22P02", "XX000", "23505", "40001"].contains(where: SearchHandler.isOutage(sqlState:)))
    }

    /// Really ignores cancellation (a continuation, not Task.sleep): answers only when the test opens `gate`.
    struct Stubborn: AreaSearching {
        final class Gate: Sendable {
            private let waiting = Mutex<(open: Bool, calls: [CheckedContinuation<Void, Never>])>((false, []))
            func pass() async {
                await withCheckedContinuation { call in
                    let now = waiting.withLock { w -> Bool in
                        if w.open { return true }
                        w.calls.append(call)
                        return false
                    }
                    if now { call.resume() }
                }
            }
            func open() {
                for call in waiting.withLock({ w -> [CheckedContinuation<Void, Never>] in w.open = true; defer { w.calls = [] }; return w.calls }) {
                    call.resume()
                }
            }
        }
        let gate = Gate()
        func search(_ query: AreaQuery) async throws -> AreaPage {
            await gate.pass()
            return AreaPage(areas: [], total: 0)
        }
        func outlines(of ids: [Int64]) async throws -> [Int64: Outline] { [:] }
        func count() async throws -> Int { 0 }
    }

    /// Settings for tests that are not about the deadline. The store doubles answer at once, but their
    /// task runs on Swift's cooperative pool, which other suites' CPU-bound tests hold for seconds on 2
    /// cores (CI: 2 s missed), while the deadline runs on NIO's clock, not the pool's.
    static var patient: ServerSettings {
        var settings = ServerSettings()
        settings.storeTimeoutMilliseconds = 60_000
        return settings
    }

    struct Context: ServerContextProviding {
        var settings = SearchHandlerTests.patient
        var logRecordsDropped = 7
        var metricsDropped = 0
    }

    static let countries = (1...25).map { Area(id: Int64($0), name: "Land \($0)", kind: "country", code: "L\($0)", source: "test") }

    func handler(_ store: any AreaSearching, settings: ServerSettings = SearchHandlerTests.patient) -> (SearchHandler, RequestStats) {
        let stats = RequestStats()
        return (SearchHandler(store: store, context: Context(settings: settings), stats: stats, instanceID: "search-test-1",
                              logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }), stats)
    }

    func context() -> ServerContext {
        ServerContext(descriptor: Search.Method.search.descriptor, remotePeer: "in-process:test",
                      localPeer: "in-process:test", cancellation: .init())
    }

    @Test func outlinesComeOnlyWhenAskedFor() async throws {
        let (handler, _) = handler(Areas(areas: Self.countries))
        let plain = try await handler.search(request: .with { $0.query = "land 2" }, context: context())
        #expect(!plain.responses.isEmpty && plain.responses.allSatisfy { !$0.hasOutline })
        let asked = try await handler.search(request: .with { $0.query = "land 2"; $0.withOutline = true }, context: context())
        let first = try #require(asked.responses.first)
        #expect(first.outline.sourceVertices == 10)
        #expect(first.outline.rings.map(\.lng) == [[Float(first.id), Float(first.id), Float(first.id)]])
        #expect(first.outline.rings.map(\.lat) == [[0, 1, 0]])
    }

    @Test func aPageCarriesNamesAndTheAddedFields() async throws {
        let (handler, stats) = handler(Areas(areas: Self.countries))
        let reply = try await handler.search(request: .with { $0.query = "land"; $0.pageNumber = 3 }, context: context())
        #expect(reply.responses.map(\.response) == ["Land 21", "Land 22", "Land 23", "Land 24", "Land 25"])
        #expect(reply.responses.first?.id == 21 && reply.responses.first?.code == "L21" && reply.responses.first?.kind == "country")
        #expect(reply.total == 25 && reply.pageNumber == 3 && reply.resultPerPage == 10)
        #expect(reply.instanceID == "search-test-1")
        #expect(stats.snapshot().requests == 1 && stats.snapshot().errors == 0)
    }

    @Test func anUnresponsiveStoreIsUnavailableWithinTheDeadline() async throws {
        var settings = ServerSettings()
        settings.storeTimeoutMilliseconds = 200
        let (handler, stats) = handler(Unresponsive(), settings: settings)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: RPCError.self) {
            do {
                _ = try await handler.search(request: .with { $0.query = "x" }, context: context())
            } catch let error as RPCError {
                #expect(error.code == .unavailable)
                #expect(error.message == "store unreachable: no answer within 200 ms")
                throw error
            }
        }
        // The store would answer after 30 s; the deadline is 200 ms. The bound separates the two with room
        // for a loaded machine (other suites run programs beside this one: 2.9 s was seen on 2 cores).
        #expect(clock.now - start < .seconds(10))
        #expect(stats.snapshot().errors == 1)
    }

    @Test func invalidInputIsCountedAsAnError() async {
        let (handler, stats) = handler(Areas(areas: Self.countries))
        await #expect(throws: RPCError.self) {
            _ = try await handler.search(request: .with { $0.lat = 100 }, context: context())
        }
        #expect(stats.snapshot() .errors == 1)
    }

    @Test func monitorReportsCountsAndAStoreThatDoesNotAnswer() async throws {
        let (healthy, _) = handler(Areas(areas: Self.countries))
        _ = try await healthy.search(request: .with { $0.query = "land 1" }, context: context())
        let report = try await healthy.monitor(request: Google_Protobuf_Empty(), context: context())
        #expect(report.nThings == 25 && report.requests == 1 && report.storeStatus == "ok")
        #expect(report.instanceID == "search-test-1" && report.version == SearchHandler.version)
        #expect(report.logRecordsDropped == 7 && report.logLevel == "info")
        // Every setting in effect, by its KV key: what a console follows a KV change by.
        #expect(report.settings == Self.patient.values && report.settings["log_level"] == "info"
                && report.settings["max_page_size"] == "100" && report.settings.count == ServerSettings.keys.count)

        var settings = ServerSettings()
        settings.storeTimeoutMilliseconds = 100
        let (broken, _) = handler(Unresponsive(), settings: settings)
        let down = try await broken.monitor(request: Google_Protobuf_Empty(), context: context())
        #expect(down.nThings == 0 && down.storeStatus == "store unreachable: no answer within 100 ms")
    }
}
