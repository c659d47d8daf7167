import Foundation

/// A throw-away certificate authority made with openssl at test time (no key is ever committed): a CA,
/// a server certificate for 127.0.0.1 and localhost, and a client certificate, all valid for a day.
/// `remove()` deletes the directory.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caFile: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }

    public init() throws {
        directory = NSTemporaryDirectory() + "opsdeck-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + key + ["-keyout", directory + "/ca.key", "-out", caFile, "-days", "1", "-subj", "/CN=opsdeck test CA"])
        for (name, extensions) in [("server", ["-extfile", directory + "/san.ext"]), ("client", [])] {
            try Self.openssl(["req"] + key + ["-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", "/CN=\(name)"])
            try Self.openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
                              "-CAcreateserial", "-out", "\(directory)/\(name).pem", "-days", "1"] + extensions)
        }
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    private static func openssl(_ arguments: [String]) throws {
        let result = try Stack.runBlocking("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw StackError(message: "openssl \(arguments.joined(separator: " ")) failed:\n\(result.output)") }
    }
}
