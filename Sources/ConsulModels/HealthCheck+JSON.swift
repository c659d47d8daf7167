extension HealthCheck {
    /// The checks of a health endpoint's answer (`/v1/health/state/:state`), pulled from the bytes: the
    /// same values `JSONDecoder` gives, and refused where it refuses, in a fifth of the time (see `JSONPull`
    /// for why). A differential fuzz test holds the two together. Where they differ, this one is the
    /// stricter: `JSONDecoder` does not look into values it does not decode, and this refuses any text
    /// that is not JSON wherever it is; and it reads UTF-8 only (Consul's), where `JSONDecoder` also reads
    /// UTF-16 and UTF-32. A repeated key counts the first time, as there.
    package static func list(fromJSON bytes: [UInt8]) throws(JSONPull.Failure) -> [HealthCheck] {
        try JSONPull.read(bytes) { reader throws(JSONPull.Failure) in
            var checks: [HealthCheck] = []
            try reader.array { reader throws(JSONPull.Failure) in checks.append(try HealthCheck(&reader)) }
            return checks
        }
    }

    /// The fields read, by their key in Consul's JSON.
    private enum Field: Int, CaseIterable {
        case node, checkID, name, status, notes, output, serviceID, serviceName, serviceTags, type

        var key: StaticString {
            switch self {
            case .node: "Node"
            case .checkID: "CheckID"
            case .name: "Name"
            case .status: "Status"
            case .notes: "Notes"
            case .output: "Output"
            case .serviceID: "ServiceID"
            case .serviceName: "ServiceName"
            case .serviceTags: "ServiceTags"
            case .type: "Type"
            }
        }
    }

    /// One check object; a field that is null or absent is empty, except the two every check has.
    init(_ reader: inout JSONPull) throws(JSONPull.Failure) {
        var checkID: String?, status: HealthStatus?
        var node = "", name = "", notes = "", output = "", serviceID = "", serviceName = "", type = ""
        var serviceTags: [String] = []
        var seen = 0  // a bit per Field
        try reader.object { key, reader throws(JSONPull.Failure) in
            func text() throws(JSONPull.Failure) -> String { try reader.null() ? "" : reader.string() }
            guard let field = Field.allCases.first(where: { key.is($0.key) }), seen & 1 << field.rawValue == 0 else {
                return try reader.skip()
            }
            seen |= 1 << field.rawValue
            switch field {
            case .node: node = try text()
            case .checkID: checkID = try reader.string()
            case .name: name = try text()
            // "maintenance" and unknown values count as critical, as in `init(from:)`.
            case .status: status = HealthStatus(rawValue: try reader.string()) ?? .critical
            case .notes: notes = try text()
            case .output: output = try text()
            case .serviceID: serviceID = try text()
            case .serviceName: serviceName = try text()
            case .serviceTags:
                var tags: [String] = []
                if try !reader.null() { try reader.array { reader throws(JSONPull.Failure) in tags.append(try reader.string()) } }
                serviceTags = tags
            case .type: type = try text()
            }
        }
        guard let checkID, let status else {
            throw JSONPull.Failure(offset: 0, reason: "a check without \(checkID == nil ? "CheckID" : "Status")")
        }
        self.node = node
        self.checkID = checkID
        self.name = name
        self.status = status
        self.notes = notes
        self.output = output
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.serviceTags = serviceTags
        self.type = type
    }
}
