import Console
import Consul
import Foundation
import LogTail
import SearchClient
import SearchModels
import Synchronization
import Telemetry
import TUI

/// Runs what the console's state asks for: each wanted feed as a task (a Consul watch, a Graphite
/// refresh, a file read), every wanted instance's Monitor through one poller, and one-shot effects off
/// the UI thread. Feeds report domain values; only here do they become console actions.
public final class FeedRuntime: ConsoleRuntime, @unchecked Sendable {
    private let consul: ConsulClient
    private let graphite: GraphiteClient
    /// Where `<service>.dashboard` files are looked for.
    private let dashboardDirectory: String?
    /// Kafka's bootstrap servers, and librdkafka properties for every tail.
    private let kafka: (brokers: String, properties: [String: String])
    private let send: @Sendable (ConsoleAction) -> Void
    private let gate: SendGate
    private let loadTheme: @Sendable (String) throws -> Theme
    private let poller: MonitorPoller
    /// How the search pane finds instances, and one caller per service searched (its connections and its
    /// round-robin outlive a search).
    private let searchDiscovery: InstanceDiscovery
    /// Each search call's deadline (the retry on another instance gets its own).
    private let searchDeadline: Duration
    private var searchCallers: [String: SearchCaller] = [:]
    private let searchHistory: SearchHistory?
    /// TLS for the gRPC calls to instances (Monitor, searches); nil: plaintext.
    private let grpcTLS: GRPCTLS?
    /// Feeds that cannot run here, with why (a context that names no Kafka brokers or no Graphite): they
    /// say so once instead of reading another cluster's, or the local stack's, data.
    private let unavailable: [FeedKind: String]
    /// Target changes reach the poller in the order they were made (a Task per change would not keep it:
    /// "stop polling the old service" could land after "poll the new one").
    private let targets: AsyncStream<[String: String]>.Continuation
    private var pollerTasks: [Task<Void, Never>] = []
    // Touched only from the UI thread (reconcile, perform) and at stop.
    private var running: [Feed: Task<Void, Never>] = [:]
    private var monitorTargets: [String: String] = [:]
    /// Feed tasks started, and ended (cancelled or done), since the runtime began: for tests, which can
    /// then tell a duplicate or a leak from a feed that is merely quiet.
    public private(set) var tasksStarted = 0
    private let ended = EndedTasks()
    public var tasksEnded: Int { ended.count.withLock { $0 } }

    /// `loadTheme` reads a theme file (run off the UI thread, for `:theme`).
    public init(consul: ConsulClient, graphite: GraphiteClient = GraphiteClient(), dashboardDirectory: String? = nil,
                kafkaBrokers: String = "127.0.0.1:9092", kafkaProperties: [String: String] = [:],
                searchDiscovery: InstanceDiscovery? = nil, searchDeadline: Duration = .seconds(2), searchHistory: SearchHistory? = nil,
                grpcTLS: GRPCTLS? = nil, unavailable: [FeedKind: String] = [:],
                loadTheme: @escaping @Sendable (String) throws -> Theme, send: @escaping @Sendable (ConsoleAction) -> Void) {
        self.consul = consul
        self.kafka = (kafkaBrokers, kafkaProperties)
        self.graphite = graphite
        self.dashboardDirectory = dashboardDirectory
        // Nothing reaches the console once stopped: after a context switch, a report of the old context's
        // feeds must not land in the new one's panes.
        let gate = SendGate()
        self.gate = gate
        let send: @Sendable (ConsoleAction) -> Void = { action in gate.pass { send(action) } }
        self.send = send
        self.loadTheme = loadTheme
        self.searchDiscovery = searchDiscovery ?? InstanceDiscovery(.consul(dns: ConsulDNS(), http: consul))
        self.searchHistory = searchHistory
        self.searchDeadline = searchDeadline
        self.grpcTLS = grpcTLS
        self.unavailable = unavailable
        poller = MonitorPoller(tls: grpcTLS) { send(.feed($0)) }
        let (changes, continuation) = AsyncStream.makeStream(of: [String: String].self)
        targets = continuation
        let poller = poller
        pollerTasks = [Task { await poller.run() }, Task { for await change in changes { await poller.setTargets(change) } }]
    }

