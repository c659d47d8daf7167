import ArgumentParser
import Consul
import Foundation
import HelpText
import SearchSettings
import TerminalSafety

/// `opsdeck kv`: the config pane's twin. Consul KV read, written check-and-set, deleted and watched.
struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Read, write, delete, list and watch Consul KV (the config pane's twin).",
        discussion: HelpText.reflow("""
            Consul's address and token come from --consul, else $CONSUL_HTTP_ADDR, and $CONSUL_HTTP_TOKEN
            (or $CONSUL_HTTP_TOKEN_FILE), as Consul's own CLI reads them. A token is never printed.

              opsdeck kv get search-service/log_level
              opsdeck kv put search-service/log_level debug --cas 42   if still at index 42
              opsdeck kv put search-service/blob - < blob.bin        from stdin, as it is
              opsdeck kv ls search-service/
              opsdeck kv watch search-service/ --recurse             each change

            Writes to search-server's settings (<service>/<key> where the service's instances register
            its settings table) are checked against its rules first; --force writes anyway.

            Exit status: 0 done; 1 the key does not exist (get), or a check-and-set, a setting's rule or a
            read-only context (or --readonly) refused the write (nothing written); 2 Consul could not be read
            (a refused token says so and what to fix) or another error; 64 a usage error.
            """),
        subcommands: [Get.self, Put.self, Delete.self, List.self, Watch.self]
    )

    struct Common: ParsableArguments {
        @OptionGroup var consulOptions: ConsulOptions

        @Option(help: ArgumentHelp("text or json.", valueName: "format"))
        var output = "text"

        func validate() throws {
            guard ["text", "json"].contains(output) else { throw ValidationError("--output \(output): expected text or json") }
        }

        func consul() throws -> ConsulClient { ConsulClient(configuration: try consulOptions.configuration()) }
        /// Exits 1 with the reason when the context (or --readonly) refuses writes.
        func checkWritable(_ command: String) throws { try consulOptions.cluster().checkWritable(command) }
        var json: Bool { output == "json" }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a key's value (raw bytes into a pipe; made safe on a terminal).",
            discussion: HelpText.reflow("""
                With --recurse, every key under KEY as `key:value` lines made safe for a terminal (text), or an \
                array (json). On a terminal, control characters show as ^[ and continuation lines are indented.
                """))

        @Argument(help: ArgumentHelp("The key (with --recurse: a prefix).", valueName: "key")) var key: String
        @Flag(help: "Every key under KEY.") var recurse = false
        @OptionGroup var common: Common

        func run() async throws {
            try await exitingTwoOnErrors("opsdeck kv get") {
                let consul = try common.consul()
                if recurse {
                    let pairs = try await consul.list(prefix: key).value
                    guard !pairs.isEmpty else {
                        FileHandle.standardError.write(Data("opsdeck kv get: no key under \(safe(key))\n".utf8))
                        throw ExitCode(1)
                    }
                    if common.json { return print(try jsonLine(pairs.map(KVJSON.object))) }
                    for pair in pairs { print(safe("\(pair.key):" + String(decoding: pair.value, as: UTF8.self))) }
                    return
                }
                guard let pair = try await consul.get(key: key).value else {
                    FileHandle.standardError.write(Data("opsdeck kv get: no key \(safe(key))\n".utf8))
                    throw ExitCode(1)
                }
                if common.json { return print(try jsonLine(KVJSON.object(pair))) }
                if isatty(STDOUT_FILENO) == 1 {
                    print(TerminalText.sanitize(pair.value))
                } else {
                    FileHandle.standardOutput.write(Data(pair.value))  // byte for byte: `put KEY - < file` gives it back
                }
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a key's value, check-and-set with --cas.",
            discussion: HelpText.reflow("""
                --cas INDEX writes only if the key's ModifyIndex is still INDEX (0: only if it does not exist); \
                otherwise nothing is written, the key's current index is said, and the exit status is 1.
                """))

        @Argument(help: ArgumentHelp("The key.", valueName: "key")) var key: String
        @Argument(help: ArgumentHelp("The value; - reads it from stdin.", valueName: "value")) var value: String
        @Option(help: ArgumentHelp("Write only at this ModifyIndex (0: only a new key).", valueName: "index")) var cas: UInt64?
        @Option(help: ArgumentHelp("An opaque number stored with the key (0 when not given, as Consul does).", valueName: "n")) var flags: UInt64?
        @Flag(help: "Write a search-server setting even when its rules refuse the value.") var force = false
        @OptionGroup var common: Common

        func run() async throws {
            try await exitingTwoOnErrors("opsdeck kv put") {
                try common.checkWritable("opsdeck kv put")
                let bytes = value == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(value.utf8)
                let consul = try common.consul()
                if !force, let refusal = try await settingRefusal(key, String(decoding: bytes, as: UTF8.self), consul) {
                    FileHandle.standardError.write(Data("opsdeck kv put: not written: \(safe(refusal)) (--force writes anyway)\n".utf8))
                    throw ExitCode(1)
                }
                guard try await consul.put(key: key, value: bytes, flags: flags, cas: cas) else {
                    try await refusedByCAS("put", key, consul)
                }
                if common.json { return print(try jsonLine(["key": key, "written": true] as [String: Any])) }
                print("wrote \(safe(key)) (\(bytes.count) bytes)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key, or a folder (KEY ending in /) and everything in it with --recurse.")

        @Argument(help: ArgumentHelp("The key (with --recurse: a prefix).", valueName: "key")) var key: String
        @Flag(help: "Every key under KEY.") var recurse = false
        @Option(help: ArgumentHelp("Delete only at this ModifyIndex.", valueName: "index")) var cas: UInt64?
        @OptionGroup var common: Common

        func validate() throws {
            if recurse && cas != nil { throw ValidationError("--cas and --recurse: a prefix has no index of its own") }
            // `delete search --recurse` would also take search-service/ and search-x/: a folder is named whole.
            if recurse && !key.hasSuffix("/") { throw ValidationError("--recurse deletes a folder: end the key with / (\(key)/)") }
            if recurse && key == "/" { throw ValidationError("--recurse on / would delete every key in Consul") }
            if cas == 0 { throw ValidationError("--cas 0 means 'only if absent', which a delete cannot be: give the key's ModifyIndex") }
        }

        func run() async throws {
            try await exitingTwoOnErrors("opsdeck kv delete") {
                try common.checkWritable("opsdeck kv delete")
                let consul = try common.consul()
                guard try await consul.delete(key: key, recurse: recurse, cas: cas) else {
                    try await refusedByCAS("delete", key, consul)
                }
                if common.json { return print(try jsonLine(["key": key, "deleted": true] as [String: Any])) }
                print("deleted \(safe(key))" + (recurse ? " and everything under it" : ""))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List the keys under a prefix, one level (folders end in /), or all with --recurse.")

        @Argument(help: ArgumentHelp("The prefix (default: the top).", valueName: "prefix")) var prefix = ""
        @Flag(help: "Every key at any depth.") var recurse = false
        @OptionGroup var common: Common

        func run() async throws {
            try await exitingTwoOnErrors("opsdeck kv ls") {
                let keys = try await common.consul().keys(prefix: prefix, separator: recurse ? nil : "/").value
                if common.json { return print(try jsonLine(keys)) }
                keys.forEach { print(safe($0)) }
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a key (or every key under a prefix) and then each change, until interrupted.",
            discussion: HelpText.reflow("""
                Blocking queries, no polling: a line appears when Consul says the key changed. Like every \
                Consul watch it shows states, not each write: two writes in quick succession can show as the \
                second alone. Text lines are
                `TIME set KEY=VALUE (ModifyIndex N)` or `TIME deleted KEY`; json is one object a line.
                Consul going away is said on stderr and retried.
                """))

        @Argument(help: ArgumentHelp("The key (with --recurse: a prefix).", valueName: "key")) var key: String
        @Flag(help: "Every key under KEY.") var recurse = false
        @OptionGroup var common: Common

        func run() async throws {
            try await exitingTwoOnErrors("opsdeck kv watch") {
                let consul = try common.consul(), key = key, recurse = recurse
                let watch = ConsulWatch { options in
                    if recurse { return try await consul.list(prefix: key, options) }
                    let read = try await consul.get(key: key, options)
                    return Indexed(value: read.value.map { [$0] } ?? [], meta: read.meta)
                }
                var last: [KVPair]?
                var failing = false
                for await update in watch {
                    switch update {
                    case .filteredByACLs:
                        FileHandle.standardError.write(Data("opsdeck kv watch: Consul's ACLs hid keys under \(safe(key)) from this token; \(safe(consul.configuration.tokenFix))\n".utf8))
                    case .failed(let error, _, let retryIn):
                        if !failing { FileHandle.standardError.write(Data("opsdeck kv watch: \(safe("\(error)")); retrying in \(retryIn)\n".utf8)) }
                        failing = true
                    case .value(let pairs, _):
                        if failing { FileHandle.standardError.write(Data("opsdeck kv watch: Consul is back\n".utf8)) }
                        failing = false
                        if last == nil && pairs.isEmpty {
                            FileHandle.standardError.write(Data("opsdeck kv watch: no key \(safe(key)) yet; waiting for it\n".utf8))
                        }
                        let changes = KVChanges(from: last ?? [], to: pairs)
                        last = pairs
                        try report(changes)
                    }
                }
            }
        }

        func report(_ changes: KVChanges) throws {
            let time = ISO8601DateFormatter().string(from: Date())
            for pair in changes.written {
                if common.json {
                    print(try jsonLine(KVJSON.object(pair).merging(["time": time, "event": "set"]) { a, _ in a }))
                } else {
                    print("\(time) set \(safe(pair.key))=\(safe(String(decoding: pair.value, as: UTF8.self))) (ModifyIndex \(pair.modifyIndex))")
                }
            }
            for deleted in changes.deleted {
                if common.json { print(try jsonLine(["time": time, "event": "deleted", "key": deleted])) } else { print("\(time) deleted \(safe(deleted))") }
            }
            fflush(nil)  // a line as soon as it happens, also into a pipe
        }
    }
}

/// A write check-and-set refused: what the key is now, on stderr, and exit 1.
private func refusedByCAS(_ verb: String, _ key: String, _ consul: ConsulClient) async throws -> Never {
    let state: String
    do {
        state = try await consul.get(key: key).value.map { "its ModifyIndex is now \($0.modifyIndex)" } ?? "it does not exist"
    } catch {
        state = "its index now could not be read"  // the refusal is what matters: still exit 1
    }
    FileHandle.standardError.write(Data("opsdeck kv \(verb): not written: \(safe(key)) changed since that index (\(state))\n".utf8))
    throw ExitCode(1)
}

/// Why search-server would refuse this value, when the key is one of its settings: `<service>/<setting>`
/// for a service whose instances register its settings table. The other keys are read as they are now.
private func settingRefusal(_ key: String, _ value: String, _ consul: ConsulClient) async throws -> String? {
    let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2, ServerSettings.key(named: parts[1]) != nil else { return nil }
    let instances = try await consul.health(service: parts[0]).value
    guard instances.contains(where: { SettingsTable.announced(in: $0.service.meta) }) else { return nil }
    // The keys as the server reads them (envconsul's rules).
    let kv = KVEnvironment(prefix: parts[0] + "/").variables(from: try await consul.list(prefix: parts[0] + "/").value)
    return ServerSettings.refusal(key: parts[1], value: value, kv: kv)
}

/// Remote text on a terminal: no escape sequences.
private func safe(_ text: String) -> String { TerminalText.sanitize(text) }

/// A pair as `--output json` gives it: the value as text when it is UTF-8, else base64.
enum KVJSON {
    static func object(_ pair: KVPair) -> [String: Any] {
        var object: [String: Any] = ["key": pair.key, "flags": pair.flags, "create_index": pair.createIndex,
                                     "modify_index": pair.modifyIndex]
        if let text = String(validating: pair.value, as: UTF8.self) {
            object["value"] = text
        } else {
            object["value_base64"] = Data(pair.value).base64EncodedString()
        }
        return object
    }
}
