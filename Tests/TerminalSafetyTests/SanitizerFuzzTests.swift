import FuzzSupport
import TerminalSafety
import Testing

/// Whatever a remote process writes, nothing that steers a terminal survives sanitizing.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct SanitizerFuzzTests {
    static func steers(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0B...0x1F, 0x7F, 0x80...0x9F: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi marks, embeddings, overrides, isolates
        default: return false
        }
    }

    @Test func noControlOrBidiCharacterSurvives() async {
        let findings = await fuzzOffPool { Self.fuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func fuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let interesting: [UInt32] = [0x1B, 0x9B, 0x07, 0x0D, 0x0A, 0x09, 0x7F, 0x00, 0x202E, 0x2066, 0x200F, 0x5B, 0x3B, 0xFEFF]
        let count = SeededGenerator.iterations(100_000)
        for _ in 0..<count {
            let bytes: [UInt8]
            if Bool.random(using: &random) {
                bytes = random.bytes(Int.random(in: 0...40, using: &random))  // invalid UTF-8 too
            } else {
                var text = String.UnicodeScalarView()
                for _ in 0..<Int.random(in: 0...30, using: &random) {
                    let value = Bool.random(using: &random) ? interesting.randomElement(using: &random)! : UInt32.random(in: 0...0x2FFFF, using: &random)
                    if let scalar = Unicode.Scalar(value) { text.append(scalar) }
                }
                bytes = Array(String(text).utf8)
            }
            let safe = TerminalText.sanitize(bytes)
            findings.check(!safe.unicodeScalars.contains(where: Self.steers), "\(bytes)")
            // A line feed is kept only as a line break followed by the continuation indent.
            // (Compared by scalars: a combining mark after the indent joins its last space in one Character.)
            for part in safe.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
                findings.check(part.starts(with: TerminalText.continuationIndent.unicodeScalars), "\(bytes)")
            }
        }
        return findings
    }
}