    /// The feeds running now (Monitor feeds among them), for tests.
    public var runningFeeds: Set<Feed> {
        Set(running.keys).union(monitorTargets.map { Feed.monitor(instance: $0.key, address: $0.value) })
    }

    /// gRPC clients the poller holds (one per instance address), for tests.
    public func monitorClients() async -> Int { await poller.clientCount }

    public func reconcile(_ wanted: Set<Feed>) {
        for (feed, task) in running where !wanted.contains(feed) {
            task.cancel()
            running[feed] = nil
        }
        var targets: [String: String] = [:]
        for feed in wanted {
            switch feed {
            case .monitor(let instance, let address):
                targets[instance] = address
            case .services, .checks, .health, .graphite, .metricNames, .dashboard, .logs, .search, .kv:
                if running[feed] == nil {
                    running[feed] = start(feed)
                    tasksStarted += 1
                }
            }
        }
        if targets != monitorTargets {
            monitorTargets = targets
            self.targets.yield(targets)
        }
    }

    public func perform(_ effect: ConsoleEffect) {
        switch effect {
        case .loadTheme(let name):
            let loadTheme = loadTheme, send = send
            Task.detached {
                do {
                    send(.themeLoaded(try loadTheme(name)))
                } catch {
                    send(.themeFailed("\(error)", at: epochMilliseconds()))
                }
            }
        case .rememberSearch(let line):
            guard let searchHistory else { return }
            Task.detached { try? searchHistory.append(line) }  // a history that cannot be written is not worth an error
        case .writeKV(let write):
            let send = send, consul = consul
            Task.detached { send(.feed(.kvWritten(write, await Self.perform(write, consul)))) }
        case .copyToClipboard, .editInEditor, .switchContext:
            break  // the UI loop does these: they need the terminal
        case .saveLines(let path, let lines):
            let send = send
            Task.detached {
                do {
                    let written = try Self.saveNew(path, lines)
                    send(.notice("saved \(lines.count) lines to \(written)", isError: false, at: epochMilliseconds()))
                } catch {
                    send(.notice("save: \(error)", isError: true, at: epochMilliseconds()))
                }
            }
        }
    }

    public func stop() {
        gate.close()
        targets.finish()
        pollerTasks.forEach { $0.cancel() }
        running.values.forEach { $0.cancel() }
        running = [:]
        for caller in searchCallers.values { Task { await caller.close() } }
        searchCallers = [:]
        monitorTargets = [:]
    }

    private func start(_ feed: Feed) -> Task<Void, Never> {
        if let kind = feed.kind, let reason = unavailable[kind] {
            let send = send, ended = ended
            return Task {
                defer { ended.count.withLock { $0 += 1 } }
                send(.feed(.unavailable(feed, reason: reason)))
            }
        }
        let consul = consul
        switch feed {
        case .services:
            return watch(feed, consul.watchServices()) { .services($0, at: $1) }
        case .checks:
            return watch(feed, ConsulWatch { options in try await consul.checks(in: nil, options) }) { .checks($0, at: $1) }
        case .health(let service):
            return watch(feed, consul.watchHealth(service: service)) { .health(service: service, $0, at: $1) }
        case .graphite(let query):
            return repeating(feed, every: .seconds(query.refreshSeconds)) { [graphite] in
                let series = try await graphite.render(targets: query.expandedTargets, from: "-\(query.range)s", until: "now",
                                                       maxDataPoints: query.points)
                return .graphite(query, series.map(MetricSeries.init), at: epochMilliseconds())
            }
        case .metricNames(let pattern):
            return repeating(feed, every: .seconds(60)) { [graphite] in
                .metricNames(matching: pattern, try await graphite.find(pattern).map(\.path).sorted(), at: epochMilliseconds())
            }
        case .dashboard(let service):
            let file = dashboardDirectory.map { "\($0)/\(service).dashboard" }
            let send = send, ended = ended
            return Task.detached {
                defer { ended.count.withLock { $0 += 1 } }
                // Service names come from Consul: one with a slash must not reach another directory.
                let text = service.contains("/") ? nil : file.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
                send(.feed(.dashboard(service: service, text: text)))
            }
        case .logs(let query):
            return tail(query)
        case .search(let call):
            let caller = searchCaller(call.service), send = send, ended = ended
            return Task {
                defer { ended.count.withLock { $0 += 1 } }
                let result: Result<SearchAnswer, SearchFailure>
                do throws(SearchFailure) { result = .success(try await caller.search(call.query)) } catch { result = .failure(error) }
                send(.feed(.search(call, result)))
            }
        case .kv(let prefix):
            return watch(feed, consul.watchPrefix(prefix)) { .kv(prefix: prefix, $0, at: $1) }
        case .monitor:
            preconditionFailure("Monitor feeds run in the poller")
        }
    }

