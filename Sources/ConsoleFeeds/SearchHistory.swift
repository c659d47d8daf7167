import Foundation

/// The search prompt's history file: one search per line, oldest first, under the XDG state directory
/// ($XDG_STATE_HOME/opsdeck/search_history, else ~/.local/state/opsdeck/search_history).
public struct SearchHistory: Sendable {
    public let path: String
    public let limit: Int

    public init(path: String, limit: Int) {
        self.path = path
        self.limit = limit
    }

    public static func standardPath(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return state + "/opsdeck/search_history"
    }

    /// The last `limit` distinct lines, oldest first (none when there is no file yet). A file grown past
    /// twice the limit is rewritten with those.
    public func load() -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let all = text.split(separator: "\n").map(String.init)
        var seen: Set<String> = [], kept: [String] = []
        for line in all.reversed() where seen.insert(line).inserted {
            kept.append(line)
            if kept.count == limit { break }
        }
        kept.reverse()
        if all.count > 2 * limit { try? (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8) }
        return kept
    }

    /// Adds a line at the end (creating the directory the first time). One write(2) with O_APPEND, so
    /// two consoles appending at once do not mix their lines.
    public func append(_ line: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let bytes = Array((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
