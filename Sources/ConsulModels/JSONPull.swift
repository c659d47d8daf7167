/// A pull reader over JSON text in UTF-8: the caller walks the document (an array, its objects, their keys)
/// and reads only the values it wants; everything else is skipped, but still checked as JSON, so a damaged
/// answer is refused at least wherever Foundation's `JSONDecoder` would refuse it.
///
/// Why it exists: the services pane decodes every check in Consul (`/v1/health/state/any`) on each change.
/// For a fleet's 2,001 checks (657 KiB) `JSONDecoder` takes 14 ms of a 33 ms frame; pulling the ten fields
/// the console uses from the bytes takes 3 ms (`console-bench`, release).
package struct JSONPull {
    package struct Failure: Error, CustomStringConvertible, Equatable {
        package var offset: Int
        package var reason: String
        package var description: String { "JSON at byte \(offset): \(reason)" }
    }

    /// An object's key, as bytes: compared with the names a decoder knows without making a String of it.
    /// (`JSONDecoder` compares Strings, under which U+212A KELVIN SIGN equals "K": the same for names
    /// without a K, as every HealthCheck field is.) Valid only inside the `object` call that gave it.
    package struct Key {
        fileprivate var raw: Slice<UnsafeBufferPointer<UInt8>>
        fileprivate var unescaped: [UInt8]?  // only when the key has escapes

        package func `is`(_ name: StaticString) -> Bool {
            name.withUTF8Buffer { name in unescaped.map { $0.elementsEqual(name) } ?? raw.elementsEqual(name) }
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0
    private var depth = 0
    /// Foundation's limit: deeper nesting is refused rather than followed down the stack.
    static let maximumDepth = 512

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }  // a UTF-8 byte order mark, passed over as Foundation does
    }

    /// Runs `body` with a reader on `document`, and checks that nothing but whitespace follows what it read.
    package static func read<T>(_ document: [UInt8], _ body: (inout JSONPull) throws(Failure) -> T) throws(Failure) -> T {
        try document.withUnsafeBufferPointer { buffer throws(Failure) in
            var reader = JSONPull(buffer)
            let value = try body(&reader)
            reader.skipWhitespace()
            guard reader.at == buffer.count else { throw reader.failure(reader.at, "unexpected text after the document") }
            return value
        }
    }

    // MARK: Structure

    /// `[` ... `]`, calling `element` once per element with the reader on its first byte. A comma before
    /// the closing bracket is let by, as Foundation's parsers let it by.
    package mutating func array(_ element: (inout JSONPull) throws(Failure) -> Void) throws(Failure) {
        try open(UInt8(ascii: "["))
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "]") { at += 1; return }
        while true {
            try element(&self)
            switch try next() {
            case UInt8(ascii: ","):
                if try peek() == UInt8(ascii: "]") { at += 1; return }
            case UInt8(ascii: "]"): return
            default: throw failure(at - 1, "expected ',' or ']' in an array")
            }
        }
    }

    /// `{` ... `}`, calling `member` with each key and the reader on its value (a trailing comma let by).
    package mutating func object(_ member: (Key, inout JSONPull) throws(Failure) -> Void) throws(Failure) {
        try open(UInt8(ascii: "{"))
        defer { depth -= 1 }
        if try peek() == UInt8(ascii: "}") { at += 1; return }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw failure(at, "expected a key") }
            let (body, plain, ascii) = try stringBody()
            let key = Key(raw: bytes[body], unescaped: plain ? nil : try unescaped(body))
            // A key is UTF-8 too, even one nobody reads (`JSONDecoder` refuses a check with such a key).
            if !ascii, (key.unescaped.map { String(validating: $0, as: UTF8.self) } ?? String(validating: bytes[body], as: UTF8.self)) == nil {
                throw failure(body.lowerBound, "a key that is not UTF-8")
            }
            guard try next() == UInt8(ascii: ":") else { throw failure(at - 1, "expected ':' after a key") }
            try member(key, &self)
            switch try next() {
            case UInt8(ascii: ","):
                if try peek() == UInt8(ascii: "}") { at += 1; return }
            case UInt8(ascii: "}"): return
            default: throw failure(at - 1, "expected ',' or '}' in an object")
            }
        }
    }

    /// Whether the next value is `null`; consumed if it is.
    package mutating func null() throws(Failure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    // MARK: Values

    /// A string value (escapes resolved, UTF-8 checked).
    package mutating func string() throws(Failure) -> String {
        let (body, plain, ascii) = try stringBody()
        if plain && ascii { return String(decoding: bytes[body], as: UTF8.self) }  // nothing to check or resolve
        let text = plain ? String(validating: bytes[body], as: UTF8.self) : String(validating: try unescaped(body), as: UTF8.self)
        guard let text else { throw failure(body.lowerBound, "a string that is not UTF-8") }
        return text
    }

    /// Where a string's text is (between its quotes); whether it is `plain` (without escapes the bytes
    /// are the string) and `ascii`. Its UTF-8 is checked by whoever makes it a String.
    private mutating func stringBody() throws(Failure) -> (Range<Int>, plain: Bool, ascii: Bool) {
        guard try next() == UInt8(ascii: "\"") else { throw failure(at - 1, "expected a string") }
        let start = at
        var plain = true, ascii = true
        while true {
            guard at < bytes.count else { throw failure(start - 1, "unterminated string") }
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw failure(at, "unescaped control character in a string") }
            if byte >= 0x80 { ascii = false }
            if byte == UInt8(ascii: "\\") { plain = false; at += 2 } else { at += 1 }
        }
        at += 1
        return (start..<at - 1, plain, ascii)
    }

    /// Any value, checked and passed over.
    package mutating func skip() throws(Failure) {
        switch try peek() {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "["): try array { reader throws(Failure) in try reader.skip() }
        case UInt8(ascii: "{"): try object { _, reader throws(Failure) in try reader.skip() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    // MARK: Bytes

    private mutating func skipWhitespace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    /// The next byte that is not whitespace, not consumed.
    private mutating func peek() throws(Failure) -> UInt8 {
        skipWhitespace()
        guard at < bytes.count else { throw failure(at, "unexpected end of the document") }
        return bytes[at]
    }

    private mutating func next() throws(Failure) -> UInt8 {
        let byte = try peek()
        at += 1
        return byte
    }

    private mutating func open(_ bracket: UInt8) throws(Failure) {
        guard try next() == bracket else { throw failure(at - 1, "expected '\(Character(Unicode.Scalar(bracket)))'") }
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure(at - 1, "nested deeper than \(Self.maximumDepth)") }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count,
              word.withUTF8Buffer({ $0.elementsEqual(bytes[at..<at + count]) }) else { throw failure(at, "expected \(word)") }
        at += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(Failure) {
        let start = at
        func digits(_ reader: inout JSONPull) -> Int {
            let first = reader.at
            while reader.at < reader.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(reader.bytes[reader.at]) { reader.at += 1 }
            return reader.at - first
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        let integerStart = at
        let integer = digits(&self)
        guard integer > 0 else { throw failure(start, "expected a value") }
        if integer > 1, bytes[integerStart] == UInt8(ascii: "0") { throw failure(integerStart, "a number with a leading zero") }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw failure(at, "a number without digits after '.'") }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw failure(at, "a number without digits in its exponent") }
        }
    }

    /// The UTF-8 of a string body with its escapes resolved; `\u` pairs make one scalar, a lone surrogate is refused.
    private func unescaped(_ range: Range<Int>) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        func hex4(_ i: Int) throws(Failure) -> UInt32 {
            guard i + 4 <= range.upperBound else { throw failure(i, "a \\u escape without four hex digits") }
            var value: UInt32 = 0
            for byte in bytes[i..<i + 4] {
                guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { throw failure(i, "a \\u escape without four hex digits") }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < range.upperBound {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else { out.append(byte); i += 1; continue }
            guard i + 1 < range.upperBound else { throw failure(i, "an unfinished escape") }
            let kind = bytes[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(kind)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= range.upperBound, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw failure(i, "a lone surrogate in a \\u escape")
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure(i, "a lone surrogate in a \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let valid = Unicode.Scalar(scalar) else { throw failure(i, "a lone surrogate in a \\u escape") }
                out.append(contentsOf: String(valid).utf8)
            default: throw failure(i - 1, "an unknown escape")
            }
        }
        return out
    }

    private func failure(_ offset: Int, _ reason: String) -> Failure { Failure(offset: offset, reason: reason) }
}