    /// A check-and-set write; when the check fails, the key as it is now (what the operator's edit met).
    static func perform(_ write: KVWrite, _ consul: ConsulClient) async -> KVWriteResult {
        do {
            let done: Bool
            switch write.operation {
            case .put(let value): done = try await consul.put(key: write.key, value: value, flags: write.flags, cas: write.cas)
            case .delete(let recurse): done = try await consul.delete(key: write.key, recurse: recurse, cas: write.cas)
            }
            if done { return .written }
            return .conflict(theirs: try await consul.get(key: write.key).value)
        } catch {
            return .failed(reason(error))
        }
    }

    private func searchCaller(_ service: String) -> SearchCaller {
        if let caller = searchCallers[service] { return caller }
        let caller = SearchCaller(service: service, discovery: searchDiscovery, deadline: searchDeadline, tls: grpcTLS)
        searchCallers[service] = caller
        return caller
    }

    /// `opsdeck tail`'s merge, following: records reach the pane in batches as they are merged; the
    /// broker's comings and goings are the feed's liveness. A topic not there yet is waited for.
    private func tail(_ query: LogQuery) -> Task<Void, Never> {
        let feed = Feed.logs(query), send = send, ended = ended
        var request = TailRequest(bootstrapServers: kafka.brokers, topics: [query.topic], start: query.start)
        // The tail's own read-ahead (`KafkaTail.readAhead`), as `opsdeck tail`'s; the console's smaller one
        // (2,000 records a partition) made it wait between fetches: `-X`-style properties override it.
        request.properties = kafka.properties
        return Task {
            defer { ended.count.withLock { $0 += 1 } }
            // A tail that throws starts over from the newest record shown, not from `query.start`: the
            // pane must not get the last 200 lines twice.
            var resume = TailResume()
            var names = InstanceNames()
            while !Task.isCancelled {
                var attempt = request
                attempt.start = resume.restart(from: query.start)
                do {
                    try await KafkaTail(attempt).run(deliver: { records in
                        let fresh = resume.admit(consume records)
                        guard !fresh.isEmpty else { return }
                        send(.feed(.logs(query, LogBatch(LogChunk.lines(of: consume fresh, names: &names)), at: epochMilliseconds())))
                    }, notice: { notice in
                        switch notice {
                        case .reading, .brokerReachable:
                            send(.feed(.logs(query, LogBatch(), at: epochMilliseconds())))
                        case .brokerUnreachable(let reason):
                            send(.feed(.failed(feed, reason: "broker unreachable: \(reason)", retryInMilliseconds: 1_000, at: epochMilliseconds())))
                        case .waitingForTopic(let topic):
                            // The tail waits for it on its own: a service that ships no logs (consul) has none.
                            send(.feed(.waiting(feed, reason: "waiting for topic \(topic) (nothing logged yet)", at: epochMilliseconds())))
                        case .logReplaced(let topic, let partition):
                            resume.forget(topic: topic, partition: partition)  // its offsets start over
                        case .problem(let text):
                            send(.feed(.failed(feed, reason: text, retryInMilliseconds: 1_000, at: epochMilliseconds())))
                        case .behind(let records):
                            send(.feed(.logsBehind(query, records: records, at: epochMilliseconds())))
                        case .mergeFull:
                            send(.notice("logs: \(notice)", isError: true, at: epochMilliseconds()))
                        }
                    })
                    return
                } catch {
                    guard !Task.isCancelled else { return }
                    send(.feed(.failed(feed, reason: "\(error)", retryInMilliseconds: 5_000, at: epochMilliseconds())))
                    try? await Task.sleep(for: .seconds(5))
                }
            }
        }
    }

