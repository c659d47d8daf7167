import Consul
import Foundation

/// The JSON objects Consul returns, built from the catalog. Lists that Consul never sends as null
/// (`Tags`, `ServiceTags`, `Checks`) are always arrays here too.
extension Catalog {
    func nodeJSON() -> [String: Any] {
        [
            "ID": nodeID, "Node": node, "Address": address, "Datacenter": datacenter,
            "TaggedAddresses": ["lan": address, "lan_ipv4": address, "wan": address, "wan_ipv4": address],
            "Meta": ["consul-network-segment": ""], "CreateIndex": 10, "ModifyIndex": 10,
        ]
    }

    func taggedAddresses(_ service: Service) -> [String: Any] {
        guard !service.address.isEmpty else { return [:] }
        let family = service.address.contains(":") ? "ipv6" : "ipv4"
        let entry: [String: Any] = ["Address": service.address, "Port": service.port]
        return ["lan_\(family)": entry, "wan_\(family)": entry]
    }

    /// The service object of `/v1/agent/services` and of `Service` in health entries.
    func serviceJSON(_ s: Service, agentView: Bool = false) -> [String: Any] {
        var json: [String: Any] = [
            "ID": s.id, "Service": s.name, "Tags": s.tags, "Meta": s.meta, "Port": s.port, "Address": s.address,
            "TaggedAddresses": taggedAddresses(s), "Weights": ["Passing": s.weights.passing, "Warning": s.weights.warning],
            "EnableTagOverride": s.enableTagOverride,
        ]
        if agentView {
            json["Datacenter"] = datacenter
        } else {
            json["Proxy"] = ["Mode": "", "MeshGateway": [String: Any](), "Expose": [String: Any]()]
            json["Connect"] = [String: Any]()
            json["CreateIndex"] = s.createIndex
            json["ModifyIndex"] = s.modifyIndex
        }
        return json
    }

    func catalogServiceJSON(_ s: Service) -> [String: Any] {
        [
            "ID": nodeID, "Node": node, "Address": address, "Datacenter": datacenter,
            "TaggedAddresses": ["lan": address, "lan_ipv4": address, "wan": address, "wan_ipv4": address],
            "NodeMeta": ["consul-network-segment": ""], "ServiceKind": "", "ServiceID": s.id, "ServiceName": s.name,
            "ServiceTags": s.tags, "ServiceAddress": s.address, "ServiceTaggedAddresses": taggedAddresses(s),
            "ServiceWeights": ["Passing": s.weights.passing, "Warning": s.weights.warning], "ServiceMeta": s.meta,
            "ServicePort": s.port, "ServiceSocketPath": "", "ServiceEnableTagOverride": s.enableTagOverride,
            "ServiceProxy": ["Mode": "", "MeshGateway": [String: Any](), "Expose": [String: Any]()],
            "ServiceConnect": [String: Any](), "CreateIndex": s.createIndex, "ModifyIndex": s.modifyIndex,
        ]
    }

    func checkJSON(_ c: Check) -> [String: Any] {
        [
            "Node": node, "CheckID": c.id, "Name": c.name, "Status": c.status.rawValue, "Notes": c.notes,
            "Output": c.output, "ServiceID": c.serviceID, "ServiceName": c.serviceName, "ServiceTags": c.serviceTags,
            "Type": c.type, "Interval": c.definition.intervalText, "Timeout": c.definition.timeoutText,
            "ExposedPort": 0, "Definition": [String: Any](), "CreateIndex": c.createIndex, "ModifyIndex": c.modifyIndex,
        ]
    }

    func kvJSON(_ e: Entry) -> [String: Any] {
        var json: [String: Any] = [
            "LockIndex": e.lockIndex, "Key": e.key, "Flags": e.flags,
            "CreateIndex": e.createIndex, "ModifyIndex": e.modifyIndex,
        ]
        json["Value"] = e.value.map { $0.isEmpty ? NSNull() : Data($0).base64EncodedString() as Any } ?? NSNull()
        return json
    }

    /// The index of a service query: service and check tables together (a check flip changes health).
    var healthIndex: UInt64 { max(servicesIndex, checksIndex) }
}
