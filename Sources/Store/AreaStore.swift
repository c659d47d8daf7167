import Logging
import PostgresNIO

/// Queries over the `area` table of named polygons (schema: `StoreSchema`). Every value is a bound parameter.
public struct AreaStore: Sendable {
    private let clients: LoopClients
    /// For the queries that are not batched: the caller's loop's.
    private var client: PostgresClient { clients.near }
    private let logger: Logger
    /// Point searches, and name searches, batched apart for each loop they are asked on (`LoopClients`).
    private let pointQueues: [SearchBatches<PointBatchSearch>]
    private let nameQueues: [SearchBatches<NameBatchSearch>]
    /// The first loop's: the only ones with a single client (tests look at how batches form).
    var pointSearches: SearchBatches<PointBatchSearch> { pointQueues[0] }
    var nameSearches: SearchBatches<NameBatchSearch> { nameQueues[0] }

    /// The caller runs `client.run()` (in a task or service group) for as long as the store is used.
    /// `concurrentBatches`: how many point-search statements, and how many name-search statements, of the
    /// searches asked on one loop run at once (see `SearchBatches`; one was fastest on 2 cores, where the
    /// server shares PostgreSQL's cores).
    /// `batchTimeLimit`: how long a batch statement is waited for before the next batch goes on without it
    /// (read for every batch: search-server gives its live store deadline).
    public init(client: PostgresClient, logger: Logger = Logger(label: "opsdeck.store"), concurrentBatches: Int = 1,
                batchTimeLimit: @escaping @Sendable () -> Duration = { .seconds(2) }) {
        self.init(clients: LoopClients(client), logger: logger, concurrentBatches: concurrentBatches, batchTimeLimit: batchTimeLimit)
    }

    /// With a client per event loop (`LoopClients`): searches are batched apart for each loop they are
    /// asked on, and each batch goes to the loop `LoopClients` chooses; queries that are not batched go on
    /// the caller's own loop.
    public init(clients: LoopClients, logger: Logger = Logger(label: "opsdeck.store"), concurrentBatches: Int = 1,
                batchTimeLimit: @escaping @Sendable () -> Duration = { .seconds(2) }) {
        self.clients = clients
        self.logger = logger
        pointQueues = clients.all.indices.map {
            SearchBatches(clients: clients, loop: $0, logger: logger, concurrentBatches: concurrentBatches, timeLimit: batchTimeLimit)
        }
        nameQueues = clients.all.indices.map {
            SearchBatches(clients: clients, loop: $0, logger: logger, concurrentBatches: concurrentBatches, timeLimit: batchTimeLimit)
        }
    }

    /// Areas whose polygon contains the point, smallest first (a state before its country).
    public func areas(containingLatitude latitude: Double, longitude: Double, limit: Int = 10) async throws -> [Area] {
        try await search(AreaQuery(point: GeoPoint(latitude: latitude, longitude: longitude), limit: limit)).areas
    }

    /// One page of areas matching `query`, each area once.
    ///
    /// Order is deterministic: with a point, smallest containing area first; by name alone, an exact match,
    /// then names starting with the text, then by trigram similarity; ties by name and id.
    public func search(_ query: AreaQuery) async throws -> AreaPage {
        var page = AreaPage(areas: [], total: 0)
        switch (query.point, query.likePattern, query.nameContains?.lowercased()) {
        case let (point?, nil, _):
            let request = PointBatchSearch.Request(longitude: point.longitude, latitude: point.latitude,
                                                   offset: query.offset, limit: query.limit)
            page = try await pointQueues[clients.currentLoop].search(request)
        case let (point?, pattern?, _):
            let rows = try await client.query("""
                SELECT a.id, a.name, a.kind, a.code, a.source, count(*) OVER ()::int
                FROM area a
                WHERE a.id IN (SELECT p.area_id FROM area_piece p
                               WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(\(point.longitude), \(point.latitude)), 4326)))
                  AND lower(a.name) LIKE \(pattern)
                ORDER BY a.size, a.id
                OFFSET \(query.offset) LIMIT \(query.limit)
                """, logger: logger)
            for try await row in rows.decode(AreaRow.self) { page.append(row) }
        case let (nil, pattern?, text?):
            let request = NameBatchSearch.Request(pattern: pattern, text: text, offset: query.offset, limit: query.limit)
            page = try await nameQueues[clients.currentLoop].search(request)
        default:
            return AreaPage(areas: [], total: 0)
        }
        return try await pastTheLastPage(page, query)
    }

    /// Past the last page the window function has no row to ride on: the total is counted separately.
    private func pastTheLastPage(_ page: AreaPage, _ query: AreaQuery) async throws -> AreaPage {
        guard page.areas.isEmpty && query.offset > 0 else { return page }
        var counted = page
        counted.total = try await search(AreaQuery(point: query.point, nameContains: query.nameContains, offset: 0, limit: 1)).total
        return counted
    }

    /// The outlines of these areas, simplified to at most `Outline.maxVertices` vertices each.
    ///
    /// The tolerance starts at 1/512 of the area's larger side (about a braille dot on a wide terminal) and
    /// doubles until the outline fits; an area that fits at no tolerance tried is drawn as its bounding box.
    /// `ST_SimplifyPreserveTopology`, not `ST_Simplify`: rings neither cross nor vanish.
    public func outlines(of ids: [Int64]) async throws -> [Int64: Outline] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await client.query("""
            SELECT a.id, ST_NPoints(a.geom),
                   coalesce((SELECT ST_AsGeoJSON(s.g, 4)
                             FROM unnest(ARRAY[1, 2, 4, 8, 16, 32, 64]::float8[]) WITH ORDINALITY AS f(factor, n),
                                  LATERAL (SELECT ST_SimplifyPreserveTopology(a.geom, f.factor *
                                              greatest(ST_XMax(a.geom) - ST_XMin(a.geom), ST_YMax(a.geom) - ST_YMin(a.geom)) / 512) AS g) s
                             WHERE ST_NPoints(s.g) <= \(Outline.maxVertices)
                             ORDER BY f.n LIMIT 1),
                            ST_AsGeoJSON(ST_Envelope(a.geom), 4))
            FROM area a WHERE a.id = ANY(\(ids))
            """, logger: logger)
        var outlines: [Int64: Outline] = [:]
        for try await (id, vertices, geoJSON) in rows.decode((Int64, Int, String).self) {
            outlines[id] = Outline(rings: try GeoJSONRings.parse(geoJSON), sourceVertices: vertices)
        }
        return outlines
    }

    /// How many areas the store holds.
    public func count() async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM area", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}

/// id, name, kind, code, source, and the total number of matches (a window count over every row).
typealias AreaRow = (Int64, String, String, String?, String, Int)

extension AreaPage {
    /// A row of a search statement: its area, and the total that every row carries.
    mutating func append(_ row: AreaRow) {
        areas.append(Area(id: row.0, name: row.1, kind: row.2, code: row.3, source: row.4))
        total = row.5
    }
}