    /// `read` now and then every `interval` until cancelled; a failure is reported and retried sooner
    /// (backing off from 2 s to the interval).
    private func repeating(_ feed: Feed, every interval: Duration,
                           _ read: @escaping @Sendable () async throws -> FeedEvent) -> Task<Void, Never> {
        let send = send, ended = ended
        return Task {
            defer { ended.count.withLock { $0 += 1 } }
            var retry = Duration.seconds(2)
            while !Task.isCancelled {
                do {
                    send(.feed(try await read()))
                    retry = .seconds(2)
                    try? await Task.sleep(for: interval)
                } catch {
                    guard !Task.isCancelled else { return }
                    send(.feed(.failed(feed, reason: Self.reason(error), retryInMilliseconds: Int64(retry.milliseconds),
                                       at: epochMilliseconds())))
                    try? await Task.sleep(for: retry)
                    retry = min(retry * 2, interval)
                }
            }
        }
    }

    private func watch<Value: Sendable>(_ feed: Feed, _ watch: ConsulWatch<Value>,
                                        _ event: @escaping @Sendable (Value, Int64) -> FeedEvent) -> Task<Void, Never> {
        let send = send, ended = ended, fix = consul.configuration.tokenFix
        return Task {
            defer { ended.count.withLock { $0 += 1 } }
            for await update in watch {
                let now = epochMilliseconds()
                switch update {
                case .value(let value, _):
                    send(.feed(event(value, now)))
                case .filteredByACLs:
                    send(.feed(.hidden(feed, note: "Consul's ACLs hid entries from this token: \(fix)", at: now)))
                case .failed(let error, _, let retryIn):
                    send(.feed(.failed(feed, reason: Self.reason(error), retryInMilliseconds: Int64(retryIn.milliseconds), at: now)))
                }
            }
        }
    }

    /// Writes `lines` to a file that must not exist yet (`~/` is the home directory); returns its path.
    static func saveNew(_ path: String, _ lines: [String]) throws -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let fd = open(expanded, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it exists already (choose another name)" : String(cString: strerror(errno))
            throw SaveError(description: "cannot create \(expanded): \(reason)")
        }
        defer { close(fd) }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SaveError(description: "cannot write \(expanded): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        return expanded
    }

    struct SaveError: Error, CustomStringConvertible { var description: String }

    /// A short reason for the status bar.
    static func reason(_ error: any Error) -> String {
        // An ACL refusal is said whole: what to fix is the point of it.
        if let refusal = (error as? ConsulError)?.shortRefusal { return refusal }
        if case ConsulError.unreachable(_, let reason) = error, reason.hasPrefix("TLS:") { return reason }
        let text: String
        switch error {
        case ConsulError.unreachable(_, let reason): text = reason
        case ConsulError.unexpectedStatus(let code, let body, _): text = "HTTP \(code) \(body)"
        case ConsulError.badResponse(_, let reason): text = "unreadable answer: \(reason)"
        case GraphiteError.http(let status, _, let body): text = "HTTP \(status) \(body)"
        default: text = "\(error)"
        }
        let lower = text.lowercased()
        if lower.contains("connection refused") || lower.contains("connectionrefused") { return "connection refused" }
        if lower.contains("timeout") || lower.contains("timed out") { return "timed out" }
        return text.count > 60 ? String(text.prefix(59)) + "…" : text
    }
}

/// Lets reports through until closed; closing waits for a report passing at that moment, so that after
/// `close()` returns nothing more arrives.
private final class SendGate: Sendable {
    private let open = Mutex(true)
    func pass(_ body: () -> Void) { open.withLock { if $0 { body() } } }
    func close() { open.withLock { $0 = false } }
}

/// A count the feed tasks share (a class: a Mutex cannot be captured by value).
private final class EndedTasks: Sendable {
    let count = Mutex(0)
}

extension Duration {
    /// The duration in (fractional) milliseconds.
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

extension MetricSeries {
    /// Graphite's points, evenly spaced (one slot each), as the console keeps them.
    public init(_ series: GraphiteSeries) {
        let start = series.points.first?.timestamp ?? 0
        let step = series.points.count > 1 ? series.points[1].timestamp - start : 10
        self.init(target: series.target, start: start, step: max(1, step), values: series.points.map(\.value))
    }
}
