import Logging
import PostgresNIO

/// Applies `StoreSchema.migrations` that a database has not seen yet (the Alembic role).
///
/// Several servers may start at once against one database: a session advisory lock makes them take turns,
/// and each migration commits together with its row in `schema_migrations`, so a crash never leaves a
/// half-applied version recorded.
public struct MigrationRunner: Sendable {
    /// Arbitrary, fixed key of the advisory lock ("opsdeck" in ASCII).
    static let lockKey: Int64 = 0x6F70_7364_6563_6B

    private let client: PostgresClient
    private let logger: Logger
    private let migrations: [Migration]
    /// How often to ask again for the lock while another migrator holds it.
    static let lockPoll: Duration = .milliseconds(250)

    public init(client: PostgresClient, migrations: [Migration] = StoreSchema.migrations,
                logger: Logger = Logger(label: "opsdeck.migrations")) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies what is missing, in version order; returns the versions it applied. While another migrator
    /// holds the lock, waits (saying so once in the log) until it is released or the task is cancelled.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await client.withConnection { connection in
            do {
                try await lock(on: connection)
                let applied = try await apply(on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).collect()
                return applied
            } catch {
                // The connection goes back to the pool: it must not keep the session's lock, even when the
                // task was cancelled between PostgreSQL granting it and its answer being read (unlocking a
                // lock it does not hold only makes PostgreSQL log a warning).
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger).collect()
                throw error
            }
        }
    }

    /// Takes the lock by asking again every `lockPoll`: a task waiting in `pg_advisory_lock` cannot be
    /// cancelled (postgres-nio does not cancel a running statement), so a server told to stop during
    /// another's minutes-long first migration would wait for that migration to end.
    private func lock(on connection: PostgresConnection) async throws {
        var said = false
        while true {
            let rows = try await connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))", logger: logger)
            for try await locked in rows.decode(Bool.self) where locked { return }
            if !said {
                logger.notice("waiting for another migrator to finish (it holds the migration lock)")
                said = true
            }
            try await Task.sleep(for: Self.lockPoll)
        }
    }

    /// The versions recorded as applied.
    public func appliedVersions() async throws -> [Int] {
        try await client.withConnection { try await recorded(on: $0) }
    }

    private func apply(on connection: PostgresConnection) async throws -> [Int] {
        _ = try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger).collect()
        let done = Set(try await recorded(on: connection))
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(migration.version) {
            logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            _ = try await connection.query("BEGIN", logger: logger).collect()
            do {
                for statement in migration.statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger).collect()
                _ = try await connection.query("COMMIT", logger: logger).collect()
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger).collect()
                throw MigrationError(version: migration.version, name: migration.name, underlying: error)
            }
            applied.append(migration.version)
        }
        return applied
    }

    private func recorded(on connection: PostgresConnection) async throws -> [Int] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return [] }
        var versions: [Int] = []
        for try await version in try await connection.query(
            "SELECT version FROM schema_migrations ORDER BY version", logger: logger).decode(Int.self) {
            versions.append(version)
        }
        return versions
    }
}

/// A migration failed and was rolled back.
public struct MigrationError: Error, CustomStringConvertible {
    public var version: Int
    public var name: String
    public var underlying: any Error

    public var description: String {
        let reason = (underlying as? PSQLError).map { String(reflecting: $0) } ?? "\(underlying)"
        return "migration \(version) (\(name)) failed and was rolled back: \(reason)"
    }
}
