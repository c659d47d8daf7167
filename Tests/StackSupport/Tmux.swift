import Foundation

/// A terminal for end-to-end tests: a private tmux server (its own socket, so a user's tmux is never
/// touched) with one window running a command, read back with capture-pane.
public final class Tmux: Sendable {
    public let socket: String
    private static let tmux = "/usr/bin/tmux"

    /// Runs `command` in a `width` x `height` window. After the command the shell prints
    /// `EXITED <status>` and then `MODES echo icanon ` (or `-echo`, `-icanon` when the program left the
    /// terminal raw), so a test can tell that it quit and gave the terminal back.
    public init(width: Int = 120, height: Int = 36, command: String, environment: [String: String] = [:]) throws {
        socket = "opsdeck-test-\(UInt32.random(in: 0...UInt32.max))"
        // As Stack.spawn: never the developer's opsdeck config.
        let env = (["LANG": "C.UTF-8", "TERM": "tmux-256color", "XDG_CONFIG_HOME": "/nonexistent/opsdeck-tests", "OPSDECK_CONTEXT": ""]
            .merging(environment) { _, new in new })
            .map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
        let script = "env \(env) \(command); echo EXITED $?; "
            + "echo \"MODES $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon)' | sort | tr '\\n' ' ')\"; sleep 600"
        let result = try Stack.runBlocking(Self.tmux, ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)",
                                               "sh", "-c", script])
        guard result.status == 0 else { throw StackError(message: "tmux new-session failed: \(result.output)") }
    }

    deinit {
        _ = try? Stack.runBlocking(Self.tmux, ["-L", socket, "kill-server"])  // only this test's private server
    }

    public static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The screen as text, one line per row.
    public func screen() throws -> String {
        let result = try Stack.runBlocking(Self.tmux, ["-L", socket, "capture-pane", "-p"])
        return result.output
    }

    /// tmux key names: "Enter", "Escape", "C-c", or literal text.
    public func send(_ keys: String...) throws {
        _ = try Stack.runBlocking(Self.tmux, ["-L", socket, "send-keys"] + keys)
    }

    public func sendText(_ text: String) throws {
        _ = try Stack.runBlocking(Self.tmux, ["-L", socket, "send-keys", "-l", text])
    }

    public func resize(width: Int, height: Int) throws {
        _ = try Stack.runBlocking(Self.tmux, ["-L", socket, "resize-window", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The PID of the program the shell runs (the pane's child).
    public func programPID() throws -> Int32? {
        let shell = try Stack.runBlocking(Self.tmux, ["-L", socket, "display-message", "-p", "#{pane_pid}"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let children = try Stack.runBlocking("/usr/bin/pgrep", ["-P", shell]).output
        return children.split(separator: "\n").compactMap { Int32($0) }.first
    }

    /// Waits until the screen satisfies `condition`; fails with the last screen if it does not in time,
    /// and with what `explain` says then (what the screen cannot show, e.g. Consul's check outputs).
    @discardableResult
    public func waitFor(_ what: String, timeout: Duration = .seconds(20), explain: (@Sendable () -> String)? = nil,
                        _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await offPool { [self] in try screen() }
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        var explanation = ""
        if let explain { explanation = try await offPool { explain() } + "\n" }
        // Said after the screen too: CI shows a failure's last lines, and a 70-row screen pushes the first out.
        throw StackError(message: "screen never showed \(what) within \(timeout); last screen:\n\(last)\n"
                         + explanation + "(above: the last screen, which never showed \(what) within \(timeout))")
    }
}
