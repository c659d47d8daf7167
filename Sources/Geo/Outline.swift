/// An area's shape simplified for drawing: rings of (latitude, longitude) vertices, each closed.
public struct Outline: Sendable, Equatable {
    /// Outer rings and holes as the polygons have them.
    public var rings: [[GeoPoint]]
    /// Vertices of the stored polygon, before simplification.
    public var sourceVertices: Int

    public init(rings: [[GeoPoint]], sourceVertices: Int) {
        self.rings = rings
        self.sourceVertices = sourceVertices
    }

    public var vertexCount: Int { rings.reduce(0) { $0 + $1.count } }

    /// The most vertices an outline has: a 200-column terminal draws 400 braille dots across, and a
    /// thousand vertices are more than such a map can show, yet a small message on the wire.
    public static let maxVertices = 1_000
}

extension Outline {
    /// Is the point inside (even-odd over every ring, so a hole's inside is outside)? Planar in degrees,
    /// which is how PostGIS compares points with polygons in SRID 4326 too.
    public func contains(_ point: GeoPoint) -> Bool {
        var inside = false
        for ring in rings where ring.count >= 3 {
            var j = ring.count - 1
            for i in ring.indices {
                let a = ring[i], b = ring[j]
                if (a.latitude > point.latitude) != (b.latitude > point.latitude) {
                    let crossing = a.longitude + (point.latitude - a.latitude) / (b.latitude - a.latitude) * (b.longitude - a.longitude)
                    if point.longitude < crossing { inside.toggle() }
                }
                j = i
            }
        }
        return inside
    }

    /// The smallest box around every vertex (nil when there is none).
    public var bounds: (south: Double, west: Double, north: Double, east: Double)? {
        let points = rings.joined()
        guard let first = points.first else { return nil }
        var box = (south: first.latitude, west: first.longitude, north: first.latitude, east: first.longitude)
        for p in points {
            box.south = min(box.south, p.latitude); box.north = max(box.north, p.latitude)
            box.west = min(box.west, p.longitude); box.east = max(box.east, p.longitude)
        }
        return box
    }
}
