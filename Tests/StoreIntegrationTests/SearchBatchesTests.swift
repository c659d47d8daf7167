import Deadlines
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import StackSupport
@testable import Store
import Testing

/// The rules of when point searches go to PostgreSQL: no database needed.
@Suite struct BatchQueueTests {
    @Test func aSearchGoesAtOnceWhileABatchSlotIsFree() {
        var queue = BatchQueue<Int>(concurrentBatches: 2, maxBatch: 3)
        #expect(queue.submit(1) == [1])
        #expect(queue.submit(2) == [2])
        // Both slots busy: the next searches wait.
        for request in 3...7 { #expect(queue.submit(request) == nil) }
        #expect(queue.waiting == [3, 4, 5, 6, 7])
        // A runner that ends takes the oldest waiting, at most maxBatch of them, and keeps its slot.
        #expect(queue.finished() == [3, 4, 5])
        #expect(queue.finished() == [6, 7])
        #expect(queue.running == 2 && queue.largestBatch == 3)
        // Nothing waits: each runner stops, and a new search starts at once again.
        #expect(queue.finished() == nil)
        #expect(queue.finished() == nil)
        #expect(queue.running == 0)
        #expect(queue.submit(8) == [8])
    }

    /// A statement sent to another loop takes fewer (`SearchBatches.maxBatchElsewhere`); the rest wait
    /// for the next, in order.
    @Test func aRunnerCanTakeFewerThanTheMostABatchHolds() {
        var queue = BatchQueue<Int>(concurrentBatches: 1, maxBatch: 3)
        #expect(queue.submit(1) == [1])
        for request in 2...7 { #expect(queue.submit(request) == nil) }
        #expect(queue.finished(limit: 2) == [2, 3])
        #expect(queue.finished(limit: 5) == [4, 5, 6], "never more than maxBatch")
        #expect(queue.finished(limit: 2) == [7])
        #expect(queue.finished(limit: 2) == nil && queue.running == 0)
    }

    @Test func aWaitingRequestWhoseCallerGaveUpIsTakenOut() {
        var queue = BatchQueue<Int>(concurrentBatches: 1, maxBatch: 10)
        #expect(queue.submit(1) == [1])
        for request in 2...4 { #expect(queue.submit(request) == nil) }
        #expect(queue.withdraw { $0 == 3 } == 3)
        // Already in a running batch, or gone: nothing to take out.
        #expect(queue.withdraw { $0 == 1 } == nil && queue.withdraw { $0 == 3 } == nil)
        #expect(queue.finished() == [2, 4])
    }
}

extension AreaStoreTests {
    /// Many searches at once share statements, yet each gets the page a search alone gives: the same
    /// areas in the same order and the same total, for points in one area, in three nested ones (paged
    /// one by one), in none, and past the last page; and for names, paged the same way, with LIKE's
    /// wildcards taken literally.
    @Test func searchesInOneBatchEachGetTheirOwnPage() async throws {
        // Three nested squares over open water, so a point in the middle has three areas to order and page;
        // named with a word of their own, as other tests add areas to the same table meanwhile.
        let word = "bq\(UInt32.random(in: 0...UInt32.max))"
        let nested = [("\(word.capitalized) Outer", "ST_MakeEnvelope(-36, -36, -24, -24, 4326)"),
                      ("\(word.capitalized) Middle", "ST_MakeEnvelope(-34, -34, -26, -26, 4326)"),
                      ("\(word.capitalized) Inner", "ST_MakeEnvelope(-32, -32, -28, -28, 4326)")]
        try await withAreasAndClient(nested) { client, _ in
            var queries: [AreaQuery] = []
            let land = try await client.query("""
                SELECT ST_Y(g), ST_X(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(ST_Union(geom), 100, 7))).geom AS g
                                              FROM area WHERE source = 'naturalearth') s
                """)
            for try await (latitude, longitude) in land.decode((Double, Double).self) {
                queries.append(AreaQuery(point: GeoPoint(latitude: latitude, longitude: longitude)))
            }
            #expect(queries.count > 50, "the Natural Earth demo data is not loaded")
            let middle = GeoPoint(latitude: -30, longitude: -30)
            for offset in 0...3 {
                for limit in 1...3 {
                    queries.append(AreaQuery(point: middle, offset: offset, limit: limit))
                    queries.append(AreaQuery(nameContains: word, offset: offset, limit: limit))
                }
            }
            for text in ["\(word) inner", "\(word.uppercased()) M", "\(word)%", "\(word)_"] { queries.append(AreaQuery(nameContains: text)) }
            queries.append(AreaQuery(point: GeoPoint(latitude: -40, longitude: -30)))  // open sea: no area
            queries.append(AreaQuery(point: middle, offset: 50, limit: 10))  // past the end
            queries.append(AreaQuery(nameContains: word, offset: 50, limit: 10))

            // PostgreSQL refuses a text with a NUL byte: that search fails, and it alone.
            let refused = AreaQuery(nameContains: "\(word)\u{0}")

            let store = AreaStore(client: client, concurrentBatches: 1)
            let batched = try await withThrowingTaskGroup(of: (Int, AreaPage?).self) { calls in
                for (index, query) in queries.enumerated() { calls.addTask { (index, try await store.search(query)) } }
                calls.addTask {
                    await #expect(throws: PSQLError.self) { try await store.search(refused) }
                    return (-1, nil)
                }
                var pages = [AreaPage](repeating: AreaPage(areas: [], total: -1), count: queries.count)
                for try await (index, page) in calls where index >= 0 { pages[index] = try #require(page) }
                return pages
            }
            // Planned once for any batch, not again on every call (see `StoreConfiguration.clientConfiguration`).
            let mode = try await client.query("SHOW plan_cache_mode").collect().first?.decode(String.self)
            #expect(mode == "force_generic_plan")
            #expect(store.pointSearches.largestBatch > 10, "the point searches did not share statements")
            #expect(store.nameSearches.largestBatch > 10, "the name searches did not share statements")
            for (query, page) in zip(queries, batched) {
                #expect(page == (try await Self.alone(query, client)), "\(query)")
            }
            func page(_ query: AreaQuery) throws -> AreaPage { try #require(zip(queries, batched).first { $0.0 == query }?.1) }
            let nestedPage = try page(AreaQuery(point: middle, offset: 0, limit: 3))
            #expect(nestedPage.areas.map(\.name) == nested.reversed().map(\.0) && nestedPage.total == 3)
            #expect(Set(try page(AreaQuery(nameContains: word, offset: 0, limit: 3)).areas.map(\.name)) == Set(nested.map(\.0)))
            #expect(try page(AreaQuery(nameContains: "\(word) inner")).areas.map(\.name) == [nested[2].0])
            #expect(try page(AreaQuery(nameContains: "\(word)%")) == AreaPage(areas: [], total: 0))
            #expect(try page(AreaQuery(point: GeoPoint(latitude: -40, longitude: -30))) == AreaPage(areas: [], total: 0))
            #expect(try page(AreaQuery(point: middle, offset: 50, limit: 10)) == AreaPage(areas: [], total: 3))
            #expect(try page(AreaQuery(nameContains: word, offset: 50, limit: 10)) == AreaPage(areas: [], total: 3))
        }
    }

    static let logger = Logger(label: "test")

    /// With one client per loop, as search-server wires its store: forty searches asked at once on one
    /// loop go to the other loop's client in statements of at most eight (`SearchBatches`), each answered
    /// with its own page; while a search is asked on the other loop too, they stay on their own loop's
    /// client, where one statement takes every search waiting.
    @Test func statementsToAnotherLoopCarryAtMostEight() async throws {
        try await Stack.ensureUp()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { Task { try await group.shutdownGracefully() } }
        let loops = Array(group.makeIterator())
        let clients = LoopClients(group: group, connections: 2, backgroundLogger: Self.logger) {
            StoreConfiguration().serverClientConfiguration(connections: $0)
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for client in clients.all { tasks.addTask { await client.run() } }
            defer { tasks.cancelAll() }
            // Paris, Berlin, Madrid and Rome in turn: each search's own page, not a neighbour's in its statement.
            let cities = [GeoPoint(latitude: 48.8566, longitude: 2.3522), GeoPoint(latitude: 52.52, longitude: 13.405),
                          GeoPoint(latitude: 40.4168, longitude: -3.7038), GeoPoint(latitude: 41.9028, longitude: 12.4964)]
            let queries = (0..<40).map { AreaQuery(point: cities[$0 % 4]) }
            let client = try #require(clients.all.first)
            var expected: [AreaPage] = []
            for query in queries.prefix(4) { expected.append(try await Self.alone(query, client)) }
            #expect(Set(expected.compactMap(\.areas.first?.name)).count == 4, "four cities, four countries: \(expected)")
            /// The largest statement of forty searches asked together on loop 0.
            func largestOfForty() async throws -> Int {
                // New connections on a busy machine take seconds: the deadline is not what this is about.
                let store = AreaStore(clients: clients, batchTimeLimit: { .seconds(60) })
                let executor = OneLoopExecutor(loops[0])
                let pages = try await RequestExecutor.run(on: executor) {
                    try await withThrowingTaskGroup(of: (Int, AreaPage).self) { searches in
                        for (index, query) in queries.enumerated() { searches.addTask { (index, try await store.search(query)) } }
                        return try await searches.reduce(into: [:]) { $0[$1.0] = $1.1 }
                    }
                }
                #expect(pages.count == 40 && pages.allSatisfy { $0.value == expected[$0.key % 4] })
                return store.pointSearches.largestBatch
            }
            #expect(try await largestOfForty() == 8, "to the other loop: at most eight a statement")
            let onItsOwn = try await clients.asking(on: 1) { try await largestOfForty() }
            #expect(onItsOwn > 8, "on its own loop: every search waiting (\(onItsOwn) at most)")
        }
    }

    /// A statement that hangs (here on a lock another session holds) is left behind at the batch's time
    /// limit, its searches fail, and the searches behind it go on in the next batch; a search waiting in
    /// the queue whose caller gives up leaves it at once. Once the lock goes, searches answer again.
    @Test func aStuckStatementIsLeftBehindAndAWaitingSearchCanLeave() async throws {
        try await withSquareland("opsdeck_stuck") { client in
            let limit = Duration.milliseconds(600)
            let store = AreaStore(client: client, concurrentBatches: 1, batchTimeLimit: { limit })
            let query = AreaQuery(point: GeoPoint(latitude: 1, longitude: 1))
            #expect(try await store.search(query).areas.map(\.name) == ["Squareland"])
            let clock = ContinuousClock()
            func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
                let end = clock.now + .seconds(20)
                while !condition() {
                    guard clock.now < end else { Issue.record("gave up waiting until \(what)"); return }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }

            try await client.withConnection { locker in
                _ = try await locker.query("BEGIN", logger: Self.logger).collect()
                _ = try await locker.query("LOCK TABLE area IN ACCESS EXCLUSIVE MODE", logger: Self.logger).collect()
                let start = clock.now
                let stuck = Task { try await store.search(query) }
                try await Task.sleep(for: .milliseconds(100))
                let behind = Task { try await store.search(query) }
                let leaving = Task { try await store.search(query) }
                try await waitUntil("two searches wait") { store.pointSearches.waiting == 2 }
                leaving.cancel()
                await #expect(throws: CancellationError.self) { try await leaving.value }
                #expect(store.pointSearches.waiting == 1)
                await #expect(throws: DeadlineExceeded.self) { try await stuck.value }
                #expect(clock.now - start >= limit && clock.now - start < limit + .seconds(10))
                // The next batch went on without the stuck one (and met the lock in turn).
                await #expect(throws: DeadlineExceeded.self) { try await behind.value }
                #expect(clock.now - start >= limit * 2)
                _ = try await locker.query("ROLLBACK", logger: Self.logger).collect()
            }
            #expect(try await store.search(query).areas.map(\.name) == ["Squareland"])
        }
    }

    /// A search's page worked out here as the reference, one statement per search with its own text:
    /// every match in order, cut to the page in Swift.
    static func alone(_ query: AreaQuery, _ client: PostgresClient) async throws -> AreaPage {
        let rows: PostgresRowSequence
        if let point = query.point {
            rows = try await client.query("""
                SELECT a.id, a.name, a.kind, a.code, a.source
                FROM area a
                WHERE a.id IN (SELECT p.area_id FROM area_piece p
                               WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(\(point.longitude), \(point.latitude)), 4326)))
                ORDER BY a.size, a.id
                """)
        } else {
            let text = try #require(query.nameContains?.lowercased())
            let pattern = try #require(query.likePattern)
            rows = try await client.query("""
                SELECT a.id, a.name, a.kind, a.code, a.source
                FROM area a
                WHERE lower(a.name) LIKE \(pattern)
                ORDER BY lower(a.name) = \(text) DESC, starts_with(lower(a.name), \(text)) DESC,
                         similarity(lower(a.name), \(text)) DESC, a.name, a.id
                """)
        }
        var all: [Area] = []
        for try await (id, name, kind, code, source) in rows.decode((Int64, String, String, String?, String).self) {
            all.append(Area(id: id, name: name, kind: kind, code: code, source: source))
        }
        return AreaPage(areas: Array(all.dropFirst(query.offset).prefix(query.limit)), total: all.count)
    }
}

/// Runs every job on one event loop: searches asked there, as a call read on that loop is.
final class OneLoopExecutor: TaskExecutor {
    private let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
