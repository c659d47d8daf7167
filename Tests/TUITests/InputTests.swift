import Foundation
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct InputTests {
    @Test func keyNames() {
        #expect(Key(name: "ctrl-c") == .ctrl("c"))
        #expect(Key(name: "esc") == .escape)
        #expect(Key(name: "PgDn") == .pageDown)
        #expect(Key(name: "f5") == .function(5))
        #expect(Key(name: "?") == .character("?"))
        #expect(Key(name: "space") == .character(" "))
        #expect(Key(name: "hash") == .character("#"))
        #expect(Key(name: "ctrl-") == nil)
        #expect(Key(name: "hyper-x") == nil)
    }

    @Test func keymapRemapsFromConfigLinesAndExplainsWhatItCannotUse() {
        var keymap = Keymap([KeyBinding("shell.quit", [.character("q")], "Quit"), KeyBinding("shell.help", [.character("?")], "Help"),
                             KeyBinding("list.down", [.character("j")], "Down"), KeyBinding("other.down", [.character("j")], "Down")])
        let problems = keymap.remap(["bind quit x,ctrl-q", "bind help q", "bind nothing z", "bind help nokey", "rebind q",
                                     "bind list.down n"])
        #expect(keymap.action(for: .character("x"), scopes: ["shell"]) == "shell.quit")
        #expect(keymap.action(for: .ctrl("q"), scopes: ["list", "shell"]) == "shell.quit")
        #expect(keymap.action(for: .character("q"), scopes: ["shell"]) == "shell.help")
        #expect(keymap.action(for: .character("?"), scopes: ["shell"]) == nil)  // help's keys were replaced
        // A scoped name rebinds that scope only; the first scope that binds a key wins.
        #expect(keymap.action(for: .character("n"), scopes: ["list", "shell"]) == "list.down")
        #expect(keymap.action(for: .character("j"), scopes: ["list", "shell"]) == nil)
        #expect(keymap.action(for: .character("j"), scopes: ["other", "shell"]) == "other.down")
        #expect(keymap.action(for: .character("n"), scopes: ["other", "shell"]) == nil)
        #expect(problems.count == 3)
        #expect(problems[0].contains("no action 'nothing'") && problems[0].contains("shell.quit, shell.help"))
        #expect(problems[1].contains("unknown key name"))
        #expect(problems[2].contains("expected: bind ACTION"))
    }

    @Test func lineEditingAndHistory() {
        var editor = LineEditor()
        for c in "instances web" { _ = editor.handle(.character(c)) }
        _ = editor.handle(.ctrl("w"))
        #expect(editor.string == "instances ")
        for c in "search" { _ = editor.handle(.character(c)) }
        _ = editor.handle(.home)
        _ = editor.handle(.character(":"))
        _ = editor.handle(.delete)
        #expect(editor.string == ":nstances search")
        #expect(editor.handle(.enter) == .submitted(":nstances search"))
        #expect(editor.string == "")
        _ = editor.handle(.character("t"))
        #expect(editor.handle(.up) == .edited)
        #expect(editor.string == ":nstances search")
        #expect(editor.handle(.down) == .edited)
        #expect(editor.string == "t")  // the draft comes back
        #expect(editor.handle(.escape) == .cancelled)
        #expect(editor.history == [":nstances search"])
        #expect(editor.handle(.backspace) == .cancelled)  // backspace on an empty line leaves it
    }

    @Test func theEditorScrollsToKeepTheCursorVisible() {
        var editor = LineEditor()
        editor.set(String(repeating: "a", count: 30) + "XYZ")
        var grid = Grid(width: 12, height: 1)
        editor.render(into: &grid, grid.bounds, prompt: ":", style: .plain)
        #expect(grid.lines() == [":aaaaaaaXYZ"])
        #expect(grid[11, 0].style.attributes.contains(.reverse))  // the cursor after the text
    }
}

