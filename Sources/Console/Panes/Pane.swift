import TUI

/// A pane of the dashboard: its state, the events it handles, its key commands, its `:` commands and its
/// render into a rectangle, in one type.
///
/// The console holds one value of every registered pane (`PaneRegistry`), routes keys to the focused one,
/// broadcasts feed events and the shared selection to all, and draws each visible one into the rectangle
/// the layout gives it. A pane never sees the terminal, other panes' state, or where it sits on screen:
/// its context gives it the size of its own area, and mouse events come in its own coordinates.
public protocol Pane: Equatable, Sendable {
    /// The pane's key commands, switched on exhaustively in `perform`.
    associatedtype Command: PaneCommand

    /// Names the pane in `:` commands, in the config file (`bind services.open enter`) and in focus.
    static var id: PaneID { get }
    /// Where the dashboard puts it.
    static var placement: PanePlacement { get }
    /// Left off the dashboard until asked for (`:show`, or one of its commands focusing it).
    static var startsHidden: Bool { get }
    /// Its default key bindings; the config file can remap them.
    static var bindings: [Binding<Command>] { get }
    /// Its `:` commands (the shell parses, completes and explains them; `run` carries them out).
    static var lineCommands: [LineCommandSpec] { get }

    init()

    /// The feeds this pane wants now. Only visible panes' feeds run.
    func subscriptions(_ context: PaneContext) -> Set<Feed>
    /// A feed's value, the clock, or a change of the shared selection.
    mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome]
    /// One of its key commands, while it has the focus.
    mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome]
    /// One of its `:` commands.
    mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome]
    /// Candidates for the argument of its `:` command `command` (argument completion `.pane`).
    func completions(for command: String, _ context: PaneContext) -> [String]
    /// The feeds that fetch what a waiting Tab on its command needs (`context.typing`), visible or not;
    /// none when a Tab has nothing to wait for.
    func completionSubscriptions(_ context: PaneContext) -> Set<Feed>
    /// A click or the wheel, at a position relative to the pane's area.
    mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome]
    /// The title in the pane's frame.
    func title(_ context: PaneContext) -> String
    /// Draws the pane into `rect` (inside its frame).
    func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext)
}

extension Pane {
    public static var lineCommands: [LineCommandSpec] { [] }
    public static var startsHidden: Bool { false }
    public func subscriptions(_ context: PaneContext) -> Set<Feed> { [] }
    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] { [] }
    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] { [] }
    public func completions(for command: String, _ context: PaneContext) -> [String] { [] }
    public func completionSubscriptions(_ context: PaneContext) -> Set<Feed> { [] }
    public mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] { [] }
}

/// A pane's key commands: an enum whose raw values are the names bindings use (`services.open`).
public protocol PaneCommand: CaseIterable, RawRepresentable, Hashable, Sendable where RawValue == String {}

/// A default binding: a command, its keys, and how `?` describes it.
public struct Binding<Command: PaneCommand>: Sendable {
    public var command: Command
    public var keys: [Key]
    public var help: String
    /// Shown in the `?` overlay (keys every list shares, such as page up, can be left out).
    public var visible: Bool
    /// A word for the hint bar, for the few bindings it shows.
    public var hint: String?

    public init(_ command: Command, _ keys: [Key], _ help: String, visible: Bool = true, hint: String? = nil) {
        self.command = command
        self.keys = keys
        self.help = help
        self.visible = visible
        self.hint = hint
    }
}

/// A pane's name: the prefix of its commands in the config file.
public struct PaneID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public var description: String { name }
    public static func < (a: PaneID, b: PaneID) -> Bool { a.name < b.name }
}

/// Where a pane goes on the dashboard: which row, and how it shares the row's width.
public struct PanePlacement: Equatable, Sendable {
    public enum Row: Equatable, Sendable { case top, bottom }
    public enum Width: Equatable, Sendable {
        /// A fraction of the row's width, clamped to `minimum...maximum` columns (frame included).
        case sidebar(fraction: Double, minimum: Int, maximum: Int)
        /// What the sidebars leave, shared with the row's other flexible panes; at least `minimum`.
        case flexible(minimum: Int)
    }
    public var row: Row
    public var width: Width

    public init(row: Row, width: Width) {
        self.row = row
        self.width = width
    }

    var minimumWidth: Int {
        switch width {
        case .sidebar(_, let minimum, _): return minimum
        case .flexible(let minimum): return minimum
        }
    }
}

