/// A named polygon from the demo data sets (a country, or a state/province).
public struct Area: Sendable, Equatable, Hashable {
    public var id: Int64
    public var name: String
    /// "country" or "state".
    public var kind: String
    /// ISO 3166 alpha-3 (Natural Earth) or DCW tag such as "FR" or "USTX"; nil when the set has none.
    public var code: String?

    public init(id: Int64, name: String, kind: String, code: String?) {
        self.id = id
        self.name = name
        self.kind = kind
        self.code = code
    }
}
