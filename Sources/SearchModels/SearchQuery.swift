import Foundation
import Geo

/// An ad-hoc search as the operator means it: a point, a name, or both, and which page.
public struct SearchQuery: Hashable, Sendable {
    public var point: GeoPoint?
    /// Case-insensitive part of the area's name.
    public var name: String?
    /// 1-based.
    public var page: Int
    /// nil: the server's default page size.
    public var size: Int?
    /// Ask for each result's outline (the search pane's map; `opsdeck search --outline`).
    public var withOutline: Bool

    public init(point: GeoPoint? = nil, name: String? = nil, page: Int = 1, size: Int? = nil, withOutline: Bool = false) {
        self.point = point
        self.name = name
        self.page = page
        self.size = size
        self.withOutline = withOutline
    }

    /// The same search as an `opsdeck search` command line (copy as CLI).
    public var commandLine: String {
        var words = ["opsdeck", "search"]
        if let point { words += [Self.number(point.latitude), Self.number(point.longitude)] }
        if let name { words += ["--name", Self.shellQuoted(name)] }
        if page != 1 { words += ["--page", "\(page)"] }
        if let size { words += ["--size", "\(size)"] }
        return words.joined(separator: " ")
    }

    /// The same search with grpcurl and the committed descriptor set (no reflection needed).
    public func grpcurlCommand(address: String) -> String {
        var fields: [String] = []
        if let name { fields.append("\"query\":\(Self.jsonString(name))") }
        if page != 1 { fields.append("\"page_number\":\(page)") }
        if let size { fields.append("\"result_per_page\":\(size)") }
        if let point { fields += ["\"lat\":\(Self.number(point.latitude))", "\"lng\":\(Self.number(point.longitude))"] }
        let body = "{" + fields.joined(separator: ",") + "}"
        return "grpcurl -plaintext -protoset Protos/search.protoset -d \(Self.shellQuoted(body)) \(address) Search/search"
    }

    /// A coordinate as typed: no trailing zeros, no exponent.
    static func number(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// Single-quoted for a POSIX shell when it needs quoting at all.
    static func shellQuoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_.,:/@".contains($0) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
