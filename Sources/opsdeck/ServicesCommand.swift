import ArgumentParser
import Console
import Consul
import Foundation
import HelpText
import TerminalSafety

/// `opsdeck services`: the services pane, once, as text or JSON (for scripts).
struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "List services with their instances by health, as the console's services pane shows them.",
        discussion: HelpText.reflow("""
            One read of Consul's catalog and of every check. An instance counts once, at its worst check.
            The rows and columns are the services pane's. Exit status 0, or 1 when Consul cannot be read.
            """)
    )

    @OptionGroup var consulOptions: ConsulOptions

    @Flag(help: "One JSON object per service instead of a table.")
    var json = false

    func run() async throws {
        let consul = ConsulClient(configuration: try consulOptions.configuration())
        let rows: [ServiceSummary]
        do {
            let catalog = try await consul.services()
            rows = ServiceSummary.rows(catalog: catalog.value, checks: try await consul.checks(in: nil).value)
            if catalog.meta.filteredByACLs {
                FileHandle.standardError.write(Data("opsdeck services: Consul's ACLs hid services from this token; \(TerminalText.sanitize(consul.configuration.tokenFix))\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("opsdeck services: \(TerminalText.sanitize("\(error)"))\n".utf8))
            throw ExitCode(1)
        }
        // Names and tags come from whoever registered the service: no escape sequences to the terminal.
        if json {
            for s in rows {
                let object: [String: Any] = ["service": TerminalText.sanitize(s.name), "tags": s.tags.map { TerminalText.sanitize($0) },
                                             "instances": s.instances, "passing": s.passing, "warning": s.warning,
                                             "critical": s.critical]
                print(try jsonLine(object))
            }
            return
        }
        let columns = ServiceSummary.Column.full
        let table = TextTable(header: columns.map(\.title), rightAligned: Set(2..<columns.count))  // names left, counts right
        table.lines(rows.map { row in columns.map { TerminalText.sanitize(row.text($0)) } }).forEach { print($0) }
    }
}
