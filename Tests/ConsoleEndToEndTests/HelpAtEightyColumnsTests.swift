import Foundation
import HelpText
import StackSupport
import Testing

/// Every command's `--help` as a user at an 80-column terminal reads it: prose wrapped by the width (not
/// broken again where the source's lines end) and each example on a line of its own.
@Suite(.timeLimit(.minutes(2))) struct HelpAtEightyColumnsTests {
    static let binaries = ["opsdeck", "search-server", "devconsul", "consul-bench", "search-bench"].map { Stack.repositoryRoot.appendingPathComponent(".build/debug/\($0)").path }

    @Test func everyCommandsOverviewFitsEightyColumns() async throws {
        var checked: [String] = []
        for binary in Self.binaries {
            var commands: [[String]] = [[]]
            while let command = commands.popLast() {
                let name = ([URL(fileURLWithPath: binary).lastPathComponent] + command).joined(separator: " ")
                let help = try await Stack.run(binary, command + ["--help"], environment: ["COLUMNS": "80"])
                #expect(help.status == 0, "\(name) --help: \(help.output)")
                for problem in Self.problems(inOverview: help.output) { Issue.record("\(name) --help: \(problem)") }
                commands += Self.subcommands(in: help.output).map { command + [$0] }
                checked.append(name)
            }
        }
        // The walk found the commands (a help it failed to read would check nothing).
        #expect(checked.contains("opsdeck kv put") && checked.contains("opsdeck tail") && checked.contains("search-server serve"))
    }

    /// What is wrong with the OVERVIEW section (everything before USAGE) at 80 columns.
    static func problems(inOverview help: String) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("USAGE:") }.map(String.init)
        var problems: [String] = []
        for (index, line) in lines.enumerated() {
            if line.count > 80 { problems.append("a line of \(line.count) columns: \(line)") }
            guard index > 0 else { continue }
            let previous = lines[index - 1]
            guard !line.isEmpty, !line.hasPrefix(" ") else { continue }
            if previous.hasPrefix(" ") {
                // An example (indented) went past 80 columns and the parser carried it over.
                problems.append("an example broken at 80 columns: \(previous) / \(line)")
            } else if !previous.isEmpty, !HelpText.isListItem(line[...]),
                      previous.count + 1 + (line.split(separator: " ").first?.count ?? 0) < 80 {
                // (The parser breaks before a word that would end in the last column.)
                problems.append("a paragraph broken where its source line ended: \(previous) / \(line)")
            }
        }
        return problems
    }

    /// The names listed under SUBCOMMANDS ("  get    Print a key's value" → "get").
    static func subcommands(in help: String) -> [String] {
        help.split(separator: "\n").drop { !$0.hasPrefix("SUBCOMMANDS:") }.dropFirst()
            .prefix { $0.hasPrefix("  ") }
            .filter { !$0.hasPrefix("   ") && !$0.contains("See '") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}
