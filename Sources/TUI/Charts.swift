/// Braille plotting: each cell holds 2x4 dots (U+2800 + a bit per dot), so a w x h cell area is a
/// 2w x 4h dot canvas.
public struct BrailleCanvas {
    public let width: Int   // cells
    public let height: Int  // cells
    private var bits: [UInt8]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        bits = Array(repeating: 0, count: self.width * self.height)
    }

    public var dotWidth: Int { width * 2 }
    public var dotHeight: Int { height * 4 }

    /// Braille's dot bits by column (left, right) and row: dots 1-2-3-7 and 4-5-6-8.
    private static let masks: (left: [UInt8], right: [UInt8]) = ([0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80])

    /// Dot (x, y), y = 0 at the top.
    public mutating func set(_ x: Int, _ y: Int) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        bits[(y / 4) * width + x / 2] |= (x % 2 == 0 ? Self.masks.left : Self.masks.right)[y % 4]
    }

    /// A straight line of dots (Bresenham).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            set(x, y)
            if x == x1 && y == y1 { return }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public func character(x: Int, y: Int) -> Character? {
        let b = bits[y * width + x]
        return b == 0 ? nil : Character(Unicode.Scalar(0x2800 + UInt32(b))!)
    }

    /// Draws the dots set; empty cells are left as they are (so several canvases can overlay).
    public func render(into grid: inout Grid, at origin: (x: Int, y: Int), style: Style) {
        for y in 0..<height {
            for x in 0..<width where bits[y * width + x] != 0 {
                // Braille is one column wide and never a control: the cell is set directly.
                grid.set(origin.x + x, origin.y + y, Cell(Character(Unicode.Scalar(0x2800 + UInt32(bits[y * width + x]))!), style: style))
            }
        }
    }
}

/// A line chart of one or more series over the same x range, with the y range on the left.
public struct LineChart {
    public struct Series {
        public var values: [Double?]
        public var style: Style
        public init(values: [Double?], style: Style) {
            self.values = values
            self.style = style
        }
    }

    public var series: [Series]
    public init(series: [Series]) { self.series = series }

    /// The y range of all values (nil when there are none); a flat series gets a range of 1.
    public var range: (min: Double, max: Double)? {
        let all = series.flatMap { $0.values.compactMap { $0 } }
        guard let lo = all.min(), let hi = all.max() else { return nil }
        return lo == hi ? (lo - 0.5, hi + 0.5) : (lo, hi)
    }

    public func render(into grid: inout Grid, _ rect: Rect, axisStyle: Style, format: (Double) -> String) {
        guard let range else {
            grid.put("no data", x: rect.x, y: rect.y + rect.height / 2, style: axisStyle, clip: rect)
            return
        }
        let labels = [format(range.max), format(range.min)]
        let axisWidth = min(rect.width / 3, (labels.map { DisplayWidth.of($0) }.max() ?? 0) + 1)
        let (axis, plot) = rect.splitLeft(axisWidth)
        grid.put(labels[0], x: axis.x, y: axis.y, style: axisStyle, clip: axis)
        grid.put(labels[1], x: axis.x, y: axis.maxY - 1, style: axisStyle, clip: axis)
        guard !plot.isEmpty else { return }
        for s in series {
            var canvas = BrailleCanvas(width: plot.width, height: plot.height)
            let n = s.values.count
            var previous: (Int, Int)?
            for (i, value) in s.values.enumerated() {
                guard let value else { previous = nil; continue }
                let x = n <= 1 ? 0 : Int((Double(i) / Double(n - 1) * Double(canvas.dotWidth - 1)).rounded())
                let fraction = (value - range.min) / (range.max - range.min)
                let y = Int(((1 - fraction) * Double(canvas.dotHeight - 1)).rounded())
                if let (px, py) = previous { canvas.line(px, py, x, y) } else { canvas.set(x, y) }
                previous = (x, y)
            }
            canvas.render(into: &grid, at: (plot.x, plot.y), style: s.style)
        }
    }
}

/// One row of block characters, ▁ (lowest) to █ (highest); nil is a gap.
public func sparkline(_ values: [Double?], width: Int? = nil) -> String {
    let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    let shown = width.map { Array(values.suffix($0)) } ?? values
    let present = shown.compactMap { $0 }
    guard let lo = present.min(), let hi = present.max() else { return String(repeating: " ", count: shown.count) }
    return String(shown.map { value -> Character in
        guard let value else { return " " }
        if hi == lo { return blocks[3] }
        return blocks[min(7, Int((value - lo) / (hi - lo) * 7.999))]
    })
}
