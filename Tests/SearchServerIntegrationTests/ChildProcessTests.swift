import Foundation
import StackSupport
import Testing

/// The harness that starts servers, brokers and consoles for the integration tests: a child must not
/// keep anything of the test process, or one test's program changes what another test observes.
@Suite(.timeLimit(.minutes(5))) struct ChildProcessTests {
    /// The CI failure this guards against: a descriptor open in the test process while another test
    /// spawned a long-lived program stayed open in that program, so whoever waited for it to close
    /// (Foundation's Process waiting for its child's exit) waited as long as that program ran.
    @Test func aLongLivedChildDoesNotHoldTheTestsDescriptors() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)  // no O_CLOEXEC, like Foundation's exit-notification socket
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        close(ends[1])
        let readEnd = ends[0]
        let ready = try await offPool { () -> Int32 in
            var readable = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            return poll(&readable, 1, 5_000)
        }
        var byte: UInt8 = 0
        #expect(ready == 1 && read(ends[0], &byte, 1) == 0, "the write end is still open in the child")
        close(ends[0])
        sleeper.signal(SIGKILL)
        #expect(try await sleeper.waitForExit(timeout: .seconds(5)) == 128 + SIGKILL)
    }

    /// A signal blocked or ignored by the spawning thread (the test runner's business) is neither in the
    /// child: SIGTERM must end whatever a test starts.
    @Test func aChildStartsWithDefaultSignalActionsAndNoMask() async throws {
        let status = try await offPool { () -> String in
            var blockTerm = sigset_t()
            sigemptyset(&blockTerm)
            sigaddset(&blockTerm, SIGTERM)
            var previousMask = sigset_t()
            pthread_sigmask(SIG_BLOCK, &blockTerm, &previousMask)
            // SIGURG's default action is to ignore it, so ignoring it here for a moment changes nothing
            // for the rest of the test process, and shows whether the child got the default back.
            let previousAction = signal(SIGURG, SIG_IGN)
            defer {
                signal(SIGURG, previousAction)
                pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            }
            let child = try ChildProcess("/bin/grep", ["-E", "^Sig(Blk|Ign)", "/proc/self/status"])
            _ = try child.waitForExitBlocking()
            return child.stdout
        }
        let masks = Dictionary(uniqueKeysWithValues: status.split(separator: "\n").map { line in
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            return (parts[0], UInt64(parts[1], radix: 16) ?? .max)
        })
        let classicSignals: UInt64 = (1 << 31) - 1  // 1...31; glibc keeps its own real-time ones
        #expect(masks["SigBlk"].map { $0 & classicSignals } == 0, "\(status)")
        #expect(masks["SigIgn"].map { $0 & classicSignals } == 0, "\(status)")
    }
}
