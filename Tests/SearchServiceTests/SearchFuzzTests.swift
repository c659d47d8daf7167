import FuzzSupport
import GRPCCore
import Logging
import SearchAPI
import SearchService
import Store
import SwiftProtobuf
import Testing

/// Random and edge-value requests, by the million: validation never traps, accepts only what the store
/// can take, and refuses everything else with INVALID_ARGUMENT naming the field.
@Suite(.timeLimit(.minutes(SeededGenerator.suiteMinutes))) struct SearchFuzzTests {
    static let floats: [Float] = [0, -0, 1, -1, 90, -90, 90.000_01, -90.000_01, 180, -180, 180.000_1, 1e30, -1e30,
                                  .nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 48.8566, 2.3522]
    static let ints: [Int32] = [0, 1, -1, 2, 10, 99, 100, 101, 1_000, .max, .min, .max - 1]
    static let texts = ["", " ", "a", "France", "%", "_", "\\", "'; DROP TABLE area; --", "\u{0}", "\u{1B}[2J", "é",
                        String(repeating: "x", count: 200), String(repeating: "x", count: 201), String(repeating: "語", count: 150),
                        " padded ", "\n", "\u{202E}evil"]

    static func check(_ request: SearchRequest, _ limits: PageLimits, _ findings: inout FuzzFindings) {
        do {
            let query = try SearchValidation.areaQuery(from: request, limits: limits)
            findings.check(query.offset >= 0 && (1...limits.maxSize).contains(query.limit), "\(request)")
            findings.check(query.point != nil || !(query.nameContains ?? "").isEmpty, "\(request)")
            if let point = query.point {
                findings.check(point.latitude.isFinite && abs(point.latitude) <= 90 && abs(point.longitude) <= 180, "\(request)")
            }
            findings.check((query.nameContains?.count ?? 0) <= SearchValidation.maxQueryLength, "\(request)")
        } catch {
            findings.check(error.code == .invalidArgument, "\(error)")
            let fields = ["page_number", "result_per_page", "lat", "lng", "query", "nothing to search for"]
            findings.check(fields.contains { error.message.contains($0) }, error.message)
        }
    }

    @Test func aMillionRequestsValidateOrAreRefusedByField() async throws {
        let findings = await fuzzOffPool { Self.validationFuzz() }
        #expect(findings.count == 0, "\(findings)")
    }

    static func validationFuzz() -> FuzzFindings {
        var random = SeededGenerator()
        var findings = FuzzFindings(seed: random.seed)
        let limits = PageLimits()
        let valid: [UInt8] = try! SearchRequest.with { $0.query = "fr"; $0.lat = 48.85; $0.lng = 2.35; $0.pageNumber = 2 }.serializedBytes()
        var decoded = 0, refusedBytes = 0
        let count = SeededGenerator.iterations(1_000_000)
        for i in 0..<count {
            let request: SearchRequest
            if i % 4 == 0 {
                // Damaged wire bytes: what decodes is validated; the rest is refused by protobuf itself.
                guard let parsed = try? SearchRequest(serializedBytes: random.mutate(valid)) else { refusedBytes += 1; continue }
                request = parsed
                decoded += 1
            } else {
                request = SearchRequest.with {
                    if Bool.random(using: &random) { $0.lat = Self.floats.randomElement(using: &random)! }
                    if Bool.random(using: &random) { $0.lng = Self.floats.randomElement(using: &random)! }
                    if Bool.random(using: &random) { $0.query = Self.texts.randomElement(using: &random)! }
                    $0.pageNumber = Bool.random(using: &random) ? Self.ints.randomElement(using: &random)! : Int32.random(in: .min ... .max, using: &random)
                    $0.resultPerPage = Self.ints.randomElement(using: &random)!
                    $0.withOutline = Bool.random(using: &random)
                }
            }
            check(request, limits, &findings)
        }
        print("search validation fuzz: \(count) requests (seed \(random.seed)), \(decoded) from damaged bytes decoded, \(refusedBytes) refused by protobuf")
        return findings
    }

    /// The handler itself on random requests, with a store double: every call answers or fails with a
    /// status, never traps, and the counters add up.
    @Test func theHandlerAnswersEveryRandomRequest() async throws {
        var random = SeededGenerator()
        let stats = RequestStats()
        let handler = SearchHandler(store: SearchHandlerTests.Areas(areas: SearchHandlerTests.countries), context: SearchHandlerTests.Context(),
                                    stats: stats, instanceID: "fuzz", logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
        let context = SearchHandlerTests().context()
        let count = SeededGenerator.iterations(5_000)
        var answered = 0
        for i in 0..<count {
            if i % 500 == 0 { await Task.yield() }  // other tests' timers get their turn
            let request = SearchRequest.with {
                if Bool.random(using: &random) { $0.lat = Self.floats.randomElement(using: &random)! }
                if Bool.random(using: &random) { $0.lng = Self.floats.randomElement(using: &random)! }
                $0.query = Self.texts.randomElement(using: &random)!
                $0.pageNumber = Self.ints.randomElement(using: &random)!
                $0.resultPerPage = Self.ints.randomElement(using: &random)!
                $0.withOutline = Bool.random(using: &random)
            }
            do {
                let reply = try await handler.search(request: request, context: context)
                #expect(reply.responses.count <= Int(reply.resultPerPage), "seed \(random.seed)")
                answered += 1
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument, "seed \(random.seed): \(error)")
            }
        }
        #expect(stats.snapshot().requests == Int64(count) && stats.snapshot().errors == Int64(count - answered))
        print("search handler fuzz: \(count) calls (seed \(random.seed)), \(answered) answered")
    }
}
