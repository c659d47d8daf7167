import Geo

/// Reads what an operator types at the search prompt:
///
///     48.8566 2.3522          a point (latitude, longitude)
///     48.8566,2.3522          the same
///     paris                   a name (any words that are not a point or a keyword)
///     name:fr near 48.85,2.35 a name and a point
///     ... page 2 size 20      which page, and its size
///
/// Anything else is refused with what was wrong and the forms it accepts; it never guesses.
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
            guard let word = tokens.popFirst() else { throw Failure(reason: "\(keyword) needs a number: \(keyword) \(range.lowerBound + 1)") }
            guard let value = Int(word), range.contains(value) else {
                throw Failure(reason: "\(keyword) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(word)'")
            }
            return value
        }
        func point() throws(Failure) -> GeoPoint {
            try once("point")
            let first = tokens.popFirst() ?? ""
            let parts = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let latText: String, lngText: String
            if parts.count == 2 && !parts[1].isEmpty {
                (latText, lngText) = (parts[0], parts[1])
            } else if parts.count <= 2, let next = tokens.first, Double(next) != nil {
                tokens.removeFirst()
                (latText, lngText) = (parts[0], next)
            } else {
                throw Failure(reason: "a point needs two numbers, latitude then longitude, got '\(first)'")
            }
            guard let lat = Double(latText), let lng = Double(lngText), lat.isFinite, lng.isFinite else {
                throw Failure(reason: "'\(latText) \(lngText)' is not a point: two numbers, latitude then longitude")
            }
            guard abs(lat) <= 90 else {
                let swap = abs(lng) <= 90 ? "; did you mean \(SearchQuery.number(lng)) \(SearchQuery.number(lat))?" : ""
                throw Failure(reason: "latitude \(latText) is out of range -90…90\(swap)")
            }
            guard abs(lng) <= 180 else { throw Failure(reason: "longitude \(lngText) is out of range -180…180") }
            return GeoPoint(latitude: lat, longitude: lng)
        }

        while let token = tokens.first {
            let lower = token.lowercased()
            if lower == "page" {
                tokens.removeFirst()
                query.page = try count(after: "page", range: 1...1_000_000)
            } else if lower == "size" {
                tokens.removeFirst()
                query.size = try count(after: "size", range: 1...100)
            } else if lower == "near" {
                tokens.removeFirst()
                guard !tokens.isEmpty else { throw Failure(reason: "near needs a point: near LAT,LNG") }
                query.point = try point()
            } else if lower.hasPrefix("name:") {
                tokens.removeFirst()
                try once("name:")
                let value = String(token.dropFirst(5))
                guard !value.isEmpty else { throw Failure(reason: "name: needs a text: name:paris") }
                explicitName = value
            } else if startsPoint(token) {
                query.point = try point()
            } else {
                tokens.removeFirst()
                nameWords.append(token)
            }
        }
        if explicitName != nil && !nameWords.isEmpty {
            throw Failure(reason: "two names: name:\(explicitName!) and '\(nameWords.joined(separator: " "))'")
        }
        let name = explicitName ?? (nameWords.isEmpty ? nil : nameWords.joined(separator: " "))
        guard name != nil || query.point != nil else { throw Failure(reason: "nothing to search for: type a place name or a point") }
        query.name = name
        return query
    }

    /// A number, or "number,number": the start of a point.
    private static func startsPoint(_ token: String) -> Bool {
        token.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first.map { Double($0) != nil } ?? false
    }

    /// Words split on spaces, with "double quotes" keeping spaces (name:"new york" or "new york").
    private static func tokenize(_ text: String) throws(Failure) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false, inToken = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                inToken = true
            } else if character.isWhitespace && !quoted {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        guard !quoted else { throw Failure(reason: "a quote is not closed") }
        if inToken { tokens.append(current) }
        return tokens
    }
}
