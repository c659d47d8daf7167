/// The parts of the DNS wire format (RFC 1035, SRV RFC 2782, EDNS0 RFC 6891) the agent speaks.
enum DNSType: UInt16 {
    case a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, txt = 16, aaaa = 28, srv = 33, opt = 41, any = 255
}

enum DNSResponseCode: UInt16 {
    case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
}

struct DNSQuestion: Equatable, Sendable {
    /// Lower-cased, without the trailing dot.
    var name: String
    var type: UInt16
    var qclass: UInt16
}

/// A query as the server reads it.
struct DNSQuery: Equatable, Sendable {
    var id: UInt16
    var opcode: UInt16
    var recursionDesired: Bool
    var question: DNSQuestion
    /// The UDP payload size the client advertised with EDNS0, if it sent an OPT record.
    var ednsUDPSize: Int?
}

enum DNSRecordData: Hashable, Sendable {
    case a([UInt8])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
    case soa(mname: String, rname: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    case txt([String])
    case ns(String)

    var type: DNSType {
        switch self {
        case .a: return .a
        case .srv: return .srv
        case .soa: return .soa
        case .txt: return .txt
        case .ns: return .ns
        }
    }
}

struct DNSRecord: Equatable, Sendable {
    var name: String
    var ttl: UInt32
    var data: DNSRecordData
}

/// A response to encode.
struct DNSResponse: Equatable, Sendable {
    var id: UInt16
    var opcode: UInt16 = 0
    var recursionDesired: Bool = false
    var code: DNSResponseCode = .noError
    var question: DNSQuestion?
    var answers: [DNSRecord] = []
    var authority: [DNSRecord] = []
    var additional: [DNSRecord] = []
    /// Echo an OPT record with this payload size (when the query had one).
    var ednsUDPSize: Int?

    /// Wire bytes. Names are written uncompressed: that is what Consul measures when it trims for 512.
    func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append16(id)
        // QR=1, opcode, AA=1, TC=0 (Consul trims without setting it), RD echoed, RA=0, rcode.
        var flags: UInt16 = 0x8000 | (opcode & 0xf) << 11 | 0x0400 | code.rawValue
        if recursionDesired { flags |= 0x0100 }
        out.append16(flags)
        out.append16(question == nil ? 0 : 1)
        out.append16(UInt16(answers.count))
        out.append16(UInt16(authority.count))
        out.append16(UInt16(additional.count + (ednsUDPSize == nil ? 0 : 1)))
        if let question {
            out.appendName(question.name)
            out.append16(question.type)
            out.append16(question.qclass)
        }
        for record in answers + authority + additional { out.appendRecord(record) }
        if let size = ednsUDPSize {
            out.append(0)  // root name
            out.append16(DNSType.opt.rawValue)
            out.append16(UInt16(clamping: size))
            out.append32(0)  // extended rcode, version, flags
            out.append16(0)  // no options
        }
        return out
    }
}

enum DNSParseError: Error, Equatable {
    case truncated, badName, notAQuery, noQuestion
}

extension DNSQuery {
    /// Reads a query: the header, the first question and an OPT record in the additional section.
    static func parse(_ bytes: [UInt8]) throws -> DNSQuery {
        var reader = DNSReader(bytes: bytes)
        let id = try reader.read16()
        let flags = try reader.read16()
        guard flags & 0x8000 == 0 else { throw DNSParseError.notAQuery }
        let questions = try reader.read16()
        let answers = try reader.read16()
        let authority = try reader.read16()
        let additional = try reader.read16()
        guard questions >= 1 else { throw DNSParseError.noQuestion }
        let name = try reader.readName()
        let question = DNSQuestion(name: name.lowercased(), type: try reader.read16(), qclass: try reader.read16())
        for _ in 1..<Int(questions) { _ = try reader.readName(); _ = try reader.read16(); _ = try reader.read16() }
        for _ in 0..<Int(answers) + Int(authority) { try reader.skipRecord() }
        var edns: Int?
        for _ in 0..<Int(additional) {
            _ = try reader.readName()
            let type = try reader.read16()
            let klass = try reader.read16()
            _ = try reader.read32()
            let length = Int(try reader.read16())
            try reader.skip(length)
            if type == DNSType.opt.rawValue { edns = max(512, Int(klass)) }
        }
        return DNSQuery(id: id, opcode: (flags >> 11) & 0xf, recursionDesired: flags & 0x0100 != 0,
                        question: question, ednsUDPSize: edns)
    }
}

/// A bounds-checked cursor over a message, following compression pointers in names.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func read8() throws -> UInt8 {
        guard offset < bytes.count else { throw DNSParseError.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func read16() throws -> UInt16 { UInt16(try read8()) << 8 | UInt16(try read8()) }
    mutating func read32() throws -> UInt32 { UInt32(try read16()) << 16 | UInt32(try read16()) }

    mutating func skip(_ count: Int) throws {
        guard offset + count <= bytes.count else { throw DNSParseError.truncated }
        offset += count
    }

    mutating func skipRecord() throws {
        _ = try readName()
        try skip(8)
        try skip(Int(try read16()))
    }

    mutating func readName() throws -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        while true {
            guard position < bytes.count else { throw DNSParseError.truncated }
            let length = Int(bytes[position])
            if length == 0 {
                position += 1
                break
            }
            if length & 0xc0 == 0xc0 {
                guard position + 1 < bytes.count, jumps < 16 else { throw DNSParseError.badName }
                let target = (length & 0x3f) << 8 | Int(bytes[position + 1])
                if !jumped { offset = position + 2 }
                jumped = true
                jumps += 1
                position = target
                continue
            }
            guard length <= 63, position + 1 + length <= bytes.count else { throw DNSParseError.badName }
            labels.append(String(decoding: bytes[(position + 1)..<(position + 1 + length)], as: UTF8.self))
            position += 1 + length
        }
        if !jumped { offset = position }
        return labels.joined(separator: ".")
    }
}

extension [UInt8] {
    mutating func append16(_ value: UInt16) { append(UInt8(value >> 8)); append(UInt8(value & 0xff)) }
    mutating func append32(_ value: UInt32) { append16(UInt16(value >> 16)); append16(UInt16(value & 0xffff)) }

    mutating func appendName(_ name: String) {
        for label in name.split(separator: ".") where !label.isEmpty {
            let bytes = Array(label.utf8.prefix(63))
            append(UInt8(bytes.count))
            append(contentsOf: bytes)
        }
        append(0)
    }

    mutating func appendRecord(_ record: DNSRecord) {
        appendName(record.name)
        append16(record.data.type.rawValue)
        append16(1)  // IN
        append32(record.ttl)
        var data: [UInt8] = []
        switch record.data {
        case .a(let address): data = address
        case .srv(let priority, let weight, let port, let target):
            data.append16(priority); data.append16(weight); data.append16(port); data.appendName(target)
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            data.appendName(mname); data.appendName(rname)
            for value in [serial, refresh, retry, expire, minimum] { data.append32(value) }
        case .txt(let strings):
            for string in strings {
                let bytes = Array(string.utf8.prefix(255))
                data.append(UInt8(bytes.count)); data.append(contentsOf: bytes)
            }
        case .ns(let host): data.appendName(host)
        }
        append16(UInt16(data.count))
        append(contentsOf: data)
    }
}
