import Deadlines
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import SearchAPI
import SearchService
import StackSupport
@testable import Store
import Synchronization
import Testing

/// A call's work stays on the server's event loops (`RequestExecutor` with `EventLoopTaskExecutor`): what
/// the call awaits, the tasks it starts, and what resumes it from another thread.
@Suite(.timeLimit(.minutes(1))) struct RequestExecutorTests {
    @Test func aCallsWorkAndTheTasksItStartsRunOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let seen = try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) {
            var seen = ["call": loop.inEventLoop]
            // withDeadline runs its operation in an unstructured task, which inherits no executor preference.
            seen["withDeadline's operation"] = try await withDeadline(.seconds(10)) { loop.inEventLoop }
            seen["a child task"] = await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask { loop.inEventLoop }
                return await tasks.next() ?? false
            }
            try await Task.sleep(for: .milliseconds(5))  // resumed by a timer on another thread
            seen["after a sleep"] = loop.inEventLoop
            return seen
        }
        #expect(seen == ["call": true, "withDeadline's operation": true, "a child task": true, "after a sleep": true])
        #expect(try await withDeadline(.seconds(10)) { loop.inEventLoop } == false)
        try await group.shutdownGracefully()
    }

    /// A task resumed by one of the group's loops goes on there (as a search answered on its PostgreSQL
    /// connection's loop); resumed by another group's loop, on one of the group's.
    @Test func aTaskGoesOnOnTheLoopThatResumedIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loops = Array(group.makeIterator())
        let after = try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) {
            var after: [Int] = []
            for loop in [loops[1], loops[1], loops[0], loops[0], loops[1], other.next()] {
                // Well after the task has suspended: resumed before that, it would go on where it was.
                try await loop.scheduleTask(in: .milliseconds(200)) {}.futureResult.get()
                after.append(loops.firstIndex { $0.inEventLoop } ?? -1)
            }
            return after
        }
        #expect(after.prefix(5) == [1, 1, 0, 0, 1])
        #expect(after.last.map { $0 >= 0 } == true, "resumed by another group's loop, it went on off the group: \(after)")
        try await group.shutdownGracefully()
        try await other.shutdownGracefully()
    }

    /// Wired as search-server serves: a search's store call runs on the server's loops, with the
    /// preference there for the tasks it starts (`SearchBatches`' runner), through `withDeadline`'s task.
    @Test func aSearchReachesTheStoreOnTheServersLoops() async throws {
        let store = Where()
        let handler = SearchHandler(store: store, context: SearchHandlerTests.Context(), stats: RequestStats(),
                                    instanceID: "search-test-1", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [handler])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await SearchServer.serve(server, on: .singleton) }
            let port = try #require(try await transport.listeningAddress.ipv4?.port)
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port),
                                                               transportSecurity: .plaintext)) { client in
                _ = try await Search.Client(wrapping: client).search(.with { $0.lat = 1; $0.lng = 1 })
            }
            server.beginGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(store.seen.withLock { $0 } == ["on a loop of the server's group, preference handed on"])
    }

    /// As search-server wires its store (`LoopClients` over the server's loops): a point search asked
    /// alone on a loop is sent to PostgreSQL from there and goes on there; with another search asked on
    /// that loop and none on the other, it is sent on the other, and goes on there with its page.
    @Test func aSearchIsAnsweredOnTheLoopItWasSentFrom() async throws {
        try await Stack.ensureUp()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { Task { try await group.shutdownGracefully() } }
        let loops = Array(group.makeIterator())
        let clients = LoopClients(group: group, connections: 2, backgroundLogger: Logger(label: "test")) {
            StoreConfiguration().serverClientConfiguration(connections: $0)
        }
        // The deadline is not what this test is about: new connections on a busy machine take seconds.
        let store = AreaStore(clients: clients, batchTimeLimit: { .seconds(60) })
        let paris = AreaQuery(point: GeoPoint(latitude: 48.8566, longitude: 2.3522))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for client in clients.all { tasks.addTask { await client.run() } }
            let seen = try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) {
                var seen: [String] = []
                for (asked, others) in [(0, 0), (0, 1), (1, 1), (1, 0)] {
                    // Resumed by that loop's timer, the task goes on there (as a call read on that loop).
                    try await loops[asked].scheduleTask(in: .milliseconds(20)) {}.futureResult.get()
                    // Another search asked on the same loop meanwhile, held open here.
                    let page = others == 0 ? try await store.search(paris)
                        : try await clients.asking(on: asked) { try await store.search(paris) }
                    let answered = loops.firstIndex { $0.inEventLoop }.map(String.init) ?? "off the loops"
                    let france = page.areas.contains { $0.name == "France" }
                    seen.append("asked on \(asked) with \(others) other, answered on \(answered), France found: \(france)")
                }
                return seen
            }
            #expect(seen == ["asked on 0 with 0 other, answered on 0, France found: true",
                             "asked on 0 with 1 other, answered on 1, France found: true",
                             "asked on 1 with 1 other, answered on 0, France found: true",
                             "asked on 1 with 0 other, answered on 1, France found: true"])
            tasks.cancelAll()
        }
    }

    /// Says where its search ran.
    final class Where: AreaSearching {
        let seen = Mutex<[String]>([])
        func search(_ query: AreaQuery) async throws -> AreaPage {
            let onLoop = MultiThreadedEventLoopGroup.singleton.makeIterator().contains { $0.inEventLoop }
            let place = onLoop && RequestExecutor.current != nil ? "on a loop of the server's group, preference handed on"
                : "on a loop: \(onLoop), preference: \(RequestExecutor.current != nil)"
            seen.withLock { $0.append(place) }
            return AreaPage(areas: [], total: 0)
        }
        func outlines(of ids: [Int64]) async throws -> [Int64: Outline] { [:] }
        func count() async throws -> Int { 0 }
    }
}
