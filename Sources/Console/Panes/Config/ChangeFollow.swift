import ConsulModels

/// What a written setting did, followed after the write: the operator sees the effect, not just the write.
///
/// Every search-server echoes the settings it runs with in Monitor. An instance has the change once its
/// echo shows the expected value, in a sample taken after the write. A live key is "applied live on k of
/// n"; a restart key is "n restarting… k back", where back also means passing in Consul. Instances are
/// counted, not named: a server restarted without a fixed `--instance-id` comes back under a new one.
public struct ChangeFollow: Equatable, Sendable {
    /// The setting's key, relative to the prefix (`log_level`).
    public var key: String
    /// The value an instance echoes once it has the change (the server's own spelling: `debug` for `DEBUG`).
    public var expected: String
    public var live: Bool
    /// When the write was acknowledged; samples taken before say nothing about it.
    public var since: Int64
    /// Instances of the service when the write landed: how many must show the change.
    public var expectedCount: Int
    /// Each instance's latest echo of the key since the write, by instance (`ServiceEntry.instanceKey`).
    var echoes: [String: String] = [:]
    /// The instances Consul lists now, and those of them that pass.
    var listed: Set<String> = []
    var passing: Set<String> = []

    /// How long to follow before saying which instances did not take the change.
    public static let patience: Int64 = 60_000

    public init(key: String, expected: String, live: Bool, since: Int64, instances: [ServiceEntry]) {
        self.key = key
        self.expected = expected
        self.live = live
        self.since = since
        expectedCount = instances.count
        observe(health: instances)
    }

    public mutating func observe(instance: String, _ sample: MonitorSample) {
        guard sample.at >= since, case .ok(let figures) = sample.outcome, let value = figures.settings[key] else { return }
        echoes[instance] = value
    }

    public mutating func observe(health entries: [ServiceEntry]) {
        listed = Set(entries.map(\.instanceKey))
        passing = Set(entries.filter { $0.aggregateStatus == .passing }.map(\.instanceKey))
    }

    /// Instances listed now that run with it (for a restart key: and pass again). An instance that left
    /// and comes back under its old id, on its node, counts again once it is listed.
    public var applied: Int {
        echoes.filter { $0.value == expected && (live ? listed : passing).contains($0.key) }.count
    }

    public var isDone: Bool { applied >= expectedCount }

    public func hasTimedOut(_ now: Int64) -> Bool { now - since > Self.patience }

    /// Where it stands, for the pane's status line and, once done or timed out, the message bar.
    public func summary(_ now: Int64) -> (text: String, isError: Bool) {
        let change = "\(key)=\(expected)"
        let n = expectedCount, k = min(applied, n)
        if n == 0 { return ("\(change) written; no instance runs to take it", false) }
        if isDone {
            return live ? ("\(change) applied live on \(n) instance\(n == 1 ? "" : "s")", false)
                        : ("\(change): \(n) instance\(n == 1 ? "" : "s") restarted with it, \(n) back and passing", false)
        }
        if hasTimedOut(now) {
            return ("\(change): \(k) of \(n) took it in \(Self.patience / 1000)s; the others run without it "
                    + "(a flag or SEARCH_\(key.uppercased()) there overrides KV, or see their logs)", true)
        }
        return live ? ("\(change): applied live on \(k) of \(n)…", false)
                    : ("\(change): \(n) instance\(n == 1 ? "" : "s") restarting… \(k) back", false)
    }
}
