import Console
import Foundation
import Testing
import TUI

@Suite struct ConfigTests {
    @Test func themeAndBindingsFromTheConfigFile() throws {
        let config = try ConsoleConfigFile.parse("""
            # mine
            theme light
            bind quit x,ctrl-q   # not q
            """, file: "c")
        #expect(config.theme == "light")
        var keymap = ConsoleKeys.defaults
        #expect(keymap.remap(config.bindings).isEmpty)
        #expect(keymap.action(for: .character("x")) == "quit")
        #expect(keymap.action(for: .character("q")) == nil)
        // The help overlay reads the same table.
        let reducer = ConsoleReducer(keymap: keymap)
        var state = ConsoleState()
        state.size = .init(width: 80, height: 24)
        _ = reducer.reduce(&state, .input(.key(.character("?"))))
        #expect(ConsoleView.render(state, theme: .monochrome, keymap: keymap).text.contains("x, ctrl-q       Quit"))
    }

    @Test func badLinesAreReportedWithTheirPlace() throws {
        #expect(throws: ConsoleConfigFile.Problem.self) { try ConsoleConfigFile.parse("theme\ncolour red", file: "cfg") }
        #expect { try ConsoleConfigFile.parse("theme dark\ncolour red", file: "cfg") } throws: {
            "\($0)" == "cfg, line 2: expected 'theme NAME' or 'bind ACTION KEY[,KEY...]'"
        }
        #expect(throws: ConsoleConfigFile.Problem.self) { try ConsoleConfigFile.load(path: "/nonexistent/opsdeck", environment: [:]) }
        #expect(try ConsoleConfigFile.load(path: nil, environment: ["XDG_CONFIG_HOME": "/nonexistent"]) == ConsoleConfigFile())
    }
}
