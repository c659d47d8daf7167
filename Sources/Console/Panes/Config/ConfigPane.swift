import ConsulModels
import SearchSettings
import TUI

/// The selected service's configuration in Consul KV (`<service>/`): a tree watched live, each key with
/// its value, index and flags, and for search-server's own settings what the key does, its default and
/// whether it applies live. Edits are check-and-set on the index shown: a key changed meanwhile is not
/// overwritten, both values are shown instead. After a write to a setting, the pane follows the
/// instances until they run with it (Monitor echoes their settings) and says so.
public struct ConfigPane: Pane {
    public static let id: PaneID = "config"
    public static let placement = PanePlacement(row: .bottom, width: .flexible(minimum: 60))
    /// Shown by `K`, `:config` or `:show config`.
    public static let startsHidden = true
    /// A change made elsewhere stays marked this long.
    public static let markLifetime: Int64 = 60_000

    public enum Command: String, PaneCommand {
        case up, down, pageUp = "page-up", pageDown = "page-down", top, bottom
        case open, close, edit, editExternally = "edit-externally", create, delete, copy, dismiss
    }

    public static let bindings: [Binding<Command>] = [
        Binding(.edit, [.character("e")], "Edit the key's value (check-and-set: refused if it changed meanwhile)", hint: "edit"),
        Binding(.editExternally, [.character("E")], "Edit the value in $VISUAL or $EDITOR (multi-line and long values)"),
        Binding(.open, [.enter, .right, .character("l")], "Open or close a folder; edit a key"),
        Binding(.close, [.left, .character("h")], "Close the folder, or go to the one above"),
        Binding(.create, [.character("n")], "New key in this folder (a name ending in / makes a folder)", hint: "new"),
        Binding(.delete, [.character("d")], "Delete the key or folder (asks first)", hint: "delete"),
        Binding(.copy, [.character("y")], "Copy the value (OSC 52)"),
        Binding(.dismiss, [.escape], "Drop a refused edit, keeping the other value"),
        Binding(.up, [.up, .character("k")], "Select the previous key"),
        Binding(.down, [.down, .character("j")], "Select the next key"),
        Binding(.pageUp, [.pageUp], "Up one page", visible: false),
        Binding(.pageDown, [.pageDown], "Down one page", visible: false),
        Binding(.top, [.home, .character("g")], "First key"),
        Binding(.bottom, [.end, .character("G")], "Last key"),
    ]

    public static let lineCommands = [
        LineCommandSpec("config", aliases: ["kv"], argument: .init("SERVICE", required: false, completion: .services),
                        help: "A service's Consul KV: browse, edit (check-and-set), create, delete (no SERVICE: the selected one)"),
    ]

    /// The service whose prefix is shown (the selection's).
    public var service: String?
    /// The keys under the prefix, as the last watch answer gave them.
    public var pairs: [KVPair] = []
    var loaded = false
    /// Folders closed by the operator (full paths).
    public var collapsed: Set<String> = []
    public var cursor = TableCursor()
    /// Keys someone else changed (or created), with when that was seen.
    public var changedElsewhere: [String: Int64] = [:]
    /// The service's instances (whether they run search-server, and whom a change must reach).
    public var instances: [ServiceEntry] = []
    /// The write in flight.
    public var pendingWrite: KVWrite?
    var sequence = 0
    /// What the pending write should make the instances run with, when it is a setting.
    var expectation: Expectation?
    /// Writes this pane sent whose change the watch has not shown yet: that change is the pane's own,
    /// whichever of the watch and the write's result comes first. Matched by key and value, not by key
    /// alone, so a change someone else makes to the same key is still theirs.
    var ownWrites: [KVWrite] = []
    /// The registration said search-server once: its settings stay explained while every instance is away
    /// (restarting) and the registration with them.
    var searchServerSeen = false
    /// An edit refused because the key changed meanwhile.
    public var conflict: Conflict?
    /// A written setting on its way to the instances.
    public var follow: ChangeFollow?
    /// The settings each instance runs with, as Monitor echoes them (flags and environment applied).
    public var running: [String: [String: String]] = [:]
    /// What the open prompt is asking.
    var question: Question?

