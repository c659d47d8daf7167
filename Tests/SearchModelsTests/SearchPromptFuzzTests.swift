import FuzzSupport
import SearchModels
import Testing

/// Whatever is typed at the search prompt, it becomes a query on the globe or a refusal that says why.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct SearchPromptFuzzTests {
    @Test func searchesParseOrAreRefusedWithTheAcceptedForms() async {
        let findings = await fuzzOffPool { Self.fuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func fuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let pieces = ["48.8566", "2.3522", ",", "-", "near", "name:", "page", "size", "\"", "nan", "inf", "1e400", "-0",
                      "999", "paris", "0x10", "'", ";", "DROP", "é", "\u{1B}", " "]
        let count = SeededGenerator.iterations(100_000)
        for _ in 0..<count {
            var text = ""
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                text += Bool.random(using: &random) ? pieces.randomElement(using: &random)! : String(decoding: random.bytes(Int.random(in: 0...4, using: &random)), as: UTF8.self)
                if Bool.random(using: &random) { text += " " }
            }
            switch SearchQueryParser.parse(text) {
            case .success(let query):
                if let point = query.point {
                    findings.check((-90...90).contains(point.latitude) && (-180...180).contains(point.longitude),
                                   "a point off the globe from \(text.debugDescription): \(point)")
                }
                findings.check(query.page >= 1, "page \(query.page) from \(text.debugDescription)")
                findings.check(query.point != nil || query.name != nil, "a query with nothing to search from \(text.debugDescription)")
            case .failure(let failure):
                findings.check(!failure.description.isEmpty, "a refusal without words: \(text.debugDescription)")
            }
        }
        return findings
    }
}
