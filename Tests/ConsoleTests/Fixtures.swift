import Console
import Consul
import Foundation

/// Consul answers as the HTTP API gives them, decoded by the real client's models.
enum Fixture {
    static func check(_ service: String, _ id: String, _ status: String, name: String = "gRPC health",
                      output: String = "ok") -> HealthCheck {
        decode(#"{"Node":"node-1","CheckID":"service:\#(id)","Name":"\#(name)","Status":"\#(status)","Notes":"","Output":\#(json(output)),"ServiceID":"\#(id)","ServiceName":"\#(service)","ServiceTags":[],"Type":"grpc"}"#)
    }

    static func entry(_ service: String, _ id: String, port: Int, status: String, output: String = "ok") -> ServiceEntry {
        decode(#"""
            {"Node":{"ID":"n1","Node":"node-1","Address":"127.0.0.1","Datacenter":"dc1"},
             "Service":{"ID":"\#(id)","Service":"\#(service)","Tags":["grpc"],"Address":"127.0.0.1","Port":\#(port),"Meta":{}},
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
    static func loaded() -> (ConsoleState, ConsoleReducer) {
        let reducer = ConsoleReducer()
        var state = ConsoleState()
        state.size = .init(width: 100, height: 16)
        _ = reducer.reduce(&state, .tick(now: t0))
        _ = reducer.reduce(&state, .servicesChanged(["search-service": ["grpc"], "consul": [], "billing": ["v2", "http"]], at: t0))
        _ = reducer.reduce(&state, .checksChanged([
            check("search-service", "search-service-1", "passing"), check("search-service", "search-service-2", "passing"),
            check("search-service", "search-service-3", "critical", output: "connection refused"),
            check("billing", "billing-1", "warning"), check("billing", "billing-1", "passing", name: "http"),
        ], at: t0))
        return (state, reducer)
    }
}