    public struct Conflict: Equatable, Sendable {
        public var key: String
        /// What the operator wanted (nil: to delete it).
        public var yours: [UInt8]?
        /// The key as it is now (nil: deleted).
        public var theirs: KVPair?
    }

    struct Expectation: Equatable, Sendable {
        var key: String
        var value: String
        var live: Bool
        /// Every polled instance ran with the value when the write was sent: nothing will change.
        var alreadyInEffect: Bool
    }

    /// What a write of `setting` that leaves KV as `kv` should make the instances run with. Judged when the
    /// write is sent: by the time its result comes back, the instances may show the new value already.
    func expectation(_ setting: SettingKey, kv: [String: String]) -> Expectation {
        let value = setting.read(ServerSettings.resolve(kv: kv, environment: [:], flags: [:]).0)
        let polled = polledInstances
        let already = !polled.isEmpty && polled.allSatisfy { running[$0.instanceKey]?[setting.key] == value }
        return Expectation(key: setting.key, value: value, live: setting.live, alreadyInEffect: already)
    }

    enum Question: Equatable, Sendable {
        case edit(key: String, cas: UInt64)
        case newKey
        case newValue(key: String)
        case delete(path: String, cas: UInt64?, recurse: Bool)
    }

    public init() {}

    public var prefix: String? { service.map { $0 + "/" } }

    /// search-server instances say so in their registration; their keys are then its settings table's.
    public var isSearchServer: Bool {
        searchServerSeen || instances.contains { SettingsTable.announced(in: $0.service.meta) }
    }

    /// The instances Monitor is polled on (tagged `grpc`): the ones a change can be seen to land on.
    var polledInstances: [ServiceEntry] { instances.filter { $0.service.tags.contains(InstancesPane.monitorTag) } }

    public var tree: KVTree {
        KVTree(prefix: prefix ?? "", pairs: pairs, unset: isSearchServer ? ServerSettings.keys.map(\.key) : [],
               collapsed: collapsed)
    }

    public func pair(_ key: String) -> KVPair? { pairs.first { $0.key == key } }

    /// The setting a key is, when the service runs search-server and the key sits right under the prefix.
    public func setting(for key: String) -> SettingKey? {
        guard isSearchServer, let prefix, key.hasPrefix(prefix) else { return nil }
        return ServerSettings.key(named: String(key.dropFirst(prefix.count)))
    }

    /// What the instances run with for a setting, most common value first: `[("info", 2), ("debug", 1)]`.
    public func inEffect(_ key: String) -> [(value: String, instances: Int)] {
        let counts = running.values.compactMap { $0[key] }.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        return counts.map { (value: $0.key, instances: $0.value) }.sorted { $0.instances > $1.instances || ($0.instances == $1.instances && $0.value < $1.value) }
    }

    /// The keys under the prefix as search-server reads them (envconsul's rules, the server's own code).
    var settingsKV: [String: String] {
        prefix.map { KVEnvironment(prefix: $0).variables(from: pairs) } ?? [:]
    }

    // MARK: feeds

    public func subscriptions(_ context: PaneContext) -> Set<Feed> {
        guard let service, let prefix else { return [] }
        var feeds: Set<Feed> = [.kv(prefix: prefix), .health(service: service)]
        if follow != nil || isSearchServer {
            for entry in polledInstances {
                feeds.insert(.monitor(instance: entry.instanceKey, address: HostPort.format(entry.address, entry.service.port)))
            }
        }
        return feeds
    }

