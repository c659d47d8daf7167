import TUI

/// Everything the console shows, as a value: the panes' states and the shell's. Only the reducer changes
/// it; the view only reads it.
public struct ConsoleState: Equatable {
    /// One value per registered pane, in registry order.
    public var panes: [AnyPane]
    /// What every pane follows.
    public var selection = Selection()
    /// The pane that gets keys.
    public var focus: PaneID
    /// The focused pane fills the screen.
    public var zoomed = false
    /// Panes on the dashboard; a hidden pane runs no feed.
    public var visible: Set<PaneID>

    /// What the keyboard is doing: acting on the focused pane, or typing into the bottom line.
    public enum Mode: Equatable {
        case normal
        /// The `:` command line.
        case command(LineEditor)
        /// A pane's own input (the `/` filter): each edit goes to `owner` as it is typed.
        case input(owner: PaneID, prompt: String, LineEditor)
        /// `?`: the keys; `:help`: the `:` commands. Any key closes it.
        case help(HelpPage)
    }
    public enum HelpPage: Equatable, Sendable { case keys, commands }
    public var mode: Mode = .normal
    /// `:` keeps its history across uses.
    public var commandHistory: [String] = []
    /// Tab completion's candidates while more than one fits.
    public var completions: [String] = []
    /// The last key was a Tab that had nothing to offer while a pane's candidates are on their way
    /// (`Pane.completionSubscriptions`: Graphite's paths for `:metric`). The Tab is tried again after every
    /// report until it offers something, another key comes, or nothing is on its way any more.
    public var tabPending = false
    public var message: Message?

    /// The feeds the panes want now; the runtime makes the running ones match after each update.
    public var subscriptions: Set<Feed> = []
    /// Liveness of the running feeds, by status-bar line.
    public var feeds: [FeedKind: FeedStatus] = [:]

    public var theme: Theme = .monochrome
    /// Seconds to add to UTC for local times (the app sets the machine's; tests keep 0).
    public var utcOffset: Int64 = 0
    /// Where the console looks (`consul 127.0.0.1:8500`), for the title row.
    public var header = ""
    /// The config file's context the console runs in (nil: the environment's settings).
    public var context: ContextBadge?
    /// Why every write is refused ("context prod is read-only", "--readonly"); nil: writes allowed.
    public var readOnly: String?
    public var now: Int64 = 0  // milliseconds since the epoch, from ticks
    public var size = Size(width: 80, height: 24)
    public var quit = false

    public init(registry: PaneRegistry = .standard) {
        panes = registry.makePanes()
        focus = registry.ids.first ?? "none"
        visible = Set(registry.types.filter { !$0.startsHidden }.map { $0.id })
    }

    /// The pane with this id, typed.
    public func pane<P: Pane>(_ type: P.Type) -> P? {
        panes.lazy.compactMap { $0.typed(P.self) }.first
    }

    /// Changes a pane's state before the console starts (what it restores from disk, such as the search
    /// history). Once running, only the reducer changes panes.
    public mutating func preparePane<P: Pane>(_ type: P.Type, _ body: (inout P) -> Void) {
        guard let index = panes.firstIndex(where: { $0.id == P.id }), var pane = panes[index].typed(P.self) else { return }
        body(&pane)
        panes[index] = AnyPane(pane)
    }
}

/// A line in the message bar.
public struct Message: Equatable, Sendable {
    public var text: String
    public var isError: Bool
    public var at: Int64

    public init(text: String, isError: Bool, at: Int64) {
        self.text = text
        self.isError = isError
        self.at = at
    }
}

/// Everything that can happen to the console: input, time, what feeds report, what effects produce.
public enum ConsoleAction: Sendable {
    case input(InputEvent)
    case tick(now: Int64)
    case feed(FeedEvent)
    case themeLoaded(Theme)
    case themeFailed(String, at: Int64)
    /// What a one-shot effect has to say (a file written, or why not).
    case notice(String, isError: Bool, at: Int64)
    /// The editor of an `editInEditor` effect closed: the text it left, or why not.
    case editorClosed(owner: PaneID, Result<String, ExternalEditor.Failure>)
    /// SIGINT, SIGTERM or SIGHUP from outside: leave cleanly.
    case quitRequested
}

extension ConsoleState.Mode {
    /// The `:` line's text while it is open.
    public var commandLine: String? {
        if case .command(let editor) = self { return editor.string }
        return nil
    }
}
