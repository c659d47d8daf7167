import Logging
import PostgresNIO
import StackSupport
import Store
import Synchronization
import Testing

/// Against the stack's PostgreSQL + PostGIS with the Natural Earth demo data.
@Suite(.timeLimit(.minutes(5))) struct AreaStoreTests {
    func withStore(_ body: @Sendable (AreaStore) async throws -> Void) async throws {
        // A patient batch limit: these test answers, not the limit, and the store's 2 s default was missed
        // once in CI's busy first 30 s (an outline query).
        try await withClient { try await body(AreaStore(client: $0, batchTimeLimit: { .seconds(30) })) }
    }

    /// A client on the stack's database with the schema migrated (a no-op once `scripts/stack up` ran).
    func withClient(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        try await Stack.ensureUp()
        let client = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await MigrationRunner(client: client).migrate()
            try await body(client)
        }
    }

    /// Inserts test areas under a source of their own, runs `body`, then removes them.
    func withAreas(_ areas: [(name: String, geometrySQL: String)],
                   _ body: @Sendable (AreaStore, String) async throws -> Void) async throws {
        try await withAreasAndClient(areas) { client, source in try await body(AreaStore(client: client), source) }
    }

    /// The same, handing `body` the client.
    func withAreasAndClient(_ areas: [(name: String, geometrySQL: String)],
                            _ body: @Sendable (PostgresClient, String) async throws -> Void) async throws {
        let source = "test-\(UInt32.random(in: 0...UInt32.max))"
        try await withClient { client in
            for area in areas {
                try await client.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO area (source, kind, code, name, geom)
                    VALUES ($1, 'state', NULL, $2, ST_Multi(\(area.geometrySQL)))
                    """, binds: {
                        var binds = PostgresBindings()
                        binds.append(source, context: .default)
                        binds.append(area.name, context: .default)
                        return binds
                    }()))
            }
            do {
                try await body(client, source)
            } catch {
                try await client.query("DELETE FROM area WHERE source = \(source)")
                throw error
            }
            try await client.query("DELETE FROM area WHERE source = \(source)")
        }
    }

    /// A new, empty database of its own (named `prefix` and a random number) for `body`, dropped after.
    func withScratchDatabase(_ prefix: String, _ body: @Sendable (StoreConfiguration) async throws -> Void) async throws {
        let database = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try await withClient { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
            var configuration = StoreConfiguration()
            configuration.database = database
            do {
                try await body(configuration)
            } catch {
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
                throw error
            }
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
        }
    }

    /// A scratch database with the schema and one area, Squareland (0 0 to 2 2), and a client running on it.
    func withSquareland(_ prefix: String, maximumConnections: Int? = nil,
                        _ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        try await withScratchDatabase(prefix) { configuration in
            var clientConfiguration = configuration.clientConfiguration
            if let maximumConnections { clientConfiguration.options.maximumConnections = maximumConnections }
            let client = PostgresClient(configuration: clientConfiguration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await MigrationRunner(client: client).migrate()
                try await client.query("""
                    INSERT INTO area (source, kind, code, name, geom)
                    VALUES ('test', 'state', NULL, 'Squareland', ST_Multi(ST_MakeEnvelope(0, 0, 2, 2, 4326)))
                    """)
                try await body(client)
            }
        }
    }

    /// On a new, empty database two migrators start at once, as several servers do: the advisory lock
    /// makes one apply every version and the other find nothing left; running again applies nothing.
    @Test func concurrentMigratorsApplyEachVersionOnce() async throws {
        try await withScratchDatabase("opsdeck_migrations") { configuration in
            let client = PostgresClient(configuration: configuration.clientConfiguration)
            try await withThrowingTaskGroup(of: [Int].self) { group in
                group.addTask { await client.run(); return [] }
                let runner = MigrationRunner(client: client)
                let all = StoreSchema.migrations.map(\.version)
                let results = try await withThrowingTaskGroup(of: [Int].self) { racers in
                    racers.addTask { try await runner.migrate() }
                    racers.addTask { try await runner.migrate() }
                    return try await racers.reduce(into: [[Int]]()) { $0.append($1) }
                }
                #expect(results.sorted { $0.count < $1.count } == [[], all])
                let again = try await runner.migrate()
                let recorded = try await runner.appliedVersions()
                #expect(again.isEmpty && recorded == all)
                group.cancelAll()
            }
        }
    }

    /// The prepared point search survives a schema change under it: PostgreSQL refuses the cached plan
    /// ("cached plan must not change result type"), postgres-nio keeps that failure for the connection,
    /// and the search goes out once more unprepared. One connection, so the second search meets it.
    @Test func thePreparedPointSearchSurvivesASchemaChange() async throws {
        try await withSquareland("opsdeck_prepared", maximumConnections: 1) { client in
            let store = AreaStore(client: client)
            let query = AreaQuery(point: GeoPoint(latitude: 1, longitude: 1))
            #expect(try await store.search(query).areas.map(\.name) == ["Squareland"])
            try await client.query("ALTER TABLE area ALTER COLUMN kind TYPE varchar(40)")
            let again = try await store.search(query)
            #expect(again.areas.map(\.name) == ["Squareland"] && again.areas.first?.kind == "state")
        }
    }

    /// A circle of 800 vertices (open Atlantic water, away from any real area) is cut into several pieces, yet a point inside comes back as one area,
    /// and deleting the area takes its pieces with it.
    @Test func bigPolygonsAreCutIntoPiecesAndReturnedOnce() async throws {
        let name = "Roundland \(UInt32.random(in: 0...UInt32.max))"
        let id = Mutex<Int64?>(nil)
        try await withAreas([(name, "ST_Buffer(ST_SetSRID(ST_MakePoint(-25, -10), 4326), 3, 'quad_segs=200')")]) { store, source in
            let found = try await store.search(AreaQuery(point: GeoPoint(latitude: -10, longitude: -25)))
            #expect(found.areas.map(\.name) == [name])
            #expect(found.total == 1)
            id.withLock { $0 = found.areas.first?.id }
        }
        // The area's row is gone: its pieces must be too (ON DELETE CASCADE), counted by the id they
        // pointed to (a join to the deleted row would find none whatever was left).
        let areaID = try #require(id.withLock { $0 })
        try await withClient { client in
            var counted = false
            for try await count in try await client.query("SELECT count(*) FROM area_piece WHERE area_id = \(areaID)").decode(Int.self) {
                #expect(count == 0)
                counted = true
            }
            #expect(counted)
        }
    }

    @Test func piecesFollowTheInsertedPolygon() async throws {
        try await withAreas([("Piecemeal", "ST_Buffer(ST_SetSRID(ST_MakePoint(-20, -50), 4326), 3, 'quad_segs=200')")]) { _, source in
            try await withClient { client in
                let rows = try await client.query("""
                    SELECT count(*) FROM area_piece p JOIN area a ON a.id = p.area_id WHERE a.source = \(source)
                    """)
                for try await count in rows.decode(Int.self) { #expect(count > 1) }
            }
        }
    }

    /// Among prefixes the closer (trigram-similar) name wins: "Qz…ia" before "Qz… North".
    @Test func nameSearchPutsTheExactMatchFirstThenPrefixesThenTheRest() async throws {
        let word = "qz\(UInt32.random(in: 0...UInt32.max))"
        let square = "ST_MakeEnvelope(-40, -40, -39, -39, 4326)"
        try await withAreas([("Old \(word.capitalized)", square), ("\(word.capitalized) North", square),
                             (word.capitalized, square), ("\(word.uppercased())ia", square)]) { store, _ in
            let page = try await store.search(AreaQuery(nameContains: word.uppercased()))
            #expect(page.areas.map(\.name) == [word.capitalized, "\(word.uppercased())ia", "\(word.capitalized) North",
                                               "Old \(word.capitalized)"])
            #expect(page.total == 4)
            let second = try await store.search(AreaQuery(nameContains: word, offset: 2, limit: 2))
            #expect(second.areas.map(\.name) == ["\(word.capitalized) North", "Old \(word.capitalized)"] && second.total == 4)
            let beyond = try await store.search(AreaQuery(nameContains: word, offset: 10, limit: 2))
            #expect(beyond.areas.isEmpty && beyond.total == 4)
            let both = try await store.search(AreaQuery(point: GeoPoint(latitude: -39.5, longitude: -39.5), nameContains: "north \(word)"))
            #expect(both.total == 0)
            let inside = try await store.search(AreaQuery(point: GeoPoint(latitude: -39.5, longitude: -39.5), nameContains: "\(word) north"))
            #expect(inside.areas.map(\.name) == ["\(word.capitalized) North"])
        }
    }

    @Test func likeWildcardsMatchOnlyThemselves() async throws {
        try await withStore { store in
            let percent = try await store.search(AreaQuery(nameContains: "%"))
            let underscore = try await store.search(AreaQuery(nameContains: "_"))
            #expect(percent.total == 0 && underscore.total == 0)
        }
    }

    /// Holds with the default Natural Earth set alone and with the large DCW set loaded beside it.
    @Test func findsTheCountryOfKnownPoints() async throws {
        try await withStore { store in
            let paris = try await store.areas(containingLatitude: 48.8566, longitude: 2.3522)
            #expect(paris.contains { $0.name == "France" && $0.kind == "country" })
            let buenosAires = try await store.areas(containingLatitude: -34.6037, longitude: -58.3816)
            #expect(buenosAires.contains { $0.name == "Argentina" && $0.kind == "country" })
            #expect(buenosAires.contains { $0.code == "ARG" })  // Natural Earth's ISO code
            #expect(!buenosAires.contains { $0.name == "Brazil" || $0.name == "Uruguay" })
        }
    }

    /// The search pane draws these: France's outline holds Paris and fits the vertex bound.
    @Test func franceOutlineContainsParisWithinTheVertexBound() async throws {
        try await withStore { store in
            let france = try #require(try await store.search(AreaQuery(nameContains: "France")).areas.first { $0.name == "France" })
            let outline = try #require(try await store.outlines(of: [france.id])[france.id])
            #expect(outline.contains(GeoPoint(latitude: 48.8566, longitude: 2.3522)))
            #expect(!outline.contains(GeoPoint(latitude: 51.5074, longitude: -0.1278)))  // London
            #expect(outline.vertexCount <= Outline.maxVertices && outline.vertexCount > 10)
            #expect(outline.rings.allSatisfy { $0.first == $0.last })
        }
    }

    /// A polygon with 20,000 vertices is simplified below the bound and keeps its shape (its centre
    /// inside, a point beyond its radius outside); an id with no area gives no outline.
    @Test func aDetailedPolygonIsSimplifiedBelowTheBound() async throws {
        let name = "Manyvertex \(UInt32.random(in: 0...UInt32.max))"
        try await withAreas([(name, "ST_Buffer(ST_SetSRID(ST_MakePoint(-30, -20), 4326), 4, 'quad_segs=5000')")]) { store, _ in
            let area = try #require(try await store.search(AreaQuery(nameContains: name)).areas.first)
            let outlines = try await store.outlines(of: [area.id, -1])
            let outline = try #require(outlines[area.id])
            #expect(outlines.count == 1)
            #expect(outline.sourceVertices > 20_000)
            #expect(outline.vertexCount <= Outline.maxVertices && outline.vertexCount >= 16)
            #expect(outline.contains(GeoPoint(latitude: -20, longitude: -30)))
            #expect(!outline.contains(GeoPoint(latitude: -20, longitude: -25)))
            let bounds = try #require(outline.bounds)
            #expect(abs(bounds.north - -16) < 0.05 && abs(bounds.west - -34) < 0.05)
        }
    }

    /// Two nested squares in open Atlantic water (no real area there): the smaller must come first.
    @Test func smallerAreasComeFirst() async throws {
        try await Stack.ensureUp()
        let client = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        let source = "test-\(UInt32.random(in: 0...UInt32.max))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Squares a run killed before its DELETE left behind would come first, and push this run's out of
            // the page; no other test puts areas in this water.
            try await client.query("DELETE FROM area WHERE source LIKE 'test-%' AND name IN ('Outer', 'Inner')")
            for (name, half) in [("Outer", 5.0), ("Inner", 1.0)] {
                try await client.query("""
                    INSERT INTO area (source, kind, code, name, geom)
                    VALUES (\(source), 'state', NULL, \(name),
                            ST_Multi(ST_MakeEnvelope(\(-30 - half), \(-half), \(-30 + half), \(half), 4326)))
                    """)
            }
            let found = try await AreaStore(client: client).areas(containingLatitude: 0.5, longitude: -30.5)
            try await client.query("DELETE FROM area WHERE source = \(source)")
            // Only this run's squares: another run may be between its INSERTs and its DELETE.
            #expect(found.filter { $0.source == source }.map(\.name) == ["Inner", "Outer"])
        }
    }

    @Test func swappedCoordinatesAreNotSilentlyAccepted() async throws {
        try await withStore { store in
            // (lat 2.35, lng 48.86) is in the Indian Ocean off Somalia: nothing, not France.
            let swapped = try await store.areas(containingLatitude: 2.3522, longitude: 48.8566)
            #expect(!swapped.contains { $0.name == "France" })
            let ocean = try await store.areas(containingLatitude: -40, longitude: -20)
            #expect(ocean.isEmpty)
        }
    }

    @Test func holdsTheWholeDemoSet() async throws {
        try await withStore { store in
            let count = try await store.count()
            #expect(count >= 177)
        }
    }
}
