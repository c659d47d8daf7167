import Consul
import TUI

/// The pure heart of the console: (state, action) -> state, plus the effects to start.
public struct ConsoleReducer: Sendable {
    public var keymap: Keymap
    /// Theme names `:theme` offers (and suggests from).
    public var themes: [String]

    public init(keymap: Keymap = ConsoleKeys.defaults, themes: [String] = ["dark", "light", "mono"]) {
        self.keymap = keymap
        self.themes = themes
    }

    /// Rows a page key moves.
    static let page = 10
    /// Messages fade after this long.
    static let messageLifetime: Int64 = 8_000

    public func reduce(_ state: inout ConsoleState, _ action: ConsoleAction) -> [ConsoleEffect] {
        switch action {
        case .tick(let now):
            state.now = now
            for entry in state.instances {
                var history = state.healthHistory[entry.service.id] ?? []
                history.append(entry.aggregateStatus)
                if history.count > ConsoleState.historyLength { history.removeFirst(history.count - ConsoleState.historyLength) }
                state.healthHistory[entry.service.id] = history
            }
            if let message = state.message, now - message.at > Self.messageLifetime { state.message = nil }
        case .servicesChanged(let services, let at):
            state.services = services
            state.effects[.catalog] = EffectStatus(phase: .live, lastUpdate: at)
            clampSelection(&state)
        case .checksChanged(let checks, let at):
            state.checks = checks
            state.effects[.checks] = EffectStatus(phase: .live, lastUpdate: at)
        case .instancesChanged(let service, let entries, let at):
            guard state.screen == .instances(service: service) else { return [] }
            // An instance that leaves (deregistered, or removed after its critical timeout) is said, not
            // just dropped from the table.
            let gone = Set(state.instances.map(\.service.id)).subtracting(entries.map(\.service.id)).sorted()
            if !gone.isEmpty && state.effects[.instances]?.lastUpdate != nil {
                state.message = Message(text: "\(gone.joined(separator: ", ")) left \(service)", isError: false, at: state.now)
            }
            state.instances = entries
            state.effects[.instances] = EffectStatus(phase: .live, lastUpdate: at)
            let present = Set(entries.map(\.service.id))
            state.monitor = state.monitor.filter { present.contains($0.key) }
            state.healthHistory = state.healthHistory.filter { present.contains($0.key) }
            clampSelection(&state)
            return [.monitorTargets(Dictionary(entries.map { ($0.service.id, "\($0.address):\($0.service.port)") },
                                               uniquingKeysWith: { first, _ in first }))]
        case .monitorSampled(let id, let sample):
            guard state.instances.contains(where: { $0.service.id == id }) else { return [] }
            state.monitor[id] = sample
        case .monitorRound(let ok, let failed, let at):
            state.effects[.monitor] = failed > 0 && ok == 0
                ? EffectStatus(phase: .retrying(reason: "no instance answered", retryInMilliseconds: 2_000),
                               lastUpdate: state.effects[.monitor]?.lastUpdate)
                : EffectStatus(phase: .live, lastUpdate: at)
        case .effectFailed(let id, let reason, let retry, _):
            state.effects[id] = EffectStatus(phase: .retrying(reason: reason, retryInMilliseconds: retry),
                                             lastUpdate: state.effects[id]?.lastUpdate)
        case .themeChanged(let name):
            state.themeName = name
            state.message = Message(text: "theme \(name)", isError: false, at: state.now)
        case .themeFailed(let text, let at):
            state.message = Message(text: text, isError: true, at: at)
        case .quitRequested:
            state.quit = true
            return [.quit]
        case .input(.resize(let width, let height)):
            state.size = .init(width: width, height: height)
        case .input(.mouse(let mouse)):
            return handleMouse(&state, mouse)
        case .input(.key(let key)):
            return handleKey(&state, key)
        }
        return []
    }

    // MARK: keys

    private func handleKey(_ state: inout ConsoleState, _ key: Key) -> [ConsoleEffect] {
        switch state.mode {
        case .help:
            state.mode = .normal  // any key closes help
            return []
        case .command(var editor):
            switch editor.handle(key) {
            case .submitted(let line):
                state.commandHistory = editor.history
                state.mode = .normal
                return run(line, &state)
            case .cancelled:
                state.commandHistory = editor.history
                state.mode = .normal
            case .edited, .ignored:
                state.mode = .command(editor)
            }
            return []
        case .filter(var editor):
            switch editor.handle(key) {
            case .submitted(let text):
                state.filter = text
                state.mode = .normal
            case .cancelled:
                state.filter = ""
                state.mode = .normal
            case .edited, .ignored:
                state.filter = editor.string
                state.mode = .filter(editor)
            }
            clampSelection(&state)
            return []
        case .normal:
            guard let action = keymap.action(for: key) else { return [] }
            return perform(action, &state)
        }
    }

