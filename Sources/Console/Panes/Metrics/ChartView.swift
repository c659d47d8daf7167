import TUI

/// One chart as the metrics pane and `opsdeck metrics --output chart` draw it: a title row, the
/// lines, the time axis, and a legend row per series (last, min, max and mean over the range, or the
/// value at the cursor).
public struct ChartView: Sendable {
    public struct Line: Sendable {
        public var label: String
        public var series: MetricSeries
        public init(label: String, series: MetricSeries) {
            self.label = label
            self.series = series
        }
    }

    public var title: String
    public var unit: ValueUnit
    public var lines: [Line]
    public var from: Int64
    public var until: Int64
    public var cursor: Int64?
    public var utcOffset: Int64
    /// Drawn with a marked title (the chart the pane's keys act on).
    public var selected = false
    /// Said instead of "no data" (a failure to read it, say).
    public var note: String?

    public init(title: String, unit: ValueUnit, lines: [Line], from: Int64, until: Int64, cursor: Int64? = nil,
                utcOffset: Int64 = 0) {
        self.title = title
        self.unit = unit
        self.lines = lines
        self.from = from
        self.until = until
        self.cursor = cursor
        self.utcOffset = utcOffset
    }

    /// Legend rows shown in `height` rows: what the chart leaves (at least 3 rows of lines and the axis).
    static func legendRows(_ count: Int, height: Int) -> Int { max(0, min(count, height - 5)) }

    public func render(into grid: inout Grid, _ rect: Rect, theme: Theme) {
        guard rect.height >= 2, rect.width >= 8 else { return }
        let (titleRow, rest) = rect.splitTop(1)
        var title = [Span((selected ? "▸ " : "  ") + title, selected ? theme[.title] : theme[.header])]
        if let cursor { title.append(Span("  at " + TimeChart.timeLabel(cursor, span: 0, utcOffset: utcOffset), theme[.accent])) }
        grid.put(title, x: titleRow.x, y: titleRow.y, clip: titleRow)
        let legendCount = Self.legendRows(lines.count, height: rest.height)
        let (plot, legend) = rest.splitBottom(legendCount)
        let chart = TimeChart(series: lines.enumerated().map { i, line in
            TimeChart.Series(values: line.series.values, start: line.series.start, step: line.series.step, style: theme.series(i))
        }, from: from, until: until, unit: unit, cursor: cursor, utcOffset: utcOffset)
        let range = chart.yRange
        if let note, range == nil {
            grid.put(note, x: plot.x + 1, y: plot.y + plot.height / 2, style: theme[.muted], clip: plot)
        } else {
            chart.render(into: &grid, plot, axisStyle: theme[.muted], cursorStyle: theme[.cursor])
        }
        // The legend's figures in the axis's unit: the largest of every line, as the axis is drawn.
        let largest = range.map { max(abs($0.min), abs($0.max)) }
        for (row, (i, line)) in lines.enumerated().prefix(legendCount).enumerated() {
            let y = legend.y + row
            let clip = Rect(x: legend.x, y: y, width: legend.width, height: 1)
            var text = Self.summary(line.series, unit: unit, from: from, until: until, cursor: cursor, alongside: largest)
            if row == legendCount - 1 && lines.count > legendCount { text += "  (+\(lines.count - legendCount) more)" }
            // The figures matter more than the whole of a long label: the label gives way in its middle
            // (series of one chart differ at their ends: `…_requests`, `…_monitor_requests`).
            let room = max(8, legend.width - 6 - DisplayWidth.of(text))
            let label = DisplayWidth.of(line.label) <= room ? line.label
                : String(line.label.prefix(room / 2 - 1)) + "…" + String(line.label.suffix(room - room / 2))
            grid.put([Span("● ", theme.series(i)), Span(label + "  ", theme.series(i)), Span(text, theme[.text])],
                     x: legend.x + 2, y: y, clip: clip)
        }
    }

    /// `collectd.host.statsd.derive-search_requests` → `derive-search_requests`: what tells series apart.
    public static func shortLabel(_ target: String) -> String {
        let parts = target.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 3, parts[0] == "collectd", parts[2] == "statsd" { return parts[3...].joined(separator: ".") }
        return target
    }

    /// A series over the range in words: `last 12/s  min 0/s  max 45/s  mean 10/s`, or `at 10:41:00 12/s`
    /// with a cursor; `no data in this range`, `flat at 3/s`.
    /// Rates are written in the unit `largest` calls for (the chart's largest value, so that the legend
    /// reads as its axis does), else the series' own largest.
    public static func summary(_ series: MetricSeries, unit: ValueUnit, from: Int64, until: Int64, cursor: Int64? = nil,
                               alongside largest: Double? = nil) -> String {
        let points = series.values.indices.compactMap { i -> (Int64, Double)? in
            let t = series.time(at: i)
            guard let v = series.values[i], v.isFinite, (from...until).contains(t) else { return nil }
            return (t, v)
        }
        guard let last = points.last else { return "no data in this range" }
        let values = points.map(\.1)
        let lo = values.min()!, hi = values.max()!
        // Every figure in one unit.
        func format(_ value: Double) -> String { unit.format(value, alongside: largest ?? max(abs(lo), abs(hi))) }
        if let cursor {
            // The slot that holds the cursor's time.
            let at = points.last { $0.0 <= cursor && cursor < $0.0 + series.step }
            return at.map { "at cursor " + format($0.1) } ?? "no value at the cursor"
        }
        if lo == hi { return "flat at \(format(lo))" }
        let mean = values.reduce(0, +) / Double(values.count)
        return "last \(format(last.1))  min \(format(lo))  max \(format(hi))  mean \(format(mean))"
    }
}
