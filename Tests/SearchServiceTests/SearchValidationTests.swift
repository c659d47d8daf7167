import GRPCCore
import SearchAPI
import SearchService
import Store
import Testing

@Suite(.timeLimit(.minutes(3))) struct SearchValidationTests {
    let limits = PageLimits(defaultSize: 10, maxSize: 100)

    func query(_ build: (inout SearchRequest) -> Void) throws -> AreaQuery {
        var request = SearchRequest()
        build(&request)
        return try SearchValidation.areaQuery(from: request, limits: limits)
    }

    func refusal(_ build: (inout SearchRequest) -> Void) -> RPCError? {
        do { _ = try query(build); return nil } catch { return error as? RPCError }
    }

    @Test func aPointFromTheOriginalClientIsAPointQueryWithDefaultPaging() throws {
        let q = try query { $0.lat = 48.85; $0.lng = 2.35 }
        #expect(q.point == GeoPoint(latitude: Double(Float(48.85)), longitude: Double(Float(2.35))))
        #expect(q.nameContains == nil && q.offset == 0 && q.limit == 10)
    }

    @Test func oneCoordinateOnTheWireStillMeansAPointWithTheOtherAtZero() throws {
        // The original client never sends a zero float, so (0, 5) arrives with only lng on the wire.
        let q = try query { $0.lng = 5 }
        #expect(q.point == GeoPoint(latitude: 0, longitude: 5))
    }

    @Test func pagesAreOneBasedAndZeroMeansTheFirst() throws {
        #expect(try query { $0.query = "fr"; $0.pageNumber = 0 }.offset == 0)
        #expect(try query { $0.query = "fr"; $0.pageNumber = 1 }.offset == 0)
        let third = try query { $0.query = "fr"; $0.pageNumber = 3; $0.resultPerPage = 25 }
        #expect(third.offset == 50 && third.limit == 25)
    }

    @Test func theNameIsTrimmedAndBothConditionsCombine() throws {
        let q = try query { $0.query = "  united "; $0.lat = 40; $0.lng = -100 }
        #expect(q.nameContains == "united" && q.point != nil)
    }

    @Test(arguments: [
        ("lat 91", SearchRequest.with { r in r.lat = 91; r.lng = 0 }, "lat must be between -90 and 90, got 91.0"),
        ("lat -90.5", SearchRequest.with { r in r.lat = -90.5 }, "lat must be between -90 and 90, got -90.5"),
        ("lng 180.5", SearchRequest.with { r in r.lat = 1; r.lng = 180.5 }, "lng must be between -180 and 180, got 180.5"),
        ("lat NaN", SearchRequest.with { r in r.lat = .nan; r.lng = 1 }, "lat is NaN; it must be a number between -90 and 90"),
        ("lng inf", SearchRequest.with { r in r.lat = 1; r.lng = .infinity }, "lng is infinite; it must be between -180 and 180"),
        ("page -1", SearchRequest.with { r in r.query = "x"; r.pageNumber = -1 }, "page_number must be 0 or more (pages are 1-based; 0 means 1), got -1"),
        ("size -1", SearchRequest.with { r in r.query = "x"; r.resultPerPage = -1 }, "result_per_page must be 0 or more (0 means the default of 10), got -1"),
        ("size 101", SearchRequest.with { r in r.query = "x"; r.resultPerPage = 101 }, "result_per_page must be at most 100, got 101"),
        ("nothing", SearchRequest(), "nothing to search for: give a point (lat and lng) and/or a name (query)"),
        ("long name", SearchRequest.with { r in r.query = String(repeating: "a", count: 201) }, "query must be at most 200 characters, got 201"),
        ("NUL in name", SearchRequest.with { r in r.query = "Fr\u{0}ance" }, "query must not contain a NUL character (U+0000)"),
    ] as [(String, SearchRequest, String)])
    func badInputIsInvalidArgumentSayingWhatIsWrong(_ label: String, _ request: SearchRequest, _ message: String) {
        let error = refusal { $0 = request }
        #expect(error?.code == .invalidArgument, "\(label)")
        #expect(error?.message == message, "\(label)")
    }

    @Test func theMaximumFollowsTheLiveLimits() throws {
        let tight = PageLimits(defaultSize: 5, maxSize: 20)
        var request = SearchRequest()
        request.query = "a"
        #expect(try SearchValidation.areaQuery(from: request, limits: tight).limit == 5)
        request.resultPerPage = 21
        #expect(throws: RPCError.self) { try SearchValidation.areaQuery(from: request, limits: tight) }
    }

    @Test func likeWildcardsInANameAreTakenLiterally() {
        #expect(AreaQuery(nameContains: "50%_A\\b").likePattern == "%50\\%\\_a\\\\b%")
    }
}