    public mutating func update(_ event: PaneEvent, _ context: PaneContext) -> [Outcome] {
        switch event {
        case .selectionChanged:
            guard context.selection.service != service else { return [] }
            self = ConfigPane()
            service = context.selection.service
        case .feed(.kv(let prefix, let new, _)):
            guard prefix == self.prefix else { return [] }
            return keepingSelection { $0.took(new, context) }
        case .feed(.health(let name, let entries, _)):
            guard name == service else { return [] }
            return keepingSelection { pane in
                pane.instances = entries
                pane.searchServerSeen = pane.isSearchServer
                let present = Set(entries.map(\.instanceKey))
                pane.running = pane.running.filter { present.contains($0.key) }
                pane.follow?.observe(health: entries)
                return pane.followed(context)
            }
        case .feed(.monitor(let instance, let sample)):
            if case .ok(let figures) = sample.outcome, !figures.settings.isEmpty, instances.contains(where: { $0.instanceKey == instance }) {
                running[instance] = figures.settings
            }
            follow?.observe(instance: instance, sample)
            return followed(context)
        case .feed(.kvWritten(let write, let result)):
            return written(write, result, context)
        case .tick:
            changedElsewhere = changedElsewhere.filter { context.now - $0.value < Self.markLifetime }
            return followed(context)
        case .prompt(.submitted(let text)):
            let question = self.question
            self.question = nil
            return question.map { answer($0, text, context) } ?? []
        case .prompt(.cancelled):
            if case .delete(let path, _, _) = question { question = nil; return [.message("kept \(path)", isError: false)] }
            question = nil
        case .prompt(.edited), .feed:
            break
        }
        return []
    }

    /// Runs `body`, then puts the cursor back on the row it was on (rows come and go above it: a key
    /// added elsewhere, the settings listed once the registration says search-server).
    private mutating func keepingSelection(_ body: (inout ConfigPane) -> [Outcome]) -> [Outcome] {
        let path = selectedRow?.path
        let outcomes = body(&self)
        let rows = tree.rows
        if let path, let index = rows.firstIndex(where: { $0.path == path }) { cursor.selected = index }
        cursor.clamp(rows: rows.count)
        return outcomes
    }

    /// A new answer from the watch: what changed that this pane did not write is marked and said.
    private mutating func took(_ new: [KVPair], _ context: PaneContext) -> [Outcome] {
        defer {
            pairs = new
            loaded = true
        }
        guard loaded else { return [] }
        let changes = KVChanges(from: pairs, to: new)
        var elsewhere: [String] = [], gone: [String] = []
        for pair in changes.written {
            if let own = ownWrites.firstIndex(where: { $0.key == pair.key && $0.operation == .put(pair.value) }) {
                ownWrites.remove(at: own)
            } else {
                elsewhere.append(pair.key)
            }
        }
        var deletes = Set<Int>()
        for key in changes.deleted {
            let own = ownWrites.indices.first { i in
                guard case .delete(let recurse) = ownWrites[i].operation else { return false }
                return ownWrites[i].key == key || (recurse && key.hasPrefix(ownWrites[i].key))
            }
            if let own { deletes.insert(own) } else { gone.append(key) }
        }
        ownWrites = ownWrites.enumerated().filter { !deletes.contains($0.offset) }.map(\.element)
        for key in elsewhere { changedElsewhere[key] = context.now }
        let said = elsewhere.map { "changed \($0)" } + gone.map { "deleted \($0)" }
        guard !said.isEmpty else { return [] }
        let text = said.count <= 2 ? said.joined(separator: ", ") : "\(said.count) keys changed"
        return [.message("elsewhere: \(text)", isError: false)]
    }

