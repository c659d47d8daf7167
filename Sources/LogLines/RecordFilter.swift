/// stern-style selection: `--exclude` drops lines, `--include` picks the matches, and `--around N`
/// adds up to N neighbouring lines on each side of every match, with a gap marker between groups that
/// are not adjacent (like `grep -C`). Excluded lines are never shown, not even as context.
public struct RecordFilter {
    public enum Output<Item> {
        case match(Item)
        case context(Item)
        /// Lines were skipped between the previous group and the next.
        case gap
    }

    private let include: [Regex<AnyRegexOutput>]
    private let exclude: [Regex<AnyRegexOutput>]
    private let context: Int

    /// Compiles the patterns; a bad one throws with the pattern in the message.
    public init(include: [String] = [], exclude: [String] = [], context: Int = 0) throws {
        self.include = try include.map { try Self.compile($0, flag: "--include") }
        self.exclude = try exclude.map { try Self.compile($0, flag: "--exclude") }
        self.context = max(0, context)
    }

    public var isPassThrough: Bool { include.isEmpty && exclude.isEmpty }

    static func compile(_ pattern: String, flag: String) throws -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch {
            throw TailArgumentError("\(flag) \(pattern): not a valid regular expression (\(error))")
        }
    }

    /// Whether a line is shown at all, and whether it is a match.
    public func classify(_ text: String) -> (excluded: Bool, matches: Bool) {
        if exclude.contains(where: { text.contains($0) }) { return (true, false) }
        return (false, include.isEmpty || include.contains { text.contains($0) })
    }

    /// The streaming state of `--context`: lines held back in case a match follows.
    public struct Window<Item> {
        let size: Int
        var before: [Item] = []
        var afterLeft = 0
        var skipped = false
        var emittedAny = false

        public init(size: Int) { self.size = size }

        /// Feeds one shown (not excluded) line.
        public mutating func feed(_ item: Item, matches: Bool, _ emit: (Output<Item>) -> Void) {
            if matches {
                if skipped && emittedAny && size > 0 { emit(.gap) }
                for held in before { emit(.context(held)) }
                before.removeAll(keepingCapacity: true)
                emit(.match(item))
                skipped = false
                emittedAny = true
                afterLeft = size
            } else if afterLeft > 0 {
                afterLeft -= 1
                emit(.context(item))
            } else if size > 0 {
                before.append(item)
                if before.count > size {
                    before.removeFirst()
                    skipped = true
                }
            }
        }
    }

    public func makeWindow<Item>(of _: Item.Type = Item.self) -> Window<Item> { Window(size: context) }
}

// Compiled regexes are immutable values once built: sharing a filter between threads is safe even though
// `Regex<AnyRegexOutput>` is not declared Sendable.
extension RecordFilter: @unchecked Sendable {}
