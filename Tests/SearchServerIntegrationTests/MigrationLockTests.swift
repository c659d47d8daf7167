import Logging
import PostgresNIO
import SearchAPI
import StackSupport
@testable import Store
import Testing

/// Servers starting together take turns at the schema (an advisory lock), minutes for a first migration of
/// a large data set: a server waiting for its turn serves searches meanwhile, even with one store
/// connection per event loop.
@Suite(.timeLimit(.minutes(2))) struct MigrationLockTests {
    @Test func searchesAnswerWhileTheMigrationWaitsForTheLock() async throws {
        try await Stack.ensureUp()
        let holder = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await holder.run() }
            defer { tasks.cancelAll() }
            try await holder.withConnection { connection in
                let logger = Logger(label: "test")
                _ = try await connection.query("SELECT pg_advisory_lock(\(MigrationRunner.lockKey))", logger: logger).collect()
                let server = try ServerProcess(service: uniqueService(), flags: ["--store-connections", "2"])
                do {
                    let port = try await server.port()
                    let waiting = try await eventually { () -> Int? in
                        let rows = try await holder.query("SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                        let count = try await rows.collect().first?.decode(Int.self) ?? 0
                        return count > 0 ? count : nil
                    }
                    #expect(waiting != nil, "the server's migration never waited for the lock")
                    // Connections one after another land on the server's loops in turn: searches on each.
                    for _ in 1...3 {
                        try await withSearchClient(port: port) { search in
                            for _ in 1...2 {
                                let paris = try await search.search(.with { $0.lat = 48.8566; $0.lng = 2.3522 })
                                #expect(paris.responses.contains { $0.response == "France" })
                            }
                        }
                    }
                } catch {
                    Issue.record("server log: \(server.log)")
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(MigrationRunner.lockKey))", logger: logger).collect()
                    server.signal(SIGTERM)
                    throw error
                }
                _ = try await connection.query("SELECT pg_advisory_unlock(\(MigrationRunner.lockKey))", logger: logger).collect()
                server.signal(SIGTERM)
                #expect(try await server.waitForExit() == 0)
            }
        }
    }
}
