import ArgumentParser
import Console
import Consul
import Foundation
import HelpText
import SearchClient
import SearchModels
import TerminalSafety
import TUI

/// `opsdeck search`: the search pane's query, once, as a table or JSON.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the areas search-service knows: by point, by name, or both.",
        discussion: HelpText.reflow("""
            QUERY is what the console's search prompt takes:

              opsdeck search 48.8566 2.3522            areas that contain a point (LAT LNG)
              opsdeck search 48.8566,2.3522
              opsdeck search france                    areas whose name contains a text
              opsdeck search name:fr near 48.85,2.35   both
              opsdeck search united states page 2 size 5
              opsdeck search 48.8566 2.3522 --outline  with a braille map of the first area

            --name, --page and --size set the same things as options.

            Instances are found as the original client found them, through Consul DNS (SRV records of
            <service>.service.consul at --dns), with Consul's HTTP health API as the fallback; --instance
            skips Consul. Calls go round-robin with a deadline; an unavailable instance or a missed
            deadline is retried once on another instance. Which instance answered, in how long, and any
            retry are printed on stderr, so stdout holds only the results.

            Exit status, as grep's: 0 something found, 1 nothing found, 2 an error (no instance, the
            server refused the query: its message is printed as it said it), 64 a usage error.
            """)
    )

    // allUnrecognized: a southern or western point (-34.6 -58.38) must not be read as short options.
    @Argument(parsing: .allUnrecognized,
              help: ArgumentHelp("A point (LAT LNG or LAT,LNG), a name, or both (name:TEXT near LAT,LNG).", valueName: "query"))
    var query: [String] = []

    @Option(help: ArgumentHelp("Areas whose name contains this text (case-insensitive).", valueName: "text"))
    var name: String?

    @Option(help: ArgumentHelp("Which page (1-based).", valueName: "n"))
    var page: Int?

    @Option(help: ArgumentHelp("Results per page (1-100; default: the server's, 10).", valueName: "n"))
    var size: Int?

    @Option(help: ArgumentHelp("The Consul service to ask.", valueName: "name"))
    var service = "search-service"

    @Option(help: ArgumentHelp("Call this instance instead of asking Consul (repeat for several; round-robin).", valueName: "host:port"))
    var instance: [String] = []

    @Option(help: ArgumentHelp("Consul's DNS interface (default: the context's, else 127.0.0.1:8600).", valueName: "host:port"))
    var dns: String?

    @OptionGroup var consulOptions: ConsulOptions
    @OptionGroup var grpcOptions: GRPCTLSOptions

    @Option(help: ArgumentHelp("table or json.", valueName: "format"))
    var output = "table"

    @Flag(help: "Ask for outlines: a braille map of the first area under the table (in JSON: every outline's rings).")
    var outline = false

    @Option(help: ArgumentHelp("Each call's deadline in milliseconds.", valueName: "ms"))
    var deadline = 2_000

    func validate() throws {
        guard ["table", "json"].contains(output) else { throw ValidationError("--output \(output): expected table or json") }
        guard (1...60_000).contains(deadline) else { throw ValidationError("--deadline \(deadline): from 1 to 60000 ms") }
        for address in instance + [dns].compactMap({ $0 }) where HostPort.parse(address) == nil {
            throw ValidationError("\(address): expected host:port, e.g. 127.0.0.1:8600")
        }
        _ = try searchQuery()
    }

    /// The positional words through the prompt's parser, then the options over them.
    func searchQuery() throws -> SearchQuery {
        var query = SearchQuery()
        // What allUnrecognized let through that is an option, not a negative number, was a typo.
        if let unknown = self.query.first(where: { $0.hasPrefix("-") && Double($0) == nil && !$0.contains(",") }) {
            throw ValidationError("unknown option '\(unknown)' (see opsdeck search --help)")
        }
        if !self.query.isEmpty {
            switch SearchQueryParser.parse(self.query.joined(separator: " ")) {
            case .success(let parsed): query = parsed
            case .failure(let failure): throw ValidationError(failure.description)
            }
        } else if name == nil {
            throw ValidationError("nothing to search for: give a point (opsdeck search 48.8566 2.3522) or a name (--name france)")
        }
        if let name {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name is empty") }
            guard query.name == nil else { throw ValidationError("two names: '\(query.name!)' and --name \(name)") }
            query.name = name
        }
        if let page {
            guard page >= 1 else { throw ValidationError("--page \(page): pages start at 1") }
            query.page = page
        }
        if let size {
            guard (1...100).contains(size) else { throw ValidationError("--size \(size): from 1 to 100") }
            query.size = size
        }
        query.withOutline = outline
        return query
    }

    func run() async throws {
        try await exitingTwoOnErrors("opsdeck search") { try await search() }  // 1 means nothing found
    }

    func search() async throws {
        let query = try searchQuery()
        let caller = SearchCaller(service: service, discovery: try discovery(), deadline: .milliseconds(deadline),
                                  tls: try consulOptions.cluster().grpcTLS(grpcOptions))
        let answer: SearchAnswer
        do {
            answer = try await caller.search(query)
        } catch {
            await caller.close()
            FileHandle.standardError.write(Data("opsdeck search: \(TerminalText.sanitize(error.description))\n".utf8))
            throw ExitCode(2)
        }
        await caller.close()
        FileHandle.standardError.write(Data((TerminalText.sanitize(answer.summary) + "\n").utf8))
        if output == "json" {
            print(try Self.json(answer))
        } else if !answer.results.isEmpty {
            let columns = SearchResult.Column.allCases
            let table = TextTable(header: columns.map(\.rawValue))
            table.lines(answer.results.map { result in columns.map { TerminalText.sanitize(result.text($0)) } }).forEach { print($0) }
            if let first = answer.results.first, let outline = first.outline {
                var grid = Grid(width: min(MetricsCommand.terminalWidth(), 100), height: 20)
                OutlineMap(outline: outline, point: query.point).render(into: &grid, grid.bounds, theme: .monochrome)
                print("\n" + TerminalText.sanitize(first.name) + " (\(outline.vertexCount) of \(outline.sourceVertices) vertices)")
                print(grid.lines().joined(separator: "\n"))
            }
        }
        if answer.results.isEmpty { throw ExitCode(1) }
    }

    func discovery() throws -> InstanceDiscovery {
        if !instance.isEmpty {
            return InstanceDiscovery(.given(instance.compactMap(HostPort.parse).map { ServiceAddress(host: $0.host, port: $0.port) }))
        }
        let cluster = try consulOptions.cluster()
        let (host, port) = try cluster.consulDNS(flag: dns)
        return InstanceDiscovery(.consul(dns: ConsulDNS(server: host, port: port),
                                         http: ConsulClient(configuration: try cluster.consul(flag: consulOptions.consul))))
    }

    static func json(_ answer: SearchAnswer) throws -> String {
        let object: [String: Any] = [
            "total": answer.total, "page": answer.page, "size": answer.size,
            "instance": TerminalText.sanitize(answer.instanceID), "address": answer.address,
            "milliseconds": (answer.milliseconds * 100).rounded() / 100, "discovery": answer.discovery,
            "retries": answer.failedAttempts.map { ["address": $0.address, "reason": $0.reason] },
            "results": answer.results.map { result -> [String: Any] in
                var row: [String: Any] = ["id": result.id, "name": TerminalText.sanitize(result.name), "kind": result.kind,
                                          "code": result.code, "source": result.source]
                if let outline = result.outline {
                    row["outline"] = ["source_vertices": outline.sourceVertices,
                                      "rings": outline.rings.map { ring in ring.map { [$0.latitude, $0.longitude] } }]
                }
                return row
            },
        ]
        return try jsonLine(object)
    }

}
