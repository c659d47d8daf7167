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
        // A database of its own: advisory locks are per database, so no other suite's server waits here.
        let database = "opsdeck_migration_lock_\(UInt32.random(in: 0...UInt32.max))"
        var scratch = StoreConfiguration()
        scratch.database = database
        let admin = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        let holder = PostgresClient(configuration: scratch.clientConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await admin.run() }
            tasks.addTask { await holder.run() }
            defer { tasks.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
            do {
                try await MigrationRunner(client: holder).migrate()  // the schema, so that searches find their table
                try await holder.withConnection { connection in try await searchWhileLocked(database, connection, holder) }
            } catch {
                try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
                throw error
            }
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
        }
    }

    /// Holds the migration lock on `connection`, starts a server on `database`, and searches over three
    /// connections (they land on the server's loops in turn).
    func searchWhileLocked(_ database: String, _ connection: PostgresConnection, _ holder: PostgresClient) async throws {
        let logger = Logger(label: "test")
        _ = try await connection.query("SELECT pg_advisory_lock(\(MigrationRunner.lockKey))", logger: logger).collect()
        let server = try ServerProcess(service: uniqueService(), flags: ["--store-connections", "2"],
                                       environment: ["PGDATABASE": database])
        do {
            let port = try await server.port()
            let waiting = try await eventually { () -> Int? in
                let rows = try await holder.query("""
                    SELECT count(*)::int FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                    WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = \(database)
                    """)
                let count = try await rows.collect().first?.decode(Int.self) ?? 0
                return count > 0 ? count : nil
            }
            #expect(waiting == 1, "the server's migration did not wait for the lock")
            for _ in 1...3 {
                try await withSearchClient(port: port) { search in
                    for _ in 1...2 {
                        let page = try await search.search(.with { $0.lat = 48.8566; $0.lng = 2.3522 })
                        #expect(page.responses.isEmpty && page.total == 0)  // an empty table: answered, not failed
                    }
                }
            }
        } catch {
            Issue.record("server log: \(server.log)")
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(MigrationRunner.lockKey))", logger: logger).collect()
            server.signal(SIGTERM)
            _ = try? await server.waitForExit()
            throw error
        }
        _ = try await connection.query("SELECT pg_advisory_unlock(\(MigrationRunner.lockKey))", logger: logger).collect()
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }
}
