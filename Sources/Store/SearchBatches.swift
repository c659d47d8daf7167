import Deadlines
import Logging
import PostgresNIO
import Synchronization

/// Searches that arrive while an earlier one is at PostgreSQL go there together, as one statement.
///
/// Under load a search costs more in round trips than in the search itself: each statement is a lease
/// from the pool, a write and a wake-up on the connection's event loop, the answer's wake-up back, and a
/// wake-up of a PostgreSQL backend. So at most `concurrentBatches` statements of a kind run at once; a
/// search that finds them all busy waits for the next one, which takes every search waiting (up to
/// `maxBatch`). Alone, a search goes at once in a batch of one: nothing waits for a batch to fill.
/// Every search still gets its own answer, computed for it: nothing is cached. These are the searches
/// asked on one event loop (`AreaStore` keeps one `SearchBatches` of each kind per loop); their statements
/// go to the client `LoopClients` chooses for that loop.
///
/// A statement sent to another loop's client (`LoopClients`: one busy gRPC connection) carries at most
/// `maxBatchElsewhere` searches. The loop that asked them then only reads calls and writes answers, and
/// the searches of a statement are answered together when it returns: a statement of all 30 waiting
/// leaves that loop with nothing to write for the statement's whole round trip, then floods it. Smaller
/// statements, one after another, keep its answers coming. Measured (release search-server as deployed,
/// Paris, h2load, 2 s runs alternating; BENCHMARKS.md): one connection at 32 streams +11.5 % to +26 %
/// calls/s with 8 against 64 (higher in 8 of 10, 6 of 8 and 8 of 8 pairs in three runs), 4 / 8 / 12 within
/// the noise of each other; four connections (each loop's statements on its own client, where the cap does
/// not apply) unchanged, and slower by 13 % when 8 applied there too (more statements: +22 % server CPU a
/// call). At 64 and 96 streams on one connection, six pairs each in an hour with 1-38 % stolen: 1.17x
/// and 1.01x, server CPU a call +3.5 % and +7 % (more statements); whether a larger cap pays there is
/// below what this machine's noise lets measure.
///
/// A search whose caller gives up (its deadline, or cancellation) while it waits leaves the queue at
/// once. A statement that outlives `timeLimit` (a connection gone silent, a server that hangs) is left
/// to end on its own, its searches fail with `DeadlineExceeded`, and the next batch goes on another
/// connection: one stuck statement does not stall every search behind it.
///
/// Measured (search-server, Paris, 32 streams on one connection; BENCHMARKS.md): PostgreSQL's CPU per
/// search 114-124 µs → 39-44 µs with one statement at once, and the server's calls/s up 18-27 %.
final class SearchBatches<Statement: BatchedSearch>: Sendable {
    private struct Pending: Sendable {
        var id: Int
        var request: Statement.Request
        var reply: @Sendable (Result<AreaPage, any Error>) -> Void
    }

    private let queue: Mutex<BatchQueue<Pending>>
    private let ids = Atomic<Int>(0)
    private let clients: LoopClients
    /// The loop whose searches these are (`LoopClients`).
    private let loop: Int
    private let logger: Logger
    /// The most searches in a statement sent to another loop's client.
    private let maxBatchElsewhere: Int
    private let timeLimit: @Sendable () -> Duration

    init(clients: LoopClients, loop: Int, logger: Logger, concurrentBatches: Int, maxBatch: Int = 64,
         maxBatchElsewhere: Int = 8, timeLimit: @escaping @Sendable () -> Duration) {
        precondition(maxBatchElsewhere > 0)
        self.clients = clients
        self.maxBatchElsewhere = maxBatchElsewhere
        self.loop = loop
        self.logger = logger
        self.timeLimit = timeLimit
        queue = Mutex(BatchQueue(concurrentBatches: concurrentBatches, maxBatch: maxBatch))
    }

    /// The most searches one statement has carried so far.
    var largestBatch: Int { queue.withLock { $0.largestBatch } }
    /// Searches waiting for a statement.
    var waiting: Int { queue.withLock { $0.waiting.count } }

