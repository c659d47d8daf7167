import Foundation
import GRPCCore
import SearchAPI
import SearchSettings
import Store

/// Turns a wire `SearchRequest` into a store query, or says exactly what is wrong with it.
public enum SearchValidation {
    /// Longest name text accepted; longer can match nothing useful and only costs the store.
    public static let maxQueryLength = 200

    /// - Throws: `RPCError` with `.invalidArgument` and a message naming the field and the rule.
    public static func areaQuery(from request: SearchRequest, limits: PageLimits) throws(RPCError) -> AreaQuery {
        guard request.pageNumber >= 0 else {
            throw invalid("page_number must be 0 or more (pages are 1-based; 0 means 1), got \(request.pageNumber)")
        }
        guard request.resultPerPage >= 0 else {
            throw invalid("result_per_page must be 0 or more (0 means the default of \(limits.defaultSize)), got \(request.resultPerPage)")
        }
        guard Int(request.resultPerPage) <= limits.maxSize else {
            throw invalid("result_per_page must be at most \(limits.maxSize), got \(request.resultPerPage)")
        }
        let pageSize = request.resultPerPage == 0 ? limits.defaultSize : Int(request.resultPerPage)
        let page = max(1, Int(request.pageNumber))

        var point: GeoPoint?
        // Proto3 `optional`: either coordinate on the wire asks for a point (the other one is then 0).
        if request.hasLat || request.hasLng {
            let latitude = Double(request.lat), longitude = Double(request.lng)
            try checkCoordinate("lat", latitude, limit: 90)
            try checkCoordinate("lng", longitude, limit: 180)
            point = GeoPoint(latitude: latitude, longitude: longitude)
        }

        let text = request.query.trimmingCharacters(in: .whitespaces)
        guard text.count <= maxQueryLength else {
            throw invalid("query must be at most \(maxQueryLength) characters, got \(text.count)")
        }
        // PostgreSQL's text cannot hold it: refused here as the caller's mistake, not left to fail in the store.
        guard !text.unicodeScalars.contains("\u{0}") else { throw invalid("query must not contain a NUL character (U+0000)") }
        guard point != nil || !text.isEmpty else {
            throw invalid("nothing to search for: give a point (lat and lng) and/or a name (query)")
        }
        return AreaQuery(point: point, nameContains: text.isEmpty ? nil : text,
                         offset: (page - 1) * pageSize, limit: pageSize)
    }

    private static func checkCoordinate(_ field: String, _ value: Double, limit: Double) throws(RPCError) {
        guard !value.isNaN else { throw invalid("\(field) is NaN; it must be a number between -\(Int(limit)) and \(Int(limit))") }
        guard value.isFinite else { throw invalid("\(field) is infinite; it must be between -\(Int(limit)) and \(Int(limit))") }
        guard abs(value) <= limit else { throw invalid("\(field) must be between -\(Int(limit)) and \(Int(limit)), got \(value)") }
    }

    private static func invalid(_ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: message)
    }
}
