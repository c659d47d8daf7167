import Consul
import Foundation

// Catalog and health reads; all block on `?index` and carry the index headers.
extension ConsulAPI {
    func catalogServices(_ request: APIRequest) async throws -> APIResponse {
        try await blockingRead(request) { catalog in
            var tags: [String: Set<String>] = [:]
            for service in catalog.catalogServices { tags[service.name, default: []].formUnion(service.tags) }
            return (.json(tags.mapValues { $0.sorted() }), catalog.servicesIndex)
        }
    }

    func catalogService(_ request: APIRequest, _ name: String) async throws -> APIResponse {
        guard !name.isEmpty else { throw APIFailure(400, "Missing service name") }
        let tags = request.query.values("tag")
        return try await blockingRead(request) { catalog in
            let matches = catalog.catalogServices.filter { $0.name == name && tags.allSatisfy($0.tags.contains) }
            return (.json(matches.map(catalog.catalogServiceJSON)), catalog.servicesIndex)
        }
    }

    func catalogNodes(_ request: APIRequest) async throws -> APIResponse {
        try await blockingRead(request) { catalog in
            var node = catalog.nodeJSON()
            node.removeValue(forKey: "ID")
            node["ID"] = catalog.nodeID
            return (.json([node]), 10)
        }
    }

    func catalogNode(_ request: APIRequest, _ name: String) async throws -> APIResponse {
        try await blockingRead(request) { catalog in
            guard name == catalog.node else { return (.json(NSNull()), catalog.servicesIndex) }
            let services = Dictionary(uniqueKeysWithValues: catalog.catalogServices.map { ($0.id, catalog.serviceJSON($0)) })
            return (.json(["Node": catalog.nodeJSON(), "Services": services]), catalog.servicesIndex)
        }
    }

    func healthService(_ request: APIRequest, _ name: String) async throws -> APIResponse {
        guard !name.isEmpty else { throw APIFailure(400, "Missing service name") }
        let passingOnly = try parsePassing(request)
        let tags = request.query.values("tag")
        return try await blockingRead(request) { catalog in
            var entries: [[String: Any]] = []
            for service in catalog.catalogServices where service.name == name && tags.allSatisfy(service.tags.contains) {
                let checks = service.id == "consul" ? [catalog.serfHealth] : catalog.checks(ofService: service.id)
                if passingOnly && !checks.allSatisfy({ $0.status == .passing }) { continue }
                entries.append(["Node": catalog.nodeJSON(), "Service": catalog.serviceJSON(service),
                                "Checks": checks.map(catalog.checkJSON)])
            }
            return (.json(entries), catalog.healthIndex)
        }
    }

    func healthChecks(_ request: APIRequest, _ name: String) async throws -> APIResponse {
        guard !name.isEmpty else { throw APIFailure(400, "Missing service name") }
        return try await blockingRead(request) { catalog in
            let checks = catalog.checks.values.filter { $0.serviceName == name }.sorted { $0.id < $1.id }
            return (.json(checks.map(catalog.checkJSON)), catalog.checksIndex)
        }
    }

    func healthState(_ request: APIRequest, _ state: String) async throws -> APIResponse {
        guard !state.isEmpty else { throw APIFailure(400, "Missing check state") }
        return try await blockingRead(request) { catalog in
            let checks = catalog.allChecks.filter { state == "any" || $0.status.rawValue == state }
            return (.json(checks.map(catalog.checkJSON)), catalog.checksIndex)
        }
    }

    func healthNode(_ request: APIRequest, _ node: String) async throws -> APIResponse {
        try await blockingRead(request) { catalog in
            let checks = node == catalog.node ? catalog.allChecks : []
            return (.json(checks.map(catalog.checkJSON)), catalog.checksIndex)
        }
    }

    /// `?passing` is a parsed boolean: empty means true, `false` disables the filter.
    private func parsePassing(_ request: APIRequest) throws -> Bool {
        guard let text = request.query.value("passing") else { return false }
        switch text {
        case "", "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw APIFailure(400, "Invalid value for ?passing")
        }
    }
}