    func search(_ request: Statement.Request) async throws -> AreaPage {
        let id = ids.add(1, ordering: .relaxed).newValue
        return try await clients.asking(on: loop) {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    submit(Pending(id: id, request: request) { continuation.resume(with: $0) })
                    // Cancelled before it was queued: the handler found nothing to take out.
                    if Task.isCancelled { withdraw(id) }
                }
            } onCancel: {
                withdraw(id)
            }
        }
    }

    /// Takes a search out of the queue if it still waits there, and tells its caller.
    private func withdraw(_ id: Int) {
        queue.withLock { $0.withdraw { $0.id == id } }?.reply(.failure(CancellationError()))
    }

    private func submit(_ pending: Pending) {
        guard let batch = queue.withLock({ $0.submit(pending) }) else { return }
        Task(executorPreference: RequestExecutor.current) { [self] in
            var next: [Pending]? = batch
            var target = clients.statementClient(forSearchesOn: loop)
            while let batch = next {
                await run(batch, on: target.client)
                target = clients.statementClient(forSearchesOn: loop)
                let limit = target.isAnotherLoops ? maxBatchElsewhere : .max
                next = queue.withLock { $0.finished(limit: limit) }
            }
        }
    }

    /// One statement for the batch; every search is answered, with its page or with the batch's error.
    private func run(_ batch: [Pending], on client: PostgresClient) async {
        do {
            let statement = Statement(batch.map(\.request))
            let pages = try await withDeadline(timeLimit()) { [self] in try await run(statement, count: batch.count, on: client) }
            for (pending, page) in zip(batch, pages) { pending.reply(.success(page)) }
        } catch let error as PSQLError where batch.count > 1 && error.isDataException {
            // One search's values can fail the statement for all of them (PostgreSQL refuses a text with a
            // NUL byte): each goes again alone, so that only the search at fault gets the error.
            for pending in batch { await run([pending], on: client) }
        } catch {
            for pending in batch { pending.reply(.failure(error)) }
        }
    }

    /// The statement's pages, one per search.
    private func run(_ statement: Statement, count: Int, on client: PostgresClient) async throws -> [AreaPage] {
        var pages = [AreaPage](repeating: AreaPage(areas: [], total: 0), count: count)
        do {
            for try await row in try await client.execute(statement, logger: logger) { try pages.add(row) }
        } catch let error as PSQLError where error.code == .server && !error.isDataException {
            // A connection keeps a failed prepare (postgres-nio answers every later execute there with
            // that error, e.g. "cached plan must not change result type" after a schema change): an
            // error from the server is tried once more as a plain query with the same text and
            // bindings (in an outage that fails fast too).
            logger.warning("prepared search failed; sent unprepared", metadata: ["reason": "\(String(reflecting: error))"])
            pages = [AreaPage](repeating: AreaPage(areas: [], total: 0), count: count)
            let rows = try await client.query(PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings()),
                                              logger: logger)
            for try await row in rows { try pages.add(statement.decodeRow(row)) }
        }
        return pages
    }
}

extension PSQLError {
    /// SQLSTATE class 22: the statement's values, not the statement or the server, are at fault.
    var isDataException: Bool { code == .server && serverInfo?[.sqlState]?.hasPrefix("22") == true }
}

/// Which searches go to PostgreSQL when: pure, so its rules are tested without a database.
///
/// Requests wait only while `concurrentBatches` batches run; a runner that finishes a batch takes the
/// next one itself, so under load no runner is started per batch.
struct BatchQueue<Request> {
    let concurrentBatches: Int
    let maxBatch: Int
    private(set) var waiting: [Request] = []
    private(set) var running = 0
    /// The most requests one batch has held (what tests look at to see batches form).
    private(set) var largestBatch = 0

    init(concurrentBatches: Int, maxBatch: Int) {
        precondition(concurrentBatches > 0 && maxBatch > 0)
        self.concurrentBatches = concurrentBatches
        self.maxBatch = maxBatch
    }

    /// A batch of this one request for a new runner to start now, or nil: it waits for a running batch.
    mutating func submit(_ request: Request) -> [Request]? {
        guard running < concurrentBatches else {
            waiting.append(request)
            return nil
        }
        running += 1
        largestBatch = max(largestBatch, 1)
        return [request]
    }

    /// Takes out the first waiting request that matches (its caller gave up), if there is one.
    mutating func withdraw(where matches: (Request) -> Bool) -> Request? {
        guard let index = waiting.firstIndex(where: matches) else { return nil }
        return waiting.remove(at: index)
    }

    /// A runner's batch ended: the next batch for it (the oldest waiting first, at most `limit` and
    /// `maxBatch` of them), or nil and it stops.
    mutating func finished(limit: Int = .max) -> [Request]? {
        guard !waiting.isEmpty else {
            running -= 1
            return nil
        }
        let count = min(maxBatch, limit, waiting.count)
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        largestBatch = max(largestBatch, count)
        return batch
    }
}

