import Logging
import PostgresNIO

/// Queries over the `area` table of named polygons. Every value is a bound parameter.
public struct AreaStore: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    /// The caller runs `client.run()` (in a task or service group) for as long as the store is used.
    public init(client: PostgresClient, logger: Logger = Logger(label: "opsdeck.store")) {
        self.client = client
        self.logger = logger
    }

    /// Areas whose polygon contains the point, smallest first (a state before its country).
    public func areas(containingLatitude latitude: Double, longitude: Double, limit: Int = 10) async throws -> [Area] {
        // WKT order is (x y) = (longitude latitude).
        let rows = try await client.query("""
            SELECT id, name, kind, code FROM area
            WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(\(longitude), \(latitude)), 4326))
            ORDER BY ST_Area(geom), id
            LIMIT \(limit)
            """, logger: logger)
        var areas: [Area] = []
        for try await (id, name, kind, code) in rows.decode((Int64, String, String, String?).self) {
            areas.append(Area(id: id, name: name, kind: kind, code: code))
        }
        return areas
    }

    /// How many areas the store holds.
    public func count() async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM area", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
