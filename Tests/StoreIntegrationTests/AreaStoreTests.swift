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

    @Test func findsTheCountryOfKnownPoints() async throws {
        try await withStore { store in
            let paris = try await store.areas(containingLatitude: 48.8566, longitude: 2.3522)
            #expect(paris.map(\.name) == ["France"])
            let buenosAires = try await store.areas(containingLatitude: -34.6037, longitude: -58.3816)
            #expect(buenosAires.map(\.name) == ["Argentina"])
            #expect(buenosAires.first?.code == "ARG")
            #expect(buenosAires.first?.kind == "country")
        }
    }

    @Test func swappedCoordinatesAreNotSilentlyAccepted() async throws {
        try await withStore { store in
            // (lat 2.35, lng 48.86) is in the Indian Ocean off Somalia: nothing, not France.
            let swapped = try await store.areas(containingLatitude: 2.3522, longitude: 48.8566)
            #expect(!swapped.contains { $0.name == "France" })
            let ocean = try await store.areas(containingLatitude: 0, longitude: -30)
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
