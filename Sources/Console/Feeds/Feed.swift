import ConsulModels
import LogLines
import SearchModels
import TUI

/// A long-running input the console can want: a value that names the work, not the work itself.
///
/// Panes say which feeds they want now (`Pane.subscriptions`); after every update the runtime starts the
/// feeds that became wanted and cancels the ones that are no longer wanted. Two panes that want the same
/// feed share it: a set has no duplicates.
public enum Feed: Hashable, Sendable {
    /// The service catalog (one blocking query).
    case services
    /// Every health check of every service (one blocking query, however many services there are).
    case checks
    /// One service's instances with their checks.
    case health(service: String)
    /// One instance's Monitor RPC, polled.
    case monitor(instance: String, address: String)
    /// One chart's series from Graphite's render API, refreshed at the range's resolution.
    case graphite(GraphiteQuery)
    /// The metric paths a Graphite pattern matches (what `:metric`'s Tab has typed, and "*"), asked when a
    /// Tab waits for them: the level typed and the start of a name, so a fleet's thousands of series are
    /// not fetched by every console every minute. Wanted until the answer comes (tried again on failure).
    case metricNames(matching: String)
    /// A service's dashboard file, read once (no file: the built-in dashboard).
    case dashboard(service: String)
    /// A log topic's records, merged across partitions in time order (`opsdeck tail`'s merge).
    case logs(LogQuery)
    /// One search, sent once; its answer (or failure) is its only report.
    case search(SearchCall)
    /// Every key under a KV prefix (one blocking query).
    case kv(prefix: String)

    /// Which line of the status bar reports it (nil: none; its failures are messages).
    public var kind: FeedKind? {
        switch self {
        case .services: return .services
        case .checks: return .checks
        case .health: return .instances
        case .monitor: return .monitor
        case .graphite, .metricNames: return .graphite
        case .dashboard, .search: return nil
        case .logs: return .logs
        case .kv: return .config
        }
    }
}

/// A change to Consul KV the config pane asks for, check-and-set on the ModifyIndex it showed. A one-shot
/// effect, not a feed: hiding the pane or selecting another service must not cancel a write on its way
/// (or send it again when the pane comes back).
public struct KVWrite: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        case put([UInt8])
        /// A key, or with `recurse` a folder and everything in it.
        case delete(recurse: Bool)
    }
    public var key: String
    public var operation: Operation
    /// Only if the key's ModifyIndex is still this (0: only if the key does not exist); nil: unconditionally
    /// (a folder's delete, which has no index of its own).
    public var cas: UInt64?
    /// The flags to store with a value: the key's own, kept (Consul sets 0 when a write gives none).
    public var flags: UInt64?
    /// Two writes of the same value are two writes.
    public var sequence: Int

    public init(key: String, operation: Operation, cas: UInt64?, flags: UInt64? = nil, sequence: Int) {
        self.key = key
        self.operation = operation
        self.cas = cas
        self.flags = flags
        self.sequence = sequence
    }
}

/// What became of a `KVWrite`.
public enum KVWriteResult: Equatable, Sendable {
    case written
    /// Someone changed the key since it was shown: nothing was written. Theirs is the key now (nil: gone).
    case conflict(theirs: KVPair?)
    case failed(String)
}

/// Which records a logs pane reads: a topic, from where.
public struct LogQuery: Hashable, Sendable {
    public var topic: String
    public var start: TailStart
    /// Bumped to read again from the same start (`:logs end` twice): a new feed, not the running one.
    public var generation: Int

    public init(topic: String, start: TailStart, generation: Int = 0) {
        self.topic = topic
        self.start = start
        self.generation = generation
    }
}

/// The status bar's lines: feeds of one kind share one (every instance's Monitor is one line).
public enum FeedKind: String, CaseIterable, Sendable, Comparable {
    case services, checks, instances, monitor, graphite, logs, config

