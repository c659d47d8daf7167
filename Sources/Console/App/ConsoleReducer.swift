import TUI

/// The pure heart of the console: (state, action) -> state, plus the one-shot effects to start. Feeds are
/// not effects: after every action the state says which feeds it wants (`state.subscriptions`).
///
/// It routes: keys to the shell's modes, then to the focused pane's bindings, then to the shell's;
/// feed events and the clock to every pane; mouse events to the pane under the pointer, in its own
/// coordinates. What panes ask for (`Outcome`) it applies here, in one place.
public struct ConsoleReducer: Sendable {
    public let registry: PaneRegistry
    public let keymap: Keymap
    /// Theme names `:theme` offers (and completes and suggests from).
    public let themes: [String]
    /// The config file's contexts `:context` switches between.
    public let contexts: [String]
    let parser: LineCommandParser
    let owners: [String: PaneID]

    public init(registry: PaneRegistry = .standard, keymap: Keymap? = nil, themes: [String] = ["dark", "light", "mono"],
                contexts: [String] = []) {
        self.registry = registry
        self.keymap = keymap ?? registry.defaultKeymap
        self.themes = themes
        self.contexts = contexts
        let commands = registry.lineCommands
        parser = LineCommandParser(commands.map(\.spec))
        owners = Dictionary(commands.compactMap { entry in entry.owner.map { (entry.spec.name, $0) } },
                            uniquingKeysWith: { first, _ in first })
    }

    /// Messages fade after this long.
    static let messageLifetime: Int64 = 8_000

    public func reduce(_ state: inout ConsoleState, _ action: ConsoleAction) -> [ConsoleEffect] {
        var effects: [ConsoleEffect] = []
        switch action {
        case .tick(let now):
            state.now = now
            if let message = state.message, now - message.at > Self.messageLifetime { state.message = nil }
            broadcast(.tick, &state, &effects)
        case .feed(let event):
            // A late report from a feed no longer wanted changes nothing.
            guard event.isWanted(by: state.subscriptions) else { return [] }
            if case .services(let services, _) = event { state.selection.services = services.keys.sorted() }
            if let kind = event.kind, let status = event.status(after: state.feeds[kind]) { state.feeds[kind] = status }
            broadcast(.feed(event), &state, &effects)
            // A Tab that had nothing to offer may have been waiting for this report.
            if state.tabPending { state.tabPending = !completeCommandLine(&state) && state.mode.commandLine != nil }
        case .themeLoaded(let theme):
            state.theme = theme
            state.message = Message(text: "theme \(theme.name)", isError: false, at: state.now)
        case .themeFailed(let text, let at):
            state.message = Message(text: text, isError: true, at: at)
        case .notice(let text, let isError, let at):
            state.message = Message(text: text, isError: isError, at: at)
        case .editorClosed(let owner, .success(let text)):
            withPane(owner, &state, &effects) { pane, context in pane.update(.prompt(.submitted(text)), context) }
        case .editorClosed(let owner, .failure(let failure)):
            withPane(owner, &state, &effects) { pane, context in pane.update(.prompt(.cancelled), context) }
            state.message = Message(text: "\(failure): nothing written", isError: true, at: state.now)
        case .quitRequested:
            state.quit = true
        case .input(.resize(let width, let height)):
            state.size = Size(width: width, height: height)
        case .input(.mouse(let mouse)):
            handleMouse(mouse, &state, &effects)
        case .input(.key(let key)):
            handleKey(key, &state, &effects)
        }
        refreshSubscriptions(&state)
        return effects
    }

    // MARK: panes

    /// The context a pane sees: its own area's size among the rest.
    func context(_ id: PaneID, _ state: ConsoleState, frames: [PaneID: Rect]? = nil) -> PaneContext {
        let frame = (frames ?? ConsoleView.frames(state, registry))[id]
        let inner = frame.map { $0.inset(1) }
        return PaneContext(now: state.now, size: Size(width: inner?.width ?? 0, height: inner?.height ?? 0),
                           selection: state.selection, feeds: state.feeds, isFocused: id == state.focus, theme: state.theme,
                           utcOffset: state.utcOffset, readOnly: state.readOnly, typing: typing(state))
    }

