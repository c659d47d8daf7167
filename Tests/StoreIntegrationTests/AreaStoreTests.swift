import Logging
import PostgresNIO
import StackSupport
import Store
import Testing

/// Against the stack's PostgreSQL + PostGIS with the Natural Earth demo data.
@Suite struct AreaStoreTests {
    func withStore(_ body: @Sendable (AreaStore) async throws -> Void) async throws {
        try await Stack.ensureUp()
        let client = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(AreaStore(client: client))
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

    /// Two nested squares in open Atlantic water (no real area there): the smaller must come first.
    @Test func smallerAreasComeFirst() async throws {
        try await Stack.ensureUp()
        let client = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        let source = "test-\(UInt32.random(in: 0...UInt32.max))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            for (name, half) in [("Outer", 5.0), ("Inner", 1.0)] {
                try await client.query("""
                    INSERT INTO area (source, kind, code, name, geom)
                    VALUES (\(source), 'state', NULL, \(name),
                            ST_Multi(ST_MakeEnvelope(\(-30 - half), \(-half), \(-30 + half), \(half), 4326)))
                    """)
            }
            let found = try await AreaStore(client: client).areas(containingLatitude: 0.5, longitude: -30.5)
            try await client.query("DELETE FROM area WHERE source = \(source)")
            #expect(found.map(\.name) == ["Inner", "Outer"])
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
