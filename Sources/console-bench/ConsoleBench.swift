import Console
import ConsulModels
import Foundation
import KafkaModels
import SearchModels
import SearchSettings
import TUI

/// Render and diff cost of the console's frames, without a terminal (scripts/bench-console prints it
/// with the live figures). A 200x60 dashboard of 150 services beside a service of 50 instances with
/// Monitor results, and the instances pane zoomed; then the same at fleet scale (200 services of ten
/// instances, a service of 200 open).
@main
enum ConsoleBench {
    static func main() throws {
        let frames = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 500
        let theme = try Theme.parse(name: "bench", "ok = 77\nwarning = 214\ncritical = 203 bold\nselection = 231 on 25\nstatus = 252 on 236\nmuted = 244\nheader = 250 bold")
        let reducer = ConsoleReducer()

        let screens = [
            ("dashboard (150 services, 50 instances)", 150, 3, 50, false), ("instances zoomed (50)", 150, 3, 50, true),
            ("fleet dashboard (200 services of 10, 200 instances)", 200, 10, 200, false),
            ("fleet instances zoomed (200)", 200, 10, 200, true),
        ]
        for (name, services, perService, open, zoomed) in screens {
            var state = loaded(reducer, theme: theme, services: services, perService: perService, open: open)
            state.zoomed = zoomed
            let clock = ContinuousClock()
            var previous = ConsoleView.render(state, reducer)
            var renderTime = Duration.zero, diffTime = Duration.zero, fullTime = Duration.zero
            var changedCells = 0
            let backend = MemoryBackend(width: 200, height: 60)
            for i in 0..<frames {
                // What a frame usually changes: the ages in the status bar, now and then a selection.
                _ = reducer.reduce(&state, .tick(now: state.now + 1_000))
                if i % 10 == 0 { _ = reducer.reduce(&state, .input(.key(i % 20 == 0 ? .down : .up))) }
                var start = clock.now
                let grid = ConsoleView.render(state, reducer)
                renderTime += clock.now - start
                start = clock.now
                let runs = grid.changes(from: previous)
                diffTime += clock.now - start
                changedCells += runs.reduce(0) { $0 + $1.text.count }
                backend.draw(runs)
                start = clock.now
                _ = grid.changes(from: nil)
                fullTime += clock.now - start
                previous = grid
            }
            func micro(_ d: Duration) -> String {
                String(format: "%8.1f µs", seconds(d) * 1e6 / Double(frames))
            }
            print("\(name), 200x60, \(frames) frames:")
            print("  render (state -> grid)      \(micro(renderTime))")
            print("  diff against previous frame \(micro(diffTime))   cells drawn per frame: \(changedCells / frames) of 12000")
            print("  full redraw runs (no diff)  \(micro(fullTime))   cells drawn per frame: 12000")
            print("  render + diff               \(micro(renderTime + diffTime))  (a 30 fps budget is 33333 µs)")
        }
        checksChange(theme: theme, reducer: reducer)
        logsFlood(frames: frames, theme: theme, reducer: reducer)
        chartRender(frames: frames, theme: theme)
        mapRender(frames: frames, theme: theme)
    }

    /// A check changes among a fleet's: the console decodes Consul's whole answer (2,001 checks, as
    /// devconsul writes them), the reducer takes it in, and the next frame is drawn (the fleet dashboard,
    /// a service of 200 instances open beside the services). Foundation's
    /// `JSONDecoder` is measured beside the pulled decoder the console uses.
    static func checksChange(theme: Theme, reducer: ConsoleReducer, services: Int = 200, perService: Int = 10, rounds: Int = 20) {
        var json = #"[{"CheckID":"serfHealth","CreateIndex":10,"Definition":{},"ExposedPort":0,"Interval":"","ModifyIndex":10,"Name":"Serf Health Status","Node":"vm","Notes":"","Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Status":"passing","Timeout":"","Type":""}"#
        for s in 0..<services {
            for i in 0..<perService {
                let status = i == 2 && s % 7 == 0 ? "critical" : "passing"
                json += #",{"CheckID":"service-\#(s)-\#(i):ttl","CreateIndex":\#(11 + s),"Definition":{},"ExposedPort":0,"Interval":"","ModifyIndex":\#(20 + s),"Name":"gRPC health","Node":"vm","Notes":"","Output":"gRPC check 127.0.0.1:\#(40_000 + s * perService + i)/Search: success","ServiceID":"service-\#(s)-\#(i)","ServiceName":"service-\#(s)","ServiceTags":["grpc"],"Status":"\#(status)","Timeout":"2s","Type":"grpc"}"#
            }
        }
        json += "]"
        let bytes = Array(json.utf8)
        var state = loaded(reducer, theme: theme, services: services, perService: perService, open: 200)
        let clock = ContinuousClock()
        var foundation = Duration.zero, pulled = Duration.zero, reduce = Duration.zero, frame = Duration.zero
        for round in 0..<rounds {
            var start = clock.now
            let viaFoundation = try! JSONDecoder().decode([HealthCheck].self, from: Data(bytes))
            foundation += clock.now - start
            start = clock.now
            var checks = try! HealthCheck.list(fromJSON: bytes)
            pulled += clock.now - start
            precondition(checks == viaFoundation)
            checks[3].status = round.isMultiple(of: 2) ? .critical : .passing  // service-0's third instance flaps
            start = clock.now
            _ = reducer.reduce(&state, .feed(.checks(checks, at: state.now)))
            reduce += clock.now - start
            start = clock.now
            _ = ConsoleView.render(state, reducer)
            frame += clock.now - start
        }
        func milli(_ d: Duration) -> String {
            String(format: "%6.1f ms", seconds(d) * 1e3 / Double(rounds))
        }
        print("a check changes among \(services * perService + 1) (\(bytes.count / 1024) KiB of JSON), \(rounds) rounds:")
        print("  decode with JSONDecoder     \(milli(foundation))")
        print("  decode pulled (the console) \(milli(pulled))")
        print("  reducer takes the checks    \(milli(reduce))")
        print("  next frame rendered         \(milli(frame))")
        print("  answer to frame             \(milli(pulled + reduce + frame))  (goal: within one frame, 33 ms)")
    }

