import Foundation
import GRPCCore
import GRPCHealth
import SearchAPI
import StackSupport
import SwiftProtobuf
import Testing

@Suite(.timeLimit(.minutes(3))) struct GeneratedCodeTests {
    /// The original Python client calls these exact paths; a `package` line in the proto would break it.
    @Test func methodPathsMatchTheOriginalContract() {
        #expect(Search.Method.search.descriptor.fullyQualifiedMethod == "Search/search")
        #expect(Search.Method.monitor.descriptor.fullyQualifiedMethod == "Search/monitor")
        #expect(Grpc_Health_V1_Health.Method.Check.descriptor.fullyQualifiedMethod == "grpc.health.v1.Health/Check")
    }

    /// Bytes a client of the original proto would send (fields 1..5) decode into the same values.
    @Test func originalFieldNumbersAreKept() throws {
        // query=1 "paris", page_number=2 3, result_per_page=3 20, lat=4 48.85f, lng=5 2.35f
        var bytes: [UInt8] = [0x0a, 5] + Array("paris".utf8) + [0x10, 3, 0x18, 20]
        bytes += [0x25] + withUnsafeBytes(of: Float(48.85).bitPattern.littleEndian, Array.init)
        bytes += [0x2d] + withUnsafeBytes(of: Float(2.35).bitPattern.littleEndian, Array.init)
        let request = try SearchRequest(serializedBytes: bytes)
        #expect(request.query == "paris")
        #expect(request.pageNumber == 3)
        #expect(request.resultPerPage == 20)
        #expect(request.lat == 48.85)
        #expect(request.lng == 2.35)

        let monitor = try MonitorResponse(serializedBytes: [0x08, 177, 1])  // n_things=1 177
        #expect(monitor.nThings == 177)
    }

    /// Regenerates the code from Protos/ and fails when the committed files differ.
    @Test func committedCodeIsInSyncWithProtos() async throws {
        let script = Stack.repositoryRoot.appendingPathComponent("scripts/protos").path
        let result = try await Stack.run(script, ["--check"])
        #expect(result.status == 0, "\(result.output)")
    }
}
