@_exported import Geo

/// A named polygon from the demo data sets (a country, or a state/province).
public struct Area: Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String
    /// "country" or "state".
    public var kind: String
    /// ISO 3166 alpha-3 (Natural Earth) or DCW tag such as "FR" or "USTX"; nil when the set has none.
    public var code: String?
    /// The data set the area came from: "naturalearth" or "dcw".
    public var source: String

    public init(id: Int64, name: String, kind: String, code: String?, source: String = "") {
        self.id = id
        self.name = name
        self.kind = kind
        self.code = code
        self.source = source
    }
}

/// What to look for: areas containing a point, areas whose name contains a text, or both (AND).
public struct AreaQuery: Sendable, Equatable {
    public var point: GeoPoint?
    /// Case-insensitive substring of the name.
    public var nameContains: String?
    public var offset: Int
    public var limit: Int

    public init(point: GeoPoint? = nil, nameContains: String? = nil, offset: Int = 0, limit: Int = 10) {
        self.point = point
        self.nameContains = nameContains
        self.offset = offset
        self.limit = limit
    }
}

/// One page of matches and how many there are over all pages.
public struct AreaPage: Sendable, Equatable {
    public var areas: [Area]
    public var total: Int

    public init(areas: [Area], total: Int) {
        self.areas = areas
        self.total = total
    }
}

extension AreaQuery {
    /// The LIKE pattern for `nameContains`: lower-cased, with LIKE's wildcards taken literally.
    public var likePattern: String? {
        guard let text = nameContains else { return nil }
        var escaped = ""
        for character in text.lowercased() {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%\(escaped)%"
    }
}

