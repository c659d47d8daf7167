import SearchModels
import Testing

@Suite(.timeLimit(.minutes(1))) struct SearchQueryParserTests {
    static let paris = GeoPoint(latitude: 48.8566, longitude: 2.3522)

    func parsed(_ text: String) -> SearchQuery? {
        if case .success(let query) = SearchQueryParser.parse(text) { return query }
        return nil
    }

    func refusal(_ text: String) -> String? {
        if case .failure(let failure) = SearchQueryParser.parse(text) { return failure.description }
        return nil
    }

    @Test(arguments: ["48.8566 2.3522", "48.8566,2.3522", "48.8566, 2.3522", "  48.8566   2.3522  ", "near 48.8566,2.3522"])
    func aPointInEveryAcceptedForm(_ text: String) {
        #expect(parsed(text) == SearchQuery(point: Self.paris))
    }

    @Test func namesAndBoth() {
        #expect(parsed("paris") == SearchQuery(name: "paris"))
        #expect(parsed("united states") == SearchQuery(name: "united states"))
        #expect(parsed("name:fr near 48.85,2.35") == SearchQuery(point: GeoPoint(latitude: 48.85, longitude: 2.35), name: "fr"))
        #expect(parsed("near 48.85 2.35 name:\"new york\"") == SearchQuery(point: GeoPoint(latitude: 48.85, longitude: 2.35), name: "new york"))
        #expect(parsed("\"côte d'ivoire\"") == SearchQuery(name: "côte d'ivoire"))
        #expect(parsed("-34.6 -58.38") == SearchQuery(point: GeoPoint(latitude: -34.6, longitude: -58.38)))
        // A number among words is part of the name; quoted words are always name; nan is a word.
        #expect(parsed("district 9") == SearchQuery(name: "district 9"))
        #expect(parsed("9 district") == SearchQuery(name: "9 district"))
        #expect(parsed("\"page\" one") == SearchQuery(name: "page one"))
        #expect(parsed("\"48.85\" \"2.35\"") == SearchQuery(name: "48.85 2.35"))
        #expect(parsed("Nan") == SearchQuery(name: "Nan"))
        #expect(parsed("inf 1") == SearchQuery(name: "inf 1"))
    }

    @Test func pageAndSizeAnywhere() {
        #expect(parsed("united page 2 size 5") == SearchQuery(name: "united", page: 2, size: 5))
        #expect(parsed("size 20 48.8566 2.3522") == SearchQuery(point: Self.paris, size: 20))
        #expect(parsed("PAGE 3 paris") == SearchQuery(name: "paris", page: 3))
    }

    @Test func refusalsSayWhatWasWrongAndTheAcceptedForms() {
        let cases: [(String, String)] = [
            ("", "nothing to search for"),
            ("   ", "nothing to search for"),
            ("48.8566", "a point needs two numbers, latitude then longitude, got '48.8566'"),
            ("48.8566,", "a point needs two numbers"),
            ("95 2.35", "latitude 95 is out of range -90…90; did you mean 2.35 95?"),
            ("45 200", "longitude 200 is out of range -180…180"),
            ("paris page", "page needs a number: page 2"),
            ("paris page two", "page must be a whole number from 1 to 1000000, got 'two'"),
            ("paris size 500", "size must be a whole number from 1 to 100, got '500'"),
            ("paris page 0", "page must be a whole number from 1"),
            ("paris page 1 page 2", "page given twice"),
            ("name:fr lyon", "two names: name:fr and 'lyon'"),
            ("name:", "name: needs a text"),
            ("near", "near needs a point"),
            ("1 2 3 4", "point given twice"),
            ("\"new york", "a quote is not closed"),
            ("4 5,", "a point needs two numbers, latitude then longitude, got '5,'"),
            ("\"\"", "an empty name"),
            ("paris \"  \"", "an empty name"),
            ("page 2", "nothing to search for"),
        ]
        for (text, reason) in cases {
            let message = refusal(text)
            #expect(message?.contains(reason) == true, "\(text): \(message ?? "accepted")")
            #expect(message?.contains("accepted: LAT LNG · LAT,LNG · NAME") == true, "\(text)")
        }
    }

    /// Property: whatever is typed, the parser answers (a query or a reason) and never traps; an accepted
    /// query is within the ranges the server takes. 2,000 texts on the shared cooperative pool;
    /// SearchPromptFuzzTests runs the long loop off it.
    @Test func randomTextNeverCrashesIt() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789 ,.-+eE\"name:nearpgsiz\u{1B}\u{0}é北 \t")
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            if case .success(let query) = SearchQueryParser.parse(text) {
                #expect(query.point != nil || query.name != nil)
                #expect(query.page >= 1 && (query.size.map { (1...100).contains($0) } ?? true))
                if let point = query.point { #expect(abs(point.latitude) <= 90 && abs(point.longitude) <= 180) }
            }
        }
    }

    @Test func copyAsCommandLines() {
        let query = SearchQuery(point: Self.paris, name: "côte d'ivoire", page: 2, size: 5)
        #expect(query.commandLine == "opsdeck search 48.8566 2.3522 --name 'côte d'\\''ivoire' --page 2 --size 5")
        #expect(SearchQuery(point: Self.paris).commandLine == "opsdeck search 48.8566 2.3522")
        // A point-only command line's words parse back to the same search, west and south included.
        for point in [Self.paris, GeoPoint(latitude: -34.6037, longitude: -58.3816)] {
            let words = SearchQuery(point: point).commandLine.dropFirst("opsdeck search ".count)
            #expect(parsed(String(words)) == SearchQuery(point: point))
        }
        #expect(SearchQuery(name: "fr\"x").grpcurlCommand(address: "127.0.0.1:50051")
                == #"grpcurl -plaintext -protoset Protos/search.protoset -d '{"query":"fr\"x"}' 127.0.0.1:50051 Search/search"#)
        #expect(SearchQuery(point: Self.paris, page: 3).grpcurlCommand(address: "[::1]:50051")
                == #"grpcurl -plaintext -protoset Protos/search.protoset -d '{"page_number":3,"lat":48.8566,"lng":2.3522}' [::1]:50051 Search/search"#)
    }
}