    /// The logs pane zoomed, following a flood: 100,000 lines held, and before each frame a delivery of
    /// 15,000 more (450,000 lines a second at 30 frames a second), from three instances, made into lines
    /// as the tail's task makes them and taken in by the reducer; then the frame.
    static func logsFlood(frames: Int, theme: Theme, reducer: ConsoleReducer) {
        var state = loaded(reducer, theme: theme, services: 10, perService: 3, open: 3)
        state.focus = LogsPane.id
        state.zoomed = true
        guard let query = state.subscriptions.lazy.compactMap({ if case .logs(let q) = $0 { return q } else { return nil } }).first else {
            print("logs flood: no logs feed wanted (the logs pane is not on the dashboard)")
            return
        }
        let perFrame = 15_000
        var names = InstanceNames()
        var offset: Int64 = 0
        func delivery() -> [KafkaRecord] {
            (0..<perFrame).map { _ in
                defer { offset += 1 }
                return KafkaRecord(topic: query.topic, partition: Int32(offset % 3), offset: offset,
                                   timestampMilliseconds: 1_795_788_300_000 + offset / 100, key: Array("\(query.topic)-\(offset % 3)".utf8),
                                   value: Array("search point=(48.8566,2.3522) name=Par results=3 took_ms=1.2 line \(offset)".utf8))
            }
        }
        func lines(_ records: consuming [KafkaRecord]) -> LogBatch { LogBatch(LogChunk.lines(of: consume records, names: &names)) }
        for _ in 0..<(100_000 / perFrame + 1) { _ = reducer.reduce(&state, .feed(.logs(query, lines(delivery()), at: 0))) }
        let clock = ContinuousClock()
        var make = Duration.zero, take = Duration.zero, render = Duration.zero, diff = Duration.zero
        var previous = ConsoleView.render(state, reducer)
        for _ in 0..<frames {
            let records = delivery()
            var start = clock.now
            let batch = lines(records)
            make += clock.now - start
            start = clock.now
            _ = reducer.reduce(&state, .feed(.logs(query, batch, at: 0)))
            take += clock.now - start
            start = clock.now
            let grid = ConsoleView.render(state, reducer)
            render += clock.now - start
            start = clock.now
            _ = grid.changes(from: previous)
            diff += clock.now - start
            previous = grid
        }
        func milli(_ d: Duration) -> String { String(format: "%6.2f ms", seconds(d) * 1e3 / Double(frames)) }
        let buffer = state.pane(LogsPane.self)!.buffer
        print("logs pane zoomed, 200x60, following \(perFrame) lines a frame, \(frames) frames (\(buffer.lines.count) held, "
              + "\(buffer.shownCount) shown: \(buffer.filter.instance.map { "\($0)'s" } ?? "every instance's")):")
        print("  lines made (the tail's task) \(milli(make))")
        print("  reducer takes them (UI)      \(milli(take))")
        print("  render + diff (UI)           \(milli(render + diff))  (goal: at most 16 ms)")
        print("  UI thread per frame          \(milli(take + render + diff))")
    }

