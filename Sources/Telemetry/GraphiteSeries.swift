import Foundation

/// One series from Graphite's render API: its target name and its points, oldest first.
public struct GraphiteSeries: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// Seconds since the Unix epoch (start of the slot).
        public var timestamp: Int64
        /// nil where Graphite has no value for the slot.
        public var value: Double?
    }

    public var target: String
    public var points: [Point]

    /// The points that have a value.
    public var values: [Double] { points.compactMap(\.value) }

    /// Decodes `/render?format=json`: `[{"target": "...", "datapoints": [[value|null, ts], ...]}]`.
    public static func decodeRender(_ data: Data) throws -> [GraphiteSeries] {
        try JSONDecoder().decode([RenderEntry].self, from: data).map { entry in
            GraphiteSeries(target: entry.target, points: entry.datapoints.map {
                Point(timestamp: $0.timestamp, value: $0.value)
            })
        }
    }
}

/// A metric path found by `/metrics/find`.
public struct GraphiteMetric: Sendable, Equatable, Decodable {
    public var id: String
    /// true for a series, false for a branch that holds more paths.
    public var isLeaf: Bool
    /// The path as `:metric`'s Tab and `opsdeck metrics --find` offer it: a branch ends in ".", for the next
    /// level to be typed after it.
    public var path: String { isLeaf ? id : id + "." }

    enum CodingKeys: String, CodingKey { case id, leaf }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        isLeaf = try c.decode(Int.self, forKey: .leaf) != 0
    }

    /// Decodes `/metrics/find?format=treejson`.
    public static func decodeFind(_ data: Data) throws -> [GraphiteMetric] {
        try JSONDecoder().decode([GraphiteMetric].self, from: data)
    }
}

private struct RenderEntry: Decodable {
    var target: String
    var datapoints: [RenderPoint]
}

/// `[value, timestamp]`, where value may be null.
private struct RenderPoint: Decodable {
    var value: Double?
    var timestamp: Int64

    init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        value = try c.decodeNil() ? nil : try c.decode(Double.self)
        timestamp = try c.decode(Int64.self)
    }
}
