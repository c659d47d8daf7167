import Console
import Consul
import Foundation
import TUI

/// Render and diff cost of the console's frames, without a terminal (scripts/bench-console prints it
/// with the live figures). A 200x60 frame of 150 services, and one of 50 instances with Monitor results.
@main
enum ConsoleBench {
    static func main() throws {
        let frames = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 500
        let theme = try Theme.parse(name: "bench", "ok = 77\nwarning = 214\ncritical = 203 bold\nselection = 231 on 25\nstatus = 252 on 236\nmuted = 244\nheader = 250 bold")
        let keymap = ConsoleKeys.defaults

        for (name, state) in [("services (150)", servicesState()), ("instances (50)", instancesState())] {
            var ticking = state
            let clock = ContinuousClock()
            var previous = ConsoleView.render(state, theme: theme, keymap: keymap)
            var renderTime = Duration.zero, diffTime = Duration.zero, fullTime = Duration.zero
            var changedCells = 0
            let backend = MemoryBackend(width: 200, height: 60)
            for i in 0..<frames {
                ticking.now += 1_000  // what a frame usually changes: the ages in the status bar
                if i % 10 == 0 { ticking.selectedService = i / 10 % 100; ticking.selectedInstance = i / 10 % 40 }
                var start = clock.now
                let grid = ConsoleView.render(ticking, theme: theme, keymap: keymap)
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
                String(format: "%8.1f µs", (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(frames))
            }
            print("\(name), 200x60, \(frames) frames:")
            print("  render (state -> grid)      \(micro(renderTime))")
            print("  diff against previous frame \(micro(diffTime))   cells drawn per frame: \(changedCells / frames) of 12000")
            print("  full redraw runs (no diff)  \(micro(fullTime))   cells drawn per frame: 12000")
            print("  render + diff               \(micro(renderTime + diffTime))  (a 30 fps budget is 33333 µs)")
        }
    }

    static func decode<T: Decodable>(_ json: String) -> T { try! JSONDecoder().decode(T.self, from: Data(json.utf8)) }

    static func servicesState() -> ConsoleState {
        var state = ConsoleState()
        state.size = .init(width: 200, height: 60)
        state.now = 1_795_788_300_000
        for s in 0..<150 { state.services["service-\(s)"] = ["grpc", "v\(s % 4)"] }
        state.checks = (0..<150).flatMap { s in
            (0..<3).map { i -> HealthCheck in
                decode(#"{"Node":"n","CheckID":"c\#(s)-\#(i)","Name":"grpc","Status":"\#(i == 2 && s % 7 == 0 ? "critical" : "passing")","Notes":"","Output":"ok","ServiceID":"service-\#(s)-\#(i)","ServiceName":"service-\#(s)","ServiceTags":[],"Type":"grpc"}"#)
            }
        }
        state.effects = [.catalog: EffectStatus(phase: .live, lastUpdate: state.now), .checks: EffectStatus(phase: .live, lastUpdate: state.now)]
        return state
    }

    static func instancesState() -> ConsoleState {
        var state = servicesState()
        state.screen = .instances(service: "service-1")
        state.instances = (0..<50).map { i in
            decode(#"{"Node":{"ID":"n","Node":"node-\#(i % 5)","Address":"127.0.0.1","Datacenter":"dc1"},"Service":{"ID":"service-1-\#(i)","Service":"service-1","Tags":[],"Address":"127.0.0.1","Port":\#(40000 + i),"Meta":{}},"Checks":[{"Node":"n","CheckID":"c","Name":"gRPC health","Status":"passing","Notes":"","Output":"gRPC check: success","ServiceID":"service-1-\#(i)","ServiceName":"service-1","ServiceTags":[],"Type":"grpc"}]}"#)
        }
        for entry in state.instances {
            state.healthHistory[entry.service.id] = Array(repeating: .passing, count: 30)
            state.monitor[entry.service.id] = MonitorSample(outcome: .ok(MonitorFigures(
                nThings: 177, uptimeSeconds: 3_600, requests: 12_345, errors: 2, p50Milliseconds: 2.5,
                p99Milliseconds: 11, version: "0.4.0", storeStatus: "ok")), roundTripMilliseconds: 0.6, at: state.now)
        }
        state.effects[.instances] = EffectStatus(phase: .live, lastUpdate: state.now)
        state.effects[.monitor] = EffectStatus(phase: .live, lastUpdate: state.now)
        return state
    }
}
