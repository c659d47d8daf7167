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
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                     database: database, tls: .disable)
    }
}
