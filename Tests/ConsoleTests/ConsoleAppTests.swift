import Console
import Testing
import TUI

/// The UI loop with the in-memory terminal: frames are drawn only when the state changed.
@Suite struct ConsoleAppTests {
    @Test func framesOnlyWhenSomethingChangedAndQuitEndsTheLoop() {
        let terminal = MemoryBackend(width: 80, height: 24)
        // Nothing (the first frame), help, idle reads, Esc (help closes), idle reads, q.
        let idle = Array(repeating: [InputEvent](), count: 10)  // 50 ms each side: well inside the 1 s tick
        terminal.script = [[], [.key(.character("?"))]] + idle + [[.key(.escape)]] + idle + [[.key(.character("q"))]]
        let app = ConsoleApp(backend: terminal, inbox: ActionInbox(), effects: nil,
                             options: .init(theme: .monochrome, themeDirectories: [], noColor: true, reducer: ConsoleReducer()))
        app.run()
        #expect(app.state.quit)
        // Three frames: the first, help open, help closed. Twenty idle reads drew nothing.
        #expect(app.frames == 3)
        #expect(terminal.presents == 3)
        #expect(terminal.screen.lines()[1].hasPrefix("SERVICE"))
        #expect(!terminal.screen.text.contains("any key closes this help"))
    }

    @Test func actionsFromOtherThreadsReachTheState() {
        let terminal = MemoryBackend(width: 80, height: 24)
        let inbox = ActionInbox()
        inbox.send(.servicesChanged(["web": ["v1"]], at: 1))
        inbox.send(.quitRequested)
        let app = ConsoleApp(backend: terminal, inbox: inbox, effects: nil,
                             options: .init(theme: .monochrome, themeDirectories: [], noColor: true, reducer: ConsoleReducer()))
        app.run()
        #expect(app.state.services == ["web": ["v1"]])
        #expect(app.state.quit)
    }
}
