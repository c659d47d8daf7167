import ArgumentParser
import Foundation
import TerminalSafety

/// For commands whose exit status 1 means something found or not (grep's convention): an error that is
/// not already an exit status is said on stderr and exits 2, never the 1 that ArgumentParser would give.
func exitingTwoOnErrors(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let usage as ValidationError {
        throw usage  // a bad --context or config file: ArgumentParser says it with the usage, exit 64
    } catch {
        FileHandle.standardError.write(Data("\(command): \(TerminalText.sanitize("\(error)"))\n".utf8))
        throw ExitCode(2)
    }
}
