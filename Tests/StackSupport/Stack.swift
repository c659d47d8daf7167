import Foundation

/// The local stack (scripts/stack) as integration tests see it.
///
/// `ensureUp()` runs `scripts/stack up` once per test process: it installs what is missing, starts
/// whatever is not running and returns at once when all is up. If it fails, the tests that need the
/// stack fail with the script's output; they never skip.
public enum Stack {
    /// The repository root, found from this file's path (Tests/StackSupport/Stack.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let postgresPort = 5434
    public static let kafkaBootstrap = "127.0.0.1:9092"
    public static let statsdPort: UInt16 = 8125
    public static let graphiteURL = "http://127.0.0.1:8002"

    public static func ensureUp() async throws {
        try await upOnce.value
    }

    private static let upOnce = Task.detached {
        let result = try run(repositoryRoot.appendingPathComponent("scripts/stack").path, ["up"])
        guard result.status == 0 else {
            throw StackError(message: "scripts/stack up exited with \(result.status):\n\(result.output)")
        }
    }

    /// Runs a command to completion, returning its exit status and its combined output.
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

public struct StackError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A name no other test run uses, for topics and metrics.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(Int(Date().timeIntervalSince1970))-\(UInt32.random(in: 0...UInt32.max))"
}
