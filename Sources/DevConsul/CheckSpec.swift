import Consul
import Foundation

/// How a check is probed, as given at registration.
struct CheckSpec {
    enum Probe {
        case tcp(String)
        case http(url: String, method: String, headers: [String: [String]], body: String)
        case grpc(target: String, useTLS: Bool, skipVerify: Bool = false)
        case ttl(Duration)

        var typeName: String {
            switch self {
            case .tcp: return "tcp"
            case .http: return "http"
            case .grpc: return "grpc"
            case .ttl: return "ttl"
            }
        }
    }

    var probe: Probe?
    var interval: Duration?
    var timeout: Duration?
    var deregisterCriticalServiceAfter: Duration?
    /// The durations as given, echoed in JSON (`Interval`, `Timeout`).
    var intervalText = ""
    var timeoutText = ""

    /// Consul raises intervals below 1 s to 1 s.
    var effectiveInterval: Duration { max(interval ?? .seconds(10), .seconds(1)) }

    /// Default 10 s; when unset and the interval is shorter, the interval.
    var effectiveTimeout: Duration {
        if let timeout, timeout > .zero { return timeout }
        return min(.seconds(10), effectiveInterval)
    }

    /// Consul's floor for DeregisterCriticalServiceAfter is one minute.
    var effectiveDeregisterAfter: Duration? {
        deregisterCriticalServiceAfter.map { max($0, .seconds(60)) }
    }
}

/// A JSON object whose keys are matched the way Consul's decoder matches them: case-insensitively and
/// with snake_case accepted for PascalCase (`grpc_use_tls` = `GRPCUseTLS`).
struct LooseObject {
    private var fields: [String: Any] = [:]

    init(_ object: [String: Any]) {
        for (key, value) in object { fields[Self.normalise(key)] = value }
    }

    static func normalise(_ key: String) -> String { key.lowercased().replacingOccurrences(of: "_", with: "") }

    func value(_ key: String) -> Any? {
        let value = fields[Self.normalise(key)]
        return value is NSNull ? nil : value
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value as? String else { throw DecodeFailure("json: cannot unmarshal into field \(key) of type string") }
        return text
    }

    func int(_ key: String) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber else {
            throw DecodeFailure("json: cannot unmarshal into field \(key) of type int")
        }
        return number.intValue
    }

    func bool(_ key: String) -> Bool { (value(key) as? NSNumber)?.boolValue ?? false }

    func strings(_ key: String) throws -> [String] {
        guard let value = value(key) else { return [] }
        guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
            throw DecodeFailure("json: cannot unmarshal into field \(key) of type []string")
        }
        return list as! [String]
    }

    func stringMap(_ key: String) throws -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard let map = value as? [String: Any], map.values.allSatisfy({ $0 is String }) else {
            throw DecodeFailure("json: cannot unmarshal into field \(key) of type map[string]string")
        }
        return map as! [String: String]
    }

    func object(_ key: String) throws -> LooseObject? {
        guard let value = value(key) else { return nil }
        guard let map = value as? [String: Any] else { throw DecodeFailure("json: cannot unmarshal into field \(key) of type object") }
        return LooseObject(map)
    }

    func objects(_ key: String) throws -> [LooseObject] {
        guard let value = value(key) else { return [] }
        guard let list = value as? [[String: Any]] else { throw DecodeFailure("json: cannot unmarshal into field \(key) of type []object") }
        return list.map(LooseObject.init)
    }

    /// A Go duration field ("10s"); a bare number is nanoseconds, as Go's encoding of time.Duration.
    func duration(_ key: String) throws -> (Duration, String)? {
        guard let value = value(key) else { return nil }
        if let text = value as? String {
            if text.isEmpty { return nil }
            guard let duration = GoDuration.parse(text) else { throw DecodeFailure("time: invalid duration \"\(text)\"") }
            return (duration, text)
        }
        if let number = value as? NSNumber {
            let duration = Duration.nanoseconds(number.int64Value)
            return (duration, GoDuration.format(duration))
        }
        throw DecodeFailure("json: cannot unmarshal into field \(key) of type duration")
    }

    /// Parses a request body that must be a JSON object. Empty bodies fail with "EOF", like Go's decoder.
    static func parse(_ body: [UInt8]) throws -> LooseObject {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { throw DecodeFailure("EOF") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw DecodeFailure("invalid character in JSON body")
        }
        guard let object = parsed as? [String: Any] else { throw DecodeFailure("json: cannot unmarshal non-object into Go value") }
        return LooseObject(object)
    }
}

struct DecodeFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
