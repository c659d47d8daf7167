import TUI

/// A pane of any type, as the console holds it: the calls the shell makes, with the pane's own types
/// opened inside (a key's command name becomes the pane's `Command` here, and nowhere else).
public struct AnyPane: Equatable, Sendable {
    public private(set) var base: any Pane

    public init(_ base: any Pane) { self.base = base }

    public var id: PaneID { type(of: base).id }
    public var placement: PanePlacement { type(of: base).placement }

    public static func == (a: AnyPane, b: AnyPane) -> Bool { a.base.isEqual(to: b.base) }

    func subscriptions(_ context: PaneContext) -> Set<Feed> { base.subscriptions(context) }

    mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        base.update(event, context)
    }

    /// Runs the command named `name`; nil when the pane has no such command.
    mutating func perform(named name: String, _ context: PaneContext) -> [Outcome]? {
        base.perform(named: name, context)
    }

    mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] { base.run(command, context) }

    func completions(for command: String, _ context: PaneContext) -> [String] { base.completions(for: command, context) }

    func completionSubscriptions(_ context: PaneContext) -> Set<Feed> { base.completionSubscriptions(context) }

    mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] { base.mouse(event, context) }

    func title(_ context: PaneContext) -> String { base.title(context) }

    func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) { base.render(into: &grid, rect, context) }

    /// The pane itself, typed (for tests and for panes that publish rows to a CLI twin).
    public func typed<P: Pane>(_ type: P.Type) -> P? { base as? P }
}

extension Pane {
    func isEqual(to other: any Pane) -> Bool { (other as? Self) == self }

    mutating func perform(named name: String, _ context: PaneContext) -> [Outcome]? {
        guard let command = Command(rawValue: name) else { return nil }
        return perform(command, context)
    }

    /// Its bindings with their config names (`services.open`), for the keymap.
    static var keyBindings: [KeyBinding] {
        bindings.map { KeyBinding("\(id).\($0.command.rawValue)", $0.keys, $0.help, visible: $0.visible, hint: $0.hint) }
    }
}

/// The panes a console has, in the order Tab visits them. Registering a pane is one line here (or in a
/// test's own list); the compiler checks that each conforms to `Pane`.
public struct PaneRegistry: Sendable {
    public let types: [any Pane.Type]

    public init(_ types: [any Pane.Type]) {
        precondition(Set(types.map { $0.id }).count == types.count, "two panes with one id")
        precondition(!types.contains { $0.id.name == Shell.scope }, "'\(Shell.scope)' is the shell's scope, not a pane id")
        let names = (Shell.lineCommands + types.flatMap { $0.lineCommands }).flatMap { [$0.name] + $0.aliases }
        precondition(Set(names).count == names.count, "two : commands with one name: \(names.sorted())")
        self.types = types
    }

    public static let standard = PaneRegistry([
        ServicesPane.self,
        InstancesPane.self,
        MetricsPane.self,
        LogsPane.self,
        SearchPane.self,
        ConfigPane.self,
    ])

    public var ids: [PaneID] { types.map { $0.id } }

    func makePanes() -> [AnyPane] { types.map { AnyPane($0.init()) } }

    /// Every pane's default bindings, after the shell's.
    public var defaultKeymap: Keymap {
        Keymap(Shell.keyBindings + types.flatMap { $0.keyBindings })
    }

    /// Every `:` command with the pane that runs it (nil: the shell).
    var lineCommands: [(owner: PaneID?, spec: LineCommandSpec)] {
        Shell.lineCommands.map { (nil, $0) } + types.flatMap { type in type.lineCommands.map { (type.id, $0) } }
    }
}
