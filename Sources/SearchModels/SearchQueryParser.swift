import Geo

/// Reads what an operator types at the search prompt:
///
///     48.8566 2.3522          a point (latitude, longitude: two decimal numbers)
///     48.8566,2.3522          the same
///     france                  a name: the words that are not a point or a keyword ("district 9" too)
///     "page one"              quoted words are always name, never keywords or numbers
///     name:fr near 48.85,2.35 a name and a point
///     ... page 2 size 20      which page, and its size
///
/// Anything else is refused with what was wrong and the forms it accepts; it never guesses: a lone
/// number with no other word is refused rather than searched as a name.
public enum SearchQueryParser {
    public static let acceptedForms = "LAT LNG · LAT,LNG · NAME · name:NAME near LAT,LNG · then page N, size N"

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "\(reason) (accepted: \(SearchQueryParser.acceptedForms))" }
    }

    public static func parse(_ text: String) -> Result<SearchQuery, Failure> {
        do {
            return .success(try parseThrowing(text))
        } catch {
            return .failure(error)
        }
    }

    private static func parseThrowing(_ text: String) throws(Failure) -> SearchQuery {
        var tokens = try tokenize(text)[...]
        var numberWords = 0  // name words that are numbers: a query of only those is a mistyped point
        guard !tokens.isEmpty else { throw Failure(reason: "nothing to search for: type a place name or a point") }
        var query = SearchQuery()
        var nameWords: [String] = []
        var explicitName: String?
        var seen: Set<String> = []

        func once(_ keyword: String) throws(Failure) {
            guard seen.insert(keyword).inserted else { throw Failure(reason: "\(keyword) given twice") }
        }
        func count(after keyword: String, range: ClosedRange<Int>) throws(Failure) -> Int {
            try once(keyword)
            guard let word = tokens.popFirst()?.text else { throw Failure(reason: "\(keyword) needs a number: \(keyword) \(range.lowerBound + 1)") }
            guard let value = Int(word), range.contains(value) else {
                throw Failure(reason: "\(keyword) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(word)'")
            }
            return value
        }
        /// The point at the head of the tokens, or nil when they hold one number only (it may be a word).
        func point(required: Bool) throws(Failure) -> GeoPoint? {
            let first = tokens.first?.text ?? ""
            let parts = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let latText: String, lngText: String
            if parts.count == 2 && !parts[1].isEmpty {
                (latText, lngText) = (parts[0], parts[1])
                tokens.removeFirst()
            } else if parts.count <= 2, tokens.count > 1, let next = tokens.dropFirst().first, !next.quoted, isDecimal(next.text) {
                (latText, lngText) = (parts[0], next.text)
                tokens.removeFirst(2)
            } else if required || parts.count == 2 {
                throw Failure(reason: "a point needs two numbers, latitude then longitude, got '\(first)'")
            } else {
                return nil
            }
            try once("point")
            guard isDecimal(latText), isDecimal(lngText), let lat = Double(latText), let lng = Double(lngText) else {
                throw Failure(reason: "'\(latText) \(lngText)' is not a point: two numbers, latitude then longitude")
            }
            guard abs(lat) <= 90 else {
                let swap = abs(lng) <= 90 ? "; did you mean \(SearchQuery.number(lng)) \(SearchQuery.number(lat))?" : ""
                throw Failure(reason: "latitude \(latText) is out of range -90…90\(swap)")
            }
            guard abs(lng) <= 180 else { throw Failure(reason: "longitude \(lngText) is out of range -180…180") }
            return GeoPoint(latitude: lat, longitude: lng)
        }

        while let (token, quoted) = tokens.first.map({ ($0.text, $0.quoted) }) {
            let lower = token.lowercased()
            if quoted {
                tokens.removeFirst()
                guard !token.trimmingCharacters(in: .whitespaces).isEmpty else { throw Failure(reason: "an empty name (\"\")") }
                nameWords.append(token)
            } else if lower == "page" {
                tokens.removeFirst()
                query.page = try count(after: "page", range: 1...1_000_000)
            } else if lower == "size" {
                tokens.removeFirst()
                query.size = try count(after: "size", range: 1...100)
            } else if lower == "near" {
                tokens.removeFirst()
                guard !tokens.isEmpty else { throw Failure(reason: "near needs a point: near LAT,LNG") }
                query.point = try point(required: true)
            } else if lower.hasPrefix("name:") {
                tokens.removeFirst()
                try once("name:")
                let value = String(token.dropFirst(5))
                guard !value.isEmpty else { throw Failure(reason: "name: needs a text: name:france") }
                explicitName = value
            } else if startsPoint(token), let found = try point(required: false) {
                query.point = found
            } else {
                if isDecimal(token) { numberWords += 1 }
                tokens.removeFirst()
                nameWords.append(token)
            }
        }
        if numberWords > 0 && numberWords == nameWords.count && query.point == nil && explicitName == nil {
            throw Failure(reason: "a point needs two numbers, latitude then longitude, got '\(nameWords.joined(separator: " "))'")
        }
        if explicitName != nil && !nameWords.isEmpty {
            throw Failure(reason: "two names: name:\(explicitName!) and '\(nameWords.joined(separator: " "))'")
        }
        let name = explicitName ?? (nameWords.isEmpty ? nil : nameWords.joined(separator: " "))
        guard name != nil || query.point != nil else { throw Failure(reason: "nothing to search for: type a place name or a point") }
        query.name = name
        return query
    }

    /// A decimal number, or "number,number": the start of a point.
    private static func startsPoint(_ token: String) -> Bool {
        token.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map { isDecimal(String($0)) } ?? false
    }

    /// `-34.6`, `2`, `+48.85`, `.5`: what people type as coordinates. Not `nan`, `inf`, `1e3` or hex,
    /// which Double() takes and which would make "Nan" a point rather than a name.
    static func isDecimal(_ text: String) -> Bool {
        var digits = 0, dots = 0
        for (i, c) in text.enumerated() {
            if c.isASCII && c.isNumber { digits += 1 }
            else if c == "." { dots += 1 }
            else if (c == "-" || c == "+") && i == 0 { continue }
            else { return false }
        }
        return digits > 0 && dots <= 1 && text.count <= 32
    }

    struct Token {
        var text: String
        /// Began with a quote: literal text, never a keyword or a number.
        var quoted: Bool
    }

    /// Words split on spaces, with "double quotes" keeping spaces (name:"new york" or "new york").
    private static func tokenize(_ text: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var inQuotes = false, inToken = false, quoted = false
        for character in text {
            if character == "\"" {
                if !inToken { quoted = true }  // "new york" is literal; name:"new york" is still a keyword
                inQuotes.toggle()
                inToken = true
            } else if character.isWhitespace && !inQuotes {
                if inToken { tokens.append(Token(text: current, quoted: quoted)) }
                current = ""
                inToken = false
                quoted = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        guard !inQuotes else { throw Failure(reason: "a quote is not closed") }
        if inToken { tokens.append(Token(text: current, quoted: quoted)) }
        return tokens
    }
}
