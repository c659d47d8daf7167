import Foundation

/// The rings of a GeoJSON Polygon or MultiPolygon (what `ST_AsGeoJSON` gives), as (latitude, longitude).
enum GeoJSONRings {
    struct Shape: Decodable {
        var type: String
        var coordinates: Coordinates
    }

    /// A Polygon's coordinates are rings of [lng, lat]; a MultiPolygon's are polygons of those.
    enum Coordinates: Decodable {
        case polygon([[[Double]]])
        case multiPolygon([[[[Double]]]])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let multi = try? container.decode([[[[Double]]]].self) {
                self = .multiPolygon(multi)
            } else {
                self = .polygon(try container.decode([[[Double]]].self))
            }
        }
    }

    static func parse(_ text: String) throws -> [[GeoPoint]] {
        let shape = try JSONDecoder().decode(Shape.self, from: Data(text.utf8))
        let rings: [[[Double]]]
        switch shape.coordinates {
        case .polygon(let polygon): rings = polygon
        case .multiPolygon(let polygons): rings = polygons.flatMap { $0 }
        }
        return rings.map { ring in
            ring.compactMap { pair in pair.count >= 2 ? GeoPoint(latitude: pair[1], longitude: pair[0]) : nil }
        }
    }
}
