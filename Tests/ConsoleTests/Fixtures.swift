import Console
import ConsulModels
import Foundation
import SearchSettings
import TUI

/// Consul answers as the HTTP API gives them, decoded by the real client's models.
enum Fixture {
    static func check(_ service: String, _ id: String, _ status: String, name: String = "gRPC health",
                      output: String = "ok") -> HealthCheck {
        decode(#"{"Node":"node-1","CheckID":"service:\#(id)","Name":"\#(name)","Status":"\#(status)","Notes":"","Output":\#(json(output)),"ServiceID":"\#(id)","ServiceName":"\#(service)","ServiceTags":[],"Type":"grpc"}"#)
    }

    static func entry(_ service: String, _ id: String, port: Int, status: String, output: String = "ok",
                      meta: [String: String] = [:]) -> ServiceEntry {
        let meta = String(decoding: try! JSONSerialization.data(withJSONObject: meta), as: UTF8.self)
        return decode(#"""
            {"Node":{"ID":"n1","Node":"node-1","Address":"127.0.0.1","Datacenter":"dc1"},
             "Service":{"ID":"\#(id)","Service":"\#(service)","Tags":["grpc"],"Address":"127.0.0.1","Port":\#(port),"Meta":\#(meta)},
             "Checks":[{"Node":"node-1","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"","Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":""},
                       {"Node":"node-1","CheckID":"service:\#(id)","Name":"gRPC health","Status":"\#(status)","Notes":"","Output":\#(json(output)),"ServiceID":"\#(id)","ServiceName":"\#(service)","ServiceTags":[],"Type":"grpc"}]}
            """#)
    }

    static func figures(n: Int = 177, requests: Int64 = 1_234, errors: Int64 = 0) -> MonitorFigures {
        MonitorFigures(nThings: n, uptimeSeconds: 3_725, requests: requests, errors: errors, p50Milliseconds: 2.4,
                       p99Milliseconds: 11.5, version: "0.4.0", storeStatus: "ok")
    }

    static func json(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }

    static func decode<T: Decodable>(_ text: String) -> T {
        try! JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static let t0: Int64 = 1_795_788_300_000

    /// A console that has seen three services and their checks.
    static func loaded(registry: PaneRegistry = .standard) -> (ConsoleState, ConsoleReducer) {
        let reducer = ConsoleReducer(registry: registry)
        var state = ConsoleState(registry: registry)
        state.size = Size(width: 100, height: 16)
        _ = reducer.reduce(&state, .tick(now: t0))
        _ = reducer.reduce(&state, .feed(.services(["search-service": ["grpc"], "consul": [], "billing": ["v2", "http"]], at: t0)))
        _ = reducer.reduce(&state, .feed(.checks([
            check("search-service", "search-service-1", "passing"), check("search-service", "search-service-2", "passing"),
            check("search-service", "search-service-3", "critical", output: "connection refused"),
            check("billing", "billing-1", "warning"), check("billing", "billing-1", "passing", name: "http"),
        ], at: t0)))
        return (state, reducer)
    }

    /// Three instances of search-service as the health feed reports them, registered as search-server
    /// registers them (its settings table in the meta).
    static let searchInstances = [
        entry("search-service", "search-service-1", port: 40001, status: "passing", meta: searchServerMeta),
        entry("search-service", "search-service-2", port: 40002, status: "passing", meta: searchServerMeta),
        entry("search-service", "search-service-3", port: 40003, status: "critical",
              output: "gRPC check 127.0.0.1:40003/Search: connection refused", meta: searchServerMeta),
    ]
    static let searchServerMeta = [SettingsTable.metaKey: SettingsTable.metaValue]
}

extension ConsoleReducer {
    /// Keys, one by one; the effects they asked for.
    func keys(_ state: inout ConsoleState, _ keys: [Key]) -> [ConsoleEffect] {
        keys.flatMap { reduce(&state, .input(.key($0))) }
    }

    func type(_ state: inout ConsoleState, _ text: String) -> [ConsoleEffect] {
        keys(&state, text.map { .character($0) })
    }

    /// `:line` and enter.
    func command(_ state: inout ConsoleState, _ line: String) -> [ConsoleEffect] {
        keys(&state, [.character(":")] + line.map { .character($0) } + [.enter])
    }
}

extension ConsoleState {
    /// The Consul and Monitor feeds wanted (the services and instances panes'), without the logs tail.
    var consulFeeds: Set<Feed> { subscriptions.filter { ![.logs, .graphite].contains($0.kind) && $0.kind != nil } }
    var services: ServicesPane { pane(ServicesPane.self)! }
    var instances: InstancesPane { pane(InstancesPane.self)! }
}