    /// The command on the `:` line once its name is typed (a space after it), and whether a Tab waits.
    func typing(_ state: ConsoleState) -> TypedCommand? {
        guard let line = state.mode.commandLine else { return nil }
        let trimmed = line.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " "), let spec = parser.spec(named: String(trimmed[..<space])) else { return nil }
        return TypedCommand(name: spec.name, argument: String(trimmed[space...].drop { $0 == " " }), tabPending: state.tabPending)
    }

    /// Every pane sees the event; what they ask for is applied, and a change of selection reaches them all.
    private func broadcast(_ event: PaneEvent, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect]) {
        let frames = ConsoleView.frames(state, registry)
        for index in state.panes.indices {
            let context = context(state.panes[index].id, state, frames: frames)
            let outcomes = state.panes[index].update(event, context)
            apply(outcomes, from: state.panes[index].id, &state, &effects)
        }
    }

    private func withPane(_ id: PaneID, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect],
                          _ body: (inout AnyPane, PaneContext) -> [Outcome]) {
        guard let index = state.panes.firstIndex(where: { $0.id == id }) else { return }
        let outcomes = body(&state.panes[index], context(id, state))
        apply(outcomes, from: id, &state, &effects)
    }

    private func apply(_ outcomes: [Outcome], from owner: PaneID, _ state: inout ConsoleState,
                       _ effects: inout [ConsoleEffect], depth: Int = 0) {
        var selectionChanged = false
        for outcome in outcomes {
            switch outcome {
            case .message(let text, let isError):
                state.message = Message(text: text, isError: isError, at: state.now)
            case .selectService(let service):
                guard state.selection.service != service else { continue }
                state.selection.service = service
                state.selection.instance = nil
                selectionChanged = true
            case .selectInstance(let instance):
                guard state.selection.instance != instance else { continue }
                state.selection.instance = instance
                selectionChanged = true
            case .selectTime(let time):
                guard state.selection.time != time else { continue }
                state.selection.time = time
                selectionChanged = true
            case .focus(let id):
                guard registry.ids.contains(id) else { continue }
                state.visible.insert(id)
                if state.focus != id { state.zoomed = false }
                state.focus = id
            case .effect(let effect):
                // Panes refuse writes themselves when read-only; this is the backstop, and the pane hears
                // of it as of any failed write (it would otherwise wait for a result forever).
                if case .writeKV(let write) = effect, let reason = state.readOnly {
                    withPane(owner, &state, &effects) { pane, context in
                        pane.update(.feed(.kvWritten(write, .failed("read-only (\(reason))"))), context)
                    }
                    continue
                }
                effects.append(effect)
            case .prompt(let prompt, let text, let history):
                var editor = LineEditor(history: history)
                editor.set(text)
                state.mode = .input(owner: owner, prompt: prompt, editor)
            }
        }
        // Panes that follow the selection may answer it (the services pane moves its cursor); two rounds
        // are enough for any chain of followers, and the bound keeps a bad pane from looping.
        if selectionChanged && depth < 2 {
            let frames = ConsoleView.frames(state, registry)
            for index in state.panes.indices {
                let id = state.panes[index].id
                let next = state.panes[index].update(.selectionChanged, context(id, state, frames: frames))
                apply(next, from: id, &state, &effects, depth: depth + 1)
            }
        }
    }

    /// The feeds the visible panes want, and what a waiting Tab waits for (from the pane whose command
    /// is typed, hidden or not); the status bar keeps a line for each kind that runs.
    private func refreshSubscriptions(_ state: inout ConsoleState) {
        let frames = ConsoleView.frames(state, registry)
        var wanted = state.panes.filter { state.visible.contains($0.id) }
            .reduce(into: Set<Feed>()) { $0.formUnion($1.subscriptions(context($1.id, state, frames: frames))) }
        if state.tabPending {
            let owner = typing(state).flatMap { owners[$0.name] }.flatMap { id in state.panes.first { $0.id == id } }
            let awaited = owner.map { $0.completionSubscriptions(context($0.id, state, frames: frames)) } ?? []
            // Nothing on its way: the Tab had nothing to offer, and that was its answer.
            if awaited.isEmpty { state.tabPending = false }
            wanted.formUnion(awaited)
        }
        guard wanted != state.subscriptions else { return }
        let before = state.subscriptions
        state.subscriptions = wanted
        // A line per kind that runs; a line starts over when nothing of what it reported runs any more
        // (another service was opened).
        for kind in FeedKind.allCases {
            let now = wanted.filter { $0.kind == kind }
            if now.isEmpty {
                state.feeds[kind] = nil
            } else if now.isDisjoint(with: before.filter { $0.kind == kind }) {
                state.feeds[kind] = FeedStatus(phase: .connecting)
            }
        }
    }

    // MARK: keys

    private func handleKey(_ key: Key, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect]) {
        switch state.mode {
        case .help:
            state.mode = .normal  // any key closes help
        case .command(var editor):
            if key == .tab {
                state.tabPending = !completeCommandLine(&state)
                return
            }
            state.completions = []
            state.tabPending = false
            switch editor.handle(key) {
            case .submitted(let line):
                state.commandHistory = editor.history
                state.mode = .normal
                run(line, &state, &effects)
            case .cancelled:
                state.commandHistory = editor.history
                state.mode = .normal
            case .edited, .ignored:
                state.mode = .command(editor)
            }
        case .input(let owner, let prompt, var editor):
            let event: PromptEvent
            switch editor.handle(key) {
            case .submitted(let text):
                state.mode = .normal
                event = .submitted(text)
            case .cancelled:
                state.mode = .normal
                event = .cancelled
            case .edited, .ignored:
                state.mode = .input(owner: owner, prompt: prompt, editor)
                event = .edited(editor.string)
            }
            withPane(owner, &state, &effects) { pane, context in pane.update(.prompt(event), context) }
        case .normal:
            guard let action = keymap.action(for: key, scopes: [state.focus.name, Shell.scope]) else { return }
            let command = String(action.drop { $0 != "." }.dropFirst())
            if action.hasPrefix(Shell.scope + "."), let shell = Shell.Command(rawValue: command) {
                perform(shell, &state, &effects)
            } else {
                withPane(state.focus, &state, &effects) { pane, context in pane.perform(named: command, context) ?? [] }
            }
        }
    }

    private func perform(_ command: Shell.Command, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect]) {
        switch command {
        case .help: state.mode = .help(.keys)
        case .command: state.mode = .command(LineEditor(history: state.commandHistory))
        case .quit: state.quit = true
        case .nextPane: cycleFocus(by: 1, &state)
        case .previousPane: cycleFocus(by: -1, &state)
        case .zoom: state.zoomed.toggle()
        case .search: run("search", &state, &effects)
        case .config: run("config", &state, &effects)
        }
    }

    /// Focus `step` panes on among the visible ones (0: the focused one, else the first visible).
    private func cycleFocus(by step: Int, _ state: inout ConsoleState) {
        let order = registry.ids.filter { state.visible.contains($0) }
        guard !order.isEmpty else { return }
        guard let current = order.firstIndex(of: state.focus) else {
            state.focus = order[0]
            return
        }
        state.focus = order[(current + step + order.count) % order.count]
        state.zoomed = false
    }

    // MARK: mouse

    private func handleMouse(_ mouse: MouseEvent, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect]) {
        guard case .normal = state.mode else { return }
        let frames = ConsoleView.frames(state, registry)
        guard let (id, frame) = frames.first(where: { _, rect in
            mouse.x >= rect.x && mouse.x < rect.maxX && mouse.y >= rect.y && mouse.y < rect.maxY
        }) else { return }
        if mouse.kind == .click && state.focus != id { state.focus = id }
        let inner = frame.inset(1)
        var local = mouse
        local.x -= inner.x
        local.y -= inner.y
        withPane(id, &state, &effects) { pane, context in pane.mouse(local, context) }
    }

    // MARK: `:` commands

    private func run(_ line: String, _ state: inout ConsoleState, _ effects: inout [ConsoleEffect]) {
        let command: LineCommand
        switch parser.parse(line) {
        case .failure(.empty): return
        case .failure(let error):
            state.message = Message(text: error.description, isError: true, at: state.now)
            return
        case .success(let parsed): command = parsed
        }
        if let owner = owners[command.name] {
            withPane(owner, &state, &effects) { pane, context in pane.run(command, context) }
            return
        }
        switch command.name {
        case "help": state.mode = .help(.commands)
        case "quit": state.quit = true
        case "zoom": state.zoomed.toggle()
        case "theme":
            guard let name = command.argument else {
                state.message = Message(text: "themes: \(themes.joined(separator: ", ")) (now \(state.theme.name))", isError: false, at: state.now)
                return
            }
            guard themes.contains(name) else {
                let hint = LineCommandParser.closest(to: name, in: themes).map { ": did you mean \($0)?" } ?? ""
                state.message = Message(text: "no theme \(name)\(hint) (themes: \(themes.joined(separator: ", ")))", isError: true, at: state.now)
                return
            }
            effects.append(.loadTheme(name))
        case "context":
            let now = state.context.map { " (now \($0.name))" } ?? " (now none: the environment's settings)"
            let list = contexts.isEmpty ? "none in the config file" : contexts.joined(separator: ", ")
            guard let name = command.argument else {
                state.message = Message(text: "contexts: \(list)\(now)", isError: false, at: state.now)
                return
            }
            guard contexts.contains(name) else {
                let hint = LineCommandParser.closest(to: name, in: contexts).map { ": did you mean \($0)?" } ?? ""
                state.message = Message(text: "no context \(name)\(hint) (contexts: \(list))", isError: true, at: state.now)
                return
            }
            // A write's result must reach the operator: it would be dropped with the old context's reports.
            if let write = state.pane(ConfigPane.self)?.pendingWrite {
                state.message = Message(text: "\(write.key) is being written: :context once it is done", isError: true, at: state.now)
                return
            }
            effects.append(.switchContext(name))
        case "show", "hide":
            guard let name = command.argument, let id = registry.ids.first(where: { $0.name == name }) else {
                let names = registry.ids.map(\.name)
                let hint = command.argument.flatMap { LineCommandParser.closest(to: $0, in: names) }.map { ": did you mean \($0)?" } ?? ""
                state.message = Message(text: "no pane \(command.argument ?? "")\(hint) (panes: \(names.joined(separator: ", ")))", isError: true, at: state.now)
                return
            }
            if command.name == "show" {
                state.visible.insert(id)
                if state.focus != id { state.zoomed = false }
                state.focus = id
            } else {
                guard state.visible.contains(id) else {
                    state.message = Message(text: "\(name) is hidden already", isError: true, at: state.now)
                    return
                }
                guard state.visible.count > 1 else {
                    state.message = Message(text: "\(name) is the last pane shown", isError: true, at: state.now)
                    return
                }
                state.visible.remove(id)
                if state.focus == id { cycleFocus(by: 0, &state) }
            }
        default: break
        }
    }

    /// Tab on the `:` line: the line extended by what its candidates share, and the candidates while
    /// several fit. False when it had nothing to offer.
    private func completeCommandLine(_ state: inout ConsoleState) -> Bool {
        guard case .command(var editor) = state.mode else { return false }
        let line = editor.string
        let typed = typing(state)  // the parser asks for candidates only once the command's name is typed
        let (completed, candidates) = parser.complete(line) { completionCandidates(for: $0, of: typed, state) }
        editor.set(completed)
        state.completions = candidates
        state.mode = .command(editor)
        return completed != line || !candidates.isEmpty
    }

    private func completionCandidates(for completion: LineCommandSpec.Completion, of typed: TypedCommand?,
                                      _ state: ConsoleState) -> [String] {
        switch completion {
        case .none: return []
        case .pane:
            guard let typed, let owner = owners[typed.name], let pane = state.panes.first(where: { $0.id == owner }) else { return [] }
            return pane.completions(for: typed.name, context(owner, state))
        case .services: return state.selection.services
        case .themes: return themes
        case .contexts: return contexts
        case .panes: return registry.ids.map(\.name)
        case .values(let values): return values
        }
    }
}
