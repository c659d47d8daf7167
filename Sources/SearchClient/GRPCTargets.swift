import Consul
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// TLS for gRPC calls to instances: the CA that signed their certificates (else the system's trust
/// store), and a client certificate when the servers ask for one. PEM files.
public struct GRPCTLS: Sendable, Equatable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    var transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .tls { config in
            if let caFile { config.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
            if let certificateFile, let keyFile {
                config.certificateChain = [.file(path: certificateFile, format: .pem)]
                config.privateKey = .file(path: keyFile, format: .pem)
            }
        }
    }
}

/// An HTTP/2 transport to host:port (plaintext, or TLS when given), reading the host as an IPv6 or IPv4
/// literal before a name.
public enum GRPCTargets {
    public static func transport(host: String, port: Int, tls: GRPCTLS? = nil) throws -> HTTP2ClientTransport.Posix {
        let target: any ResolvableTarget
        if host.contains(":") {
            target = .ipv6(address: host, port: port)
        } else if host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = .ipv4(address: host, port: port)
        } else {
            target = .dns(host: host, port: port)
        }
        return try HTTP2ClientTransport.Posix(target: target, transportSecurity: tls?.transportSecurity ?? .plaintext)
    }

    /// A failed call in an operator's words when TLS is why (an untrusted certificate, plaintext against
    /// TLS); nil otherwise.
    public static func tlsReason(_ error: any Error) -> String? {
        let text = String(reflecting: error)
        if ConsulClient.isUntrustedCertificate(error) {
            return "TLS: the instance's certificate is not trusted (name its CA: grpc_ca in the context, or --grpc-ca)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("handshakeFailed") {
            return "TLS: handshake failed (does the instance serve TLS? plaintext and TLS do not meet)"
        }
        return nil
    }
}
