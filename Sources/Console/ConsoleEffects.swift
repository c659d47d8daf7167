import Consul
import Foundation

/// Runs the effects the reducer asks for and turns what they see into actions. Each effect is a task;
/// none touches the state or the terminal.
public final class ConsoleEffects: @unchecked Sendable {
    private let consul: ConsulClient
    private let send: @Sendable (ConsoleAction) -> Void
    private let poller: MonitorPoller
    /// Target changes reach the poller in the order they were made (a Task per change would not keep it:
    /// "stop polling the old service" could land after "poll the new one").
    private let targets: AsyncStream<[String: String]>.Continuation
    private let targetChanges: AsyncStream<[String: String]>
    // Touched only from the UI thread (perform) and at shutdown.
    private var tasks: [Task<Void, Never>] = []
    private var instancesTask: Task<Void, Never>?
    public init(consul: ConsulClient, send: @escaping @Sendable (ConsoleAction) -> Void) {
        self.consul = consul
        self.send = send
        poller = MonitorPoller(send: send)
        (targetChanges, targets) = AsyncStream.makeStream(of: [String: String].self)
    }

    /// The watches the console always runs: the service catalog and every check (one blocking query
    /// each, however many services there are).
    public func start() {
        let consul = consul
        tasks.append(watch(.catalog, consul.watchServices()) { .servicesChanged($0, at: $1) })
        tasks.append(watch(.checks, ConsulWatch { options in try await consul.checks(in: nil, options) }) {
            .checksChanged($0, at: $1)
        })
        let poller = poller, targetChanges = targetChanges
        tasks.append(Task { await poller.run() })
        tasks.append(Task { for await change in targetChanges { await poller.setTargets(change) } })
    }

    public func perform(_ effect: ConsoleEffect) {
        switch effect {
        case .followInstances(let service):
            instancesTask?.cancel()
            instancesTask = nil
            targets.yield([:])
            if let service {
                instancesTask = watch(.instances, consul.watchHealth(service: service)) {
                    .instancesChanged(service: service, $0, at: $1)
                }
            }
        case .monitorTargets(let new):
            targets.yield(new)
        case .loadTheme:
            break  // the UI thread loads themes itself (a small file, and the theme is its business)
        case .quit:
            stop()
        }
    }

    public func stop() {
        targets.finish()
        tasks.forEach { $0.cancel() }
        instancesTask?.cancel()
    }

    private func watch<Value: Sendable>(_ id: EffectID, _ watch: ConsulWatch<Value>,
                                        _ action: @escaping @Sendable (Value, Int64) -> ConsoleAction) -> Task<Void, Never> {
        let send = send
        return Task {
            for await update in watch {
                let now = epochMilliseconds()
                switch update {
                case .value(let value, _):
                    send(action(value, now))
                case .failed(let error, _, let retryIn):
                    send(.effectFailed(id, reason: Self.reason(error), retryInMilliseconds: Int64(retryIn.milliseconds), at: now))
                }
            }
        }
    }

    /// A short reason for the status bar.
    static func reason(_ error: ConsulError) -> String {
        let text: String
        switch error {
        case .unreachable(_, let reason): text = reason
        case .unexpectedStatus(let code, let body, _): text = "HTTP \(code) \(body)"
        case .badResponse(_, let reason): text = "unreadable answer: \(reason)"
        }
        let lower = text.lowercased()
        if lower.contains("connection refused") || lower.contains("connectionrefused") { return "connection refused" }
        if lower.contains("timeout") || lower.contains("timed out") { return "timed out" }
        return text.count > 60 ? String(text.prefix(59)) + "…" : text
    }
}
