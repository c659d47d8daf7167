import Consul
import Foundation

/// Answers DNS questions about the catalog the way Consul's DNS interface does (see CONSUL_REFERENCE §6).
struct DNSResponder: Sendable {
    var domain = "consul"
    /// Consul's `dns_config.udp_answer_limit`.
    var udpAnswerLimit = 3
    /// Consul's `dns_config.only_passing`: drop warning instances too.
    var onlyPassing = false
    var serial: @Sendable () -> UInt32 = { UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)) }

    enum Transport { case udp, tcp }

    func respond(to query: DNSQuery, catalog: Catalog, transport: Transport) -> DNSResponse {
        var response = DNSResponse(id: query.id, opcode: query.opcode, recursionDesired: query.recursionDesired,
                                   question: query.question, ednsUDPSize: query.ednsUDPSize.map { min($0, 65535 - 68) })
        guard query.opcode == 0 else {
            response.code = .notImplemented
            return response
        }
        let q = query.question
        guard q.name == domain || q.name.hasSuffix("." + domain) else {
            response.code = .refused  // no recursors: not ours to answer
            return response
        }
        var labels = q.name == domain ? [] : q.name.dropLast(domain.count + 1).split(separator: ".").map(String.init)
        if labels.isEmpty {
            if q.type == DNSType.soa.rawValue || q.type == DNSType.any.rawValue { response.answers = [soa()] }
            else if q.type == DNSType.ns.rawValue { response.answers = [DNSRecord(name: domain, ttl: 0, data: .ns("ns.\(domain)"))] }
            else { response.authority = [soa()] }
            return response
        }
        // An optional datacenter label after the kind ("web.service.dc1.consul").
        if labels.count >= 2, ["service", "node", "addr", "query"].contains(labels[labels.count - 2]) {
            guard labels.last == catalog.datacenter else { return nxdomain(response) }
            labels.removeLast()
        }
        let answer: Answer?
        if labels.first?.hasPrefix("_") == true {
            answer = rfc2782(labels, catalog)
        } else {
            switch labels.last {
            case "service" where labels.count >= 2:
                let service = labels[labels.count - 2]
                let tag = labels.count > 2 ? labels[..<(labels.count - 2)].joined(separator: ".") : nil
                answer = serviceAnswer(service: service, tag: tag, catalog)
            case "node" where labels.count == 2:
                answer = labels[0] == catalog.node.lowercased() ? .node(catalog.node, catalog.address, ["consul-network-segment": ""]) : nil
            case "addr" where labels.count == 2:
                answer = ConsulDNS.decodeAddrTarget(labels[0] + ".addr").map { .address($0) }
            default:
                answer = nil
            }
        }
        guard let answer else { return nxdomain(response) }
        fill(&response, with: answer, question: q, catalog: catalog)
        if response.answers.isEmpty && response.code == .noError { response.authority = [soa()] }
        if transport == .udp { trim(&response, edns: query.ednsUDPSize) }
        return response
    }

    private enum Answer {
        case instances([(Catalog.Service, HealthStatus)])
        case node(String, String, [String: String])
        case address(String)
    }

    private func rfc2782(_ labels: [String], _ catalog: Catalog) -> Answer? {
        // _<service>._<tag|tcp>[.service]
        var parts = labels
        if parts.last == "service" { parts.removeLast() }
        guard parts.count == 2, parts.allSatisfy({ $0.hasPrefix("_") }) else { return nil }
        let service = String(parts[0].dropFirst())
        let protocolOrTag = String(parts[1].dropFirst())
        return serviceAnswer(service: service, tag: protocolOrTag == "tcp" ? nil : protocolOrTag, catalog)
    }

    /// Instances of a service that DNS may return: none critical (node or service checks); warning
    /// ones too unless only-passing. nil (NXDOMAIN) when nothing healthy is left.
    private func serviceAnswer(service: String, tag: String?, _ catalog: Catalog) -> Answer? {
        var found: [(Catalog.Service, HealthStatus)] = []
        for candidate in catalog.catalogServices where candidate.name.lowercased() == service {
            if let tag, !candidate.tags.contains(where: { $0.lowercased() == tag }) { continue }
            let checks = candidate.id == "consul" ? [catalog.serfHealth] : catalog.checks(ofService: candidate.id)
            let status = HealthStatus.aggregate(checks.map(\.status))
            if status == .critical || (onlyPassing && status == .warning) { continue }
            found.append((candidate, status))
        }
        return found.isEmpty ? nil : .instances(found.shuffled())
    }

    private func fill(_ response: inout DNSResponse, with answer: Answer, question q: DNSQuestion, catalog: Catalog) {
        let wantsA = q.type == DNSType.a.rawValue || q.type == DNSType.any.rawValue
        switch answer {
        case .instances(let instances):
            if q.type == DNSType.srv.rawValue {
                for (service, status) in instances {
                    let (target, address) = srvTarget(service, catalog)
                    let weight = status == .warning ? service.weights.warning : service.weights.passing
                    response.answers.append(DNSRecord(name: q.name, ttl: 0, data: .srv(
                        priority: 1, weight: UInt16(clamping: weight), port: UInt16(clamping: service.port), target: target)))
                    if let bytes = ipv4Bytes(address), !response.additional.contains(where: { $0.name == target }) {
                        response.additional.append(DNSRecord(name: target, ttl: 0, data: .a(bytes)))
                    }
                }
            } else if wantsA {
                var seen: Set<String> = []
                for (service, _) in instances {
                    let address = ipv4Bytes(service.address) != nil ? service.address : catalog.address
                    guard seen.insert(address).inserted, let bytes = ipv4Bytes(address) else { continue }
                    response.answers.append(DNSRecord(name: q.name, ttl: 0, data: .a(bytes)))
                }
            }
        case .node(_, let address, let meta):
            if wantsA, let bytes = ipv4Bytes(address) { response.answers.append(DNSRecord(name: q.name, ttl: 0, data: .a(bytes))) }
            if q.type == DNSType.txt.rawValue || q.type == DNSType.any.rawValue {
                for (key, value) in meta.sorted(by: { $0.key < $1.key }) {
                    let text = key.hasPrefix("rfc1035-") ? value : "\(key)=\(value)"
                    response.answers.append(DNSRecord(name: q.name, ttl: 0, data: .txt([text])))
                }
            }
        case .address(let address):
            if wantsA, let bytes = ipv4Bytes(address) { response.answers.append(DNSRecord(name: q.name, ttl: 0, data: .a(bytes))) }
        }
    }

    /// `<hex>.addr.<dc>.<domain>` when the service has an IP address, else `<node>.node.<dc>.<domain>`.
    private func srvTarget(_ service: Catalog.Service, _ catalog: Catalog) -> (String, String) {
        if let bytes = ipv4Bytes(service.address) {
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            return ("\(hex).addr.\(catalog.datacenter).\(domain)", service.address)
        }
        return ("\(catalog.node).node.\(catalog.datacenter).\(domain)", catalog.address)
    }

    private func soa() -> DNSRecord {
        DNSRecord(name: domain, ttl: 0, data: .soa(mname: "ns.\(domain)", rname: "hostmaster.\(domain)", serial: serial(),
                                                   refresh: 3600, retry: 600, expire: 86400, minimum: 0))
    }

    private func nxdomain(_ response: DNSResponse) -> DNSResponse {
        var response = response
        response.code = .nameError
        response.authority = [soa()]
        return response
    }

    /// Consul's UDP rule: without EDNS at most `udpAnswerLimit` answers, then drop answers until the
    /// message fits 512 bytes (with EDNS: the advertised size); the TC bit is not set.
    private func trim(_ response: inout DNSResponse, edns: Int?) {
        let limit = edns.map { min($0, 65535 - 68) } ?? 512
        if edns == nil, response.answers.count > udpAnswerLimit {
            response.answers.removeLast(response.answers.count - udpAnswerLimit)
        }
        while response.encode().count > limit, !response.answers.isEmpty {
            response.answers.removeLast()
        }
        // Keep only the additional records that still belong to an answer.
        let targets = Set(response.answers.compactMap { record -> String? in
            if case .srv(_, _, _, let target) = record.data { return target }
            return nil
        })
        response.additional.removeAll { !targets.contains($0.name) }
    }
}

/// The four bytes of a dotted IPv4 address, or nil.
func ipv4Bytes(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    let bytes = parts.compactMap { UInt8($0) }
    return bytes.count == 4 ? bytes : nil
}