    private mutating func written(_ write: KVWrite, _ result: KVWriteResult, _ context: PaneContext) -> [Outcome] {
        // A write sent before another service was selected still says what became of it.
        let ours = write == pendingWrite
        let expectation = ours ? self.expectation : nil
        if ours {
            pendingWrite = nil
            self.expectation = nil
        }
        if result != .written { ownWrites.removeAll { $0 == write } }
        switch result {
        case .written:
            guard ours else { return [.message("wrote \(write.key)", isError: false)] }
            conflict = nil
            if let expectation {
                let polled = polledInstances
                if expectation.alreadyInEffect {
                    return [.message("\(expectation.key)=\(expectation.value) was in effect already on \(polled.count) "
                                     + "instance\(polled.count == 1 ? "" : "s"): nothing to apply", isError: false)]
                }
                follow = ChangeFollow(key: expectation.key, expected: expectation.value, live: expectation.live,
                                      since: context.now, instances: polled)
                return followed(context, always: true)
            }
            if case .delete = write.operation { return [.message("deleted \(write.key)", isError: false)] }
            return [.message("wrote \(write.key)", isError: false)]
        case .conflict(let theirs):
            guard ours else { return [.message("not written: \(write.key) had changed meanwhile", isError: true)] }
            var yours: [UInt8]?
            if case .put(let bytes) = write.operation { yours = bytes }
            conflict = Conflict(key: write.key, yours: yours, theirs: theirs)
            let now = theirs.map { "ModifyIndex now \($0.modifyIndex)" } ?? "deleted"
            return [.message("not written: \(write.key) changed since it was shown (\(now)); both values in the pane", isError: true)]
        case .failed(let reason):
            return [.message("not written: \(reason)", isError: true)]
        }
    }

    /// The follow's progress on the message bar; it ends when every instance has the change, or at its patience.
    private mutating func followed(_ context: PaneContext, always: Bool = false) -> [Outcome] {
        guard let follow else { return [] }
        let (text, isError) = follow.summary(context.now)
        if follow.isDone || follow.expectedCount == 0 || follow.hasTimedOut(context.now) {
            self.follow = nil
            return [.message(text, isError: isError)]
        }
        return always ? [.message(text, isError: false)] : []
    }

    // MARK: keys

    var selectedRow: KVTree.Row? { tree.rows[safe: cursor.selected] }

