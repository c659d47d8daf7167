import Foundation

/// The status of a check, and the aggregate of several (critical > warning > passing).
public enum HealthStatus: String, Sendable, Codable, Comparable, CaseIterable {
    case passing, warning, critical

    private var severity: Int { self == .passing ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.severity < b.severity }

    /// The worst of several statuses; passing when there are none.
    public static func aggregate<S: Sequence>(_ statuses: S) -> HealthStatus where S.Element == HealthStatus {
        statuses.max() ?? .passing
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        // "maintenance" and unknown values count as critical: never show an unknown as healthy.
        self = HealthStatus(rawValue: text) ?? .critical
    }
}

/// A health check as the health and agent endpoints return it.
public struct HealthCheck: Sendable, Equatable, Decodable {
    public var node: String
    public var checkID: String
    public var name: String
    public var status: HealthStatus
    public var notes: String
    public var output: String
    public var serviceID: String
    public var serviceName: String
    public var serviceTags: [String]
    public var type: String

    enum CodingKeys: String, CodingKey {
        case node = "Node", checkID = "CheckID", name = "Name", status = "Status", notes = "Notes"
        case output = "Output", serviceID = "ServiceID", serviceName = "ServiceName"
        case serviceTags = "ServiceTags", type = "Type"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = try c.decodeIfPresent(String.self, forKey: .node) ?? ""
        checkID = try c.decode(String.self, forKey: .checkID)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        status = try c.decode(HealthStatus.self, forKey: .status)
        notes = try c.decodeIfPresent(String.self, forKey: .notes) ?? ""
        output = try c.decodeIfPresent(String.self, forKey: .output) ?? ""
        serviceID = try c.decodeIfPresent(String.self, forKey: .serviceID) ?? ""
        serviceName = try c.decodeIfPresent(String.self, forKey: .serviceName) ?? ""
        serviceTags = try c.decodeIfPresent([String].self, forKey: .serviceTags) ?? []
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
    }
}

/// One instance of a service with its node and checks, from `/v1/health/service/:name`.
public struct ServiceEntry: Sendable, Equatable, Decodable {
    public struct Node: Sendable, Equatable, Decodable {
        public var id: String
        public var name: String
        public var address: String
        public var datacenter: String

        enum CodingKeys: String, CodingKey { case id = "ID", name = "Node", address = "Address", datacenter = "Datacenter" }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            name = try c.decode(String.self, forKey: .name)
            address = try c.decodeIfPresent(String.self, forKey: .address) ?? ""
            datacenter = try c.decodeIfPresent(String.self, forKey: .datacenter) ?? ""
        }
    }

    public struct Service: Sendable, Equatable, Decodable {
        public var id: String
        public var name: String
        public var tags: [String]
        public var address: String
        public var port: Int
        public var meta: [String: String]

        enum CodingKeys: String, CodingKey {
            case id = "ID", name = "Service", tags = "Tags", address = "Address", port = "Port", meta = "Meta"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            name = try c.decode(String.self, forKey: .name)
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
            address = try c.decodeIfPresent(String.self, forKey: .address) ?? ""
            port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 0
            meta = try c.decodeIfPresent([String: String].self, forKey: .meta) ?? [:]
        }
    }

    public var node: Node
    public var service: Service
    public var checks: [HealthCheck]

    enum CodingKeys: String, CodingKey { case node = "Node", service = "Service", checks = "Checks" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = try c.decode(Node.self, forKey: .node)
        service = try c.decode(Service.self, forKey: .service)
        checks = try c.decodeIfPresent([HealthCheck].self, forKey: .checks) ?? []
    }

    /// The worst status among the instance's checks (node checks included).
    public var aggregateStatus: HealthStatus { HealthStatus.aggregate(checks.map(\.status)) }

    /// What tells this instance from the others: its service ID on its node. Consul keeps a service ID
    /// unique on one agent only, so a service registered without IDs on three nodes is three instances all
    /// named after the service. `node/id`: a node's name has no slash (it is a path segment of Consul's API).
    public var instanceKey: String { node.name + "/" + service.id }

    /// Where to reach the instance: the service address, else the node's (Consul's rule).
    public var address: String { service.address.isEmpty ? node.address : service.address }
}

/// A key and its value from the KV store.
public struct KVPair: Sendable, Equatable, Decodable {
    public var key: String
    /// The value's bytes; empty for a key stored with an empty body (`"Value": null`).
    public var value: [UInt8]
    public var flags: UInt64
    public var createIndex: UInt64
    public var modifyIndex: UInt64
    public var lockIndex: UInt64

    enum CodingKeys: String, CodingKey {
        case key = "Key", value = "Value", flags = "Flags", createIndex = "CreateIndex"
        case modifyIndex = "ModifyIndex", lockIndex = "LockIndex"
    }

    public init(key: String, value: [UInt8], flags: UInt64 = 0, createIndex: UInt64 = 0, modifyIndex: UInt64 = 0,
                lockIndex: UInt64 = 0) {
        self.key = key
        self.value = value
        self.flags = flags
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
        self.lockIndex = lockIndex
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        if let base64 = try c.decodeIfPresent(String.self, forKey: .value) {
            guard let data = Data(base64Encoded: base64) else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: "Value is not base64")
            }
            value = Array(data)
        } else {
            value = []
        }
        flags = try c.decodeIfPresent(UInt64.self, forKey: .flags) ?? 0
        createIndex = try c.decodeIfPresent(UInt64.self, forKey: .createIndex) ?? 0
        modifyIndex = try c.decodeIfPresent(UInt64.self, forKey: .modifyIndex) ?? 0
        lockIndex = try c.decodeIfPresent(UInt64.self, forKey: .lockIndex) ?? 0
    }

    /// The value as UTF-8 text.
    public var text: String { String(decoding: value, as: UTF8.self) }
}

/// A service as the local agent knows it (`/v1/agent/services`): the same shape as in health entries.
public typealias AgentService = ServiceEntry.Service