    private func perform(_ action: String, _ state: inout ConsoleState) -> [ConsoleEffect] {
        switch action {
        case "quit":
            state.quit = true
            return [.quit]
        case "help": state.mode = .help
        case "command": state.mode = .command(LineEditor(history: state.commandHistory))
        case "filter":
            var editor = LineEditor()
            editor.set(state.filter)
            state.mode = .filter(editor)
        case "back":
            if !state.filter.isEmpty {
                state.filter = ""
            } else if case .instances = state.screen {
                return showServices(&state)
            }
        case "open":
            if state.screen == .services, let service = state.serviceSummaries[safe: state.selectedService] {
                return open(service.name, &state)
            }
        case "up": move(&state, by: -1)
        case "down": move(&state, by: 1)
        case "page-up": move(&state, by: -Self.page)
        case "page-down": move(&state, by: Self.page)
        case "top": move(&state, by: -Int.max / 2)
        case "bottom": move(&state, by: Int.max / 2)
        case "sort":
            if state.screen == .services {
                state.serviceSort.column = (state.serviceSort.column + 1) % ConsoleView.serviceColumns.count
            } else {
                state.instanceSort.column = (state.instanceSort.column + 1) % 4  // the sortable columns
            }
        case "reverse":
            if state.screen == .services { state.serviceSort.ascending.toggle() } else { state.instanceSort.ascending.toggle() }
        default: break
        }
        return []
    }

    private func handleMouse(_ state: inout ConsoleState, _ mouse: MouseEvent) -> [ConsoleEffect] {
        switch mouse.kind {
        case .wheelUp: move(&state, by: -3)
        case .wheelDown: move(&state, by: 3)
        case .click:
            // Rows start under the title and the table header.
            let rows = state.screen == .services ? state.serviceSummaries.count : state.instanceRows.count
            let selected = state.screen == .services ? state.selectedService : state.selectedInstance
            let visible = ConsoleView.tableRect(state).height - 1
            let first = Table.firstVisible(selected: selected, rows: rows, visible: visible)
            let row = mouse.y - ConsoleView.tableRect(state).y - 1 + first
            guard mouse.y > ConsoleView.tableRect(state).y, row >= 0, row < rows else { return [] }
            if state.screen == .services { state.selectedService = row } else { state.selectedInstance = row }
        }
        return []
    }

    private func move(_ state: inout ConsoleState, by delta: Int) {
        if state.screen == .services {
            state.selectedService = clamp(state.selectedService + delta, state.serviceSummaries.count)
        } else {
            state.selectedInstance = clamp(state.selectedInstance + delta, state.instanceRows.count)
        }
    }

    private func clampSelection(_ state: inout ConsoleState) {
        state.selectedService = clamp(state.selectedService, state.serviceSummaries.count)
        state.selectedInstance = clamp(state.selectedInstance, state.instanceRows.count)
    }

    private func clamp(_ value: Int, _ count: Int) -> Int { max(0, min(value, count - 1)) }

    // MARK: commands

    private func run(_ line: String, _ state: inout ConsoleState) -> [ConsoleEffect] {
        switch ConsoleCommand.parse(line) {
        case .failure(.empty):
            return []
        case .failure(.unknown(let name, let suggestion)):
            let hint = suggestion.map { ": did you mean :\($0)?" } ?? " (commands: services, instances NAME, theme NAME, help, q)"
            state.message = Message(text: "unknown command :\(name)\(hint)", isError: true, at: state.now)
        case .failure(.extraArgument(let name)):
            state.message = Message(text: ":\(name): too many arguments", isError: true, at: state.now)
        case .success(.services):
            return showServices(&state)
        case .success(.instances(let name)):
            guard let name = name ?? state.serviceSummaries[safe: state.selectedService]?.name else {
                state.message = Message(text: ":instances needs a service name", isError: true, at: state.now)
                return []
            }
            guard state.services[name] != nil else {
                let hint = ConsoleCommand.closest(to: name, in: state.services.keys.sorted()).map { ": did you mean \($0)?" } ?? ""
                state.message = Message(text: "no service \(name)\(hint)", isError: true, at: state.now)
                return []
            }
            return open(name, &state)
        case .success(.theme(let name)):
            guard let name else {
                state.message = Message(text: "themes: \(themes.joined(separator: ", ")) (now \(state.themeName))", isError: false, at: state.now)
                return []
            }
            guard themes.contains(name) else {
                let hint = ConsoleCommand.closest(to: name, in: themes).map { ": did you mean \($0)?" } ?? ""
                state.message = Message(text: "no theme \(name)\(hint) (themes: \(themes.joined(separator: ", ")))", isError: true, at: state.now)
                return []
            }
            return [.loadTheme(name)]
        case .success(.help):
            state.mode = .help
        case .success(.quit):
            state.quit = true
            return [.quit]
        }
        return []
    }

    private func open(_ service: String, _ state: inout ConsoleState) -> [ConsoleEffect] {
        state.screen = .instances(service: service)
        state.instances = []
        state.monitor = [:]
        state.healthHistory = [:]
        state.selectedInstance = 0
        state.filter = ""
        state.effects[.instances] = EffectStatus(phase: .connecting)
        state.effects[.monitor] = EffectStatus(phase: .connecting)
        return [.followInstances(service: service)]
    }

    private func showServices(_ state: inout ConsoleState) -> [ConsoleEffect] {
        guard state.screen != .services else { return [] }
        state.screen = .services
        state.instances = []
        state.monitor = [:]
        state.healthHistory = [:]
        state.filter = ""
        state.effects[.instances] = nil
        state.effects[.monitor] = nil
        return [.followInstances(service: nil)]
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
