import Foundation
import Kafka
import LogTail
import Testing

func logRecord(_ json: String, key: String? = "search-service-1", offset: Int64 = 0,
               at time: Int64 = 1_795_788_300_123) -> KafkaRecord {
    KafkaRecord(topic: "search-service", partition: 2, offset: offset, timestampMilliseconds: time,
                key: key.map { Array($0.utf8) }, value: Array(json.utf8))
}

@Suite(.timeLimit(.minutes(1))) struct FormatTests {
    func text(_ records: [KafkaRecord], color: Bool = false, highlight: [String] = []) throws -> String {
        var formatter = try TailFormatter(output: .text, color: color, sanitizeRaw: false, highlight: highlight)
        var out: [UInt8] = []
        for r in records { formatter.append(r, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func serverRecordsPrintAsTimeInstanceLevelMessage() throws {
        let line = try text([logRecord(#"{"ts":"x","level":"warning","instance":"search-service-1","message":"slow store","source":"S","meta":{"ms":"812","b":"2"}}"#)])
        #expect(line == "2026-11-27T14:05:00.123Z  search-service-1  warning  slow store b=2 ms=812\n")
    }

    @Test func plainRecordsUseTheKeyOrThePartition() throws {
        let lines = try text([logRecord("hello", key: "web-7"), logRecord("{not json", key: nil)])
        #expect(lines == """
            2026-11-27T14:05:00.123Z  web-7             -        hello
            2026-11-27T14:05:00.123Z  search-service[2]  -        {not json

            """)
    }

    @Test func colourIsStablePerInstanceAndHighlightIsReverseVideo() throws {
        let a = try text([logRecord("x", key: "search-service-1")], color: true)
        let b = try text([logRecord("y", key: "search-service-1")], color: true)
        let colourOf = { (s: String) in s.components(separatedBy: "  ")[1].prefix(5) }
        #expect(colourOf(a) == colourOf(b))
        #expect(a.contains("\u{1B}[3") || a.contains("\u{1B}[9"))
        let lit = try text([logRecord("took 812 ms", key: "k")], color: true, highlight: ["[0-9]+"])
        #expect(lit.contains("took \u{1B}[7m812\u{1B}[27m ms"))
    }

    @Test func escapeSequencesInRecordsNeverReachTheTerminal() throws {
        let hostile = logRecord(#"{"level":"info","instance":"evil\u001b[2J","message":"hi\u001b]0;owned\u0007 \u009b31m"}"#)
        for output in TailOutput.allCases {
            var formatter = try TailFormatter(output: output, color: true, sanitizeRaw: true)
            var out: [UInt8] = []
            formatter.append(hostile, to: &out)
            formatter.append(logRecord("raw \u{1B}[31mred\r\u{9B}"), to: &out)
            let printed = String(decoding: out, as: UTF8.self)
            // Only our own SGR colour codes may contain ESC: ESC [ digits ; m.
            let withoutOurColours = printed.replacingOccurrences(of: #"\u{1B}\[[0-9;]*m"#, with: "", options: .regularExpression)
            #expect(!withoutOurColours.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D || $0.value == 0x9B }, "\(output): \(printed.debugDescription)")
            #expect(!printed.contains("\u{1B}[2J") && !printed.contains("\u{1B}]0"), "\(output)")
        }
    }

    @Test func rawIsVerbatimWhenNotATerminal() throws {
        var formatter = try TailFormatter(output: .raw, color: false, sanitizeRaw: false)
        var out: [UInt8] = []
        formatter.append(logRecord("a\u{1B}b"), to: &out)
        #expect(out == Array("a\u{1B}b\n".utf8))
    }

    @Test func jsonCarriesCoordinatesAndParsedFields() throws {
        var formatter = try TailFormatter(output: .json, color: false, sanitizeRaw: false)
        var out: [UInt8] = []
        formatter.append(logRecord(#"{"level":"error","instance":"i-1","message":"boom \"quoted\"","meta":{"k":"v"}}"#, offset: 42), to: &out)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(object["offset"] as? Int == 42)
        #expect(object["partition"] as? Int == 2)
        #expect(object["time"] as? String == "2026-11-27T14:05:00.123Z")
        #expect(object["timestamp_ms"] as? Int == 1_795_788_300_123)
        #expect(object["instance"] as? String == "i-1")
        #expect(object["level"] as? String == "error")
        #expect(object["message"] as? String == #"boom "quoted""#)
        #expect((object["meta"] as? [String: String]) == ["k": "v"])
        #expect(out.last == 0x0a && out.filter { $0 == 0x0a }.count == 1)
    }

    @Test func timesBeforeTheEpochAndAtMillisecondEdges() {
        #expect(TailFormatter.formatTime(0) == "1970-01-01T00:00:00.000Z")
        #expect(TailFormatter.formatTime(-1) == "1969-12-31T23:59:59.999Z")
        #expect(TailFormatter.formatTime(1_795_788_300_007) == "2026-11-27T14:05:00.007Z")
    }
}

@Suite(.timeLimit(.minutes(1))) struct FilterTests {
    func run(_ lines: [String], include: [String] = [], exclude: [String] = [], context: Int = 0) throws -> [String] {
        let filter = try RecordFilter(include: include, exclude: exclude, context: context)
        var window = filter.makeWindow(of: String.self)
        var out: [String] = []
        for line in lines {
            let (excluded, matches) = filter.classify(line)
            if excluded { continue }
            window.feed(line, matches: matches) { shown in
                switch shown {
                case .match(let l): out.append(l)
                case .context(let l): out.append("  " + l)
                case .gap: out.append("--")
                }
            }
        }
        return out
    }

    let lines = (1...12).map { $0 == 4 || $0 == 10 ? "line \($0) ERROR" : "line \($0)" }

    @Test func includeAndExclude() throws {
        #expect(try run(lines, include: ["ERROR"]) == ["line 4 ERROR", "line 10 ERROR"])
        #expect(try run(lines, exclude: ["^line 1"]) == ["line 2", "line 3", "line 4 ERROR", "line 5", "line 6", "line 7", "line 8", "line 9"])
        #expect(try run(lines, include: ["ERROR"], exclude: ["10"]) == ["line 4 ERROR"])
        #expect(try run(lines) == lines)
    }

    @Test func contextAroundMatchesWithGapMarkers() throws {
        #expect(try run(lines, include: ["ERROR"], context: 2) == [
            "  line 2", "  line 3", "line 4 ERROR", "  line 5", "  line 6",
            "--",
            "  line 8", "  line 9", "line 10 ERROR", "  line 11", "  line 12",
        ])
        // Adjacent groups merge without a marker.
        #expect(try run(lines, include: ["ERROR"], context: 3) == [
            "  line 1", "  line 2", "  line 3", "line 4 ERROR", "  line 5", "  line 6", "  line 7",
            "  line 8", "  line 9", "line 10 ERROR", "  line 11", "  line 12",
        ])
    }

    @Test func badPatternsNameTheFlag() {
        #expect {
            _ = try RecordFilter(include: ["(unclosed"])
        } throws: { ($0 as? TailArgumentError)?.message.hasPrefix("--include (unclosed: not a valid regular expression") == true }
    }
}
