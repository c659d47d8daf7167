import Console
import FuzzSupport
import Testing

/// Whatever is typed at the `:` line, it parses or is refused with words, and completion never traps.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct PromptFuzzTests {
    @Test func commandLinesParseOrAreRefusedWithWords() async {
        let findings = await fuzzOffPool { Self.fuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func fuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let parser = LineCommandParser(PaneRegistry.standard.types.flatMap { $0.lineCommands } + Shell.lineCommands)
        let words = parser.specs.flatMap { [$0.name] + $0.aliases } + ["", " ", "  ", "--from", "15m", "\u{1B}[2J", "é", "🙂", "\t", "\n"]
        let count = SeededGenerator.iterations(20_000)
        for _ in 0..<count {
            var line = ""
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                line += Bool.random(using: &random) ? words.randomElement(using: &random)! : String(decoding: random.bytes(Int.random(in: 0...6, using: &random)), as: UTF8.self)
                if Bool.random(using: &random) { line += " " }
            }
            switch parser.parse(line) {
            case .success(let command):
                findings.check(parser.spec(named: command.name) != nil, "parsed to an unknown command: \(line.debugDescription)")
            case .failure(let error):
                findings.check(!error.description.isEmpty, "a refusal without words: \(line.debugDescription)")
            }
            // Completion replaces the last word at most: what comes before it stays as typed.
            let (completed, _) = parser.complete(line) { _ in ["search-service", "billing"] }
            let head = line.hasSuffix(" ") ? line : String(line[..<(line.lastIndex(of: " ").map { line.index(after: $0) } ?? line.startIndex)])
            findings.check(completed.hasPrefix(head), "completion dropped what was typed: \(line.debugDescription) -> \(completed.debugDescription)")
        }
        return findings
    }
}
