import Foundation

/// The operator's own editor for a long value: `$VISUAL`, else `$EDITOR`, else `vi`, run on a private
/// temporary file through `/bin/sh` (so `EDITOR="code --wait"` works), on the terminal the console lent it.
public enum ExternalEditor {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static func command(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for name in ["VISUAL", "EDITOR"] {
            if let value = environment[name], !value.trimmingCharacters(in: .whitespaces).isEmpty { return value }
        }
        return "vi"
    }

    /// `text` as the operator left it; a failure when the editor could not run or exited with an error.
    /// An editor adds a final newline on save; it is taken off again when `text` had none, so a one-line
    /// value stays one line.
    public static func edit(_ text: String, command: String = command()) -> Result<String, Failure> {
        var template = Array((NSTemporaryDirectory() + "opsdeck-edit-XXXXXX.txt").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }  // 0600
        guard fd >= 0 else { return .failure(Failure(description: "cannot make a temporary file: \(String(cString: strerror(errno)))")) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }  // the name mkstemps made
        defer { unlink(path) }
        let written = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.utf8.count else { return .failure(Failure(description: "cannot write \(path)")) }

        var pid: pid_t = 0
        let arguments: [String] = ["/bin/sh", "-c", command + " \"$1\"", "sh", path]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The console ignores or handles SIGINT, SIGTERM, SIGHUP and blocks some on its threads: the editor
        // gets the default actions and no blocked signal, as if started from the shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP] { sigaddset(&defaults, signal) }
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let spawned = posix_spawn(&pid, "/bin/sh", nil, &attributes, argv, environ)
        guard spawned == 0 else { return .failure(Failure(description: "cannot start \(command): \(String(cString: strerror(spawned)))")) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            return .failure(Failure(description: "\(command) " + (exited ? "exited with \(code)" : "was killed by signal \(status & 0x7f)")))
        }
        guard var edited = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failure(Failure(description: "the edited file is not UTF-8 text"))
        }
        if edited.hasSuffix("\n") && !text.hasSuffix("\n") { edited.removeLast() }
        return .success(edited)
    }
}
