import Testing
import TUI

/// Charts as text: what an operator reads, cell by cell.
@Suite(.timeLimit(.minutes(1))) struct TimeChartTests {
    /// Ten-second slots from 10:00:00 UTC on 2026-11-30.
    static let t0: Int64 = 1_796_032_800

    func draw(_ values: [[Double?]], width: Int, height: Int, unit: ValueUnit = .count, cursor: Int64? = nil,
              span: Int64? = nil) -> [String] {
        let count = values.map(\.count).max() ?? 1
        let chart = TimeChart(series: values.map { TimeChart.Series(values: $0, start: Self.t0, step: 10, style: .plain) },
                              from: Self.t0, until: Self.t0 + (span ?? Int64(max(1, count - 1)) * 10), unit: unit, cursor: cursor)
        var grid = Grid(width: width, height: height)
        chart.render(into: &grid, grid.bounds, axisStyle: .plain, cursorStyle: .plain)
        return grid.lines()
    }

    @Test func nullsAreGapsNeverZeros() {
        #expect(draw([[5, 5, nil, nil, 5, 8]], width: 30, height: 5) == [
            "   8                       ⡠⠔⠊",
            "5.33 ⠤⠤⠤⠤⠤⠄             ⠠⠒⠉",
            "",
            "   0",
            "     10:00:00    10:00:25",
        ])
    }

    @Test func negativeValuesSetTheFloor() {
        #expect(draw([[-3, -1, 2, 4]], width: 24, height: 5) == [
            "   4              ⢀⣀⠤⠔⠒⠉",
            "1.67          ⢀⡠⠔⠊⠁",
            "          ⢀⡠⠔⠊⠁",
            "  -3 ⣀⠤⠔⠒⠉⠁",
            "     10:00:00",
        ])
    }

    @Test func aSinglePointIsADotAndAFlatLineHasRoom() {
        #expect(draw([[nil, nil, 7, nil]], width: 24, height: 4) == [
            "  7              ⠁", "3.5", "  0", "    10:00:00    10:00:19",
        ])
        #expect(draw([[3, 3, 3, 3]], width: 24, height: 4, unit: .rate) == [
            "  3/s ⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉⠉", "1.5/s", "  0/s", "      10:00:00",
        ])
    }

    @Test func hugeAndTinyMagnitudesReadable() {
        #expect(draw([[1.5e9, 2.5e9]], width: 24, height: 4).prefix(2) == [" 2.5G   ⢀⣀⣀⣀⣀⠤⠤⠤⠤⠒⠒⠒⠒⠊⠉⠉", "1.25G ⠉⠉⠁"])
        #expect(draw([[0.00012, 0.00034]], width: 24, height: 4, unit: .seconds).prefix(2) == ["340µs          ⣀⣀⡠⠤⠤⠒⠒⠊⠉", "170µs ⣀⡠⠤⠤⠒⠒⠊⠉⠉"])
    }

    /// A slow rate's axis reads in one unit, the one its top calls for: never `4.5m/s` beside `/min`.
    @Test func aSlowRatesAxisIsInOneUnit() {
        let axis = draw([[0, 0.009]], width: 24, height: 4, unit: .rate).prefix(3).map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(axis == ["0.54/min", "0.27/min", "0/min"])
    }

    @Test func noDataIsSaidInWords() {
        #expect(draw([[nil, nil]], width: 30, height: 4) == ["", " no data in this range", "", "10:00:00    10:00:04"])
    }

    @Test func theCursorIsAColumnBehindTheLines() {
        #expect(draw([[1, 2, 3, 2, 1]], width: 30, height: 4, cursor: Self.t0 + 20) == [
            "  3        ⢀⣀⠤⠤⠒⠊⠉⠒⠢⠤⣀⡀",
            "1.5 ⣀⡠⠤⠔⠒⠊⠉⠁     │    ⠈⠉⠑⠒⠢⠤⢄⣀",
            "  0              │",
            "    10:00:00    10:00:19",
        ])
    }

    @Test func anyWidthFromOneColumnToTwoHundred() {
        #expect(draw([[1, 2]], width: 1, height: 4) == ["", "", "", ""])  // too narrow to say anything: nothing drawn
        let wide = draw([[1, 2, 3, 2, 1]], width: 200, height: 3)
        #expect(wide.allSatisfy { $0.count <= 200 } && wide[0].hasPrefix("3 ") && wide[1].hasPrefix("0 "))
        #expect(wide[2].split(separator: " ").count == 16)  // a time every 12 columns
    }

    @Test func longRangesShowTheDate() {
        #expect(draw([[1, 2]], width: 40, height: 3, span: 7 * 86_400)[2] == "  11-30 10:00    12-03 06:06")
        #expect(TimeChart.timeLabel(Self.t0, span: 3600, utcOffset: 3600) == "11:00")
        #expect(TimeChart.timeLabel(Self.t0 - 11 * 3600, span: 3600, utcOffset: 0) == "23:00")
    }

    @Test func valuesWrittenShort() {
        #expect(ValueUnit.count.format(0) == "0")
        #expect(ValueUnit.count.format(1234) == "1.23k")
        #expect(ValueUnit.count.format(-12_345_678) == "-12.3M")
        #expect(ValueUnit.count.format(0.004) == "4m")
        #expect(ValueUnit.rate.format(41.26) == "41.3/s")
        // Slow rates per minute, hour or day: never "1.45m/s", which reads as metres a second.
        #expect(ValueUnit.rate.format(0.01) == "0.01/s" && ValueUnit.rate.format(0) == "0/s")
        #expect(ValueUnit.rate.format(0.00999) == "0.599/min" && ValueUnit.rate.format(-0.005) == "-0.3/min")
        #expect(ValueUnit.rate.format(0.00145) == "0.087/min" && ValueUnit.rate.format(0.0001) == "0.36/h")
        #expect(ValueUnit.rate.format(1e-6) == "0.086/d" && ValueUnit.rate.format(1e-12) == "0/d")
        // Below one, three decimals: two figures of a slow rate (0.01/s was all 0.012/s kept).
        #expect(ValueUnit.rate.format(0.012) == "0.012/s" && ValueUnit.rate.format(0.0567) == "0.057/s")
        #expect(ValueUnit.count.format(0.1234) == "0.123" && ValueUnit.count.format(0.5) == "0.5")
        // Shown together, in the largest's unit: one axis, one unit.
        #expect(ValueUnit.rate.format(0.006, alongside: 0.009) == "0.36/min" && ValueUnit.rate.format(0.009, alongside: 0.009) == "0.54/min")
        #expect(ValueUnit.rate.format(0.004, alongside: 2) == "0/s" && ValueUnit.rate.format(0.05, alongside: 2) == "0.05/s")
        #expect(ValueUnit.rate.format(0.0001, alongside: 0.002) == "0.01/min" && ValueUnit.rate.format(.nan, alongside: .nan) == "NaN/s")
        #expect(ValueUnit.seconds.format(0.0031) == "3.1ms")
        #expect(ValueUnit.seconds.format(0.00004) == "40µs")
        #expect(ValueUnit.seconds.format(2.5) == "2.5s")
        #expect(ValueUnit.count.format(.nan) == "NaN" && ValueUnit.count.format(.infinity) == "∞")
        #expect(ValueUnit.count.format(999.7) == "1k" && ValueUnit.count.format(999.4) == "999")
    }

    @Test func valuesTooFarApartForAnAxisAreNoData() {
        #expect(draw([[-1e308, 1e308]], width: 30, height: 4)[1] == " no data in this range")
    }
}
