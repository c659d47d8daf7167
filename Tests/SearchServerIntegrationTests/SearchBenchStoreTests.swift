import Foundation
import StackSupport
import Testing

/// `search-bench --store`: the server's path to PostgreSQL without gRPC, against the stack's PostGIS, as
/// `scripts/bench-search` runs it for its "the store in-process" row.
@Suite(.timeLimit(.minutes(2))) struct SearchBenchStoreTests {
    static let binary = Stack.repositoryRoot.appendingPathComponent(".build/debug/search-bench").path
    static let postgres = ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGUSER": "postgres", "PGDATABASE": "opsdeck"]

    /// The figures of a report line (`calls=12 errors=0 ...`).
    static func figures(_ output: String) -> [String: Double] {
        var figures: [String: Double] = [:]
        for word in output.split(whereSeparator: \.isWhitespace) {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "/s"))) else { continue }
            figures[String(parts[0])] = value
        }
        return figures
    }

    @Test func pointsAndNamesGoToPostGISAndTheLineSaysWhatTheyCost() async throws {
        try await Stack.ensureUp()
        let names = FileManager.default.temporaryDirectory.appendingPathComponent("search-bench-names-\(getpid()).txt")
        try "fra\nger\n".write(to: names, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: names) }
        for load in [["--point", "48.8566,2.3522"], ["--names", names.path]] {
            let (status, output) = try await Stack.run(Self.binary, ["--store", "--concurrency", "2", "--seconds", "1", "--rate", "40"] + load,
                                                       environment: Self.postgres)
            #expect(status == 0, "\(load): \(output)")
            let figures = Self.figures(output)
            #expect((figures["calls"] ?? 0) >= 10, "\(load): \(output)")
            #expect(figures["errors"] == 0, "\(load): \(output)")
            #expect((figures["cpu_us_per_call"] ?? 0) > 0, "\(load): \(output)")
        }
    }

    @Test func aPostgreSQLThatDoesNotAnswerIsCountedAsFailedCalls() async throws {
        let closed = try freePort()  // nothing listens there
        var environment = Self.postgres
        environment["PGPORT"] = "\(closed)"
        let (status, output) = try await Stack.run(Self.binary, ["--store", "--seconds", "1", "--rate", "20"], environment: environment)
        #expect(status == 0, "\(output)")
        let figures = Self.figures(output)
        #expect(figures["calls"] == 0, "\(output)")
        #expect((figures["errors"] ?? 0) >= 1, "\(output)")
        #expect(output.contains("search-bench: failed calls: "), "the user is told why: \(output)")
    }

    @Test func aClientChoiceIsRefusedWithTheStore() async throws {
        let (status, output) = try await Stack.run(Self.binary, ["--store", "--client", "opsdeck"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--store calls the store, not a client"), "\(output)")
    }
}
