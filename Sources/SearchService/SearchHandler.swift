import Deadlines
import GRPCCore
import Logging
import Metrics
import PostgresNIO
import SearchAPI
import Store
import SwiftProtobuf
import Telemetry

/// What the handler needs from the store; `AreaStore` is the PostGIS implementation.
public protocol AreaSearching: Sendable {
    func search(_ query: AreaQuery) async throws -> AreaPage
    /// Simplified outlines, asked for only by requests with `with_outline`.
    func outlines(of ids: [Int64]) async throws -> [Int64: Outline]
    func count() async throws -> Int
}

extension AreaStore: AreaSearching {}

/// Live settings and counters the handler reads on every call.
public protocol ServerContextProviding: Sendable {
    var settings: ServerSettings { get }
    var logRecordsDropped: Int { get }
    var metricsDropped: Int { get }
}

/// The `Search` service: `search` over the store with validation and deadlines, `monitor` for operators.
public struct SearchHandler: Search.SimpleServiceProtocol {
    public static let version = "0.4.0"

    private let store: any AreaSearching
    private let context: any ServerContextProviding
    private let stats: RequestStats
    /// Store calls abandoned at their deadline and still running (bounded: see `withDeadline`).
    private let abandoned: AbandonedOperations
    private let instanceID: String
    private let started: ContinuousClock.Instant
    private let logger: Logger

    // Each metric twice: service-wide (every instance sends the same name, collectd sums them) and under
    // the instance's own name, so a chart can show which instance is slow.
    private let searches: [Counter]
    private let latency: [Metrics.Timer]
    private let monitors: [Counter]
    private let things: [Gauge]
    private let logDrops: [Gauge]

    public init(store: any AreaSearching, context: any ServerContextProviding, stats: RequestStats,
                instanceID: String, logger: Logger, abandoned: AbandonedOperations = AbandonedOperations()) {
        self.store = store
        self.abandoned = abandoned
        self.context = context
        self.stats = stats
        self.instanceID = instanceID
        self.started = .now
        self.logger = logger
        func both(_ metric: String) -> [String] { ["search_\(metric)", CollectdPaths.instanceStatsDName(metric, instance: instanceID)] }
        searches = both("requests").map { Counter(label: $0) }
        latency = both("latency").map { Metrics.Timer(label: $0) }
        monitors = both("monitor_requests").map { Counter(label: $0) }
        things = both("n_things").map { Gauge(label: $0) }
        logDrops = both("log_records_dropped").map { Gauge(label: $0) }
    }

    /// Errors by code, service-wide and for this instance.
    private func countError(_ code: RPCError.Code) {
        let name = Self.metricName(code)
        for label in ["search_errors", CollectdPaths.instanceStatsDName("errors", instance: instanceID)] {
            Counter(label: label, dimensions: [("code", name)]).increment()
        }
    }

    public func search(request: SearchRequest, context serverContext: ServerContext) async throws -> SearchResponses {
        let clock = ContinuousClock()
        let start = clock.now
        let settings = context.settings
        do {
            let query = try SearchValidation.areaQuery(from: request, limits: settings.pageLimits)
            if settings.simulatedLatencyMilliseconds > 0 {
                try await Task.sleep(for: .milliseconds(settings.simulatedLatencyMilliseconds))
            }
            let page = try await storeCall(settings) { [store] in try await store.search(query) }
            let outlines = request.withOutline && !page.areas.isEmpty
                ? try await storeCall(settings) { [store] in try await store.outlines(of: page.areas.map(\.id)) } : [:]
            let elapsed = clock.now - start
            stats.record(milliseconds: elapsed.milliseconds, failed: false)
            searches.forEach { $0.increment() }
            latency.forEach { $0.recordNanoseconds(elapsed.nanoseconds) }
            logger.debug("search", metadata: [
                "query": "\(query.nameContains ?? "")", "point": "\(query.point.map { "\($0.latitude),\($0.longitude)" } ?? "")",
                "results": "\(page.areas.count)", "total": "\(page.total)", "ms": "\(elapsed.milliseconds)",
            ])
            return SearchResponses.with { responses in
                responses.responses = page.areas.map { area in
                    SearchResponse.with {
                        $0.response = area.name
                        $0.id = area.id
                        $0.kind = area.kind
                        $0.code = area.code ?? ""
                        $0.source = area.source
                        if let outline = outlines[area.id] { $0.outline = Self.wire(outline) }
                    }
                }
                responses.total = Int32(clamping: page.total)
                responses.pageNumber = Int32(clamping: query.offset / query.limit + 1)
                responses.resultPerPage = Int32(clamping: query.limit)
                responses.instanceID = instanceID
            }
        } catch {
            let reference = Self.newReference()
            let rpcError = Self.rpcError(for: error, reference: reference)
            let elapsed = clock.now - start
            stats.record(milliseconds: elapsed.milliseconds, failed: true)
            searches.forEach { $0.increment() }
            countError(rpcError.code)
            var metadata: Logger.Metadata = ["code": "\(rpcError.code)", "reason": "\(rpcError.message)"]
            if rpcError.message.contains("(ref \(reference))") {
                metadata["ref"] = "\(reference)"
                metadata["detail"] = "\(String(reflecting: error))"  // what the client is not told
            }
            logger.log(level: rpcError.code == .invalidArgument ? .debug : .warning, "search failed", metadata: metadata)
            throw rpcError
        }
    }

