import Consul
import SearchModels

/// Finds a service's instances the way the original client did, through Consul DNS (SRV records on the
/// agent's DNS port), falling back to Consul's HTTP health API (passing instances only) when DNS does not
/// answer. Or a fixed list (`--instance`), which skips Consul altogether.
public struct InstanceDiscovery: Sendable {
    public enum Source: Sendable {
        case consul(dns: ConsulDNS?, http: ConsulClient?)
        case given([ServiceAddress])
    }
    public var source: Source

    public init(_ source: Source) {
        self.source = source
    }

    /// The instances, and how they were found ("dns", "http" or "given").
    public func instances(of service: String) async throws(SearchFailure) -> (addresses: [ServiceAddress], via: String) {
        switch source {
        case .given(let addresses):
            return (addresses, "given")
        case .consul(let dns, let http):
            var reasons: [String] = []
            var answered = false  // a source answered, even with nothing: an answer, not an outage
            if let dns {
                do {
                    let found = try await dns.instances(of: service)
                    if !found.isEmpty { return (found, "dns") }
                    answered = true
                    reasons.append("DNS: no instance of \(service)")
                } catch DNSLookupError.notFound {
                    // Consul answers NXDOMAIN for a service with no healthy instance: HTTP would say the same.
                    throw SearchFailure(kind: .noInstance, message: "no healthy instance of \(service) (DNS \(service).service.\(dns.domain): NXDOMAIN)")
                } catch {
                    reasons.append("DNS: \(error)")
                }
            }
            if let http {
                do {
                    let entries = try await http.health(service: service, passingOnly: true).value
                    let found = entries.map { ServiceAddress(host: $0.address, port: $0.service.port) }
                    if !found.isEmpty { return (found, "http") }
                    answered = true
                    reasons.append("HTTP: no passing instance of \(service)")
                } catch {
                    reasons.append("HTTP: \(error)")
                }
            }
            throw SearchFailure(kind: answered ? .noInstance : .consulUnreachable,
                                message: "cannot find \(service): " + reasons.joined(separator: "; "))
        }
    }
}
