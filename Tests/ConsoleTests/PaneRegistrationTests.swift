import Console
import Testing
import TUI

/// A pane written here, in the test target, and registered in one line: the shell picks it up
/// everywhere without a change of its own.
struct ClockPane: Pane {
    static let id: PaneID = "clock"
    static let placement = PanePlacement(row: .bottom, width: .flexible(minimum: 20))

    enum Command: String, PaneCommand { case reset }
    static let bindings = [Binding(Command.reset, [.character("r")], "Reset the clock's count", hint: "reset")]
    static let lineCommands = [LineCommandSpec("clock", help: "Focus the clock")]

    var ticks = 0

    mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        if event == .tick { ticks += 1 }
        return []
    }

    mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        switch command {
        case .reset:
            ticks = 0
            return [.message("reset", isError: false)]
        }
    }

    mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] { [.focus(Self.id)] }

    func title(_ context: PaneContext) -> String { "clock" }

    func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        grid.put("ticks: \(ticks) in \(context.size.width)x\(context.size.height)", x: rect.x, y: rect.y, clip: rect)
    }
}

@Suite(.timeLimit(.minutes(1))) struct PaneRegistrationTests {
    let registry = PaneRegistry([ServicesPane.self, InstancesPane.self, ClockPane.self])

    @Test func aNewPaneAppearsInTheLayoutHelpHintsAndCompletion() {
        var (state, reducer) = Fixture.loaded(registry: registry)
        state.size = Size(width: 100, height: 30)
        for i in 1...3 { _ = reducer.reduce(&state, .tick(now: Fixture.t0 + Int64(i) * 1_000)) }

        // Laid out: the bottom row is the clock's, the whole width.
        let frames = ConsoleView.frames(state, registry)
        #expect(frames[ClockPane.id] == Rect(x: 0, y: 16, width: 100, height: 12))
        #expect(ConsoleView.render(state, reducer).text.contains("ticks: 4 in 98x10"))

        // `:` completes and runs its command; focused, its keys work and the hint bar shows them.
        _ = reducer.type(&state, ":cl")
        _ = reducer.keys(&state, [.tab, .enter])
        #expect(state.focus == ClockPane.id)
        let screen = ConsoleView.render(state, reducer).lines()
        #expect(screen[29].contains("r reset  ? help  : command  q quit"))
        _ = reducer.keys(&state, [.character("r")])
        #expect(state.pane(ClockPane.self)?.ticks == 0 && state.message?.text == "reset")

        // `?` lists its bindings and its command.
        _ = reducer.keys(&state, [.character("?")])
        let help = ConsoleView.render(state, reducer).text
        #expect(help.contains("clock pane") && help.contains("Reset the clock's count") && help.contains(":clock"))

        // Tab visits it in registry order; its keys can be remapped by name.
        #expect(reducer.registry.ids == [ServicesPane.id, InstancesPane.id, ClockPane.id])
        var keymap = registry.defaultKeymap
        #expect(keymap.remap(["bind clock.reset x"]).isEmpty)
        #expect(keymap.action(for: .character("x"), scopes: ["clock", "shell"]) == "clock.reset")
    }

    @Test func onAShortScreenOnlyTheFocusedRowShows() {
        var (state, reducer) = Fixture.loaded(registry: registry)
        state.size = Size(width: 100, height: 20)  // 17 body rows: one row of panes
        #expect(ConsoleView.frames(state, registry).keys.sorted() == [InstancesPane.id, ServicesPane.id])
        _ = reducer.command(&state, "clock")
        #expect(ConsoleView.frames(state, registry) == [ClockPane.id: Rect(x: 0, y: 1, width: 100, height: 17)])
    }
}
