import ArgumentParser
import Console
import ConsoleFeeds
import Consul
import Foundation
import HelpText
import SearchClient
import TerminalSafety

/// `opsdeck monitor`: every instance's Monitor figures, as the instances pane shows them.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Call Monitor on every instance of a service and print the instances pane's columns.",
        discussion: HelpText.reflow("""
            Every instance Consul lists for the service, whatever its health, is called at once with a
            deadline; one that does not answer is shown with the reason (unreachable, timeout), never
            left out. Instances without the `grpc` tag are listed without figures.

              opsdeck monitor                          search-service, once
              opsdeck monitor --watch                  again every 2 s, until ctrl-c
              opsdeck monitor --output json | jq .

            Exit status: 0 every polled instance answered, 1 one or more did not (or none is
            registered), 2 Consul could not be read or another error, 64 a usage error. --watch runs until
            interrupted (ctrl-c).
            """)
    )

    @Argument(help: ArgumentHelp("The Consul service.", valueName: "service"))
    var service = "search-service"

    @OptionGroup var consulOptions: ConsulOptions
    @OptionGroup var grpcOptions: GRPCTLSOptions

    @Option(help: ArgumentHelp("table or json (one object per instance).", valueName: "format"))
    var output = "table"

    @Flag(help: "Call again every --interval seconds until interrupted.")
    var watch = false

    @Option(help: ArgumentHelp("Seconds between rounds with --watch.", valueName: "s"))
    var interval = 2

    @Option(help: ArgumentHelp("Each call's deadline in milliseconds.", valueName: "ms"))
    var deadline = 1_000

    func validate() throws {
        guard ["table", "json"].contains(output) else { throw ValidationError("--output \(output): expected table or json") }
        guard (1...3_600).contains(interval) else { throw ValidationError("--interval \(interval): from 1 to 3600 s") }
        guard (1...60_000).contains(deadline) else { throw ValidationError("--deadline \(deadline): from 1 to 60000 ms") }
    }

    func run() async throws {
        try await exitingTwoOnErrors("opsdeck monitor") { try await rounds() }  // 1 means an instance did not answer
    }

    func rounds() async throws {
        let cluster = try consulOptions.cluster()
        let consul = ConsulClient(configuration: try cluster.consul(flag: consulOptions.consul))
        let tls = try cluster.grpcTLS(grpcOptions)
        var status: Int32 = 0
        repeat {
            status = try await round(consul, tls: tls)
            if watch { try await Task.sleep(for: .seconds(interval)) }
        } while watch
        if status != 0 { throw ExitCode(status) }
    }

    /// One round: read the instances, call them all, print. Returns the exit status.
    func round(_ consul: ConsulClient, tls: GRPCTLS?) async throws -> Int32 {
        let entries: [ServiceEntry]
        do {
            entries = try await consul.health(service: service).value
        } catch {
            FileHandle.standardError.write(Data("opsdeck monitor: cannot read Consul: \(TerminalText.sanitize("\(error)"))\n".utf8))
            if watch { return 2 }
            throw ExitCode(2)
        }
        let rows = await withTaskGroup(of: InstanceRow.self) { group in
            for entry in entries {
                group.addTask { [deadline, tls] in
                    let row = InstanceRow(entry: entry, sample: nil)
                    guard row.isPolled else { return row }
                    let address = HostPort.format(entry.address, entry.service.port)
                    return InstanceRow(entry: entry, sample: await MonitorPoller.callOnce(address: address, deadline: .milliseconds(deadline), tls: tls))
                }
            }
            var rows: [InstanceRow] = []
            for await row in group { rows.append(row) }
            // One ID on several nodes (registered without IDs): in the nodes' order, as the pane shows them.
            return rows.sorted { ($0.entry.service.id, $0.entry.node.name) < ($1.entry.service.id, $1.entry.node.name) }
        }
        if watch && output == "table" && isatty(STDOUT_FILENO) == 1 { print("\u{1B}[H\u{1B}[2J", terminator: "") }
        if watch && output == "table" { print("\(service) · \(Date().formatted(date: .omitted, time: .standard))") }
        if rows.isEmpty {
            FileHandle.standardError.write(Data("opsdeck monitor: no instances of \(TerminalText.sanitize(service)) are registered\n".utf8))
            return 1
        }
        let columns = InstanceRow.Column.allCases
        if output == "json" {
            for row in rows {
                var object: [String: Any] = [:]
                for column in columns { object[column.rawValue.lowercased()] = TerminalText.sanitize(row.text(column)) }
                if case .ok(let m)? = row.sample?.outcome {
                    object["figures"] = ["n_things": m.nThings, "uptime_seconds": m.uptimeSeconds, "requests": m.requests,
                                         "errors": m.errors, "latency_p50_ms": m.p50Milliseconds, "latency_p99_ms": m.p99Milliseconds,
                                         "version": TerminalText.sanitize(m.version), "store_status": TerminalText.sanitize(m.storeStatus),
                                         "round_trip_ms": row.sample!.roundTripMilliseconds]
                }
                print(try jsonLine(object))
            }
        } else {
            let table = TextTable(header: columns.map(\.rawValue),
                                  rightAligned: Set(columns.indices.filter { columns[$0].alignsRight }))
            table.lines(rows.map { row in columns.map { TerminalText.sanitize(row.text($0)) } }).forEach { print($0) }
        }
        fflush(nil)  // --watch into a pipe: each round reaches the reader now
        let failed = rows.contains { if case .failed? = $0.sample?.outcome { return true } else { return false } }
        return failed ? 1 : 0
    }
}
