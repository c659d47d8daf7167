import Foundation
import StackSupport
import Testing

/// The search pane in the real binary, on a real terminal (tmux), against the stack's three instances.
@Suite(.timeLimit(.minutes(2))) struct SearchInTmuxTests {
    static let opsdeck = ConsoleInTmuxTests.opsdeck

    func tmux(_ socket: String, _ arguments: String...) throws -> (status: Int32, output: String) {
        try Stack.runBlocking("/usr/bin/tmux", ["-L", socket] + arguments)
    }

    @Test func aSearchFromThePromptShowsTheAnswerItsMapAndCopiesTheCommand() async throws {
        try await Stack.ensureUp()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("opsdeck-state-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state + "/opsdeck", withIntermediateDirectories: true)
        try "paris\n".write(toFile: state + "/opsdeck/search_history", atomically: true, encoding: .utf8)
        let terminal = try Tmux(width: 160, height: 44, command: "\(Self.opsdeck) --consul 127.0.0.1:8500",
                                environment: ["XDG_STATE_HOME": state])
        // OSC 52 from the program goes to tmux's paste buffers.
        _ = try tmux(terminal.socket, "set-option", "-g", "set-clipboard", "on")
        // The catalog read, not search-service's row: other suites' services can push it below the pane.
        try await terminal.waitFor("the services feed live") { $0.contains("● services") }

        try terminal.send("F")
        try await terminal.waitFor("the search prompt") { $0.split(separator: "\n").contains { $0.hasPrefix("search:") } }
        try terminal.send("Up")  // the history file was read
        try await terminal.waitFor("the history recalled") { $0.contains("search: paris") }
        try terminal.send("C-u")
        try terminal.sendText("48.8566 2.3522")
        try terminal.send("Enter")
        let screen = try await terminal.waitFor("France with its map", timeout: .seconds(5)) {
            $0.contains("France") && $0.contains("FRA") && $0.contains("◉") && $0.contains("vertices")
        }
        #expect(screen.contains("page 1/1 · 1 result · search-service-"))

        try terminal.send("y")
        try await terminal.waitFor("the copy said") { $0.contains("copied: opsdeck search 48.8566 2.3522") }
        let buffer = try await eventuallyValue { () -> String? in
            let shown = try? tmux(terminal.socket, "show-buffer")
            return shown?.output.contains("opsdeck search") == true ? shown?.output : nil
        }
        #expect(buffer == "opsdeck search 48.8566 2.3522")
        try terminal.send("q")
        try await terminal.waitFor("the console quit") { $0.contains("EXITED 0") }
        let history = try String(contentsOfFile: state + "/opsdeck/search_history", encoding: .utf8)
        #expect(history == "paris\n48.8566 2.3522\n")
    }

    /// Polls `probe` for up to 5 s.
    func eventuallyValue<T>(_ probe: () async throws -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