    public static func < (a: FeedKind, b: FeedKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a feed reports: domain values, and its own failures.
public enum FeedEvent: Equatable, Sendable {
    case services([String: [String]], at: Int64)
    case checks([HealthCheck], at: Int64)
    case health(service: String, [ServiceEntry], at: Int64)
    case monitor(instance: String, MonitorSample)
    /// A polling round over every wanted instance ended.
    case monitorRound(ok: Int, failed: Int, at: Int64)
    case graphite(GraphiteQuery, [MetricSeries], at: Int64)
    /// The pattern's paths: a series by its path, a branch by its path and a ".".
    case metricNames(matching: String, [String], at: Int64)
    /// The dashboard file's text, nil when there is none.
    case dashboard(service: String, text: String?)
    /// Records in merged order, made into the pane's lines where they were read, off the UI thread (none:
    /// the tail is reading and live).
    case logs(LogQuery, LogBatch, at: Int64)
    /// Records read but dropped before the pane took them (the UI fell behind by more than it holds).
    case logsDropped(LogQuery, count: Int)
    /// Records written to the topic and not read yet (0: caught up).
    case logsBehind(LogQuery, records: Int64, at: Int64)
    case search(SearchCall, Result<SearchAnswer, SearchFailure>)
    /// The keys under a prefix, with values, after every change.
    case kv(prefix: String, [KVPair], at: Int64)
    /// What became of a `.writeKV` effect (always delivered: a write is not a feed that can stop).
    case kvWritten(KVWrite, KVWriteResult)
    /// The feed could not read; it retries on its own.
    case failed(Feed, reason: String, retryInMilliseconds: Int64, at: Int64)
    /// The feed runs and waits for what is not there yet (a log topic nothing has written to: a service
    /// that ships no logs, or not yet): a state to show, not a failure.
    case waiting(Feed, reason: String, at: Int64)
    /// The feed read, but what it shows is not all there is (Consul's ACLs hid entries from the token).
    case hidden(Feed, note: String, at: Int64)
    /// The feed cannot run here (the context names no Kafka brokers); it does not retry.
    case unavailable(Feed, reason: String)
}

/// A feed's liveness, as the status bar shows it.
public struct FeedStatus: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        case connecting
        case live
        /// Live, but not showing everything (`note` says why).
        case limited(note: String)
        /// Not running, and not retrying (`reason` says why).
        case off(reason: String)
        /// Running, and waiting for something that is not there yet (`reason` says what).
        case waiting(reason: String)
        case retrying(reason: String, retryInMilliseconds: Int64)
    }
    public var phase: Phase
    public var lastUpdate: Int64?
    /// A short figure shown with it (`2/3`: instances answering).
    public var detail: String?

    public init(phase: Phase, lastUpdate: Int64? = nil, detail: String? = nil) {
        self.phase = phase
        self.lastUpdate = lastUpdate
        self.detail = detail
    }
}

extension FeedEvent {
    /// The status-bar line it reports on (nil: none).
    public var kind: FeedKind? {
        switch self {
        case .services: return .services
        case .checks: return .checks
        case .health: return .instances
        case .monitor, .monitorRound: return .monitor
        case .graphite, .metricNames: return .graphite
        case .dashboard, .search, .kvWritten: return nil
        case .logs, .logsBehind, .logsDropped: return .logs
        case .kv: return .config
        case .failed(let feed, _, _, _), .waiting(let feed, _, _), .hidden(let feed, _, _), .unavailable(let feed, _): return feed.kind
        }
    }

