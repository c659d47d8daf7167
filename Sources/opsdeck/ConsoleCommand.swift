import ArgumentParser
import Console
import Consul
import Foundation
import TUI

/// Where the console reads the Consul agent from: `--consul`, else the environment like the consul CLI.
struct ConsulOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Consul HTTP address (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500; token from $CONSUL_HTTP_TOKEN).",
                               valueName: "host:port"))
    var consul: String?

    func configuration() -> ConsulConfiguration {
        var environment = ProcessInfo.processInfo.environment
        if let consul { environment["CONSUL_HTTP_ADDR"] = consul }
        return .fromEnvironment(environment)
    }
}

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The interactive console (what `opsdeck` runs with no command).",
        discussion: """
            Services live from Consul's blocking queries, with instance counts by health; Enter opens a
            service's instances: address, node, every check with its output, a strip of recent health, and
            each instance's Monitor RPC polled every 2 s (1 s deadline) with the call's round trip.

            Keys: ? help, : command line (services, instances NAME, theme NAME, q), / filter, Enter open,
            Esc back, j/k or arrows move, s sort, S reverse, q quit.

            Config file ($XDG_CONFIG_HOME/opsdeck/config, else ~/.config/opsdeck/config), one setting per line:
              theme light
              bind quit q,ctrl-q
            Themes are files NAME.theme in $OPSDECK_THEMES, $XDG_CONFIG_HOME/opsdeck/themes, or the
            package's Themes/ (dark, light, mono). NO_COLOR turns colour off.
            """
    )

    @OptionGroup var consulOptions: ConsulOptions

    @Option(help: ArgumentHelp("Colour theme (dark, light, mono, or a file of yours).", valueName: "name"))
    var theme: String?

    @Option(help: ArgumentHelp("Config file to read instead of the default one.", valueName: "path"))
    var config: String?

    @Flag(help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "Do not capture the mouse (leaves text selection to the terminal).")
    var noMouse = false

    @Option(help: .hidden)
    var debugCrashAfter: Double?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ValidationError("the console needs a terminal; for scripts use `opsdeck services` or `opsdeck tail`")
        }
        let settings: ConsoleConfigFile
        do { settings = try ConsoleConfigFile.load(path: config, environment: environment) } catch {
            throw ValidationError("\(error)")
        }
        var keymap = ConsoleKeys.defaults
        let problems = keymap.remap(settings.bindings)
        let directories = Theme.searchPath(environment: environment, executable: CommandLine.arguments[0])
        let colourOff = noColor || !(environment["NO_COLOR"] ?? "").isEmpty
        let themeName = theme ?? settings.theme ?? "dark"
        var chosen: Theme
        var themeProblem: String?
        do {
            chosen = try Theme.load(themeName, from: directories)
        } catch {
            chosen = .monochrome
            themeProblem = "\(error); using monochrome"
        }
        if colourOff { chosen = chosen.withoutColor }

        let inbox = ActionInbox()
        let consul = ConsulClient(configuration: consulOptions.configuration())
        let effects = ConsoleEffects(consul: consul, send: inbox.send)
        TerminalGuard.install(inbox: inbox)
        let backend = NcursesBackend(useColor: !colourOff, mouse: !noMouse, wakeDescriptor: inbox.wakeDescriptor)
        defer { backend.shutdown() }
        let themes = Array(Set(Theme.available(in: directories) + ["dark", "light", "mono"])).sorted()
        var options = ConsoleApp.Options(theme: chosen, themeDirectories: directories, noColor: colourOff,
                                         reducer: ConsoleReducer(keymap: keymap, themes: themes))
        options.theme = chosen
        let app = ConsoleApp(backend: backend, inbox: inbox, effects: effects, options: options)
        if let problem = themeProblem ?? problems.first {
            inbox.send(.themeFailed(problem, at: epochMilliseconds()))
        }
        if let seconds = debugCrashAfter {
            // Exercises the crash path (terminal restored by TerminalGuard) in the end-to-end tests.
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { fatalError("--debug-crash-after") }
        }
        app.run()
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
