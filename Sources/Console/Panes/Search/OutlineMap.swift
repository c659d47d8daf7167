import Foundation
import SearchModels
import TUI

/// A braille map of an area's outline, framed on the area (and the query point), the point marked, with a
/// small world locator in a corner saying where on the globe the frame is.
///
/// Braille dots are about square on a terminal (a cell is about twice as tall as wide, and holds 2x4
/// dots), so longitudes are scaled by cos(latitude) and the map keeps the area's shape.
public struct OutlineMap {
    public var outline: Outline
    public var point: GeoPoint?

    public init(outline: Outline, point: GeoPoint? = nil) {
        self.outline = outline
        self.point = point
    }

    /// The marker drawn on the query point's cell.
    public static let marker: Character = "◉"

    public func render(into grid: inout Grid, _ rect: Rect, theme: Theme) {
        guard rect.width >= 4, rect.height >= 2, let frame = frame else { return }
        var canvas = BrailleCanvas(width: rect.width, height: rect.height)
        let project = projection(frame, dots: (canvas.dotWidth, canvas.dotHeight))
        let box = (width: Double(canvas.dotWidth - 1), height: Double(canvas.dotHeight - 1))
        for ring in outline.rings {
            var previous: (x: Double, y: Double)?
            for vertex in ring {
                let point = project(vertex)
                // Only what is on the canvas is drawn: a part far off the frame costs nothing.
                if let start = previous {
                    if let (a, b) = Self.clip(start, point, to: box) {
                        canvas.line(Int(a.x.rounded()), Int(a.y.rounded()), Int(b.x.rounded()), Int(b.y.rounded()))
                    }
                } else if Self.clip(point, point, to: box) != nil {
                    canvas.set(Int(point.x.rounded()), Int(point.y.rounded()))
                }
                previous = point
            }
        }
        canvas.render(into: &grid, at: (rect.x, rect.y), style: theme.series(0))
        if let point {
            let dot = project(point)
            if Self.clip(dot, dot, to: box) != nil {
                _ = grid.put(String(Self.marker), x: rect.x + Int(dot.x.rounded()) / 2, y: rect.y + Int(dot.y.rounded()) / 4,
                             style: theme[.critical], clip: rect)
            }
        }
        if rect.width >= 30 && rect.height >= 8 { drawLocator(into: &grid, rect, frame, theme) }
    }

    /// The rings the frame is built around: the part holding the point (else the largest), and every
    /// part near it (within twice its size), so that France is framed on France and not stretched to
    /// French Guiana, while Indonesia keeps its islands.
    var framedRings: [[GeoPoint]] {
        let rings = outline.rings.filter { !$0.isEmpty }
        func box(_ ring: [GeoPoint]) -> (south: Double, west: Double, north: Double, east: Double) {
            Outline(rings: [ring], sourceVertices: 0).bounds!
        }
        let main = point.flatMap { p in rings.first { Outline(rings: [$0], sourceVertices: 0).contains(p) } }
            ?? rings.max { a, b in
                let (x, y) = (box(a), box(b))
                return (x.north - x.south) * (x.east - x.west) < (y.north - y.south) * (y.east - y.west)
            }
        guard let main else { return [] }
        let m = box(main)
        let reachLat = 2 * max(m.north - m.south, 1), reachLng = 2 * max(m.east - m.west, 1)
        let mainLng = (m.west + m.east) / 2
        return rings.filter { ring in
            let b = box(ring)
            let lat = (b.south + b.north) / 2
            // Longitudes compared around the globe: Chukotka at -175 is next to Russia's 175.
            let apart = abs(remainder((b.west + b.east) / 2 - mainLng, 360))
            return lat >= m.south - reachLat && lat <= m.north + reachLat && apart <= (m.east - m.west) / 2 + reachLng
        }
    }

