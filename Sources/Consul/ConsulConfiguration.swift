import Foundation

/// Where Consul is and how to authenticate, read the way Consul's own tools read it.
public struct ConsulConfiguration: Sendable, CustomStringConvertible {
    /// Base URL without a trailing slash, e.g. "http://127.0.0.1:8500".
    public var baseURL: String
    /// ACL token, sent as `X-Consul-Token`. Never printed: `description` redacts it.
    public var token: String?
    /// Where the token came from ("$CONSUL_HTTP_TOKEN", "context prod's consul_token_file"), named in
    /// an ACL refusal so that the operator knows what to fix. Never the token itself.
    public var tokenSource: String?
    /// Where a token would go, said when Consul refuses a request sent without one.
    public var missingTokenHint = "set $CONSUL_HTTP_TOKEN or $CONSUL_HTTP_TOKEN_FILE"

    /// Where the CA goes, said when Consul's certificate is not trusted.
    public var untrustedCertificateHint = "name its CA with $CONSUL_CACERT"

    /// What to fix when ACLs refuse or hide: the token's source, or where a token would go.
    public var tokenFix: String {
        token == nil ? "no token was sent (\(missingTokenHint))" : "check the token from \(tokenSource ?? "the configuration")"
    }
    /// Datacenter for every request (`?dc=`); nil uses the agent's own.
    public var datacenter: String?
    /// For an https:// address: the CA to trust instead of the system's, and a client certificate.
    public var tls = TLSFiles()

    /// PEM files for TLS, as Consul's CLI names them: `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`,
    /// `CONSUL_CLIENT_KEY`; `CONSUL_HTTP_SSL_VERIFY=false` turns verification off (never the default).
    public struct TLSFiles: Sendable, Equatable {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var verify = true

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, verify: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verify = verify
        }
    }

    public init(address: String = "127.0.0.1:8500", token: String? = nil, tokenSource: String? = nil, datacenter: String? = nil) {
        self.baseURL = Self.baseURL(fromAddress: address)
        self.token = token?.isEmpty == true ? nil : token
        self.tokenSource = self.token == nil ? nil : tokenSource ?? "the configuration"
        self.datacenter = datacenter
    }

    /// `CONSUL_HTTP_ADDR` (host:port, or a URL with http/https and an optional path prefix),
    /// `CONSUL_HTTP_TOKEN`, else the first line of `CONSUL_HTTP_TOKEN_FILE`, and `CONSUL_HTTP_SSL`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> ConsulConfiguration {
        var address = env["CONSUL_HTTP_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:8500"
        if !address.contains("://"), ["1", "true", "t"].contains(env["CONSUL_HTTP_SSL"]?.lowercased() ?? "") {
            address = "https://" + address
        }
        var token = env["CONSUL_HTTP_TOKEN"]
        var source = "$CONSUL_HTTP_TOKEN"
        var unreadable: String?
        if token?.isEmpty ?? true, let file = env["CONSUL_HTTP_TOKEN_FILE"], !file.isEmpty {
            token = readToken(file: file)
            source = "$CONSUL_HTTP_TOKEN_FILE (\(file))"
            if token == nil { unreadable = file }
        }
        var configuration = ConsulConfiguration(address: address, token: token, tokenSource: source)
        if let unreadable { configuration.missingTokenHint = "$CONSUL_HTTP_TOKEN_FILE \(unreadable) has no token to read" }
        func file(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        configuration.tls = TLSFiles(caFile: file("CONSUL_CACERT"), certificateFile: file("CONSUL_CLIENT_CERT"),
                                     keyFile: file("CONSUL_CLIENT_KEY"),
                                     verify: !["0", "false", "f"].contains(env["CONSUL_HTTP_SSL_VERIFY"]?.lowercased() ?? ""))
        return configuration
    }

    /// A token file's first line, trimmed; nil when it cannot be read or that line is empty.
    public static func readToken(file: String) -> String? {
        guard let text = try? String(contentsOfFile: (file as NSString).expandingTildeInPath, encoding: .utf8),
              let line = text.split(whereSeparator: \.isNewline).first?.trimmingCharacters(in: .whitespaces), !line.isEmpty else { return nil }
        return line
    }

    static func baseURL(fromAddress address: String) -> String {
        var url = address.contains("://") ? address : "http://" + address
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    public var description: String {
        "Consul at \(baseURL)" + (token == nil ? "" : " (token set)") + (datacenter.map { ", dc \($0)" } ?? "")
    }
}
