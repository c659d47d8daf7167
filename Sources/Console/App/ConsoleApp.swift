import Foundation
import Synchronization
import TUI

/// What runs the console's feeds and effects (the network side, in ConsoleFeeds): told on the UI thread
/// which feeds are wanted after each update that changed them, and which one-shot effects to start. It
/// reports back through the inbox.
public protocol ConsoleRuntime: AnyObject {
    /// Makes the running feeds match `wanted`: starts the new ones, cancels the ones no longer wanted.
    func reconcile(_ wanted: Set<Feed>)
    /// Starts one-shot work off the UI thread.
    func perform(_ effect: ConsoleEffect)
    /// Stops everything (the console is quitting).
    func stop()
}

/// Actions from any thread to the UI thread: queued, and a byte on a pipe wakes the UI's poll().
///
/// Bounded where it can grow: log records arriving faster than the UI takes them are merged into the
/// last queued batch of the same tail, and past `logCapacity` records (what the logs pane holds) and a
/// quarter more the oldest are dropped here down to `logCapacity` and counted (`.logsDropped`): the pane
/// would drop exactly those (every queued line is newer than every held one, and it keeps the newest
/// `logCapacity`), so its count of dropped lines stays exact. A trim drops whole chunks of lines (`LogBatch`)
/// and cuts into one; the quarter spares a trim at every batch. A bound of twice the capacity cost 50 MB
/// more at 100,000 lines.
public final class ActionInbox: Sendable {
    private let pending = Mutex<[ConsoleAction]>([])
    public let wakeDescriptor: Int32
    private let wakeWriter: Int32
    private let logCapacity: Int

    public init(logCapacity: Int = 100_000) {
        self.logCapacity = max(1, logCapacity)
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakeDescriptor = fds[0]
        wakeWriter = fds[1]
    }

    public func send(_ action: ConsoleAction) {
        pending.withLock { queue in
            switch action {
            case .feed(.logs(let query, let lines, let at)):
                // Into the newest batch of the same tail when only that tail's own reports follow it.
                if let index = queue.lastIndex(where: { Self.isBatch($0, of: query) }),
                   queue[(index + 1)...].allSatisfy({ Self.isReport($0, of: query) }),
                   case .feed(.logs(_, var held, _)) = queue[index] {
                    queue[index] = .quitRequested  // a placeholder, so that `held` is the batch's only reference
                    held.append(contentsOf: lines)
                    queue[index] = .feed(.logs(query, held, at: at))
                } else {
                    queue.append(action)
                }
                trim(&queue, query)
            case .feed(.logsBehind(let query, _, _)):
                queue.removeAll { if case .feed(.logsBehind(query, _, _)) = $0 { return true } else { return false } }  // the latest lag only
                queue.append(action)
            default:
                queue.append(action)
            }
        }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)  // a full pipe already means "wake up"
    }

    /// Past `logCapacity` and a quarter lines queued for one tail (in however many batches), the oldest
    /// are dropped down to `logCapacity` and counted in a `.logsDropped` at the head of the queue.
    private func trim(_ queue: inout [ConsoleAction], _ query: LogQuery) {
        var total = 0
        for case .feed(.logs(query, let lines, _)) in queue { total += lines.count }
        guard total > logCapacity + logCapacity / 4 else { return }
        var excess = total - logCapacity, dropped = 0
        for index in queue.indices where excess > 0 {
            guard case .feed(.logs(query, var lines, let at)) = queue[index] else { continue }
            queue[index] = .quitRequested
            let cut = min(excess, lines.count)
            lines.removeFirst(cut)
            excess -= cut
            dropped += cut
            queue[index] = .feed(.logs(query, lines, at: at))
        }
        queue.removeAll { if case .feed(.logs(query, let lines, _)) = $0 { return lines.isEmpty } else { return false } }
        if case .feed(.logsDropped(query, let earlier))? = queue.first {
            queue[0] = .feed(.logsDropped(query, count: earlier + dropped))
        } else {
            queue.insert(.feed(.logsDropped(query, count: dropped)), at: 0)
        }
    }

    private static func isBatch(_ action: ConsoleAction, of query: LogQuery) -> Bool {
        if case .feed(.logs(query, _, _)) = action { return true } else { return false }
    }

    /// A tail's own reports, which do not break a run of its batches.
    private static func isReport(_ action: ConsoleAction, of query: LogQuery) -> Bool {
        switch action {
        case .feed(.logsBehind(query, _, _)), .feed(.logsDropped(query, _)): return true
        default: return false
        }
    }

    public func drain() -> [ConsoleAction] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}

