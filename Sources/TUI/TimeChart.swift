/// A line chart over time: braille lines (2x4 dots a cell), a y axis with readable units on the left, the
/// local time below, gaps where a series has no value, and an optional cursor column.
///
///     12/s ⡀      ⢀⡀
///      6/s ⠈⠢⠤⠤⠔⠊⠁⠈⠒⠤⣀⣀⡠⠤⠒⠉
///        0
///          10:30     10:37     10:45
public struct TimeChart: Sendable {
    public struct Series: Sendable {
        /// Values at `start + i * step` seconds; nil is a gap (never drawn as zero).
        public var values: [Double?]
        public var start: Int64
        public var step: Int64
        public var style: Style

        public init(values: [Double?], start: Int64, step: Int64, style: Style) {
            self.values = values
            self.start = start
            self.step = max(1, step)
            self.style = style
        }

        func time(at index: Int) -> Int64 { start + Int64(index) * step }
    }

    public var series: [Series]
    /// The time range shown, in seconds since the epoch.
    public var from: Int64
    public var until: Int64
    public var unit: ValueUnit
    /// Where a vertical cursor stands (seconds), if anywhere.
    public var cursor: Int64?
    /// Added to times before they are written (the local time zone's offset; 0 in tests).
    public var utcOffset: Int64

    public init(series: [Series], from: Int64, until: Int64, unit: ValueUnit, cursor: Int64? = nil, utcOffset: Int64 = 0) {
        self.series = series
        self.from = from
        self.until = max(from + 1, until)
        self.unit = unit
        self.cursor = cursor
        self.utcOffset = utcOffset
    }

    /// The y range: the values' own, from zero when none is negative (rates and counts read from zero);
    /// a flat series gets room around it. Nil when no series has a value in the time range.
    public var yRange: (min: Double, max: Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        for s in series {
            for (i, value) in s.values.enumerated() {
                guard let value, value.isFinite, (from...until).contains(s.time(at: i)) else { continue }
                lo = min(lo, value)
                hi = max(hi, value)
            }
        }
        guard lo <= hi else { return nil }
        if lo >= 0 { lo = 0 }
        if hi == lo { hi = lo == 0 ? 1 : lo + abs(lo) }
        // Values near ±Double.greatestFiniteMagnitude: a span that overflows cannot place a dot.
        guard (hi - lo).isFinite else { return nil }
        return (lo, hi)
    }

    /// Dots across a plot `columns` cells wide: what to ask Graphite for (`maxDataPoints`).
    public static func dots(columns: Int) -> Int { max(1, columns) * 2 }

    public func render(into grid: inout Grid, _ rect: Rect, axisStyle: Style, cursorStyle: Style) {
        guard rect.width >= 4, rect.height >= 2 else { return }
        let (body, timeAxis) = rect.splitBottom(1)
        guard let range = yRange else {
            grid.put("no data in this range", x: body.x + 1, y: body.y + body.height / 2, style: axisStyle, clip: body)
            renderTimeAxis(into: &grid, timeAxis, plotX: body.x, plotWidth: body.width, style: axisStyle)
            return
        }
        // Labels at the top, middle and bottom rows, for the values those rows stand for.
        let rows = [0, (body.height - 1) / 2, body.height - 1]
        let labels = rows.map { row -> String in
            let fraction = body.height == 1 ? 1 : 1 - Double(row) / Double(body.height - 1)
            return unit.format(range.min + fraction * (range.max - range.min), alongside: max(abs(range.min), abs(range.max)))
        }
        let axisWidth = min(max(0, body.width - 2), (labels.map(DisplayWidth.of).max() ?? 0) + 1)
        let (axis, plot) = body.splitLeft(axisWidth)
        for (row, label) in zip(rows, labels) {
            let x = axis.maxX - 1 - DisplayWidth.of(label)
            grid.put(label, x: max(axis.x, x), y: axis.y + row, style: axisStyle, clip: axis)
        }
        guard !plot.isEmpty else { return }
        let span = Double(until - from)
        func dotX(_ t: Int64, _ canvas: BrailleCanvas) -> Int {
            Int((Double(t - from) / span * Double(canvas.dotWidth - 1)).rounded())
        }
        if let cursor, (from...until).contains(cursor) {
            let x = plot.x + Int((Double(cursor - from) / span * Double(plot.width - 1)).rounded())
            for y in plot.y..<plot.maxY { grid.put("│", x: x, y: y, style: cursorStyle) }
        }
        for s in series {
            var canvas = BrailleCanvas(width: plot.width, height: plot.height)
            var previous: (Int, Int)?
            for (i, value) in s.values.enumerated() {
                let t = s.time(at: i)
                guard let value, value.isFinite, (from...until).contains(t) else { previous = nil; continue }
                let fraction = (value - range.min) / (range.max - range.min)
                let point = (dotX(t, canvas), Int(((1 - fraction) * Double(canvas.dotHeight - 1)).rounded()))
                if let (px, py) = previous { canvas.line(px, py, point.0, point.1) } else { canvas.set(point.0, point.1) }
                previous = point
            }
            canvas.render(into: &grid, at: (plot.x, plot.y), style: s.style)
        }
        renderTimeAxis(into: &grid, timeAxis, plotX: plot.x, plotWidth: plot.width, style: axisStyle)
    }