    /// Is the feed that reported this still wanted? A report can be on its way while the feed is being
    /// cancelled (another service was selected): it must not reach the panes or the status bar.
    func isWanted(by subscriptions: Set<Feed>) -> Bool {
        switch self {
        case .services: return subscriptions.contains(.services)
        case .checks: return subscriptions.contains(.checks)
        case .health(let service, _, _): return subscriptions.contains(.health(service: service))
        case .monitor(let instance, _):
            return subscriptions.contains { if case .monitor(instance, _) = $0 { return true } else { return false } }
        case .monitorRound: return subscriptions.contains { $0.kind == .monitor }
        case .graphite(let query, _, _): return subscriptions.contains(.graphite(query))
        case .metricNames(let pattern, _, _): return subscriptions.contains(.metricNames(matching: pattern))
        case .dashboard(let service, _): return subscriptions.contains(.dashboard(service: service))
        case .logs(let query, _, _), .logsBehind(let query, _, _), .logsDropped(let query, _): return subscriptions.contains(.logs(query))
        case .search(let call, _): return subscriptions.contains(.search(call))
        case .kv(let prefix, _, _): return subscriptions.contains(.kv(prefix: prefix))
        case .kvWritten: return true
        case .failed(let feed, _, _, _), .waiting(let feed, _, _), .hidden(let feed, _, _), .unavailable(let feed, _):
            return subscriptions.contains(feed)
        }
    }

    /// That line after this event (nil: the event does not change it).
    func status(after previous: FeedStatus?) -> FeedStatus? {
        switch self {
        case .services(_, let at), .checks(_, let at), .health(_, _, let at), .graphite(_, _, let at), .metricNames(_, _, let at),
             .kv(_, _, let at):
            return FeedStatus(phase: .live, lastUpdate: at)
        case .logs(_, _, let at):
            return FeedStatus(phase: .live, lastUpdate: at, detail: previous?.detail)
        case .logsBehind(_, let records, let at):
            return FeedStatus(phase: .live, lastUpdate: previous?.lastUpdate ?? at, detail: records == 0 ? "caught up" : ValueUnit.count.format(Double(records)) + " behind")
        case .monitor, .dashboard, .search, .logsDropped, .kvWritten:
            return nil
        case .monitorRound(let ok, let failed, let at):
            let detail = "\(ok)/\(ok + failed)"
            if failed > 0 && ok == 0 {
                return FeedStatus(phase: .retrying(reason: "no instance answered", retryInMilliseconds: 2_000),
                                  lastUpdate: previous?.lastUpdate, detail: detail)
            }
            return FeedStatus(phase: .live, lastUpdate: at, detail: detail)
        case .failed(_, let reason, let retry, _):
            return FeedStatus(phase: .retrying(reason: reason, retryInMilliseconds: retry),
                              lastUpdate: previous?.lastUpdate, detail: previous?.detail)
        case .waiting(_, let reason, _):
            return FeedStatus(phase: .waiting(reason: reason), lastUpdate: previous?.lastUpdate, detail: previous?.detail)
        case .hidden(_, let note, let at):
            return FeedStatus(phase: .limited(note: note), lastUpdate: at, detail: previous?.detail)
        case .unavailable(_, let reason):
            return FeedStatus(phase: .off(reason: reason))
        }
    }
}

/// One Monitor call's outcome for an instance.
public struct MonitorSample: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case ok(MonitorFigures)
        case failed(String)
    }
    public var outcome: Outcome
    /// The call's round trip, as the console measured it.
    public var roundTripMilliseconds: Double
    public var at: Int64

    public init(outcome: Outcome, roundTripMilliseconds: Double, at: Int64) {
        self.outcome = outcome
        self.roundTripMilliseconds = roundTripMilliseconds
        self.at = at
    }
}

/// What Monitor reports that the console shows (a copy, so the pure console does not depend on protobuf).
public struct MonitorFigures: Equatable, Sendable {
    public var nThings: Int
    public var uptimeSeconds: Double
    public var requests: Int64
    public var errors: Int64
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var version: String
    public var storeStatus: String
    /// The settings the instance runs with, by Consul KV key (empty from a server that does not say).
    public var settings: [String: String]

    public init(nThings: Int, uptimeSeconds: Double, requests: Int64, errors: Int64, p50Milliseconds: Double,
                p99Milliseconds: Double, version: String, storeStatus: String, settings: [String: String] = [:]) {
        self.nThings = nThings
        self.uptimeSeconds = uptimeSeconds
        self.requests = requests
        self.errors = errors
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.version = version
        self.storeStatus = storeStatus
        self.settings = settings
    }
}
