import PostgresNIO

/// Where the PostGIS store is, from the environment or explicit values.
public struct StoreConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    /// Defaults match the local stack (scripts/stack): 127.0.0.1:5434, user postgres, database opsdeck.
    public init(host: String = "127.0.0.1", port: Int = 5434, user: String = "postgres",
                password: String? = nil, database: String = "opsdeck") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Reads the standard libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) over the defaults.
    public static func fromEnvironment(_ env: [String: String]) -> StoreConfiguration {
        var config = StoreConfiguration()
        if let host = env["PGHOST"], !host.isEmpty { config.host = host }
        if let port = env["PGPORT"].flatMap(Int.init) { config.port = port }
        if let user = env["PGUSER"], !user.isEmpty { config.user = user }
        if let password = env["PGPASSWORD"] { config.password = password }
        if let database = env["PGDATABASE"], !database.isEmpty { config.database = database }
        return config
    }

    /// A postgres-nio client configuration (plain TCP: the store is on loopback or a private network).
    ///
    /// Prepared statements are planned once, for any parameters (`plan_cache_mode = force_generic_plan`).
    /// Left to choose, PostgreSQL plans the batched searches (`SearchBatches`) again on every call: it
    /// costs their generic plan for 100 elements in each array and a custom plan for the few really sent,
    /// so the generic plan never looks cheaper, and planning took 0.25 ms of a 0.35 ms search (psql,
    /// `EXECUTE` of one point: 0.32-0.39 ms under `auto`, 0.10-0.13 forced, as the one-point statement).
    /// The generic plans keep their indexes (`EXPLAIN EXECUTE` under the setting): GiST for points, trigram
    /// for names, both for the point-and-name query, the primary key for outlines. The setting applies to
    /// every statement of the session, the unnamed ones of `query` too.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                                         database: database, tls: .disable)
        configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan")]
        return configuration
    }

    /// A fixed-size pool of `connections`, opened at start and kept, without keep-alive pings: what a
    /// server under load wants. postgres-nio's defaults (none kept, up to 20, a ping every 30 s) start an
    /// idle-timeout timer and a keep-alive timer, each a sleeping task, every time a connection goes back
    /// to the pool, that is after every query, and cancel them at the next: one search in six was spent
    /// on them under load (scripts/bench-search; ~18 % more calls/s without). A connection PostgreSQL
    /// closes is seen at once on its socket. One that dies silently (a firewall dropping idle flows) is
    /// found only by a query sent on it: that call fails at its store deadline and the connection stays
    /// taken until TCP gives up. Where a network does that, enable TCP keep-alive on the host.
    public func serverClientConfiguration(connections: Int) -> PostgresClient.Configuration {
        var configuration = clientConfiguration
        configuration.options.minimumConnections = connections
        configuration.options.maximumConnections = connections
        configuration.options.keepAliveBehavior = nil
        return configuration
    }
}
