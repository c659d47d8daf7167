import Foundation

/// Where frames go. The ncurses backend owns the real terminal; the memory backend is for tests and
/// benchmarks. Only the UI thread calls a backend.
public protocol TerminalBackend: AnyObject {
    var size: (width: Int, height: Int) { get }
    /// Draws runs of changed cells; `present()` makes them visible.
    func draw(_ runs: [CellRun])
    func present()
    /// Waits up to `timeoutMilliseconds` (or until `wake` is readable) and returns what the user did.
    func readEvents(timeoutMilliseconds: Int32) -> [InputEvent]
    /// Asks the terminal to put `text` on the clipboard (OSC 52): many terminals and tmux (with
    /// set-clipboard on) do; others ignore it.
    func copyToClipboard(_ text: String)
    /// Lends the terminal to another program (an editor) while `body` runs, then takes it back; the next
    /// frame is drawn whole.
    func suspend(_ body: () -> Void)
}

/// A terminal in memory: applies runs to a grid, so a test can read the screen as text.
public final class MemoryBackend: TerminalBackend {
    public private(set) var screen: Grid
    public private(set) var cellsWritten = 0
    public private(set) var presents = 0
    public var pendingEvents: [InputEvent] = []
    /// Batches handed out one per `readEvents` call after `pendingEvents`, to script a session.
    public var script: [[InputEvent]] = []
    /// What was copied, oldest first.
    public private(set) var clipboard: [String] = []

    public init(width: Int, height: Int) {
        screen = Grid(width: width, height: height)
    }

    public var size: (width: Int, height: Int) { (screen.width, screen.height) }

    public func resize(width: Int, height: Int) {
        screen = Grid(width: width, height: height)
        pendingEvents.append(.resize(width: width, height: height))
    }

    public func draw(_ runs: [CellRun]) {
        for run in runs {
            cellsWritten += run.text.count
            screen.put(run.text, x: run.x, y: run.y, style: run.style)
        }
    }

    public func present() { presents += 1 }

    public func copyToClipboard(_ text: String) { clipboard.append(text) }

    /// Times the terminal was lent out.
    public private(set) var suspensions = 0

    public func suspend(_ body: () -> Void) {
        suspensions += 1
        body()
    }

    /// Pending events at once; else the next scripted batch; an empty batch, or none left, is a short
    /// wait with nothing (so a loop driven by this backend waits as on a terminal, up to 5 ms a time).
    public func readEvents(timeoutMilliseconds: Int32) -> [InputEvent] {
        if !pendingEvents.isEmpty {
            defer { pendingEvents = [] }
            return pendingEvents
        }
        if !script.isEmpty {
            let batch = script.removeFirst()
            if !batch.isEmpty { return batch }
        }
        usleep(useconds_t(min(max(0, timeoutMilliseconds), 5)) * 1000)
        return []
    }
}
