import ArgumentParser
import Console
import Consul
import Foundation
import LogTail

/// `opsdeck services`: the services pane, once, as text or JSON (for scripts).
struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "List services with their instances by health, as the console's services pane shows them.",
        discussion: """
            One read of Consul's catalog and of every check. An instance counts once, at its worst check.
            Exit status 0, or 1 when Consul cannot be read.
            """
    )

    @OptionGroup var consulOptions: ConsulOptions

    @Flag(help: "One JSON object per service instead of a table.")
    var json = false

    func run() async throws {
        let consul = ConsulClient(configuration: consulOptions.configuration())
        var state = ConsoleState()
        do {
            state.services = try await consul.services().value
            state.checks = try await consul.checks(in: nil).value
        } catch {
            FileHandle.standardError.write(Data("opsdeck services: \(error)\n".utf8))
            throw ExitCode(1)
        }
        // Names and tags come from whoever registered the service: no escape sequences to the terminal.
        let rows = state.serviceSummaries.map { s -> ServiceSummary in
            var s = s
            s.name = TerminalText.sanitize(s.name)
            s.tags = s.tags.map { TerminalText.sanitize($0) }
            return s
        }
        if json {
            for s in rows {
                let object: [String: Any] = ["service": s.name, "tags": s.tags, "instances": s.instances,
                                             "passing": s.passing, "warning": s.warning, "critical": s.critical]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let nameWidth = max(7, rows.map(\.name.count).max() ?? 0)
        let tagWidth = max(4, rows.map { $0.tags.joined(separator: ",").count }.max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { s.padding(toLength: max(w, s.count), withPad: " ", startingAt: 0) }
        func right(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        print(pad("SERVICE", nameWidth) + "  " + pad("TAGS", tagWidth) + "  INSTANCES  PASSING  WARNING  CRITICAL")
        for s in rows {
            print(pad(s.name, nameWidth) + "  " + pad(s.tags.joined(separator: ","), tagWidth) + "  "
                  + right("\(s.instances)", 9) + "  " + right("\(s.passing)", 7) + "  " + right("\(s.warning)", 7)
                  + "  " + right("\(s.critical)", 8))
        }
    }
}
