import Consul

/// The agent's data: one node, its services and checks, and the KV store, stamped with Raft-style indexes.
///
/// Like Consul's state store it keeps an index per table (services, checks, kvs) so a blocking query
/// wakes for changes to what it reads, not for every write. All access goes through `AgentState`.
struct Catalog {
    struct Service {
        var id: String
        var name: String
        var tags: [String]
        var address: String
        var port: Int
        var meta: [String: String]
        var weights: (passing: Int, warning: Int)
        var enableTagOverride: Bool
        var createIndex: UInt64
        var modifyIndex: UInt64
    }

    struct Check {
        var id: String
        var name: String
        var serviceID: String
        var serviceName: String
        var serviceTags: [String]
        var notes: String
        var status: HealthStatus
        var output: String
        var definition: CheckSpec
        var createIndex: UInt64
        var modifyIndex: UInt64
        /// When the check last became critical (for DeregisterCriticalServiceAfter).
        var criticalSince: ContinuousClock.Instant?
        /// TTL checks: when the check turns critical unless updated.
        var ttlDeadline: ContinuousClock.Instant?

        var type: String { definition.probe?.typeName ?? "" }
    }

    struct Entry {
        var key: String
        var value: [UInt8]?
        var flags: UInt64
        var createIndex: UInt64
        var modifyIndex: UInt64
        var lockIndex: UInt64 = 0
    }

    let node: String
    let nodeID: String
    let address: String
    let datacenter: String

    /// The last index handed out; starts above 1 so real data never carries 0 or 1.
    private(set) var index: UInt64 = 10
    var servicesIndex: UInt64 = 10
    var checksIndex: UInt64 = 10
    var kvIndex: UInt64 = 10

    var services: [String: Service] = [:]
    var checks: [String: Check] = [:]
    var kv: [String: Entry] = [:]
    /// Deleted keys and the index of their deletion, so a prefix read's index never goes backwards
    /// just because its newest key was deleted. Bounded, as Consul reaps its tombstones: past
    /// `tombstoneLimit` the older half go, and `reapedIndex` stands in for them in every prefix's index.
    var tombstones: [String: UInt64] = [:]
    private(set) var reapedIndex: UInt64 = 0
    static let tombstoneLimit = 10_000
    let serfHealth: Check
    let consulService: Service

    init(node: String, nodeID: String, address: String, datacenter: String) {
        self.node = node
        self.nodeID = nodeID
        self.address = address
        self.datacenter = datacenter
        serfHealth = Check(id: "serfHealth", name: "Serf Health Status", serviceID: "", serviceName: "", serviceTags: [],
                           notes: "", status: .passing, output: "Agent alive and reachable", definition: CheckSpec(),
                           createIndex: 10, modifyIndex: 10)
        consulService = Service(id: "consul", name: "consul", tags: [], address: "", port: 8300, meta: [:],
                                weights: (1, 1), enableTagOverride: false, createIndex: 10, modifyIndex: 10)
    }

    mutating func nextIndex() -> UInt64 {
        index += 1
        return index
    }

    mutating func touchServices() { servicesIndex = nextIndex() }
    mutating func touchChecks() -> UInt64 { checksIndex = nextIndex(); return checksIndex }

    mutating func touchKV() -> UInt64 {
        kvIndex = nextIndex()
        return kvIndex
    }

    /// Every service the catalog lists: the agent's plus the server's own `consul` service.
    var catalogServices: [Service] { [consulService] + services.values.sorted { $0.id < $1.id } }

    /// Node-level checks plus the checks of one service instance.
    func checks(ofService id: String) -> [Check] {
        [serfHealth] + checks.values.filter { $0.serviceID == id }.sorted { $0.id < $1.id }
    }

    /// Every check, node check first.
    var allChecks: [Check] { [serfHealth] + checks.values.sorted { $0.id < $1.id } }

    /// Deletes keys at `index`, leaving tombstones (reaped past the limit).
    mutating func deleteKV(_ names: [String], at index: UInt64) {
        for name in names {
            kv.removeValue(forKey: name)
            tombstones[name] = index
        }
        guard tombstones.count > Self.tombstoneLimit else { return }
        let oldest = tombstones.sorted { $0.value < $1.value }.prefix(tombstones.count - Self.tombstoneLimit / 2)
        for (name, reaped) in oldest {
            tombstones.removeValue(forKey: name)
            reapedIndex = max(reapedIndex, reaped)
        }
    }

    /// The index a KV read of `key` (or of a prefix, with `recurse`) blocks on.
    func kvIndex(for key: String, recurse: Bool) -> UInt64 {
        if !recurse {
            return kv[key]?.modifyIndex ?? max(tombstones[key] ?? 0, kvIndex)
        }
        let live = kv.values.lazy.filter { $0.key.hasPrefix(key) }.map(\.modifyIndex).max() ?? 0
        let dead = tombstones.lazy.filter { $0.key.hasPrefix(key) }.map(\.value).max() ?? 0
        if live == 0 && dead == 0 { return kvIndex }
        // A reaped tombstone may have been under this prefix: its index stays a floor (a spurious wake-up
        // once per reaping at worst, never an index going backwards).
        return max(live, dead, reapedIndex)
    }
}
