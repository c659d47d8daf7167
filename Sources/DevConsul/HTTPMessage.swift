import Foundation

/// An HTTP request as the API sees it (no sockets: the server and the tests build these).
struct APIRequest: Sendable {
    var method: String
    /// The path, percent-decoded, without the query.
    var path: String
    var query: QueryParameters
    var headers: [(String, String)]
    var body: [UInt8]

    init(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(parts[0])
        path = rawPath.removingPercentEncoding ?? rawPath
        query = QueryParameters(parts.count > 1 ? String(parts[1]) : "")
        self.headers = headers
        self.body = body
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// Query parameters in order; a parameter without `=` is a presence flag (`?recurse`).
struct QueryParameters: Sendable {
    private(set) var items: [(name: String, value: String?)] = []

    init(_ text: String) {
        for part in text.split(separator: "&") where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(pair[0])
            items.append((name, pair.count > 1 ? decode(pair[1]) : nil))
        }
    }

    func has(_ name: String) -> Bool { items.contains { $0.name == name } }
    /// The first value ("" for a bare flag), or nil when absent.
    func value(_ name: String) -> String? {
        items.first { $0.name == name }.map { $0.value ?? "" }
    }
    func values(_ name: String) -> [String] { items.filter { $0.name == name }.map { $0.value ?? "" } }

    /// The query as the client sent it (for "Conflicting flags" messages).
    var encoded: String {
        items.map { item in item.value.map { "\(item.name)=\($0)" } ?? item.name }.joined(separator: "&")
    }
}

private func decode(_ text: Substring) -> String {
    let plus = text.replacingOccurrences(of: "+", with: " ")
    return plus.removingPercentEncoding ?? plus
}

/// An HTTP response from the API.
struct APIResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Consul's error bodies are plain text.
    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: status, headers: headers + [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// A JSON body (keys sorted, so answers are stable).
    static func json(_ value: Any, status: Int = 200, headers: [(String, String)] = []) -> APIResponse {
        var body = JSONText.encode(value)
        body.append(0x0a)
        return APIResponse(status: status, headers: headers + [("Content-Type", "application/json")], body: body)
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// A request the API refuses: becomes a plain-text response.
struct APIFailure: Error {
    var response: APIResponse
    init(_ status: Int, _ text: String, headers: [(String, String)] = []) {
        response = .text(status, text, headers: headers)
    }
}

/// JSON text of the agent's answers (dictionaries, arrays, strings, numbers, booleans, NSNull): object keys
/// in code-point order, slashes not escaped, UTF-8 as is.
///
/// Not JSONSerialization: on Linux its sorted keys compare through ICU collation, and answering
/// /v1/health/state/any for 2,000 checks took 600 ms (fleet-sim, scripts/bench-console).
enum JSONText {
    static func encode(_ value: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1_024)
        write(value, into: &out)
        return out
    }

    static func write(_ value: Any, into out: inout [UInt8]) {
        // Exact Swift types first, by identity (a failed `as?` cast costs more than the encoding): a Bool
        // must not print as 1, nor an Int as true.
        switch ObjectIdentifier(type(of: value)) {
        case ObjectIdentifier(String.self): return string(value as! String, into: &out)
        case ObjectIdentifier(Int.self): return out.append(contentsOf: String(value as! Int).utf8)
        case ObjectIdentifier(UInt64.self): return out.append(contentsOf: String(value as! UInt64).utf8)
        case ObjectIdentifier(Bool.self): return out.append(contentsOf: ((value as! Bool) ? "true" : "false").utf8)
        case ObjectIdentifier([String: Any].self): return object(value as! [String: Any], into: &out)
        case ObjectIdentifier([String].self): return array(value as! [String], into: &out)
        default: break
        }
        switch value {
        case let text as String: string(text, into: &out)
        case let number as Int64 where type(of: value) == Int64.self: out.append(contentsOf: String(number).utf8)
        case let number as Int32 where type(of: value) == Int32.self: out.append(contentsOf: String(number).utf8)
        case let number as UInt32 where type(of: value) == UInt32.self: out.append(contentsOf: String(number).utf8)
        case let number as Double where type(of: value) == Double.self: double(number, into: &out)
        case let number as NSNumber: out.append(contentsOf: number.stringValue.utf8)
        case let dictionary as [String: Any]: object(dictionary, into: &out)
        case let elements as [Any]: array(elements, into: &out)
        case is NSNull: out.append(contentsOf: "null".utf8)
        default: string(String(describing: value), into: &out)
        }
    }

    private static func object(_ object: [String: Any], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (position, key) in object.keys.sorted().enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(key, into: &out)
            out.append(UInt8(ascii: ":"))
            write(object[key]!, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func array<Element>(_ elements: [Element], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (position, element) in elements.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            write(element, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func double(_ number: Double, into out: inout [UInt8]) {
        guard number.isFinite else { return out.append(contentsOf: "null".utf8) }
        if number == number.rounded(), abs(number) < 1e15 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else {
            out.append(contentsOf: "\(number)".utf8)
        }
    }

    private static func string(_ text: String, into out: inout [UInt8]) {
        var text = text  // native and contiguous: a string bridged from Foundation reads slowly otherwise
        out.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var plain = 0  // start of the run of bytes that need no escape
            for (position, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5c {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<position]))
                plain = position + 1
                switch byte {
                case 0x22, 0x5c: out.append(contentsOf: [0x5c, byte])
                case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
                case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
