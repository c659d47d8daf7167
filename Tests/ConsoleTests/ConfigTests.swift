import Console
import Foundation
import Testing
import TUI

@Suite(.timeLimit(.minutes(1))) struct ConfigTests {
    @Test func themeAndBindingsFromTheConfigFile() throws {
        let config = try ConsoleConfigFile.parse("""
            # mine
            theme light
            bind quit x,ctrl-q   # not q
            """, file: "c")
        #expect(config.theme == "light")
        var keymap = PaneRegistry.standard.defaultKeymap
        #expect(keymap.remap(config.bindings).isEmpty)
        #expect(keymap.action(for: .character("x"), scopes: ["services", "shell"]) == "shell.quit")
        #expect(keymap.action(for: .character("q"), scopes: ["services", "shell"]) == nil)
        // The help overlay and the hint bar read the same table.
        let reducer = ConsoleReducer(keymap: keymap)
        var state = ConsoleState()
        state.size = Size(width: 120, height: 24)
        _ = reducer.reduce(&state, .tick(now: 0))
        #expect(ConsoleView.render(state, reducer).lines()[23].hasSuffix("enter open  ? help  : command  x quit"))
        // Where the feeds' status needs the room, the pane's hints go first, then all but the first.
        state.size = Size(width: 82, height: 24)
        let shellOnly = ConsoleView.render(state, reducer).lines()[23]
        #expect(shellOnly.hasSuffix("│         ? help  : command  x quit") && !shellOnly.contains("open"))
        state.size = Size(width: 70, height: 24)
        let narrow = ConsoleView.render(state, reducer).lines()[23]
        #expect(narrow.hasSuffix(" ? help") && narrow.contains("◌ checks connecting │") && !narrow.contains("quit"))
        _ = reducer.reduce(&state, .input(.key(.character("?"))))
        #expect(ConsoleView.render(state, reducer).text.contains("x, ctrl-q       Quit"))
    }

    @Test func hashCanBeBoundByName() throws {
        let config = try ConsoleConfigFile.parse("bind help hash  # '#' opens the help\n", file: "c")
        var keymap = PaneRegistry.standard.defaultKeymap
        #expect(keymap.remap(config.bindings).isEmpty)
        #expect(keymap.action(for: .character("#"), scopes: ["instances", "shell"]) == "shell.help")
    }

    @Test func bindingsByPaneOrForEveryPane() {
        var keymap = PaneRegistry.standard.defaultKeymap
        #expect(keymap.remap(["bind down n", "bind services.open o", "bind instances.nothing z", "bind zoom enter"])
                == ["'bind instances.nothing z': no action 'instances.nothing' (actions: \(PaneRegistry.standard.defaultKeymap.bindings.map(\.action).joined(separator: ", ")))"])
        // A bare name binds that command in every pane; a pane's name binds it there only.
        #expect(keymap.action(for: .character("n"), scopes: ["services", "shell"]) == "services.down")
        #expect(keymap.action(for: .character("n"), scopes: ["instances", "shell"]) == "instances.down")
        #expect(keymap.action(for: .character("j"), scopes: ["instances", "shell"]) == nil)
        #expect(keymap.action(for: .character("o"), scopes: ["services", "shell"]) == "services.open")
        // A key given to the shell leaves every pane: enter zooms now, in the services pane too.
        #expect(keymap.action(for: .enter, scopes: ["services", "shell"]) == "shell.zoom")
        #expect(keymap.keys(for: "services.open") == [.character("o")])
    }

    @Test func badLinesAreReportedWithTheirPlace() throws {
        #expect(throws: ConsoleConfigFile.Problem.self) { try ConsoleConfigFile.parse("theme\ncolour red", file: "cfg") }
        #expect { try ConsoleConfigFile.parse("theme dark\ncolour red", file: "cfg") } throws: {
            "\($0)" == "cfg, line 2: expected 'theme NAME', 'bind ACTION KEY[,KEY...]', 'log_lines N', 'context NAME' or 'default_context NAME'"
        }
        #expect(try ConsoleConfigFile.parse("log_lines 500000", file: "cfg").logLines == 500_000)
        #expect { try ConsoleConfigFile.parse("log_lines 10", file: "cfg") } throws: {
            "\($0)" == "cfg, line 1: log_lines must be a whole number from 1000 to 10000000"
        }
        #expect(throws: ConsoleConfigFile.Problem.self) { try ConsoleConfigFile.load(path: "/nonexistent/opsdeck", environment: [:]) }
        #expect(try ConsoleConfigFile.load(path: nil, environment: ["XDG_CONFIG_HOME": "/nonexistent"]) == ConsoleConfigFile())
    }

    @Test func contextsAreIndentedBlocksWithTheirDefault() throws {
        let config = try ConsoleConfigFile.parse("""
            theme light
            default_context prod
            context staging
              consul https://consul.staging.example:8501   # TLS
              consul_dns 10.0.0.2:8600
              consul_ca /etc/opsdeck/staging-ca.pem
              kafka_brokers k1:9093,k2:9093
              kafka_property security.protocol SASL_SSL
              kafka_property sasl.mechanism SCRAM-SHA-256
            context prod
            \tconsul_token_file ~/.config/opsdeck/prod.token
            \tgraphite https://graphite.example
            \tgraphite_header Authorization: Basic b3BzOmRlY2s=
            \tgraphite_header X-Key: a#b   # a '#' inside a value is kept
            \tproduction
            \tread_only
            log_lines 2000
            """, file: "cfg")
        #expect(config.theme == "light" && config.logLines == 2_000 && config.defaultContext == "prod")
        #expect(config.contexts.map(\.name) == ["staging", "prod"])
        let staging = try #require(config.context(named: "staging"))
        #expect(staging.consul == "https://consul.staging.example:8501" && staging.consulDNS == "10.0.0.2:8600")
        #expect(staging.consulCA == "/etc/opsdeck/staging-ca.pem" && staging.consulClientCertificate == nil)
        #expect(staging.kafkaProperties == [.init("security.protocol", "SASL_SSL"), .init("sasl.mechanism", "SCRAM-SHA-256")])
        #expect(!staging.production && !staging.readOnly)
        let prod = try #require(config.context(named: "prod"))
        #expect(prod.consulTokenFile == "~/.config/opsdeck/prod.token" && prod.graphite == "https://graphite.example")
        #expect(prod.graphiteHeaders == [.init("Authorization", "Basic b3BzOmRlY2s="), .init("X-Key", "a#b")])
        #expect(prod.production && prod.readOnly && prod.consul == nil)
    }

    @Test func badContextsSayWhatWasExpected() {
        let cases: [(String, String)] = [
            ("  consul x:1", "cfg, line 1: an indented line outside a 'context NAME' block"),
            ("context a\n  consul", "cfg, line 2: in context a, expected consul ADDRESS"),
            ("context a\n  consul_dns nowhere", "cfg, line 2: in context a, expected consul_dns HOST:PORT"),
            ("context a\n  colour red", "cfg, line 2: in context a, expected one of: consul, consul_dns, consul_token_file, consul_ca, consul_client_cert, consul_client_key, kafka_brokers, kafka_property, graphite, graphite_header, grpc_tls, grpc_ca, grpc_client_cert, grpc_client_key, production, read_only"),
            ("context a\n  kafka_property acks", "cfg, line 2: in context a, expected kafka_property NAME VALUE"),
            ("context a\n  graphite_header novalue", "cfg, line 2: in context a, expected graphite_header NAME: VALUE"),
            ("context a\ncontext a", "cfg, line 2: context a is defined twice"),
            ("default_context b\ncontext a", "cfg: default_context b is not defined (contexts: a)"),
            ("context a\n  grpc_client_cert c.pem", "cfg: in context a, grpc_client_cert and grpc_client_key go together"),
            ("context a\n  consul_client_key k.pem", "cfg: in context a, consul_client_cert and consul_client_key go together"),
        ]
        for (text, message) in cases {
            #expect { try ConsoleConfigFile.parse(text, file: "cfg") } throws: { "\($0)" == message }
        }
    }
}