    public mutating func perform(_ command: Command, _ context: PaneContext) -> [Outcome] {
        let rows = tree.rows
        if let move = TableCursor.move(for: command) {
            cursor.move(move, rows: rows.count, visible: max(1, listRect(context.size).height - 1))
            return []
        }
        guard service != nil else { return [.message("select a service first: its configuration is under <service>/", isError: true)] }
        let writes = [.edit, .editExternally, .create, .delete].contains(command)
            || (command == .open && selectedRow.map { !$0.isFolder } == true)
        if writes, let reason = context.readOnly { return [.message("read-only (\(reason)): KV edits are refused; y copies a value", isError: true)] }
        if writes, pendingWrite != nil {
            return [.message("still writing", isError: false)]
        }
        switch command {
        case .open:
            guard let row = selectedRow else { return [] }
            if row.isFolder {
                if collapsed.remove(row.path) == nil { collapsed.insert(row.path) }
                return []
            }
            return edit(row)
        case .close:
            guard let row = selectedRow else { return [] }
            if row.isFolder && !collapsed.contains(row.path) {
                collapsed.insert(row.path)
            } else {
                let parent = tree.parent(of: row.path)
                if let index = rows.firstIndex(where: { $0.path == parent }) { cursor.selected = index }
            }
        case .edit:
            if let conflict {
                // Again, knowingly: against the index the key has now.
                guard let yours = conflict.yours else {
                    guard let theirs = conflict.theirs else {
                        self.conflict = nil
                        return [.message("\(conflict.key) is gone already", isError: false)]
                    }
                    question = .delete(path: conflict.key, cas: theirs.modifyIndex, recurse: false)
                    return [.prompt("delete \(conflict.key) as it is now? y/N ", text: "")]
                }
                question = .edit(key: conflict.key, cas: conflict.theirs?.modifyIndex ?? 0)
                let text = String(decoding: yours, as: UTF8.self)
                // What came from the editor goes back to it: the line editor cannot show a second line.
                if text.contains("\n") { return [.effect(.editInEditor(owner: Self.id, text: text))] }
                return [.prompt("\(conflict.key) = ", text: text)]
            }
            guard let row = selectedRow else { return [.message("no key here: n adds one", isError: true)] }
            guard !row.isFolder else { return [.message("\(row.path) is a folder: n adds a key in it", isError: true)] }
            return edit(row)
        case .editExternally:
            guard let row = selectedRow, !row.isFolder else { return [.message("select a key to edit", isError: true)] }
            let pair = pair(row.path)
            guard case .text(let text) = KVValue(pair?.value ?? []) else {
                return [.message("a binary value: `opsdeck kv put \(row.path) - < FILE` replaces it", isError: true)]
            }
            conflict = nil
            question = .edit(key: row.path, cas: pair?.modifyIndex ?? 0)
            return [.effect(.editInEditor(owner: Self.id, text: text))]
        case .create:
            question = .newKey
            let folder = selectedRow.map { $0.isFolder ? $0.path : tree.parent(of: $0.path) } ?? prefix!
            return [.prompt("new key: \(prefix!)", text: String(folder.dropFirst(prefix!.count)))]
        case .delete:
            guard let row = selectedRow else { return [] }
            if row.isUnset { return [.message("\(row.path) is not set: nothing to delete", isError: true)] }
            if row.isFolder {
                question = .delete(path: row.path, cas: nil, recurse: true)
                return [.prompt("delete \(row.path) and its \(row.keys) key\(row.keys == 1 ? "" : "s")? y/N ", text: "")]
            }
            question = .delete(path: row.path, cas: pair(row.path)?.modifyIndex ?? 0, recurse: false)
            return [.prompt("delete \(row.path)? y/N ", text: "")]
        case .copy:
            guard let row = selectedRow, let pair = pair(row.path) else { return [.message("no value to copy", isError: true)] }
            guard case .text(let text) = KVValue(pair.value) else {
                return [.message("a binary value: `opsdeck kv get \(pair.key) > FILE` saves it", isError: true)]
            }
            return [.effect(.copyToClipboard(text)), .message("copied the value of \(pair.key)", isError: false)]
        case .dismiss:
            guard let conflict else { return [] }
            self.conflict = nil
            return [.message("kept the value of \(conflict.key) as it is now", isError: false)]
        case .up, .down, .pageUp, .pageDown, .top, .bottom:
            break
        }
        return []
    }

    private mutating func edit(_ row: KVTree.Row) -> [Outcome] {
        let pair = pair(row.path)
        switch KVValue(pair?.value ?? []) {
        case .binary:
            return [.message("a binary value: `opsdeck kv put \(row.path) - < FILE` replaces it", isError: true)]
        case .text(let text) where text.contains("\n"):
            return [.message("a multi-line value: E edits it in your $EDITOR", isError: true)]
        case .text(let text):
            question = .edit(key: row.path, cas: pair?.modifyIndex ?? 0)
            return [.prompt("\(row.path) = ", text: text)]
        }
    }