/// What a pane sees of the rest of the console.
public struct PaneContext: Sendable {
    public var now: Int64
    /// The size of the pane's area inside its frame (zero while it is not on screen).
    public var size: Size
    public var selection: Selection
    /// Liveness of every running feed, by status-bar line.
    public var feeds: [FeedKind: FeedStatus]
    public var isFocused: Bool
    public var theme: Theme
    /// Seconds to add to UTC for the local time (times on charts and logs).
    public var utcOffset: Int64
    /// Why every write is refused (a read-only context, `--readonly`); nil: writes allowed.
    public var readOnly: String?
    /// The `:` command being typed, once its name is (nil otherwise): a pane fetches what its command's Tab
    /// offers only when a Tab waits for it.
    public var typing: TypedCommand?

    public init(now: Int64, size: Size, selection: Selection, feeds: [FeedKind: FeedStatus], isFocused: Bool,
                theme: Theme, utcOffset: Int64 = 0, readOnly: String? = nil, typing: TypedCommand? = nil) {
        self.now = now
        self.size = size
        self.selection = selection
        self.feeds = feeds
        self.isFocused = isFocused
        self.theme = theme
        self.utcOffset = utcOffset
        self.readOnly = readOnly
        self.typing = typing
    }
}

/// A `:` command on the command line, as typed so far.
public struct TypedCommand: Equatable, Sendable {
    /// The command's name (an alias typed is given as the name).
    public var name: String
    /// What follows the name, leading spaces dropped.
    public var argument: String
    /// A Tab had nothing to offer yet and waits for candidates (`ConsoleState.tabPending`).
    public var tabPending: Bool

    public init(name: String, argument: String, tabPending: Bool) {
        self.name = name
        self.argument = argument
        self.tabPending = tabPending
    }
}

/// What every pane follows: the service (and instance) the operator is looking at.
public struct Selection: Equatable, Sendable {
    public var service: String?
    public var instance: String?
    /// A moment the operator points at (the metrics pane's cursor), seconds since the epoch; nil: now.
    public var time: Int64?
    /// Every service Consul lists, for `:` argument completion and checks.
    public var services: [String] = []

    public init(service: String? = nil, instance: String? = nil, time: Int64? = nil, services: [String] = []) {
        self.service = service
        self.instance = instance
        self.time = time
        self.services = services
    }
}

/// A size in cells. A struct rather than a tuple so that `==` is synthesized wherever it is held.
public struct Size: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

/// What reaches every pane besides its keys.
public enum PaneEvent: Equatable, Sendable {
    case feed(FeedEvent)
    /// A second passed (`context.now` has the time).
    case tick
    /// `context.selection` changed.
    case selectionChanged
    /// The pane's input on the bottom line (opened with `Outcome.prompt`) changed.
    case prompt(PromptEvent)
}

/// What the operator does on a pane's input line.
public enum PromptEvent: Equatable, Sendable {
    /// Each keystroke, with the text so far (a filter applies as it is typed).
    case edited(String)
    case submitted(String)
    case cancelled
}

/// What a pane asks of the console after an update.
public enum Outcome: Equatable, Sendable {
    /// A line for the message bar.
    case message(String, isError: Bool)
    /// The service everything follows (nil: none).
    case selectService(String?)
    case selectInstance(String?)
    case selectTime(Int64?)
    case focus(PaneID)
    /// One-shot work for the runtime.
    case effect(ConsoleEffect)
    /// Opens the bottom line for the pane's own input, with `prompt` before it, `text` in it, and
    /// `history` for ↑/↓ and ctrl-r.
    case prompt(String, text: String, history: [String] = [])
}

/// One-shot work the runtime does off the UI thread; its result comes back as an action.
public enum ConsoleEffect: Equatable, Sendable {
    case loadTheme(String)
    /// Puts text on the terminal's clipboard (OSC 52; the terminal decides whether it allows it).
    case copyToClipboard(String)
    /// Appends a line to the search prompt's history file.
    case rememberSearch(String)
    /// Writes lines to a new file (never over an existing one); the result comes back as a notice.
    case saveLines(path: String, lines: [String])
    /// Writes to Consul KV; the result comes back as `FeedEvent.kvWritten`.
    case writeKV(KVWrite)
    /// Opens `text` in the operator's editor, the terminal lent to it; what it gives back reaches `owner` as
    /// its prompt's answer (cancelled when the editor failed).
    case editInEditor(owner: PaneID, text: String)
    /// Runs the console on another of the config file's contexts: every feed of this one stops, the panes
    /// start over on the new one (the UI loop does it; it owns the runtime).
    case switchContext(String)
}
