import GRPCNIOTransportHTTP2Posix

/// A plaintext HTTP/2 transport to host:port, reading the host as an IPv6 or IPv4 literal before a name.
public enum GRPCTargets {
    public static func transport(host: String, port: Int) throws -> HTTP2ClientTransport.Posix {
        let target: any ResolvableTarget
        if host.contains(":") {
            target = .ipv6(address: host, port: port)
        } else if host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = .ipv4(address: host, port: port)
        } else {
            target = .dns(host: host, port: port)
        }
        return try HTTP2ClientTransport.Posix(target: target, transportSecurity: .plaintext)
    }
}
