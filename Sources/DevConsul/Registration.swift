import Consul

/// A check as given in a registration, validated the way the agent validates it.
struct CheckInput {
    var id: String?
    var name: String?
    var notes: String
    var status: HealthStatus?
    var spec: CheckSpec

    init(_ o: LooseObject, badStatus: String = "Status for checks must 'passing', 'warning', 'critical'") throws {
        id = try o.string("CheckID") ?? o.string("ID")
        name = try o.string("Name")
        notes = try o.string("Notes") ?? ""
        if let text = try o.string("Status"), !text.isEmpty {
            guard let parsed = HealthStatus(rawValue: text) else { throw APIFailure(400, badStatus) }
            status = parsed
        }
        spec = CheckSpec()
        if let interval = try o.duration("Interval") { (spec.interval, spec.intervalText) = (interval.0, interval.1) }
        if let timeout = try o.duration("Timeout") { (spec.timeout, spec.timeoutText) = (timeout.0, timeout.1) }
        spec.deregisterCriticalServiceAfter = try o.duration("DeregisterCriticalServiceAfter")?.0
        if let ttl = try o.duration("TTL"), ttl.0 > .zero {
            spec.probe = .ttl(ttl.0)
        } else if let url = try o.string("HTTP"), !url.isEmpty {
            var headers: [String: [String]] = [:]
            if let map = o.value("Header") as? [String: Any] {
                for (k, v) in map { headers[k] = (v as? [String]) ?? (v as? String).map { [$0] } ?? [] }
            }
            spec.probe = .http(url: url, method: try o.string("Method") ?? "GET", headers: headers, body: try o.string("Body") ?? "")
        } else if let address = try o.string("TCP"), !address.isEmpty {
            spec.probe = .tcp(address)
        } else if let target = try o.string("GRPC"), !target.isEmpty {
            spec.probe = .grpc(target: target, useTLS: o.bool("GRPCUseTLS"), skipVerify: o.bool("TLSSkipVerify"))
        } else {
            throw APIFailure(400, "Invalid check: TTL must be > 0 for TTL checks")
        }
        if case .ttl = spec.probe {} else if (spec.interval ?? .zero) <= .zero {
            throw APIFailure(400, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or GRPC checks")
        }
    }

    func check(id: String, defaultName: String, service: Catalog.Service?, index: UInt64, createIndex: UInt64?) -> Catalog.Check {
        let initial = status ?? .critical
        var check = Catalog.Check(
            id: id, name: name.flatMap { $0.isEmpty ? nil : $0 } ?? defaultName, serviceID: service?.id ?? "",
            serviceName: service?.name ?? "", serviceTags: service?.tags ?? [], notes: notes, status: initial,
            output: "", definition: spec, createIndex: createIndex ?? index, modifyIndex: index)
        if initial == .critical { check.criticalSince = .now }
        if case .ttl(let ttl) = spec.probe { check.ttlDeadline = .now + ttl }
        return check
    }
}

/// A service registration as given (`PUT /v1/agent/service/register`): the service (its indexes are
/// stamped when it is registered) and its checks.
struct ServiceInput {
    var service: Catalog.Service
    var checks: [CheckInput]

    init(_ o: LooseObject) throws {
        guard let name = try o.string("Name"), !name.isEmpty else { throw APIFailure(400, "Missing service name") }
        let address = try o.string("Address") ?? ""
        if ["0.0.0.0", "::", "[::]"].contains(address) { throw APIFailure(400, "Invalid service address") }
        var weights = (passing: 1, warning: 1)
        if let w = try o.object("Weights") {
            weights = (try w.int("Passing") ?? 1, try w.int("Warning") ?? 1)
            if weights.passing < 1 { throw APIFailure(400, "Invalid Weights: Passing must be greater than 0") }
        }
        service = Catalog.Service(
            id: try o.string("ID").flatMap { $0.isEmpty ? nil : $0 } ?? name, name: name, tags: try o.strings("Tags"),
            address: address, port: try o.int("Port") ?? 0, meta: try o.stringMap("Meta"), weights: weights,
            enableTagOverride: o.bool("EnableTagOverride"), createIndex: 0, modifyIndex: 0)
        // The singular Check comes first, then Checks, as the agent numbers them.
        var checks: [CheckInput] = []
        if let single = try o.object("Check") { checks.append(try CheckInput(single)) }
        for c in try o.objects("Checks") { checks.append(try CheckInput(c)) }
        self.checks = checks
    }
}

extension Catalog {
    mutating func register(_ input: ServiceInput, replaceExistingChecks: Bool) throws {
        let index = nextIndex()
        var service = input.service
        service.createIndex = services[service.id]?.createIndex ?? index
        service.modifyIndex = index
        services[service.id] = service
        servicesIndex = index
        var ids: Set<String> = []
        for (position, check) in input.checks.enumerated() {
            let id = check.id ?? (input.checks.count == 1 ? "service:\(service.id)" : "service:\(service.id):\(position + 1)")
            ids.insert(id)
            let previous = checks[id]
            var new = check.check(id: id, defaultName: "Service '\(service.name)' check", service: service, index: index,
                                  createIndex: previous?.createIndex)
            // Re-registering keeps a check's last result until its next probe, as the agent does.
            if let previous, check.status == nil, previous.definition.probe?.typeName == new.definition.probe?.typeName {
                new.status = previous.status
                new.output = previous.output
                new.criticalSince = previous.criticalSince
            }
            checks[id] = new
        }
        for (id, check) in checks where check.serviceID == service.id && !ids.contains(id) {
            if replaceExistingChecks { checks.removeValue(forKey: id) } else { checks[id]?.serviceTags = service.tags }
        }
        checksIndex = index
    }

    mutating func deregister(serviceID id: String) {
        services.removeValue(forKey: id)
        checks = checks.filter { $0.value.serviceID != id }
        let index = nextIndex()
        servicesIndex = index
        checksIndex = index
    }

    /// pass/warn/fail/update of a TTL check; resets its timer.
    mutating func updateTTL(_ id: String, status: HealthStatus, output: String) throws {
        guard var check = checks[id] else { throw unknownCheck(id) }
        guard case .ttl(let ttl) = check.definition.probe else {
            throw APIFailure(500, "CheckID \"\(id)\" does not have associated TTL")
        }
        check.ttlDeadline = .now + ttl
        checks[id] = check
        setResult(id, status: status, output: output)
    }

    /// Records a probe result; the checks index moves only when something visible changed.
    mutating func setResult(_ id: String, status: HealthStatus, output: String) {
        guard var check = checks[id] else { return }
        let output = String(output.utf8.prefix(4096)) ?? output
        guard check.status != status || check.output != output else { return }
        if status == .critical, check.status != .critical { check.criticalSince = .now }
        if status != .critical { check.criticalSince = nil }
        check.status = status
        check.output = output
        let index = nextIndex()
        check.modifyIndex = index
        checksIndex = index
        checks[id] = check
    }

    /// Services with a check critical for longer than its DeregisterCriticalServiceAfter.
    func servicesToReap(now: ContinuousClock.Instant) -> [String] {
        var ids: Set<String> = []
        for check in checks.values where !check.serviceID.isEmpty {
            if let after = check.definition.effectiveDeregisterAfter, let since = check.criticalSince,
               check.status == .critical, now - since > after {
                ids.insert(check.serviceID)
            }
        }
        return ids.sorted()
    }
}
