import ConsulModels

/// A KV prefix as a tree: folders by `/`, as the config pane lists it.
///
/// Consul has no folders, only keys; a folder here is any shared run of path segments, or a key ending in
/// `/` (the marker `consul kv put a/` makes). Rows come out depth-first, folders before keys, by name.
public struct KVTree: Equatable, Sendable {
    /// One line of the listing.
    public struct Row: Equatable, Sendable {
        /// The full key (a folder's ends in `/`).
        public var path: String
        public var name: String
        public var depth: Int
        public var isFolder: Bool
        /// Keys inside a folder, at any depth.
        public var keys: Int
        /// A setting the service knows but KV does not set (its default applies); listed so it can be set.
        public var isUnset: Bool
    }

    public let prefix: String
    public private(set) var rows: [Row] = []

    /// `pairs` under `prefix` (others are ignored); `unset` are keys (relative to the prefix) to list as not
    /// set when no pair has them; folders in `collapsed` (full paths) hide what is inside.
    public init(prefix: String, pairs: [KVPair], unset: [String] = [], collapsed: Set<String> = []) {
        self.prefix = prefix
        let present = Set(pairs.map(\.key))
        var keys = pairs.map(\.key).filter { $0.hasPrefix(prefix) && $0 != prefix }.map { (path: $0, unset: false) }
        keys += unset.map { prefix + $0 }.filter { !present.contains($0) }.map { (path: $0, unset: true) }
        let root = Node.build(keys.map { (String($0.path.dropFirst(prefix.count)), $0.unset) })
        root.flatten(under: prefix, depth: 0, collapsed: collapsed, into: &rows)
    }

    /// The folder that holds `path` (the prefix itself at the top).
    public func parent(of path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return prefix }
        let folder = String(trimmed[...slash])
        return folder.count > prefix.count ? folder : prefix
    }

    /// A folder or key with what is under it, while building.
    private final class Node {
        var folders: [String: Node] = [:]
        /// Leaf keys: name -> unset.
        var leaves: [String: Bool] = [:]

        static func build(_ relative: [(String, Bool)]) -> Node {
            let root = Node()
            for (path, unset) in relative {
                var node = root
                var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                let isFolderMarker = path.hasSuffix("/")
                if isFolderMarker { segments.removeLast() }
                let leaf = isFolderMarker ? nil : segments.popLast()
                for segment in segments {
                    if let next = node.folders[segment] { node = next } else {
                        let next = Node()
                        node.folders[segment] = next
                        node = next
                    }
                }
                if let leaf { node.leaves[leaf] = unset }
            }
            return root
        }

        var keyCount: Int { leaves.values.filter { !$0 }.count + folders.values.reduce(0) { $0 + $1.keyCount } }

        func flatten(under path: String, depth: Int, collapsed: Set<String>, into rows: inout [Row]) {
            for name in folders.keys.sorted() {
                let folder = folders[name]!, folderPath = path + name + "/"
                rows.append(Row(path: folderPath, name: name + "/", depth: depth, isFolder: true, keys: folder.keyCount, isUnset: false))
                if !collapsed.contains(folderPath) {
                    folder.flatten(under: folderPath, depth: depth + 1, collapsed: collapsed, into: &rows)
                }
            }
            for name in leaves.keys.sorted() {
                rows.append(Row(path: path + name, name: name, depth: depth, isFolder: false, keys: 0, isUnset: leaves[name]!))
            }
        }
    }
}
