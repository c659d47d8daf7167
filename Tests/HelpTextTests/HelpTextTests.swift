import HelpText
import Testing

@Suite(.timeLimit(.minutes(1))) struct HelpTextTests {
    @Test func paragraphsBecomeOneLineAndExamplesStayAsWritten() {
        let source = """
            Records of all partitions are merged into one stream in
            timestamp order, a record waiting for the others:
              opsdeck tail search-service --since 5m
              opsdeck tail a b
            Other records print as text.

            Exit status: 0, or 1
            when the broker cannot be read.
            """
        #expect(HelpText.reflow(source) == """
            Records of all partitions are merged into one stream in timestamp order, a record waiting for the others:
              opsdeck tail search-service --since 5m
              opsdeck tail a b
            Other records print as text.

            Exit status: 0, or 1 when the broker cannot be read.
            """)
    }

    @Test func edgesAreKept() {
        #expect(HelpText.reflow("") == "")
        #expect(HelpText.reflow("one line") == "one line")
        #expect(HelpText.reflow("\nfirst\nsecond\n") == "\nfirst second\n")
        #expect(HelpText.reflow("  indented\n\n\n  again") == "  indented\n\n\n  again")
    }
}