@Suite(.timeLimit(.minutes(1))) struct ThemeTests {
    @Test func themeFilesParse() throws {
        let theme = try Theme.parse(name: "t", """
            # comment
            title     = 75 bold   # trailing comment
            selection = 231 on 25
            critical  = bright-red underline
            """)
        #expect(theme[.title] == Style(foreground: .index(75), attributes: .bold))
        #expect(theme[.selection] == Style(foreground: .index(231), background: .index(25)))
        #expect(theme[.critical] == Style(foreground: .index(9), attributes: .underline))
        #expect(theme[.text] == .plain)
        #expect(theme.withoutColor[.selection] == .plain)
        #expect(theme.withoutColor[.title] == Style(attributes: .bold))
    }

    @Test func badThemeLinesAreExplained() {
        #expect(throws: Theme.ParseError(message: "theme t, line 2: 'purple' is not a colour (0-255 or a name) or an attribute")) {
            try Theme.parse(name: "t", "ok = green\nwarning = purple")
        }
        #expect { try Theme.parse(name: "t", "tilte = 4") } throws: { "\($0)".contains("expected ROLE = STYLE") }
        #expect { try Theme.load("../etc/passwd", from: ["/tmp"]) } throws: { "\($0)".contains("letters, digits") }
    }

    @Test func builtInThemesComeAfterTheDirectories() throws {
        let theme = try Theme.load("x", from: ["/nonexistent"], builtin: ["x": "ok = green"])
        #expect(theme[.ok].foreground == .index(2))
        #expect { try Theme.load("y", from: ["/nonexistent"], builtin: ["x": ""]) } throws: {
            "\($0)" == "no theme 'y' in /nonexistent, the built-in themes (x)"
        }
        #expect(Theme.available(in: ["/nonexistent"], builtin: ["x": "", "a": ""]) == ["a", "x"])
    }

    @Test func theShippedThemesLoad() throws {
        let dir = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        for name in ["dark", "light", "mono"] {
            let theme = try Theme.load(name, from: ["/" + dir + "/Themes"])
            #expect(theme[.selection] != .plain, "\(name)")
        }
    }

    @Test func eightColourFallback() {
        #expect(Color.index(9).eightColorFallback == .red)
        #expect(Color.index(196).eightColorFallback == .red)    // pure red in the cube
        #expect(Color.index(46).eightColorFallback == .green)
        #expect(Color.index(231).eightColorFallback == .white)
        #expect(Color.index(236).eightColorFallback == .black)  // dark grey
        #expect(Color.default.eightColorFallback == .default)
    }
}

/// The operator's editor, for real: a script stands in for it.
@Suite(.timeLimit(.minutes(1))) struct ExternalEditorTests {
    /// A shell script to stand in for the editor, run as `/bin/sh FILE` (not executed itself: a file just
    /// written can be "busy" for exec while another test's child still holds it open).
    func script(_ body: String) throws -> String {
        let path = NSTemporaryDirectory() + "opsdeck-editor-\(UInt32.random(in: 0...UInt32.max)).sh"
        try (body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theEditorsTextComesBackWithoutTheNewlineItAdded() throws {
        // Appends to what it was given, as an editor saving a file does (with a final newline).
        let editor = try script(#"printf ' and more\n' >> "$1""#)
        defer { unlink(editor) }
        #expect(ExternalEditor.edit("value", command: "/bin/sh " + editor) == .success("value and more"))
        #expect(ExternalEditor.edit("two\nlines\n", command: "/bin/sh " + editor) == .success("two\nlines\n and more\n"))
    }

    @Test func anEditorThatFailsIsSaid() throws {
        let editor = try script("exit 3")
        defer { unlink(editor) }
        #expect(ExternalEditor.edit("value", command: "/bin/sh " + editor) == .failure(.init(description: "/bin/sh \(editor) exited with 3")))
        #expect(ExternalEditor.command(["EDITOR": "nano", "VISUAL": "code --wait"]) == "code --wait")
        #expect(ExternalEditor.command(["EDITOR": " "]) == "vi")
    }
}