/// The UI loop: input and runtime actions go through the reducer; after each, the runtime is told the
/// wanted feeds if they changed; a frame is drawn only after something happened (an action: a key, a
/// feed's report, the second's tick), at most every `frameInterval`; a tick each second ages the status
/// bar. Runs on the thread that calls `run()`, the
/// only one that touches the backend.
public final class ConsoleApp {
    public struct Options {
        public var reducer: ConsoleReducer
        public var frameIntervalMilliseconds: Int64 = 33
        /// Milliseconds since the epoch; tests stop it to count frames without racing the tick.
        public var clock: @Sendable () -> Int64 = epochMilliseconds
        /// Runs the operator's editor on a text (tests give a stand-in).
        public var editor: (String) -> Result<String, ExternalEditor.Failure> = { ExternalEditor.edit($0) }
        /// Builds what runs a context of the config file (`:context NAME`); its error is shown as is.
        public var switchContext: ((String) throws -> ContextSwitch)?

        public init(reducer: ConsoleReducer) {
            self.reducer = reducer
        }
    }

    private let backend: TerminalBackend
    private let inbox: ActionInbox
    private var runtime: ConsoleRuntime?
    private let options: Options
    /// Restores what the panes load at start (history, capacity): again after a context switch.
    private let prepare: (inout ConsoleState) -> Void
    public private(set) var state: ConsoleState
    /// The feeds the runtime was last told to run.
    private var reconciled: Set<Feed> = []
    /// Frames drawn, for tests and the benchmark.
    public private(set) var frames = 0
    /// How long each frame took: the state rendered, compared with the one before, sent to the terminal.
    public private(set) var frameTimes = DurationHistogram()
    /// How long the loop was busy each time it woke (input, the inbox's actions, the frame): what a key
    /// pressed meanwhile waits for at worst.
    public private(set) var busyTimes = DurationHistogram()

    public init(backend: TerminalBackend, inbox: ActionInbox, runtime: ConsoleRuntime?, options: Options,
                theme: Theme = .monochrome, header: String = "", context: ContextBadge? = nil, readOnly: String? = nil,
                prepare: @escaping (inout ConsoleState) -> Void = { _ in }) {
        self.backend = backend
        self.inbox = inbox
        self.runtime = runtime
        self.options = options
        state = ConsoleState(registry: options.reducer.registry)
        state.theme = theme
        state.header = header
        state.context = context
        state.readOnly = readOnly
        state.utcOffset = Int64(TimeZone.current.secondsFromGMT())
        self.prepare = prepare
        prepare(&state)
    }

