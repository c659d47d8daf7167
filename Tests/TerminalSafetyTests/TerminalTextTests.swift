import TerminalSafety
import Testing

@Suite(.timeLimit(.minutes(1))) struct TerminalTextTests {
    @Test func escapeSequencesBecomeVisibleText() {
        #expect(TerminalText.sanitize("\u{1B}[2J\u{1B}]0;pwned\u{07}ok") == "^[[2J^[]0;pwned^Gok")
        #expect(TerminalText.sanitize("progress 50%\roverwritten") == "progress 50%^Moverwritten")
        #expect(TerminalText.sanitize("del\u{7F}") == "del^?")
    }

    @Test func c1ControlsAndBidiOverridesAreNamed() {
        #expect(TerminalText.sanitize("a\u{9B}31mb") == "a<U+009B>31mb")
        #expect(TerminalText.sanitize("user\u{202E}gnp.exe") == "user<U+202E>gnp.exe")
    }

    @Test func printableTextTabsAndWideCharactersPassUnchanged() {
        let text = "naïve café 東京 ⣿ tab\there"
        #expect(TerminalText.sanitize(text) == text)
    }

    @Test func newlinesIndentTheContinuation() {
        #expect(TerminalText.sanitize("panic\n  at main") == "panic\n      at main")
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        #expect(TerminalText.sanitize([0x61, 0xff, 0x62] as [UInt8]) == "a\u{FFFD}b")
    }
}
