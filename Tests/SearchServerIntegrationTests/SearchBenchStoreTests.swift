import Foundation
import StackSupport
import Testing

/// `search-bench --store`: the server's path to PostgreSQL without gRPC, against the stack's PostGIS, as
/// `scripts/bench-search` runs it for its "the store in-process" row.
@Suite(.timeLimit(.minutes(2))) struct SearchBenchStoreTests {
    static let postgres = ["PGHOST": "127.0.0.1", "PGPORT": "\(Stack.postgresPort)", "PGUSER": "postgres", "PGDATABASE": "opsdeck"]

    static func binary() throws -> String {
        let path = Stack.repositoryRoot.appendingPathComponent(".build/debug/search-bench").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw StackError(message: "\(path) is missing: build it with `swift build` (scripts/test does)")
        }
        return path
    }

    /// search-bench with `arguments`, given at most `limit` to end (a run that hangs after its calls fails
    /// here, not at the suite's limit).
    static func run(_ arguments: [String], environment: [String: String] = postgres,
                    limit: Duration = .seconds(30)) async throws -> (status: Int32, output: String) {
        let started = ContinuousClock.now
        let result = try await Stack.run(try binary(), arguments, environment: environment)
        #expect(ContinuousClock.now - started < limit, "search-bench \(arguments) took \(ContinuousClock.now - started)")
        return result
    }

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

    @Test func pointsAndNamesAreSearchedInPostGISAndFindTheirAreas() async throws {
        try await Stack.ensureUp()
        let names = FileManager.default.temporaryDirectory.appendingPathComponent("search-bench-names-\(getpid()).txt")
        try "france\ngermany\n".write(to: names, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: names) }
        for load in [["--point", "48.8566,2.3522"], ["--names", names.path]] {
            let (status, output) = try await Self.run(["--store", "--concurrency", "2", "--seconds", "1", "--rate", "40"] + load)
            #expect(status == 0, "\(load): \(output)")
            let figures = Self.figures(output)
            #expect((figures["calls"] ?? 0) >= 10, "\(load): \(output)")
            #expect(figures["errors"] == 0, "\(load): \(output)")
            // Paris lies in France; each name finds its country: the searches reached the demo data.
            #expect((figures["areas_per_call"] ?? 0) >= 1, "\(load): \(output)")
            #expect(figures["cpu_us_per_call"] != nil, "\(load): \(output)")
        }
    }

    @Test func aMissingPostgreSQLFailsEveryCallAndSaysWhere() async throws {
        let closed = try freePort()  // nothing listens there
        var environment = Self.postgres
        environment["PGPORT"] = "\(closed)"
        environment["SEARCH_STORE_TIMEOUT_MS"] = "200"  // the server's deadline setting, shortened
        let (status, output) = try await Self.run(["--store", "--seconds", "1"], environment: environment)
        #expect(status == 0, "\(output)")
        let figures = Self.figures(output)
        #expect(figures["calls"] == 0, "\(output)")
        #expect((figures["errors"] ?? 0) >= 1, "\(output)")
        #expect(output.contains("search-bench: failed calls to PostgreSQL at 127.0.0.1:\(closed), database opsdeck: "), "\(output)")
        #expect(output.contains("no answer within 200 ms"), "the deadline comes from SEARCH_STORE_TIMEOUT_MS: \(output)")
    }

    @Test func badStoreSettingsAndAClientChoiceAreRefused() async throws {
        let (status, output) = try await Self.run(["--store", "--client", "opsdeck"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--store calls the store, not a client"), "\(output)")

        var environment = Self.postgres
        environment["SEARCH_STORE_BATCHES"] = "many"
        let (badStatus, badOutput) = try await Self.run(["--store", "--seconds", "1"], environment: environment)
        #expect(badStatus == 64, "\(badOutput)")
        #expect(badOutput.contains("SEARCH_STORE_BATCHES=\"many\": not a valid value"), "\(badOutput)")
    }
}
