/// What differs between two reads of a KV prefix: keys written (created or changed: their ModifyIndex
/// moved) and keys deleted. The console's config pane marks them; `opsdeck kv watch` prints them.
public struct KVChanges: Equatable, Sendable {
    /// In key order.
    public var written: [KVPair]
    public var deleted: [String]

    public init(from old: [KVPair], to new: [KVPair]) {
        let before = Dictionary(old.map { ($0.key, $0.modifyIndex) }, uniquingKeysWith: { a, _ in a })
        let after = Set(new.map(\.key))
        written = new.filter { before[$0.key] != $0.modifyIndex }.sorted { $0.key < $1.key }
        deleted = before.keys.filter { !after.contains($0) }.sorted()
    }

    public var isEmpty: Bool { written.isEmpty && deleted.isEmpty }
}
