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

    @Test func aListItemStartsItsOwnParagraph() {
        #expect(HelpText.reflow("Two figures:\n1. latency, from a\nwrite\n2. idle cost\n- and a note\nthat wraps")
                == "Two figures:\n1. latency, from a write\n2. idle cost\n- and a note that wraps")
        // A number inside a sentence is not a list.
        #expect(HelpText.reflow("waits for\n10 seconds. Then\n3.5 s more") == "waits for 10 seconds. Then 3.5 s more")
        // A tab indents as a space does.
        #expect(HelpText.reflow("text\n\tkept\nmore") == "text\n\tkept\nmore")
    }

    @Test func edgesAreKept() {
        #expect(HelpText.reflow("") == "")
        #expect(HelpText.reflow("one line") == "one line")
        #expect(HelpText.reflow("\nfirst\nsecond\n") == "\nfirst second\n")
        #expect(HelpText.reflow("  indented\n\n\n  again") == "  indented\n\n\n  again")
    }
}
