import ArgumentParser
import BuiltinThemes
import Console
import ConsoleFeeds
import HelpText
import Telemetry
import Consul
import SearchClient
import Foundation
import TUI

/// Where the console reads the Consul agent from: `--consul`, else the environment like the consul CLI.
struct ConsulOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Consul HTTP address (default: the context's, else $CONSUL_HTTP_ADDR, else 127.0.0.1:8500; token from the context's consul_token_file, else $CONSUL_HTTP_TOKEN).",
                               valueName: "host:port"))
    var consul: String?

    /// `--context`, `--readonly` and `--config`: every command that reads Consul takes them through here.
    @OptionGroup var contextOptions: ContextOptions

    func cluster() throws -> Cluster { try contextOptions.resolve() }

    /// Consul as the flag, the context or the environment says.
    func configuration() throws -> ConsulConfiguration { try cluster().consul(flag: consul) }
}

/// Where Graphite's render API is: `--graphite`, else the context's, else `$OPSDECK_GRAPHITE_URL`, else the stack's.
struct GraphiteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("graphite-web's URL (default: the context's, else $OPSDECK_GRAPHITE_URL, else http://127.0.0.1:8002).", valueName: "url"))
    var graphite: String?

}

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The interactive console (what `opsdeck` runs with no command).",
        discussion: HelpText.reflow("""
            A dashboard of panes that follow the selected service: the services in Consul (live from
            blocking queries, instances counted by health); the service's instances (every check with its
            output, a strip of recent health, each instance's Monitor RPC polled every 2 s); its metrics
            from Graphite as braille charts ([ ] range, ←/→ time cursor, :metric TARGET); and its log
            topic from Kafka, merged as `opsdeck tail` merges it (/ filter, - exclude, a every instance,
            k pause, G follow, w wrap, T times, t jump to the chart cursor's moment, c chart cursor to a
            line's time; L on an instance row shows its lines). F (or :search QUERY) opens the search pane:
            a prompt for ad-hoc searches (48.8566 2.3522, france, name:fr near 48.85,2.35; ↑ and ctrl-r
            search the history), sent to an instance found through Consul DNS (--dns) with one retry on
            another, the results beside a braille map of the selected area; y copies the search as a
            command. K (or :config SERVICE) opens the config pane: the service's Consul KV as a tree,
            watched live; e edits (E in $EDITOR), n adds, d deletes, all check-and-set on the index
            shown; search-server's settings explained, checked before writing, and followed onto the
            instances ("applied live on 3 instances", "3 instances restarting… 3 back").

            Keys: ? help, : command line (tab completes: services, instances NAME, theme NAME, show PANE,
            hide PANE, zoom, help, q), tab/shift-tab focus the next/previous pane (or click it), z zooms
            the focused pane, / filter, Enter open, Esc back, j/k or arrows move, s sort, S reverse, q quit.

            Config file ($XDG_CONFIG_HOME/opsdeck/config, else ~/.config/opsdeck/config), one setting per line:
              theme light
              bind quit q,ctrl-q          # ACTION: shell.quit, services.open, ...
              log_lines 500000            # lines the logs pane holds (default 100000)
              default_context staging     # used without --context (or $OPSDECK_CONTEXT)

            and a block per environment (:context NAME switches to it live; every command takes --context):
            \(ConsoleContext.syntax.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

            A context replaces the environment's CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_HTTP_SSL,
            CONSUL_CACERT, CONSUL_CLIENT_CERT/KEY, OPSDECK_KAFKA_BROKERS and OPSDECK_GRAPHITE_URL (a token is never
            sent to another cluster); flags override both.

            Themes are files NAME.theme in $OPSDECK_THEMES or $XDG_CONFIG_HOME/opsdeck/themes, else the
            built-in ones (dark, light, mono). NO_COLOR turns colour off.
            """)
    )

    @OptionGroup var consulOptions: ConsulOptions
    @OptionGroup var graphiteOptions: GraphiteOptions
    @OptionGroup var grpcOptions: GRPCTLSOptions

    @Option(help: ArgumentHelp("Kafka bootstrap servers for the logs pane (default: the context's, else $OPSDECK_KAFKA_BROKERS, else 127.0.0.1:9092).",
                               valueName: "host:port,..."))
    var brokers: String?

    @Option(help: ArgumentHelp("Consul's DNS interface, where the search pane finds instances (HTTP is the fallback; default: the context's, else 127.0.0.1:8600).",
                               valueName: "host:port"))
    var dns: String?

    @Option(help: ArgumentHelp("Colour theme (dark, light, mono, or a file of yours).", valueName: "name"))
    var theme: String?

    @Flag(help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "Do not capture the mouse (leaves text selection to the terminal).")
    var noMouse = false

    @Option(help: .hidden)
    var debugCrashAfter: Double?

    /// The console's loop runs on a thread of its own until the operator quits. Run from here directly, it
    /// held one of the cooperative pool's threads for the console's life: on two cores, every feed, the
    /// logs' merge and the Monitor polls shared the one left.
    func run() async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            let thread = Thread { done.resume(with: Result { try runConsole() }) }
            thread.name = "opsdeck-ui"
            thread.start()
        }
    }

    func runConsole() throws {
        HeapPolicy.keepLargeBlocksMapped()
        let environment = ProcessInfo.processInfo.environment
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ValidationError("the console needs a terminal; for scripts use `opsdeck services` or `opsdeck tail`")
        }
        let cluster = try consulOptions.contextOptions.resolve(environment: environment)
        let settings = cluster.file
        let registry = PaneRegistry.standard
        var keymap = registry.defaultKeymap
        let problems = keymap.remap(settings.bindings)
        let directories = Theme.searchPath(environment: environment)
        let colourOff = noColor || !(environment["NO_COLOR"] ?? "").isEmpty
        let loadTheme: @Sendable (String) throws -> Theme = { name in
            let theme = try Theme.load(name, from: directories, builtin: BuiltinThemes.files)
            return colourOff ? theme.withoutColor : theme
        }
        var chosen: Theme
        var themeProblem: String?
        do {
            chosen = try loadTheme(theme ?? settings.theme ?? "dark")
        } catch {
            chosen = .monochrome
            themeProblem = "\(error); using monochrome"
        }

        let inbox = ActionInbox(logCapacity: settings.logLines ?? LogBuffer().capacity)
        let history = SearchHistory(path: SearchHistory.standardPath(environment), limit: SearchPane.historyLimit)
        let dashboards = ConsoleConfigFile.directory(environment: environment).map { "\($0)/dashboards" }
        // What runs one context's feeds; flags count for the context the console starts on only.
        let start = { (cluster: Cluster, flags: Bool) throws -> ContextSwitch in
            let configuration = try cluster.consul(flag: flags ? consulOptions.consul : nil)
            let consul = ConsulClient(configuration: configuration)
            let dns = try cluster.consulDNS(flag: flags ? dns : nil)
            let runtime = FeedRuntime(consul: consul,
                                      graphite: cluster.graphite(flag: flags ? graphiteOptions.graphite : nil),
                                      dashboardDirectory: dashboards,
                                      kafkaBrokers: cluster.kafkaBrokers(flag: flags ? brokers : nil), kafkaProperties: cluster.kafkaProperties(flag: flags ? brokers : nil),
                                      searchDiscovery: InstanceDiscovery(.consul(dns: ConsulDNS(server: dns.host, port: dns.port), http: consul)),
                                      searchHistory: history, grpcTLS: try cluster.grpcTLS(flags ? grpcOptions : nil),
                                      unavailable: cluster.unavailable(brokersFlag: flags ? brokers : nil,
                                                                       graphiteFlag: flags ? graphiteOptions.graphite : nil),
                                      loadTheme: loadTheme, send: inbox.send)
            return ContextSwitch(runtime: runtime, header: "consul " + configuration.baseURL.replacingOccurrences(of: "http://", with: ""),
                                 badge: cluster.badge, readOnly: cluster.readOnly)
        }
        let first = try start(cluster, true)
        TerminalGuard.install(inbox: inbox)
        let backend = NcursesBackend(useColor: !colourOff, mouse: !noMouse, wakeDescriptor: inbox.wakeDescriptor)
        defer { backend.shutdown() }
        let themes = Theme.available(in: directories, builtin: BuiltinThemes.files)
        var options = ConsoleApp.Options(reducer: ConsoleReducer(registry: registry, keymap: keymap, themes: themes,
                                                                 contexts: settings.contexts.map(\.name)))
        options.switchContext = { name in try start(cluster.switched(to: name), false) }
        let app = ConsoleApp(backend: backend, inbox: inbox, runtime: first.runtime, options: options, theme: chosen,
                             header: first.header, context: first.badge, readOnly: first.readOnly) { state in
            let searches = history.load()
            state.preparePane(SearchPane.self) { $0.history = searches }
            if let lines = settings.logLines { state.preparePane(LogsPane.self) { $0.buffer = LogBuffer(capacity: lines) } }
        }
        if let problem = themeProblem ?? problems.first {
            inbox.send(.themeFailed(problem, at: epochMilliseconds()))
        }
        if let seconds = debugCrashAfter {
            // Exercises the crash path (terminal restored by TerminalGuard) in the end-to-end tests.
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { fatalError("--debug-crash-after") }
        }
        app.run()
        // For benchmarks (scripts/bench-logs): how long the frames and the loop's busy stretches took.
        if let path = environment["OPSDECK_FRAME_STATS"] {
            let text = "frames: \(app.frameTimes.summary)\nbusy: \(app.busyTimes.summary)\n"
            if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
                FileHandle.standardError.write(Data("opsdeck: cannot write the frame statistics to \(path) (OPSDECK_FRAME_STATS)\n".utf8))
            }
        }
    }
}

/// Gives the terminal back whatever happens: SIGINT/SIGTERM/SIGHUP become a clean quit through the
/// loop; a crash (a trap, abort, segfault) restores the saved terminal modes and leaves the alternate
/// screen from the signal handler, then dies of the same signal.
enum TerminalGuard {
    nonisolated(unsafe) static var saved = termios()
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    // rmcup (leave the alternate screen), show the cursor, reset attributes: written byte by byte
    // from the handler, which must not allocate.
    nonisolated(unsafe) static var reset: [UInt8] = Array("\u{1B}[?1049l\u{1B}[?25h\u{1B}[0m\r\n".utf8)

    static func install(inbox: ActionInbox) {
        tcgetattr(STDIN_FILENO, &saved)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)  // set before initscr, so ncurses keeps its hands off them
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { inbox.send(.quitRequested) }
            source.resume()
            sources.append(source)
        }
        for sig in [SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGSEGV, SIGFPE] {
            signal(sig) { sig in
                tcsetattr(STDIN_FILENO, TCSANOW, &TerminalGuard.saved)
                TerminalGuard.reset.withUnsafeBufferPointer { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}
