import Consul
import Foundation

// The agent endpoints: registration, deregistration, TTL updates, the agent's own view.
extension ConsulAPI {
    func registerService(_ request: APIRequest) throws -> APIResponse {
        let body: LooseObject
        do { body = try LooseObject.parse(request.body) } catch let f as DecodeFailure {
            throw APIFailure(400, "Request decode failed: \(f.reason)")
        }
        let registration: ServiceInput
        do { registration = try ServiceInput(body) } catch let f as DecodeFailure {
            throw APIFailure(400, "Request decode failed: \(f.reason)")
        }
        let replace = request.query.value("replace-existing-checks").map { $0.isEmpty || $0 == "true" || $0 == "1" } ?? false
        try state.write { catalog in try catalog.register(registration, replaceExistingChecks: replace) }
        state.checksChanged()
        return APIResponse()
    }

    func deregisterService(_ id: String) throws -> APIResponse {
        try state.write { catalog in
            guard catalog.services[id] != nil else {
                throw APIFailure(404, "Unknown service ID \"\(id)\". Ensure that the service ID is passed, not the service name.")
            }
            catalog.deregister(serviceID: id)
        }
        state.checksChanged()
        return APIResponse()
    }

    func registerCheck(_ request: APIRequest) throws -> APIResponse {
        let body: LooseObject
        do { body = try LooseObject.parse(request.body) } catch let f as DecodeFailure {
            throw APIFailure(400, "Request decode failed: \(f.reason)")
        }
        guard let name = try? body.string("Name"), !name.isEmpty else { throw APIFailure(400, "Missing check name") }
        let input: CheckInput
        do { input = try CheckInput(body, badStatus: "Bad check status") } catch let f as DecodeFailure {
            throw APIFailure(400, "Request decode failed: \(f.reason)")
        }
        let serviceID = (try? body.string("ServiceID")) ?? nil
        try state.write { catalog in
            var service: Catalog.Service?
            if let serviceID, !serviceID.isEmpty {
                guard let found = catalog.services[serviceID] else {
                    throw APIFailure(404, "ServiceID \"\(serviceID)\" does not exist")
                }
                service = found
            }
            let id = input.id ?? name
            let index = catalog.touchChecks()
            catalog.checks[id] = input.check(id: id, defaultName: name, service: service, index: index,
                                            createIndex: catalog.checks[id]?.createIndex)
        }
        state.checksChanged()
        return APIResponse()
    }

    func deregisterCheck(_ id: String) throws -> APIResponse {
        try state.write { catalog in
            guard catalog.checks.removeValue(forKey: id) != nil else { throw unknownCheck(id) }
            _ = catalog.touchChecks()
        }
        state.checksChanged()
        return APIResponse()
    }

    func updateTTL(_ id: String, _ status: HealthStatus, _ output: String) throws -> APIResponse {
        try state.write { catalog in try catalog.updateTTL(id, status: status, output: output) }
        return APIResponse()
    }

    func updateCheck(_ request: APIRequest, _ id: String) throws -> APIResponse {
        let body: LooseObject
        do { body = try LooseObject.parse(request.body) } catch let f as DecodeFailure {
            throw APIFailure(400, "Request decode failed: \(f.reason)")
        }
        let statusText = (try? body.string("Status")) ?? nil
        guard let statusText, let status = HealthStatus(rawValue: statusText) else {
            throw APIFailure(400, "Invalid check status: '\(statusText ?? "")'")
        }
        let output = ((try? body.string("Output")) ?? nil) ?? ""
        return try updateTTL(id, status, output)
    }

    func agentServices() -> APIResponse {
        .json(state.read { catalog in
            Dictionary(uniqueKeysWithValues: catalog.services.values.map { ($0.id, catalog.serviceJSON($0, agentView: true)) })
        })
    }

    /// One local service by ID (Consul: 404 with "unknown service ID" when absent).
    func agentService(_ id: String) throws -> APIResponse {
        guard let json = state.read({ catalog in catalog.services[id].map { catalog.serviceJSON($0, agentView: true) } }) else {
            throw APIFailure(404, "unknown service ID: \(id)")
        }
        return .json(json)
    }

    func agentChecks() -> APIResponse {
        .json(state.read { catalog in
            Dictionary(uniqueKeysWithValues: catalog.checks.values.map { ($0.id, catalog.checkJSON($0)) })
        })
    }

    func agentSelf() -> APIResponse {
        .json(state.read { catalog -> [String: Any] in
            [
                "Config": ["Datacenter": catalog.datacenter, "NodeName": catalog.node, "NodeID": catalog.nodeID,
                           "Server": true, "Version": "1.20.0-devconsul", "Revision": "devconsul"],
                "Member": ["Name": catalog.node, "Addr": catalog.address, "Port": 8301, "Status": 1],
                "Meta": ["consul-network-segment": ""],
            ]
        })
    }
}

func unknownCheck(_ id: String) -> APIFailure {
    APIFailure(404, "Unknown check ID \"\(id)\". Ensure that the check ID is passed, not the check name.")
}