    /// Local times under the plot: at its left edge, then every dozen columns or so, none cut.
    func renderTimeAxis(into grid: inout Grid, _ rect: Rect, plotX: Int, plotWidth: Int, style: Style) {
        let sample = Self.timeLabel(from, span: until - from, utcOffset: utcOffset)
        let gap = DisplayWidth.of(sample) + 4
        guard plotWidth >= DisplayWidth.of(sample) else { return }
        var column = 0
        while column + DisplayWidth.of(sample) <= plotWidth {
            let t = from + Int64((Double(column) / Double(max(1, plotWidth - 1)) * Double(until - from)).rounded())
            grid.put(Self.timeLabel(t, span: until - from, utcOffset: utcOffset), x: plotX + column, y: rect.y, style: style, clip: rect)
            column += gap
        }
    }

    /// `HH:MM:SS` within ten minutes, `HH:MM` within a day, `MM-DD HH:MM` beyond.
    public static func timeLabel(_ t: Int64, span: Int64, utcOffset: Int64) -> String {
        let local = t + utcOffset
        let dayTime = ((local % 86_400) + 86_400) % 86_400
        let clock = pad2(dayTime / 3600) + ":" + pad2(dayTime % 3600 / 60)
        if span < 600 { return clock + ":" + pad2(dayTime % 60) }
        guard span > 86_400 else { return clock }
        let (_, month, day) = civilDate(daysSinceEpoch: (local - dayTime) / 86_400)
        return pad2(month) + "-" + pad2(day) + " " + clock
    }

    static func pad2(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Year, month, day of a day number (Howard Hinnant's days-to-civil), so a pure view needs no calendar.
    static func civilDate(daysSinceEpoch z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// What a chart's values are, for writing them short: `12.3k/s`, `4.1ms`, `1.2M`.
public enum ValueUnit: String, Sendable, CaseIterable {
    /// A plain number (counts, gauges).
    case count
    /// Per second (per minute, hour or day when slower than a hundredth a second).
    case rate
    /// Seconds, written in the unit that fits (µs, ms, s).
    case seconds

    public func format(_ value: Double) -> String { format(value, alongside: value) }

    /// `value` shown with others (an axis, a summary line): rates all in the time unit the largest of them,
    /// `largest`, calls for, so that they read in one unit. Other units as `format(_:)`.
    public func format(_ value: Double, alongside largest: Double) -> String {
        switch self {
        case .count: return Self.si(value)
        case .rate:
            // Never a prefix below one: "1.45m/s" read as metres a second. A value far below the largest
            // is written with two decimals in the largest's unit ("0/s" for 0.004 on an axis up to 2/s).
            let (seconds, suffix) = Self.ratePeriod(for: largest)
            let scaled = value * seconds
            return (scaled != 0 && abs(scaled) < 0.01 ? Self.short(scaled, decimalsBelowOne: 2) : Self.si(scaled)) + suffix
        case .seconds:
            let magnitude = abs(value)
            if magnitude == 0 { return "0" }
            if magnitude < 1e-3 { return Self.short(value * 1e6) + "µs" }
            if magnitude < 1 { return Self.short(value * 1e3) + "ms" }
            return Self.si(value) + "s"
        }
    }

    /// The time unit for rates up to `magnitude` a second: per second down to a hundredth a second, then
    /// the first of per minute and per hour that writes it at a hundredth or more, else per day.
    static func ratePeriod(for magnitude: Double) -> (seconds: Double, suffix: String) {
        let magnitude = abs(magnitude)
        guard magnitude > 0, magnitude < 0.01 else { return (1, "/s") }  // NaN and ∞ too
        if magnitude * 60 >= 0.01 { return (60, "/min") }
        if magnitude * 3_600 >= 0.01 { return (3_600, "/h") }
        return (86_400, "/d")
    }

    /// 3 significant figures at most, with k, M, G, T above a thousand and m, µ below one hundredth.
    static func si(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "-∞") }
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        // 999.7 rounds to 1000: written as the next unit up (1k), as any other thousand is.
        let large: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (scale, suffix) in large where magnitude >= scale * 0.9995 { return short(value / scale) + suffix }
        if magnitude < 1e-5 { return short(value * 1e6) + "µ" }
        if magnitude < 0.01 { return short(value * 1e3) + "m" }
        return short(value)
    }

    /// At most 3 significant figures, no trailing zeros: 123, 12.3, 1.23, 0.123, 0.012 (below one,
    /// `decimalsBelowOne` decimals: 3 keeps two figures of 0.012/s, where 2 wrote 0.01).
    static func short(_ value: Double, decimalsBelowOne: Int = 3) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : decimalsBelowOne
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}
