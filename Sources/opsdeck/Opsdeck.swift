import ArgumentParser
import HelpText

@main
struct Opsdeck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opsdeck",
        abstract: "The operations console for search-service and the stack around it.",
        discussion: HelpText.reflow("""
            Every view of the console has a scriptable command. Run `opsdeck help <command>` for details.
            """),
        subcommands: [ConsoleCommand.self, ServicesCommand.self, SearchCommand.self, MonitorCommand.self, TailCommand.self, MetricsCommand.self, KVCommand.self],
        defaultSubcommand: ConsoleCommand.self
    )
}
