/// Help text as written in the source, made ready for swift-argument-parser.
///
/// The parser wraps each line of a discussion to the terminal's width on its own and keeps the source's
/// line breaks. Prose written 100 columns wide was therefore broken twice at 80 columns (once by the
/// parser, once where the source line ended) into one long line and one short one, and an example longer
/// than the terminal went on at the start of the next line. So the source keeps its habits (paragraphs
/// broken where it reads well, examples indented), and this joins each paragraph into one line for the
/// parser to wrap at whatever width the terminal has.
public enum HelpText {
    /// Each paragraph's lines joined into one: a paragraph is a run of lines that start with no space, up
    /// to a blank line or an indented one; a list item ("1. ", "- ") starts a paragraph of its own.
    /// Indented lines (examples, tables) and blank lines stay as written, so an example keeps its own line
    /// whatever the width.
    public static func reflow(_ text: String) -> String {
        var lines: [String] = []
        var paragraph: [Substring] = []
        func endParagraph() {
            if !paragraph.isEmpty { lines.append(paragraph.joined(separator: " ")) }
            paragraph = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line.first == " " || line.first == "\t" {
                endParagraph()
                lines.append(String(line))
            } else {
                if isListItem(line) { endParagraph() }
                paragraph.append(line)
            }
        }
        endParagraph()
        return lines.joined(separator: "\n")
    }

    /// "1. ", "12) ", "- " or "* " first.
    public static func isListItem(_ line: Substring) -> Bool {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return true }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        let rest = line.dropFirst(digits.count)
        return !digits.isEmpty && (rest.hasPrefix(". ") || rest.hasPrefix(") "))
    }
}