/// A statement that runs one search per element of its array parameters (`LATERAL`) and numbers each
/// row by its search's place in the batch (`n`, from 1). A search with no match on its page has no row.
protocol BatchedSearch: PostgresPreparedStatement where Row == BatchRow {
    associatedtype Request: Sendable
    init(_ requests: [Request])
}

/// A search's place in its batch (from 0), and one of its areas with the total its page is cut from.
typealias BatchRow = (index: Int, row: AreaRow)

extension BatchedSearch {
    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (n, id, name, kind, code, source, total) = try row.decode((Int32, Int64, String, String, String?, String, Int).self)
        return (Int(n) - 1, (id, name, kind, code, source, total))
    }
}

/// Areas containing each point, one page each, smallest first (a state before its country).
///
/// Prepared once per connection; its generic plan keeps the GiST index on the pieces (`EXPLAIN EXECUTE`
/// under `plan_cache_mode = force_generic_plan`). WKT order is (x y) = (longitude latitude). Pieces are
/// matched, areas returned once. ST_Intersects, not ST_Contains: a point on a line where a polygon was cut
/// lies on the boundary of every piece there, and ST_Contains would drop it; a point exactly on a border
/// between two areas therefore matches both.
struct PointBatchSearch: BatchedSearch {
    static let name = "opsdeck_point_search_batch"
    static let sql = """
        SELECT q.n::int4, r.id, r.name, r.kind, r.code, r.source, r.total
        FROM unnest($1::float8[], $2::float8[], $3::int8[], $4::int8[]) WITH ORDINALITY AS q(lng, lat, off, lim, n),
        LATERAL (SELECT a.id, a.name, a.kind, a.code, a.source, count(*) OVER ()::int AS total,
                        row_number() OVER (ORDER BY a.size, a.id) AS place
                 FROM area a
                 WHERE a.id IN (SELECT p.area_id FROM area_piece p
                                WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(q.lng, q.lat), 4326)))
                 ORDER BY place
                 OFFSET q.off LIMIT q.lim) r
        ORDER BY q.n, r.place
        """

    struct Request: Sendable {
        var longitude: Double
        var latitude: Double
        var offset: Int
        var limit: Int
    }

    private let requests: [Request]

    init(_ requests: [Request]) { self.requests = requests }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(requests.map(\.longitude))
        bindings.append(requests.map(\.latitude))
        bindings.append(requests.map(\.offset))
        bindings.append(requests.map(\.limit))
        return bindings
    }
}

/// Areas by name, one page each: an exact match first, then names starting with the text, then by
/// trigram similarity; ties by name and id. Prepared like `PointBatchSearch`; its generic plan still uses
/// the trigram index for each LIKE pattern (`EXPLAIN EXECUTE` with `plan_cache_mode = force_generic_plan`).
struct NameBatchSearch: BatchedSearch {
    static let name = "opsdeck_name_search_batch"
    static let sql = """
        SELECT q.n::int4, r.id, r.name, r.kind, r.code, r.source, r.total
        FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) WITH ORDINALITY AS q(pattern, text, off, lim, n),
        LATERAL (SELECT a.id, a.name, a.kind, a.code, a.source, count(*) OVER ()::int AS total,
                        row_number() OVER (ORDER BY lower(a.name) = q.text DESC, starts_with(lower(a.name), q.text) DESC,
                                                    similarity(lower(a.name), q.text) DESC, a.name, a.id) AS place
                 FROM area a
                 WHERE lower(a.name) LIKE q.pattern
                 ORDER BY place
                 OFFSET q.off LIMIT q.lim) r
        ORDER BY q.n, r.place
        """

    struct Request: Sendable {
        /// `AreaQuery.likePattern`.
        var pattern: String
        /// The lower-cased text the pattern was made from, for the order.
        var text: String
        var offset: Int
        var limit: Int
    }

    private let requests: [Request]

    init(_ requests: [Request]) { self.requests = requests }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(requests.map(\.pattern))
        bindings.append(requests.map(\.text))
        bindings.append(requests.map(\.offset))
        bindings.append(requests.map(\.limit))
        return bindings
    }
}

/// A batch answer that does not fit the batch: a bug in the statement, reported to every caller.
struct BatchRowOutOfPlace: Error, CustomStringConvertible {
    var index: Int
    var count: Int
    var description: String { "a row for search \(index + 1) of a batch of \(count)" }
}

extension Array where Element == AreaPage {
    /// A batch row onto its search's page.
    mutating func add(_ row: BatchRow) throws {
        guard indices.contains(row.index) else { throw BatchRowOutOfPlace(index: row.index, count: count) }
        self[row.index].append(row.row)
    }
}