    /// The region shown: the framed rings' bounds and the point, padded by a twentieth. Across the
    /// antimeridian (a country cut at 180°, such as Russia or Fiji) longitudes are read 0…360 when that
    /// gives the narrower frame.
    var frame: Frame? {
        var points = Array(framedRings.joined())
        if let point { points.append(point) }
        guard !points.isEmpty else { return nil }
        func bounds(_ wrap: Bool) -> Frame {
            var f = Frame(south: 90, west: 540, north: -90, east: -540, wrapsAntimeridian: wrap)
            for p in points {
                let lng = f.longitude(p)
                f.south = min(f.south, p.latitude); f.north = max(f.north, p.latitude)
                f.west = min(f.west, lng); f.east = max(f.east, lng)
            }
            return f
        }
        var frame = [bounds(false), bounds(true)].min { $0.east - $0.west < $1.east - $1.west }!
        let padLat = max((frame.north - frame.south) / 20, 0.01), padLng = max((frame.east - frame.west) / 20, 0.01)
        frame.south = max(-90, frame.south - padLat); frame.north = min(90, frame.north + padLat)
        frame.west -= padLng; frame.east += padLng
        return frame
    }

    struct Frame {
        var south, west, north, east: Double
        var wrapsAntimeridian: Bool
        func longitude(_ p: GeoPoint) -> Double { wrapsAntimeridian && p.longitude < 0 ? p.longitude + 360 : p.longitude }
        var center: GeoPoint {
            let lng = (west + east) / 2
            return GeoPoint(latitude: (south + north) / 2, longitude: lng > 180 ? lng - 360 : lng)
        }
    }

    /// Degrees to dots, the same scale on both axes (after cos(latitude)), centred in the canvas.
    func projection(_ frame: Frame, dots: (width: Int, height: Int)) -> (GeoPoint) -> (x: Double, y: Double) {
        let shrink = max(0.05, cos((frame.south + frame.north) / 2 * .pi / 180))
        let spanX = (frame.east - frame.west) * shrink, spanY = frame.north - frame.south
        let scale = min(Double(dots.width - 1) / max(spanX, 1e-9), Double(dots.height - 1) / max(spanY, 1e-9))
        let offsetX = (Double(dots.width - 1) - spanX * scale) / 2, offsetY = (Double(dots.height - 1) - spanY * scale) / 2
        return { p in
            let x = offsetX + (frame.longitude(p) - frame.west) * shrink * scale
            let y = offsetY + (frame.north - p.latitude) * scale
            return (x, y)
        }
    }

    /// The part of the segment a-b inside [0, width] x [0, height] (Liang-Barsky), nil when none is.
    static func clip(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double),
                     to box: (width: Double, height: Double)) -> ((x: Double, y: Double), (x: Double, y: Double))? {
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return nil }
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        for (p, q) in [(-dx, a.x), (dx, box.width - a.x), (-dy, a.y), (dy, box.height - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let t = q / p
                if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                if t0 > t1 { return nil }
            }
        }
        return ((a.x + t0 * dx, a.y + t0 * dy), (a.x + t1 * dx, a.y + t1 * dy))
    }

    /// A 12x4 box in the bottom-right corner: the globe in equirectangular, the equator and the prime
    /// meridian dotted, the frame's centre as a dot.
    private func drawLocator(into grid: inout Grid, _ rect: Rect, _ frame: Frame, _ theme: Theme) {
        let box = Rect(x: rect.maxX - 12, y: rect.maxY - 4, width: 12, height: 4)
        grid.fill(box, with: " ")
        var canvas = BrailleCanvas(width: box.width, height: box.height)
        let w = canvas.dotWidth, h = canvas.dotHeight
        for x in stride(from: 0, to: w, by: 3) { canvas.set(x, h / 2) }
        for y in stride(from: 0, to: h, by: 3) { canvas.set(w / 2, y) }
        canvas.line(0, 0, w - 1, 0); canvas.line(0, h - 1, w - 1, h - 1)
        canvas.line(0, 0, 0, h - 1); canvas.line(w - 1, 0, w - 1, h - 1)
        canvas.render(into: &grid, at: (box.x, box.y), style: theme[.muted])
        let center = frame.center
        let x = Int(((center.longitude + 180) / 360 * Double(box.width - 1)).rounded())
        let y = Int(((90 - center.latitude) / 180 * Double(box.height - 1)).rounded())
        _ = grid.put("●", x: box.x + x, y: box.y + y, style: theme[.critical], clip: box)
    }
}