    public func run() {
        state.size = Size(width: backend.size.width, height: backend.size.height)
        var previous: Grid?
        // The revision drawn, not a copy of the state drawn: a kept copy would share the logs pane's
        // 100,000 lines, and the next append would copy them all (copy-on-write) at every batch.
        var renderedRevision = -1
        var lastFrame: Int64 = 0
        var lastTick: Int64 = 0
        var heapTrim = HeapTrimSchedule()
        let clock = options.clock
        apply(.tick(now: clock()))
        lastTick = clock()
        while !state.quit {
            if redrawWhole {
                previous = nil
                redrawWhole = false
            }
            let now = clock()
            var timeout = max(0, 1_000 - (now - lastTick))
            if renderedRevision != revision { timeout = max(0, options.frameIntervalMilliseconds - (now - lastFrame)) }
            if let trim = heapTrim.dueIn(now: now) { timeout = min(timeout, trim) }
            let events = backend.readEvents(timeoutMilliseconds: Int32(timeout))
            let woke = ContinuousClock.now
            var busy = !events.isEmpty  // a wake with nothing to do is not counted
            defer { if busy { busyTimes.record(ContinuousClock.now - woke) } }
            for event in events {
                if case .resize = event {
                    previous = nil
                    (backend as? NcursesBackend)?.invalidate()
                }
                apply(.input(event))
            }
            for action in inbox.drain() {
                busy = true
                if case .feed(.logs(_, let lines, _)) = action { heapTrim.note(lines: lines.count, now: clock()) }
                apply(action)
            }
            let after = clock()
            if heapTrim.isDue(now: after) { HeapTrim.run() }
            if after - lastTick >= 1_000 {
                apply(.tick(now: after))
                lastTick = after
            }
            if renderedRevision != revision && after - lastFrame >= options.frameIntervalMilliseconds && !state.quit {
                let started = ContinuousClock.now
                let grid = ConsoleView.render(state, options.reducer)
                backend.draw(grid.changes(from: previous))
                backend.present()
                frameTimes.record(ContinuousClock.now - started)
                busy = true
                previous = grid
                renderedRevision = revision
                lastFrame = after
                frames += 1
            }
        }
        runtime?.stop()
    }

    /// Bumped by every action applied: the state may have changed, so a frame is due.
    private var revision = 0
    /// The terminal was lent out: the next frame is drawn whole.
    private var redrawWhole = false

    func apply(_ action: ConsoleAction) {
        revision &+= 1
        let effects = options.reducer.reduce(&state, action)
        if state.subscriptions != reconciled {
            reconciled = state.subscriptions
            runtime?.reconcile(reconciled)
        }
        for effect in effects {
            switch effect {
            case .copyToClipboard(let text):
                backend.copyToClipboard(text)
            case .editInEditor(let owner, let text):
                // On the UI thread, which owns the terminal: nothing is drawn while the editor has it.
                var result: Result<String, ExternalEditor.Failure> = .failure(.init(description: "no editor ran"))
                backend.suspend { result = options.editor(text) }
                redrawWhole = true
                apply(.editorClosed(owner: owner, result))
            case .switchContext(let name):
                switchContext(to: name)
            default:
                runtime?.perform(effect)
            }
        }
    }

    /// Stops every feed of the context running, and starts the panes over on `name`'s: what was shown is
    /// the old cluster's and goes; the layout, theme and command history stay. A context that cannot be
    /// built (an unreadable token file) leaves the running one as it was.
    private func switchContext(to name: String) {
        guard let make = options.switchContext else { return }
        let next: ContextSwitch
        do { next = try make(name) } catch {
            state.message = Message(text: "no switch to context \(name): \(error)", isError: true, at: state.now)
            return
        }
        runtime?.stop()
        // Reports of the old context still queued are dropped; anything else (a quit) still counts.
        let others = inbox.drain().filter { if case .feed = $0 { false } else { true } }
        runtime = next.runtime
        var fresh = ConsoleState(registry: options.reducer.registry)
        fresh.theme = state.theme
        fresh.size = state.size
        fresh.utcOffset = state.utcOffset
        fresh.now = state.now
        fresh.visible = state.visible
        fresh.focus = state.focus
        fresh.zoomed = state.zoomed
        fresh.commandHistory = state.commandHistory
        prepare(&fresh)
        fresh.header = next.header
        fresh.context = next.badge
        fresh.readOnly = next.readOnly
        fresh.message = Message(text: "context \(name): \(next.header)" + (next.readOnly == nil ? "" : ", read-only"), isError: false, at: state.now)
        state = fresh
        reconciled = []
        apply(.tick(now: options.clock()))  // the panes ask for their feeds, and the new runtime starts them
        others.forEach(apply)
    }
}

/// What `:context NAME` switches to: its runtime, and what the header says.
public struct ContextSwitch {
    public var runtime: ConsoleRuntime
    public var header: String
    public var badge: ContextBadge?
    public var readOnly: String?

    public init(runtime: ConsoleRuntime, header: String, badge: ContextBadge?, readOnly: String?) {
        self.runtime = runtime
        self.header = header
        self.badge = badge
        self.readOnly = readOnly
    }
}
