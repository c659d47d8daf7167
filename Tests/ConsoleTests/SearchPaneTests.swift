import Console
import Foundation
import SearchModels
import Testing
import TUI

/// The search pane as the operator drives it: the prompt, the feed that carries one search, the answer.
@Suite(.timeLimit(.minutes(1))) struct SearchPaneTests {
    static let paris = GeoPoint(latitude: 48.8566, longitude: 2.3522)

    /// A rough France: a pentagon around Paris, plus Corsica, plus French Guiana far away.
    static let france = Outline(rings: [
        [.init(latitude: 51, longitude: 2.5), .init(latitude: 49, longitude: 8), .init(latitude: 43.5, longitude: 7.5),
         .init(latitude: 42.5, longitude: -1.5), .init(latitude: 48.5, longitude: -4.7), .init(latitude: 51, longitude: 2.5)],
        [.init(latitude: 43, longitude: 9.4), .init(latitude: 41.4, longitude: 9.2), .init(latitude: 42.4, longitude: 8.6),
         .init(latitude: 43, longitude: 9.4)],
        [.init(latitude: 5.7, longitude: -54), .init(latitude: 2.2, longitude: -52.5), .init(latitude: 4, longitude: -51.6),
         .init(latitude: 5.7, longitude: -54)],
    ], sourceVertices: 74)

    static func answer(page: Int = 1, total: Int = 1, results: [SearchResult]? = nil, retried: Bool = false) -> SearchAnswer {
        SearchAnswer(results: results ?? [SearchResult(id: 44, name: "France", kind: "country", code: "FRA", source: "naturalearth", outline: france)],
                     total: total, page: page, size: 10, instanceID: "search-service-2", address: "127.0.0.1:50052",
                     milliseconds: 1.25, failedAttempts: retried ? [SearchAttempt(address: "127.0.0.1:50051", reason: "unavailable")] : [],
                     discovery: "dns")
    }

    /// The console with a search typed at `:search`, answered or not.
    func searched(_ text: String, answer: Result<SearchAnswer, SearchFailure>? = nil,
                  size: Size = Size(width: 120, height: 30)) -> (ConsoleState, ConsoleReducer, [ConsoleEffect]) {
        var (state, reducer) = Fixture.loaded()
        state.size = size
        let effects = reducer.command(&state, "search \(text)")
        if let answer, let call = state.pane(SearchPane.self)?.pending {
            _ = reducer.reduce(&state, .feed(.search(call, answer)))
        }
        return (state, reducer, effects)
    }

    @Test func theSearchPaneStartsHiddenAndSearchShowsItWithTheFeed() throws {
        let (fresh, _) = Fixture.loaded()
        #expect(!fresh.visible.contains(SearchPane.id))
        let (state, _, effects) = searched("48.8566 2.3522")
        #expect(state.visible.contains(SearchPane.id) && state.focus == SearchPane.id)
        let call = try #require(state.pane(SearchPane.self)?.pending)
        #expect(call.query == SearchQuery(point: Self.paris, withOutline: true))
        #expect(call.service == "search-service")
        #expect(state.subscriptions.contains(.search(call)))
        #expect(effects == [.rememberSearch("48.8566 2.3522")])
        #expect(ConsoleView.render(state, ConsoleReducer()).text.contains("searching…"))
    }

    @Test func theAnswerEndsTheFeedAndFillsTheTable() throws {
        let (state, reducer, _) = searched("48.8566 2.3522", answer: .success(Self.answer(retried: true)))
        #expect(state.pane(SearchPane.self)?.pending == nil)
        #expect(!state.subscriptions.contains { if case .search = $0 { return true } else { return false } })
        let screen = ConsoleView.render(state, reducer).text
        #expect(screen.contains("France") && screen.contains("FRA") && screen.contains("search-service-2"))
        #expect(screen.contains("retried after 127.0.0.1:50051: unavailable"))
        #expect(state.message?.text.contains("retried") == true)
    }

    @Test func aLateAnswerToAnEarlierSearchIsDropped() throws {
        var (state, reducer, _) = searched("paris")
        let first = try #require(state.pane(SearchPane.self)?.pending)
        _ = reducer.command(&state, "search lyon")
        let second = try #require(state.pane(SearchPane.self)?.pending)
        #expect(first != second && !state.subscriptions.contains(.search(first)))
        _ = reducer.reduce(&state, .feed(.search(first, .success(Self.answer()))))
        #expect(state.pane(SearchPane.self)?.answer == nil && state.pane(SearchPane.self)?.pending == second)
    }

    @Test func theServersRefusalIsShownAsItSaidIt() {
        let refusal = SearchFailure(kind: .refused(code: "INVALID_ARGUMENT"), message: "result_per_page must be at most 50, got 80")
        let (state, reducer, _) = searched("paris size 80", answer: .failure(refusal))
        #expect(ConsoleView.render(state, reducer).text.contains("INVALID_ARGUMENT: result_per_page must be at most 50, got 80"))
    }

    @Test func whatCannotBeParsedIsSaidWithTheAcceptedForms() {
        let (state, _, effects) = searched("95 2.35")
        #expect(state.pane(SearchPane.self)?.pending == nil)
        #expect(state.message?.isError == true && state.message?.text.contains("did you mean 2.35 95?") == true)
        #expect(state.message?.text.contains("accepted: LAT LNG") == true)
        #expect(effects == [.rememberSearch("95 2.35")])  // kept in the history, to be corrected
    }

    @Test func pagesAreAskedForAndBoundedByTheTotal() throws {
        var (state, reducer, _) = searched("united", answer: .success(Self.answer(page: 1, total: 25)))
        _ = reducer.keys(&state, [.character("p")])
        #expect(state.message?.text == "this is the first page" && state.pane(SearchPane.self)?.pending == nil)
        _ = reducer.keys(&state, [.character("n")])
        let next = try #require(state.pane(SearchPane.self)?.pending)
        #expect(next.query.page == 2 && next.query.name == "united")
        _ = reducer.reduce(&state, .feed(.search(next, .success(Self.answer(page: 3, total: 25)))))
        _ = reducer.keys(&state, [.character("n")])
        #expect(state.message?.text == "this is the last page")
    }

    @Test func copyPutsTheCommandOnTheClipboardAndOnScreen() {
        var (state, reducer, _) = searched("name:fr near 48.8566,2.3522", answer: .success(Self.answer()))
        let effects = reducer.keys(&state, [.character("y")])
        #expect(effects == [.copyToClipboard("opsdeck search 48.8566 2.3522 --name fr")])
        #expect(state.message?.text == "copied: opsdeck search 48.8566 2.3522 --name fr")
        let grpcurl = reducer.keys(&state, [.character("Y")])
        #expect(grpcurl == [.copyToClipboard(#"grpcurl -plaintext -protoset Protos/search.protoset -d '{"query":"fr","lat":48.8566,"lng":2.3522}' 127.0.0.1:50052 Search/search"#)])
    }

    /// The prompt opens with the pane's history: ↑ recalls, ctrl-r finds the latest entry containing what
    /// is typed (again: an older one); enter sends it.
    @Test func thePromptHasTheHistoryAndCtrlRSearchesIt() throws {
        var (state, reducer) = Fixture.loaded()
        state.preparePane(SearchPane.self) { $0.history = ["48.8566 2.3522", "paris", "united page 2", "lyon"] }
        _ = reducer.keys(&state, [.character("F")])
        guard case .input(let owner, _, _) = state.mode else { Issue.record("no prompt"); return }
        #expect(owner == SearchPane.id && state.focus == SearchPane.id)
        _ = reducer.keys(&state, [.up])
        guard case .input(_, _, let recalled) = state.mode else { return }
        #expect(recalled.string == "lyon")
        _ = reducer.keys(&state, [.ctrl("u")])
        _ = reducer.type(&state, "pa")
        _ = reducer.keys(&state, [.ctrl("r")])
        guard case .input(_, _, let found) = state.mode else { return }
        #expect(found.string == "united page 2")
        #expect(ConsoleView.render(state, reducer).text.contains("search: (history 'pa') united page 2"))
        _ = reducer.keys(&state, [.ctrl("r")])
        guard case .input(_, _, let older) = state.mode else { return }
        #expect(older.string == "paris")
        let effects = reducer.keys(&state, [.enter])
        #expect(effects == [.rememberSearch("paris")])
        #expect(state.pane(SearchPane.self)?.pending?.query.name == "paris")
        #expect(state.pane(SearchPane.self)?.history.last == "paris")
    }

    /// Braille cells on the widest line of a map drawn `width` x `height` (no locator below 30 columns).
    func widestLine(_ map: OutlineMap, width: Int = 28, height: Int = 12) -> (cells: Int, text: String) {
        var grid = Grid(width: width, height: height)
        map.render(into: &grid, grid.bounds, theme: .monochrome)
        let widths = grid.lines().map { line in line.filter { ("\u{2801}"..."\u{28FF}").contains($0) }.count }
        return (widths.max() ?? 0, grid.lines().joined(separator: "\n"))
    }

    @Test func theMapFramesTheAreaHoldingThePointAndMarksIt() {
        let (cells, text) = widestLine(OutlineMap(outline: Self.france, point: Self.paris))
        #expect(text.contains(String(OutlineMap.marker)))
        // Framed on mainland France and Corsica, France spans ~22 of 28 columns; framed with French
        // Guiana, 50° away, it would span ~6.
        #expect(cells >= 14, "\(text)")
        // A map with no room draws nothing rather than garbage.
        var tiny = Grid(width: 3, height: 1)
        OutlineMap(outline: Self.france, point: Self.paris).render(into: &tiny, tiny.bounds, theme: .monochrome)
        #expect(tiny.lines() == [""])  // lines() trims trailing blanks
    }

    /// Two halves of an island cut at 180° (as Natural Earth cuts Russia and Fiji) are framed together.
    @Test func theAntimeridianDoesNotSplitTheFrame() throws {
        func square(_ west: Double, _ east: Double) -> [GeoPoint] {
            [.init(latitude: -20, longitude: west), .init(latitude: -20, longitude: east), .init(latitude: -15, longitude: east),
             .init(latitude: -15, longitude: west), .init(latitude: -20, longitude: west)]
        }
        let fiji = Outline(rings: [square(176, 180), square(-180, -177)], sourceVertices: 10)
        let (_, text) = widestLine(OutlineMap(outline: fiji, point: GeoPoint(latitude: -17, longitude: 178)))
        // Framed on 176°…183° (-177° read as 183°), the point at 178° sits in the left third; framed on the
        // western half alone it would be in the middle, and on both read raw, at the right edge.
        let line = try #require(text.split(separator: "\n").first { $0.contains(OutlineMap.marker) })
        let column = line.distance(from: line.startIndex, to: line.firstIndex(of: OutlineMap.marker)!)
        #expect(column >= 4 && column <= 10, "\(text)")
    }

    /// What a broken server could send: the map draws what it can and never traps.
    @Test func nonsenseCoordinatesDoNotTrap() {
        let bad = Outline(rings: [[.init(latitude: .nan, longitude: 1), .init(latitude: 1e300, longitude: -1e300),
                                   .init(latitude: 0, longitude: 0), .init(latitude: 1, longitude: .infinity)]], sourceVertices: 4)
        _ = widestLine(OutlineMap(outline: bad, point: Self.paris))
        _ = widestLine(OutlineMap(outline: Outline(rings: [[.init(latitude: 5, longitude: 5)]], sourceVertices: 1), point: nil))
    }
}
