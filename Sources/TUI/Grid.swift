/// One terminal cell: a grapheme and its style. A wide grapheme takes two cells; the second holds
/// `width == 0` and is skipped when drawing.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var width: UInt8
    public var style: Style

    public init(_ character: Character = " ", width: UInt8 = 1, style: Style = .plain) {
        self.character = character
        self.width = width
        self.style = style
    }

    static let continuation = Cell("\u{0}", width: 0)
}

/// A styled piece of text.
public struct Span: Hashable, Sendable {
    public var text: String
    public var style: Style
    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// The frame views render into: a width x height array of cells. Pure data; ncurses never sees it
/// except through `changes(from:)`.
public struct Grid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
    }

    /// Sets one cell, keeping wide characters whole: a half that is overwritten clears its partner.
    mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        if cells[i].width == 0, x > 0 { cells[i - 1] = Cell(" ", style: cells[i - 1].style) }
        if cells[i].width == 2, x + 1 < width { cells[i + 1] = Cell(" ", style: cells[i].style) }
        cells[i] = cell
    }

    /// Writes text from (x, y), clipped to `clip` (default: the row to the grid's edge). Returns the
    /// columns used. A wide character that does not fit whole becomes a space. Characters of width 0
    /// are dropped, and with them every control character (ESC, CR, C1, bidi overrides): whatever text
    /// reaches a grid, from a remote service or not, cannot send a sequence to the terminal.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let area = clip ?? Rect(x: 0, y: y, width: width, height: 1)
        guard y >= area.y, y < area.maxY, y >= 0, y < height else { return 0 }
        let limit = min(area.maxX, width)
        var column = max(x, area.x)
        if x < area.x { return 0 }
        for character in text {
            let w = DisplayWidth.of(character)
            if w == 0 { continue }
            if column + w > limit {
                if column < limit { set(column, y, Cell(" ", style: style)) ; column += 1 }
                break
            }
            set(column, y, Cell(character, width: UInt8(w), style: style))
            if w == 2 {
                let i = y * width + column + 1
                if cells[i].width == 2, column + 2 < width { cells[i + 1] = Cell(" ", style: cells[i].style) }
                cells[i] = Cell.continuation.with(style)
            }
            column += w
        }
        return column - x
    }

    /// Writes spans one after another; returns the columns used.
    @discardableResult
    public mutating func put(_ spans: [Span], x: Int, y: Int, clip: Rect? = nil) -> Int {
        var column = x
        for span in spans { column += put(span.text, x: column, y: y, style: span.style, clip: clip) }
        return column - x
    }

    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = .plain) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { set(x, y, Cell(character, style: style)) }
        }
    }

    /// A box around `rect` with an optional title in the top edge; `heavy` lines mark the focused one
    /// (visible without colour, and in a text snapshot).
    public mutating func box(_ rect: Rect, title: String? = nil, style: Style = .plain, titleStyle: Style? = nil,
                             heavy: Bool = false) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let (h, v, tl, tr, bl, br): (Character, Character, Character, Character, Character, Character) =
            heavy ? ("━", "┃", "┏", "┓", "┗", "┛") : ("─", "│", "┌", "┐", "└", "┘")
        for x in rect.x + 1..<rect.maxX - 1 {
            set(x, rect.y, Cell(h, style: style))
            set(x, rect.maxY - 1, Cell(h, style: style))
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            set(rect.x, y, Cell(v, style: style))
            set(rect.maxX - 1, y, Cell(v, style: style))
        }
        set(rect.x, rect.y, Cell(tl, style: style))
        set(rect.maxX - 1, rect.y, Cell(tr, style: style))
        set(rect.x, rect.maxY - 1, Cell(bl, style: style))
        set(rect.maxX - 1, rect.maxY - 1, Cell(br, style: style))
        if let title, rect.width > 4 {
            put(" \(title) ", x: rect.x + 1, y: rect.y, style: titleStyle ?? style,
                clip: Rect(x: rect.x + 1, y: rect.y, width: rect.width - 2, height: 1))
        }
    }

    /// The text of each row (wide characters once, trailing spaces dropped): what snapshots compare.
    public func lines() -> [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width where self[x, y].width != 0 { line.append(self[x, y].character) }
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    public var text: String { lines().joined(separator: "\n") }
}

extension Cell {
    func with(_ style: Style) -> Cell {
        var copy = self
        copy.style = style
        return copy
    }
}

/// A run of changed cells on one row, all in one style: one move + one styled write for a backend.
public struct CellRun: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var text: String
    public var style: Style

    public init(x: Int, y: Int, text: String, style: Style) {
        self.x = x
        self.y = y
        self.text = text
        self.style = style
    }
}

extension Grid {
    /// What must be drawn to turn `previous` into this frame: every row when there is no previous frame
    /// or the size changed, otherwise only the changed cells, grouped into runs.
    public func changes(from previous: Grid?) -> [CellRun] {
        let full = previous == nil || previous!.width != width || previous!.height != height
        var runs: [CellRun] = []
        for y in 0..<height {
            var x = 0
            while x < width {
                let i = y * width + x
                guard full || cells[i] != previous!.cells[i] else { x += 1; continue }
                // A run starts here; extend it over changed cells of the same style.
                let style = cells[i].style
                var text = ""
                let start = x
                while x < width {
                    let j = y * width + x
                    let cell = cells[j]
                    if cell.width == 0 { x += 1; continue }  // the right half of a wide character
                    guard cell.style == style, full || cell != previous!.cells[j]
                            || (cell.width == 2 && x + 1 < width && cells[j + 1] != previous!.cells[j + 1]) else { break }
                    text.append(cell.character)
                    x += Int(cell.width)
                }
                if text.isEmpty { x = start + 1; continue }
                runs.append(CellRun(x: start, y: y, text: text, style: style))
            }
        }
        return runs
    }
}