    public func monitor(request: Google_Protobuf_Empty, context serverContext: ServerContext) async throws -> MonitorResponse {
        monitors.forEach { $0.increment() }
        let settings = context.settings
        var storeStatus = "ok"
        var count = 0
        do {
            count = try await storeCall(settings) { [store] in try await store.count() }
            things.forEach { $0.record(count) }
        } catch {
            let reference = Self.newReference()
            storeStatus = Self.rpcError(for: error, reference: reference).message
            if storeStatus.contains("(ref \(reference))") {  // the detail the status does not give
                logger.warning("monitor: store check failed", metadata: ["ref": "\(reference)", "detail": "\(String(reflecting: error))"])
            }
        }
        let snapshot = stats.snapshot()
        let dropped = context.logRecordsDropped
        logDrops.forEach { $0.record(dropped) }
        return MonitorResponse.with {
            $0.nThings = Int32(clamping: count)
            $0.uptimeSeconds = (ContinuousClock.now - started).asSeconds
            $0.requests = snapshot.requests
            $0.errors = snapshot.errors
            $0.latencyP50Ms = snapshot.p50
            $0.latencyP99Ms = snapshot.p99
            $0.version = Self.version
            $0.instanceID = instanceID
            $0.storeStatus = storeStatus
            $0.logRecordsDropped = Int64(dropped)
            $0.logLevel = settings.logLevel.rawValue
            $0.metricsDropped = Int64(context.metricsDropped)
            $0.storeCallsAbandoned = Int64(abandoned.count)
            $0.settings = settings.values
        }
    }

    static func wire(_ outline: Outline) -> AreaOutline {
        AreaOutline.with {
            $0.sourceVertices = Int32(clamping: outline.sourceVertices)
            $0.rings = outline.rings.map { ring in
                OutlineRing.with {
                    $0.lat = ring.map { Float($0.latitude) }
                    $0.lng = ring.map { Float($0.longitude) }
                }
            }
        }
    }

    /// A store call under the configured deadline.
    private func storeCall<T: Sendable>(_ settings: ServerSettings,
                                        _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withDeadline(.milliseconds(settings.storeTimeoutMilliseconds), abandoned: abandoned, body)
    }

    /// The status a client sees for a failure: its own RPCError, or UNAVAILABLE for a store that does not
    /// answer, or INTERNAL for a store that answers with an error (a bug, not an outage).
    ///
    /// The store's own words (PostgreSQL's error text, a connection error naming hosts) are not the
    /// client's business: it gets a reference, and the log line with the same reference has the detail.
    static func rpcError(for error: any Error, reference: String) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as DeadlineExceeded:
            return RPCError(code: .unavailable, message: "store unreachable: \(error)")
        case let error as TooManyAbandoned:
            return RPCError(code: .unavailable, message: "store unreachable: \(error)")
        case let error as PSQLError where error.code == .server:
            if let state = error.serverInfo?[.sqlState], isOutage(sqlState: state) {
                return RPCError(code: .unavailable, message: "store unavailable (ref \(reference))")
            }
            return RPCError(code: .internalError, message: "store error (ref \(reference))")
        case is CancellationError:
            return RPCError(code: .cancelled, message: "call cancelled")
        default:
            return RPCError(code: .unavailable, message: "store unreachable (ref \(reference))")
        }
    }

    /// An error PostgreSQL sends as it goes away or is not there yet: 57P01 "terminating connection due to
    /// administrator command" (a restart), 57P02 (a crash), 57P03 "the database system is starting up", and
    /// class 08, connection exceptions (but 08P01, a protocol violation: a bug). An outage, not a bug:
    /// UNAVAILABLE, which callers retry elsewhere or later. Not 57014 (a statement cancelled or timed out:
    /// another instance would run the same slow query on the same database) nor 57P04 (database dropped).
    /// Seen in `scripts/chaos postgres`: a restart under load ended prepared-statement calls with 57P01,
    /// which had been reported as INTERNAL.
    public static func isOutage(sqlState: String) -> Bool {
        ["57P01", "57P02", "57P03"].contains(sqlState) || (sqlState.hasPrefix("08") && sqlState != "08P01")
    }

    /// Eight hex digits: enough to find one failure's line among a day's logs.
    static func newReference() -> String {
        String(format: "%08x", UInt32.random(in: 0...UInt32.max))
    }

    static func metricName(_ code: RPCError.Code) -> String {
        String(describing: code).map { $0.isUppercase ? "_" + $0.lowercased() : String($0) }.joined()
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15 }
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    var asSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
