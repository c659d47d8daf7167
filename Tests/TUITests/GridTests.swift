import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct GridTests {
    @Test func textIsClippedAndWideCharactersTakeTwoCells() {
        var grid = Grid(width: 10, height: 2)
        #expect(grid.put("東京 ok", x: 0, y: 0) == 7)
        #expect(grid.lines()[0] == "東京 ok")
        #expect(grid[0, 0].width == 2 && grid[1, 0].width == 0 && grid[4, 0].character == " ")
        // A wide character that would straddle the edge becomes a space.
        grid.put("abcdefghi東", x: 0, y: 1)
        #expect(grid.lines()[1] == "abcdefghi")
    }

    @Test func overwritingHalfAWideCharacterClearsTheOtherHalf() {
        var grid = Grid(width: 6, height: 1)
        grid.put("東京", x: 0, y: 0)
        grid.put("x", x: 1, y: 0)  // the right half of 東
        #expect(grid.lines() == [" x京"])
        grid.put("y", x: 2, y: 0)  // the left half of 京
        #expect(grid.lines() == [" xy"])
    }

    @Test func controlCharactersAndBidiOverridesNeverEnterTheGrid() {
        var grid = Grid(width: 40, height: 1)
        grid.put("a\u{1B}[2Jb\rc\u{9B}d\u{202E}e\u{7}f", x: 0, y: 0)
        #expect(grid.lines() == ["a[2Jbcdef"])
        #expect(!grid.cells.contains { $0.character.unicodeScalars.contains { $0.value < 0x20 || (0x7f..<0xa0).contains($0.value) } })
    }

    @Test func boxesAndTitles() {
        var grid = Grid(width: 12, height: 3)
        grid.box(grid.bounds, title: "logs")
        #expect(grid.lines() == ["┌ logs ────┐", "│          │", "└──────────┘"])
    }

    @Test func onlyChangedCellsAreRedrawnInRunsPerStyle() {
        var a = Grid(width: 20, height: 3)
        a.put("search-service  3", x: 0, y: 1)
        var b = a
        b.put("4", x: 16, y: 1)
        #expect(b.changes(from: a) == [CellRun(x: 16, y: 1, text: "4", style: .plain)])
        var c = b
        let red = Style(foreground: .red)
        c.put("ab", x: 0, y: 2, style: red)
        c.put("cd", x: 2, y: 2)
        #expect(c.changes(from: b) == [CellRun(x: 0, y: 2, text: "ab", style: red), CellRun(x: 2, y: 2, text: "cd", style: .plain)])
        #expect(c.changes(from: c).isEmpty)
        // No previous frame, or another size: everything.
        #expect(c.changes(from: nil).count == 3 + 1)
        #expect(c.changes(from: Grid(width: 10, height: 3)).map(\.text).joined().count == 60)
    }

    /// Whatever two frames are, drawing the diff onto the first gives the second.
    @Test func applyingTheDiffReproducesTheFrame() {
        var generator = SystemRandomNumberGenerator()
        let glyphs: [Character] = ["a", "b", "東", "⣿", "─", " ", "█"]
        let styles = [Style.plain, Style(foreground: .red), Style(attributes: .bold)]
        func randomGrid() -> Grid {
            var g = Grid(width: 30, height: 8)
            for _ in 0..<60 {
                let text = String((0..<Int.random(in: 1...5, using: &generator)).map { _ in glyphs.randomElement(using: &generator)! })
                g.put(text, x: Int.random(in: 0..<30, using: &generator), y: Int.random(in: 0..<8, using: &generator),
                      style: styles.randomElement(using: &generator)!)
            }
            return g
        }
        for _ in 0..<50 {
            let first = randomGrid(), second = randomGrid()
            let terminal = MemoryBackend(width: 30, height: 8)
            terminal.draw(first.changes(from: nil))
            #expect(terminal.screen == first)
            terminal.draw(second.changes(from: first))
            #expect(terminal.screen.lines() == second.lines())
            #expect(terminal.screen == second)
        }
    }

    @Test func rectanglesSplit() {
        let r = Rect(x: 0, y: 1, width: 80, height: 20)
        #expect(r.splitTop(5).top == Rect(x: 0, y: 1, width: 80, height: 5))
        #expect(r.splitTop(5).rest == Rect(x: 0, y: 6, width: 80, height: 15))
        #expect(r.splitBottom(2).bottom == Rect(x: 0, y: 19, width: 80, height: 2))
        #expect(r.splitLeft(100).rest.isEmpty)
        #expect(r.centered(width: 20, height: 4) == Rect(x: 30, y: 9, width: 20, height: 4))
    }

    @Test func displayWidths() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("東京") == 4)
        #expect(DisplayWidth.of("⣿─█") == 3)
        #expect(DisplayWidth.of("é") == 1)  // e + combining acute is one grapheme
        #expect(DisplayWidth.of("🔥") == 2)
    }
}