    /// What the operator typed at the prompt, for the question it answers.
    private mutating func answer(_ question: Question, _ text: String, _ context: PaneContext) -> [Outcome] {
        guard let prefix else { return [] }
        switch question {
        case .edit(let key, let cas):
            if let pair = pair(key), pair.modifyIndex == cas, pair.value == Array(text.utf8) {
                return [.message("\(key) unchanged: nothing written", isError: false)]
            }
            return put(key, text, cas: cas)
        case .newKey:
            let name = text.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("//") else {
                return [.message("a key name: letters, digits, _ - . and / between folders (\"\(name)\" is not one)", isError: true)]
            }
            let key = prefix + name
            if pair(key) != nil { return [.message("\(key) exists: e edits it", isError: true)] }
            if key.hasSuffix("/") { return put(key, "", cas: 0) }
            self.question = .newValue(key: key)
            return [.prompt("\(key) = ", text: "")]
        case .newValue(let key):
            return put(key, text, cas: 0)
        case .delete(let path, let cas, let recurse):
            guard ["y", "yes"].contains(text.trimmingCharacters(in: .whitespaces).lowercased()) else {
                return [.message("kept \(path)", isError: false)]
            }
            expectation = setting(for: path).map { setting in
                var kv = settingsKV
                kv[setting.key] = nil
                return expectation(setting, kv: kv)
            }
            return send(KVWrite(key: path, operation: .delete(recurse: recurse), cas: cas, sequence: 0))
        }
    }

    /// Sends a write (numbered: the same write twice is two writes) and remembers it as the pane's own.
    private mutating func send(_ write: KVWrite) -> [Outcome] {
        var write = write
        sequence += 1
        write.sequence = sequence
        pendingWrite = write
        ownWrites.append(write)
        if ownWrites.count > 16 { ownWrites.removeFirst() }  // a change the watch never showed is forgotten
        return [.effect(.writeKV(write))]
    }

    /// A write, after search-server's own rules for its settings (refused here with its reason rather than
    /// by every instance after the fact).
    private mutating func put(_ key: String, _ text: String, cas: UInt64) -> [Outcome] {
        if let setting = setting(for: key) {
            var kv = settingsKV
            if let refusal = ServerSettings.refusal(key: setting.key, value: text, kv: kv) {
                return [.message("not written: \(refusal)", isError: true)]
            }
            kv[setting.key] = text
            expectation = expectation(setting, kv: kv)
        } else {
            expectation = nil
        }
        return send(KVWrite(key: key, operation: .put(Array(text.utf8)), cas: cas, flags: pair(key)?.flags, sequence: 0))
    }

    public mutating func run(_ command: LineCommand, _ context: PaneContext) -> [Outcome] {
        guard let name = command.argument else {
            return context.selection.service == nil
                ? [.focus(Self.id), .message("select a service first (or :config SERVICE)", isError: true)] : [.focus(Self.id)]
        }
        guard context.selection.services.isEmpty || context.selection.services.contains(name) else {
            let hint = LineCommandParser.closest(to: name, in: context.selection.services).map { ": did you mean \($0)?" } ?? ""
            return [.message("no service \(name) in Consul\(hint)", isError: true)]
        }
        return [.selectService(name), .focus(Self.id)]
    }

    /// Where the tree is in the pane's area (the detail takes the rest; see `ConfigView.layout`).
    func listRect(_ size: Size) -> Rect {
        ConfigView.layout(Rect(x: 0, y: 0, width: size.width, height: size.height), following: follow != nil).list
    }

    public mutating func mouse(_ event: MouseEvent, _ context: PaneContext) -> [Outcome] {
        let list = listRect(context.size), rows = tree.rows.count, visible = list.height - 1
        switch event.kind {
        case .wheelUp: cursor.move(.by(-1), rows: rows, visible: visible)
        case .wheelDown: cursor.move(.by(1), rows: rows, visible: visible)
        case .click:
            guard event.x >= list.x && event.x < list.maxX,
                  let row = cursor.row(atY: event.y - list.y, rows: rows, visible: visible) else { return [] }
            cursor.selected = row
        }
        return []
    }

    public func title(_ context: PaneContext) -> String {
        guard let prefix else { return "config" }
        let keys = pairs.filter { !$0.key.hasSuffix("/") }.count
        return "config · \(prefix) · \(keys) key\(keys == 1 ? "" : "s")" + (isSearchServer ? " · search-server settings" : "")
    }

    public func render(into grid: inout Grid, _ rect: Rect, _ context: PaneContext) {
        ConfigView(pane: self, context: context).render(into: &grid, rect)
    }
}
