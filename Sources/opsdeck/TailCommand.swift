import ArgumentParser
import Foundation
import HelpText
import Kafka
import LogTail

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow log topics across every partition: a distributed tail -f.",
        discussion: HelpText.reflow("""
            Records of all partitions of all the topics named are merged into one stream in timestamp
            order: a record waits until every partition has caught up with its time, or, while following,
            for --window at most when a partition goes silent. search-server ships one JSON
            record per log line, keyed by instance id; those print as

              2026-11-27T14:05:00.123Z  search-service-1  info     search results=3

            with a colour per instance. Other records print as text, with the record key as instance.
            Control and escape sequences in records are shown as visible text (^[ and <U+009B>), never
            sent to the terminal as they are.

            Examples:
              opsdeck tail --service search-service                follow from now
              opsdeck tail search-service --from 15m --include 'error|warning'
              opsdeck tail search-service --from -100 --no-follow  the last 100 lines
              opsdeck tail search-service --from beginning --no-follow --output raw

            Exit status: 0 when a bounded read (--no-follow, --until) ends, 1 on a failure such as a
            topic that does not exist, 64 on a usage error. A broker that cannot be reached is reported
            on stderr and retried, never fatal.
            """)
    )

    @Argument(help: "Topics to follow.")
    var topics: [String] = []

    @Option(name: .customLong("service"), help: ArgumentHelp(
        "Follow a service's log topic (search-server writes to a topic named after its service).",
        valueName: "name"))
    var services: [String] = []

    @OptionGroup var contextOptions: ContextOptions

    @Option(name: .customLong("brokers"), help: ArgumentHelp(
        "Kafka bootstrap servers (default: the context's, else $OPSDECK_KAFKA_BROKERS, else 127.0.0.1:9092).", valueName: "host:port,..."))
    var brokers: String?

    // Unconditional, so that `--from -100` reads -100 as the value, not as an option.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Where to start: end, beginning, -N (the last N records of the merged stream), an RFC 3339 time (2026-11-27T14:05:00Z) or a duration ago (90s, 15m, 2h, 1d).",
        valueName: "position"))
    var from = "end"

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this time: RFC 3339, a duration ago, or now.", valueName: "time"))
    var until: String?

    @Flag(help: "Stop at the end of what the topics hold when the tail starts.")
    var noFollow = false

    @Option(name: [.customShort("X"), .customLong("property")], help: ArgumentHelp(
        "A librdkafka property, as with kcat -X (repeatable), e.g. -X security.protocol=ssl.", valueName: "key=value"))
    var properties: [String] = []

    @Option(help: ArgumentHelp("text, raw (the record values, like kcat) or json (one object per record).",
                               valueName: "format"))
    var output: String = "text"

    @Flag(help: "No colours (also when NO_COLOR is set or stdout is not a terminal).")
    var noColor = false

    @Option(help: ArgumentHelp("Show only lines matching this regular expression (repeatable: any).",
                               valueName: "regex"))
    var include: [String] = []

    @Option(help: ArgumentHelp("Hide lines matching this regular expression (repeatable).", valueName: "regex"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("Show matches of this regular expression in reverse video (repeatable).",
                               valueName: "regex"))
    var highlight: [String] = []

    // Not --context: that names the config file's context (the cluster), as in every command.
    @Option(name: [.customShort("C"), .customLong("around")], help: ArgumentHelp("Lines shown around each --include match (grep's -C).", valueName: "N"))
    var around: Int = 0

    @Option(help: ArgumentHelp("While following, how long a record waits for a silent partition before it is printed anyway.",
                               valueName: "duration"))
    var window = "5s"

    @Option(help: ArgumentHelp("Records the merge may hold waiting for a slower partition; past that the oldest are printed anyway, "
                               + "and some lines may come out of time order (said on stderr). Each costs ~150 bytes.",
                               valueName: "N"))
    var maxHeld = 100_000

    func validate() throws {
        if topics.isEmpty && services.isEmpty {
            throw ValidationError("name a topic (opsdeck tail search-service) or a service (--service search-service)")
        }
        if TailOutput(rawValue: output) == nil {
            throw ValidationError("--output \(output): expected one of text, raw, json")
        }
        if around < 0 { throw ValidationError("--around \(around): must be 0 or more") }
        if around > 0 && include.isEmpty { throw ValidationError("--around needs --include: the lines shown are around matches") }
        for property in properties where !property.contains("=") {
            throw ValidationError("-X \(property): expected key=value, e.g. -X fetch.wait.max.ms=50")
        }
        if maxHeld < 1 { throw ValidationError("--max-held \(maxHeld): must be 1 or more") }
        if TailPosition.parseDuration(window) == nil {
            throw ValidationError("--window \(window): expected a duration such as 500ms, 5s, 1m")
        }
    }

    func run() async throws {
        HeapPolicy.keepLargeBlocksMapped()
        let now = Date()
        var request: TailRequest
        let filter: RecordFilter
        var formatter: TailFormatter
        do {
            let format = TailOutput(rawValue: output)!
            let environment = ProcessInfo.processInfo.environment
            let cluster = try contextOptions.resolve(environment: environment)
            if let reason = cluster.unavailable(brokersFlag: brokers, graphiteFlag: "-")[.logs] {
                throw ValidationError("\(reason): add it, or give --brokers")
            }
            let isTerminal = isatty(STDOUT_FILENO) == 1
            let colour = isTerminal && !noColor && (environment["NO_COLOR"] ?? "").isEmpty
            request = TailRequest(
                bootstrapServers: cluster.kafkaBrokers(flag: brokers),
                topics: uniqued(topics + services),
                start: try TailPosition.parseStart(from, now: now),
                until: try until.map { try TailPosition.parseUntil($0, now: now) },
                follow: !noFollow,
                windowMilliseconds: Int64(TailPosition.parseDuration(window)! * 1000), capacity: maxHeld)
            request.properties = cluster.kafkaProperties(flag: brokers)  // -X over the context's
            for property in properties {
                let parts = property.split(separator: "=", maxSplits: 1)
                request.properties[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            filter = try RecordFilter(include: include, exclude: exclude, context: around)
            formatter = try TailFormatter(output: format, color: colour, sanitizeRaw: isTerminal, highlight: highlight)
        } catch let error as TailArgumentError {
            throw ValidationError(error.message)
        }

        signal(SIGPIPE, SIG_IGN)  // a closed pipe (| head) ends the tail quietly, see Output.write
        var output = Output()
        var window = filter.makeWindow(of: LogEntry.self)
        let rawPassThrough = filter.isPassThrough && formatter.output == .raw
        do {
            try await KafkaTail(request).run(deliver: { records in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(records.count * 64)
                records.forEachMoved { record in
                    if rawPassThrough {  // the fast path: no decoding at all
                        formatter.append(record, to: &bytes)
                        return
                    }
                    let entry = LogEntry(record)
                    let (excluded, matches) = filter.classify(entry.instance + " " + (entry.level ?? "") + " " + entry.text)
                    if excluded { return }
                    window.feed(entry, matches: matches) { shown in
                        switch shown {
                        case .match(let entry): formatter.append(entry, to: &bytes)
                        case .context(let entry): formatter.append(entry, context: true, to: &bytes)
                        case .gap: formatter.appendGap(to: &bytes)
                        }
                    }
                }
                output.write(bytes)
            }, notice: { notice in
                if case .behind = notice { return }  // the console's status bar shows lag; the CLI stays quiet
                let hint = if case .mergeFull = notice { " (--max-held raises the bound)" } else { "" }
                FileHandle.standardError.write(Data("opsdeck tail: \(notice)\(hint)\n".utf8))
            })
        } catch let failure as TailFailure {
            FileHandle.standardError.write(Data("opsdeck tail: \(failure)\n".utf8))
            throw ExitCode(1)
        } catch let error as KafkaError {
            FileHandle.standardError.write(Data("opsdeck tail: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func uniqued(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

/// Writes to stdout with write(2) directly: one call per delivered batch, no buffering in between, so
/// a follower sees each line as soon as it is released.
struct Output {
    mutating func write(_ bytes: [UInt8]) {
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Foundation.write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { usleep(1_000); continue }  // a non-blocking stdout that is full: wait
                    // EPIPE: the reader went away (| head); that is the end of the tail, not an error. Any
                    // other failure (a full disk under `> all.log`) loses lines: say so, and fail.
                    if errno == EPIPE { exit(0) }
                    let reason = String(cString: strerror(errno))
                    FileHandle.standardError.write(Data("opsdeck tail: cannot write the output: \(reason)\n".utf8))
                    exit(1)
                }
                offset += n
            }
        }
    }
}
