import Consul
import Foundation
import Synchronization
import TUI

/// Actions from any thread to the UI thread: queued, and a byte on a pipe wakes the UI's poll().
public final class ActionInbox: Sendable {
    private let pending = Mutex<[ConsoleAction]>([])
    public let wakeDescriptor: Int32
    private let wakeWriter: Int32

    public init() {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakeDescriptor = fds[0]
        wakeWriter = fds[1]
    }

    public func send(_ action: ConsoleAction) {
        pending.withLock { $0.append(action) }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)  // a full pipe already means "wake up"
    }

    public func drain() -> [ConsoleAction] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}

/// The UI loop: input and effect actions go through the reducer; a frame is drawn only when the
/// state changed, at most every `frameInterval`; a tick each second ages the status bar. Runs on the
/// thread that calls `run()`, the only one that touches the backend.
public final class ConsoleApp {
    public struct Options {
        public var theme: Theme
        public var themeDirectories: [String]
        public var noColor: Bool
        public var reducer: ConsoleReducer
        public var frameIntervalMilliseconds: Int64 = 33

        public init(theme: Theme, themeDirectories: [String], noColor: Bool, reducer: ConsoleReducer) {
            self.theme = theme
            self.themeDirectories = themeDirectories
            self.noColor = noColor
            self.reducer = reducer
        }
    }

    private let backend: TerminalBackend
    private let inbox: ActionInbox
    private let effects: ConsoleEffects?
    private var options: Options
    public private(set) var state = ConsoleState()
    /// Frames drawn, for tests and the benchmark.
    public private(set) var frames = 0

    public init(backend: TerminalBackend, inbox: ActionInbox, effects: ConsoleEffects?, options: Options) {
        self.backend = backend
        self.inbox = inbox
        self.effects = effects
        self.options = options
        state.themeName = options.theme.name
    }

    public func run() {
        state.size = .init(width: backend.size.width, height: backend.size.height)
        var previous: Grid?
        var rendered: ConsoleState?
        var lastFrame: Int64 = 0
        var lastTick: Int64 = 0
        effects?.start()
        apply(.tick(now: epochMilliseconds()))
        while !state.quit {
            let now = epochMilliseconds()
            var timeout = max(0, 1_000 - (now - lastTick))
            if rendered != state { timeout = max(0, options.frameIntervalMilliseconds - (now - lastFrame)) }
            for event in backend.readEvents(timeoutMilliseconds: Int32(timeout)) {
                if case .resize = event {
                    previous = nil
                    (backend as? NcursesBackend)?.invalidate()
                }
                apply(.input(event))
            }
            for action in inbox.drain() { apply(action) }
            let after = epochMilliseconds()
            if after - lastTick >= 1_000 {
                apply(.tick(now: after))
                lastTick = after
            }
            if rendered != state && after - lastFrame >= options.frameIntervalMilliseconds && !state.quit {
                let grid = ConsoleView.render(state, theme: options.theme, keymap: options.reducer.keymap)
                backend.draw(grid.changes(from: previous))
                backend.present()
                previous = grid
                rendered = state
                lastFrame = after
                frames += 1
            }
        }
        effects?.stop()
    }

    func apply(_ action: ConsoleAction) {
        for effect in options.reducer.reduce(&state, action) {
            if case .loadTheme(let name) = effect {
                do {
                    let theme = try Theme.load(name, from: options.themeDirectories)
                    options.theme = options.noColor ? theme.withoutColor : theme
                    apply(.themeChanged(name: name))
                } catch {
                    apply(.themeFailed("\(error)", at: epochMilliseconds()))
                }
            } else {
                effects?.perform(effect)
            }
        }
    }
}