@Suite(.timeLimit(.minutes(1))) struct OutlineGeometryTests {
    /// A square with a square hole, and an island.
    static let shape = Outline(rings: [
        [.init(latitude: 0, longitude: 0), .init(latitude: 0, longitude: 10), .init(latitude: 10, longitude: 10),
         .init(latitude: 10, longitude: 0), .init(latitude: 0, longitude: 0)],
        [.init(latitude: 4, longitude: 4), .init(latitude: 4, longitude: 6), .init(latitude: 6, longitude: 6),
         .init(latitude: 6, longitude: 4), .init(latitude: 4, longitude: 4)],
        [.init(latitude: 20, longitude: 20), .init(latitude: 20, longitude: 21), .init(latitude: 21, longitude: 21),
         .init(latitude: 20, longitude: 20)],
    ], sourceVertices: 13)

    @Test func containsKnowsHolesAndIslands() {
        #expect(Self.shape.contains(GeoPoint(latitude: 2, longitude: 2)))
        #expect(!Self.shape.contains(GeoPoint(latitude: 5, longitude: 5)))  // in the hole
        #expect(Self.shape.contains(GeoPoint(latitude: 20.2, longitude: 20.8)))  // on the island
        #expect(!Self.shape.contains(GeoPoint(latitude: 15, longitude: 15)))
        #expect(Self.shape.vertexCount == 14)
    }

    @Test func boundsCoverEveryRing() throws {
        let bounds = try #require(Self.shape.bounds)
        #expect(bounds.south == 0 && bounds.west == 0 && bounds.north == 21 && bounds.east == 21)
        #expect(Outline(rings: [], sourceVertices: 0).bounds == nil)
    }
}
