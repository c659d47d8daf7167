import Logging
import PostgresNIO
import SearchAPI
import StackSupport
@testable import Store
import Testing

/// Servers starting together take turns at the schema (an advisory lock), minutes for a first migration of
/// a large data set: a server waiting for its turn serves searches meanwhile, even with one store
/// connection per event loop, and stops when told to without waiting for the other's migration.
@Suite(.timeLimit(.minutes(2))) struct MigrationLockTests {
    static let waitingLine = "waiting for another migrator to finish"

    @Test func searchesAnswerWhileTheMigrationWaitsForTheLock() async throws {
        try await whileAnotherMigratorHoldsTheLock { database in
            let server = try ServerProcess(service: uniqueService(), flags: ["--store-connections", "2"],
                                           environment: ["PGDATABASE": database])
            do {
                let port = try await server.port()
                _ = try await server.waitForLine(containing: Self.waitingLine)
                for _ in 1...3 {  // three connections: they land on the server's loops in turn
                    try await withSearchClient(port: port) { search in
                        for _ in 1...2 {
                            let page = try await search.search(.with { $0.lat = 48.8566; $0.lng = 2.3522 })
                            #expect(page.responses.isEmpty && page.total == 0)  // an empty table: answered, not failed
                        }
                    }
                }
            } catch {
                Issue.record("server log: \(server.log)")
                server.signal(SIGTERM)
                _ = try? await server.waitForExit()
                throw error
            }
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    /// `pg_advisory_lock` cannot be cancelled: a server waiting in it ignored SIGTERM until its shutdown's
    /// own time limit (10 s) cut everything short, and exited with an error. Now it stops at once.
    @Test func aServerWaitingForTheLockStopsWhenTold() async throws {
        try await whileAnotherMigratorHoldsTheLock { database in
            let server = try ServerProcess(service: uniqueService(), environment: ["PGDATABASE": database])
            do {
                _ = try await server.waitForLine(containing: Self.waitingLine)
                server.signal(SIGTERM)
                #expect(try await server.waitForExit(timeout: .seconds(5)) == 0)
            } catch {
                Issue.record("server log: \(server.log)")
                server.signal(SIGKILL)
                _ = try? await server.waitForExit()
                throw error
            }
        }
    }

    /// Runs `body` with the name of a scratch database (migrated, empty) whose migration lock another
    /// session holds throughout; drops the database after.
    func whileAnotherMigratorHoldsTheLock(_ body: (String) async throws -> Void) async throws {
        try await Stack.ensureUp()
        // A database of its own: advisory locks are per database, so no other suite's server waits here.
        let database = "opsdeck_migration_lock_\(UInt32.random(in: 0...UInt32.max))"
        var scratch = StoreConfiguration()
        scratch.database = database
        let admin = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        let holder = PostgresClient(configuration: scratch.clientConfiguration)
        let logger = Logger(label: "test")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await admin.run() }
            tasks.addTask { await holder.run() }
            defer { tasks.cancelAll() }
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
            do {
                try await MigrationRunner(client: holder).migrate()  // the schema, so that searches find their table
                try await holder.withConnection { connection in
                    _ = try await connection.query("SELECT pg_advisory_lock(\(MigrationRunner.lockKey))", logger: logger).collect()
                    try await body(database)
                    _ = try await connection.query("SELECT pg_advisory_unlock(\(MigrationRunner.lockKey))", logger: logger).collect()
                }
            } catch {
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
                throw error
            }
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(database) WITH (FORCE)"))
        }
    }
}