    /// The search pane's map: an outline at the vertex bound (1,000 vertices on 40 rings, a coast with
    /// islands) with the query point, in 100x40 cells.
    static func mapRender(frames: Int, theme: Theme) {
        let rings = (0..<40).map { r -> [GeoPoint] in
            let count = r == 0 ? 610 : 10, radius = r == 0 ? 8.0 : 0.3
            let center = r == 0 ? (46.0, 2.0) : (40.0 + Double(r % 8), -8.0 + Double(r / 8) * 4)
            let points = (0..<count).map { i -> GeoPoint in
                let angle = Double(i) / Double(count) * 2 * .pi, wobble = 1 + 0.1 * sin(Double(i) * 0.7)
                return GeoPoint(latitude: center.0 + radius * wobble * sin(angle), longitude: center.1 + radius * wobble * cos(angle))
            }
            return points + [points[0]]
        }
        let map = OutlineMap(outline: Outline(rings: rings, sourceVertices: 100_000), point: GeoPoint(latitude: 48.8566, longitude: 2.3522))
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<frames {
            var grid = Grid(width: 100, height: 40)
            map.render(into: &grid, grid.bounds, theme: theme)
        }
        let elapsed = clock.now - start
        let micro = seconds(elapsed) * 1e6 / Double(frames)
        print(String(format: "search map, 100x40, %d vertices on %d rings: %8.1f µs a render", map.outline.vertexCount, rings.count, micro))
    }

    /// One 200x20 chart of 4 series of 1,000 points each (the issue's goal: at most 1 ms a render).
    static func chartRender(frames: Int, theme: Theme) {
        let start: Int64 = 1_796_032_800
        let series = (0..<4).map { s in
            TimeChart.Series(values: (0..<1_000).map { i in i % 97 == s ? nil : 50 + 40 * sin(Double(i + s * 50) / 30) },
                             start: start, step: 10, style: theme.series(s))
        }
        let chart = TimeChart(series: series, from: start, until: start + 9_990, unit: .rate, cursor: start + 5_000)
        let clock = ContinuousClock()
        let began = clock.now
        for _ in 0..<frames {
            var grid = Grid(width: 200, height: 20)
            chart.render(into: &grid, grid.bounds, axisStyle: theme[.muted], cursorStyle: theme[.cursor])
        }
        let total = clock.now - began
        let micro = seconds(total) * 1e6 / Double(frames)
        print("chart 200x20, 4 series x 1000 points, \(frames) renders:")
        print(String(format: "  render (series -> grid)     %8.1f µs  (goal: at most 1000 µs)", micro))
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func decode<T: Decodable>(_ json: String) -> T { try! JSONDecoder().decode(T.self, from: Data(json.utf8)) }

    /// `services` services (`perService` instances each, every seventh with one critical), service-1's
    /// `open` instances open in the instances pane with Monitor answers, fed through the reducer as the
    /// feeds would.
    static func loaded(_ reducer: ConsoleReducer, theme: Theme, services: Int, perService: Int, open: Int) -> ConsoleState {
        var state = ConsoleState()
        state.theme = theme
        state.size = Size(width: 200, height: 60)
        let now: Int64 = 1_795_788_300_000
        _ = reducer.reduce(&state, .tick(now: now))
        var catalog: [String: [String]] = [:]
        for s in 0..<services { catalog["service-\(s)"] = ["grpc", "v\(s % 4)"] }
        let checks = (0..<services).flatMap { s in
            (0..<perService).map { i -> HealthCheck in
                decode(#"{"Node":"n","CheckID":"c\#(s)-\#(i)","Name":"grpc","Status":"\#(i == 2 && s % 7 == 0 ? "critical" : "passing")","Notes":"","Output":"ok","ServiceID":"service-\#(s)-\#(i)","ServiceName":"service-\#(s)","ServiceTags":[],"Type":"grpc"}"#)
            }
        }
        _ = reducer.reduce(&state, .feed(.services(catalog, at: now)))
        _ = reducer.reduce(&state, .feed(.checks(checks, at: now)))
        _ = reducer.reduce(&state, .input(.key(.down)))  // service-1
        let entries: [ServiceEntry] = (0..<open).map { i in
            decode(#"{"Node":{"ID":"n","Node":"node-\#(i % 5)","Address":"127.0.0.1","Datacenter":"dc1"},"Service":{"ID":"service-1-\#(i)","Service":"service-1","Tags":["grpc"],"Address":"127.0.0.1","Port":\#(40000 + i),"Meta":{"\#(SettingsTable.metaKey)":"\#(SettingsTable.metaValue)"}},"Checks":[{"Node":"n","CheckID":"c","Name":"gRPC health","Status":"passing","Notes":"","Output":"gRPC check: success","ServiceID":"service-1-\#(i)","ServiceName":"service-1","ServiceTags":[],"Type":"grpc"}]}"#)
        }
        _ = reducer.reduce(&state, .feed(.health(service: state.selection.service ?? "", entries, at: now)))
        for entry in entries {
            _ = reducer.reduce(&state, .feed(.monitor(instance: entry.instanceKey, MonitorSample(outcome: .ok(MonitorFigures(
                nThings: 177, uptimeSeconds: 3_600, requests: 12_345, errors: 2, p50Milliseconds: 2.5,
                p99Milliseconds: 11, version: "0.4.0", storeStatus: "ok")), roundTripMilliseconds: 0.6, at: now))))
        }
        for i in 1...30 { _ = reducer.reduce(&state, .tick(now: now + Int64(i) * 1_000)) }
        _ = reducer.reduce(&state, .input(.key(.enter)))  // focus the instances
        return state
    }
}
