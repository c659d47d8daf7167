import ArgumentParser
import Consul
import DevConsul
import Foundation
import HelpText
import Synchronization

@main
struct ConsulBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consul-bench",
        abstract: "Prints how fast Consul watches see writes and what idle watches cost.",
        discussion: HelpText.reflow("""
            1. Change latency: one watch blocks on a KV key; each sample writes the key and times until the \
            watch yields the new value. Samples are 1.1 s apart so the watch is blocked again when the write \
            comes (its rate limiter allows one read a second under churn). Printed beside a plain \
            non-blocking GET of the same key (the baseline).
            2. Idle cost: N watches block on distinct prefixes for --idle-seconds; CPU time used by this process \
            (client, and the agent too when it runs in-process) is printed as a share of one core.

            Without --consul an in-process devconsul is used; with it, e.g. --consul 127.0.0.1:8500 \
            --agent-pid $(cat /var/tmp/opsdeck/run/consul.pid), the agent runs elsewhere and its CPU is read \
            from /proc and printed apart. Build with -c release for representative figures.
            """))

    @Option(help: "A Consul HTTP address (host:port); default: an in-process devconsul.")
    var consul: String?

    @Option(help: "Latency samples (1.1 s apart).")
    var samples = 30

    @Option(help: "PID of an external agent whose CPU time to report (with --consul).")
    var agentPid: Int32?

    @Option(help: "Idle watches.")
    var watchers = 50

    @Option(help: "Seconds to hold the idle watches.")
    var idleSeconds = 60

    func run() async throws {
        if let consul {
            try await measure(ConsulClient(configuration: ConsulConfiguration(address: consul)), agent: "external agent \(consul)")
        } else {
            var configuration = DevConsulAgent.Configuration()
            configuration.httpPort = 0
            configuration.dnsPort = 0
            try await DevConsulAgent.withRunning(configuration) { endpoints in
                try await measure(ConsulClient(configuration: ConsulConfiguration(address: endpoints.httpAddress)),
                                  agent: "in-process devconsul")
            }
        }
    }

    func measure(_ client: ConsulClient, agent: String) async throws {
        print("consul-bench against \(agent), \(samples) samples, \(watchers) idle watches for \(idleSeconds) s")
        let key = "bench/\(UUID().uuidString.prefix(8))/value"
        try await client.put(key: key, text: "0")

        // Baseline: a plain read of the same key.
        var baseline: [Duration] = []
        let clock = ContinuousClock()
        for _ in 0..<samples {
            baseline.append(try await clock.measure { _ = try await client.get(key: key) })
        }

        // Change latency through a blocked watch.
        let (seen, seenContinuation) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
        let watch = Task {
            var first = true
            for await update in client.watchPrefix(key, wait: .seconds(60)) {
                guard case .value = update else { continue }
                if first { first = false; continue }
                seenContinuation.yield(.now)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        var iterator = seen.makeAsyncIterator()
        var latencies: [Duration] = []
        for i in 1...samples {
            let start = ContinuousClock.now
            try await client.put(key: key, text: String(i))
            guard let woke = await iterator.next() else { break }
            latencies.append(woke - start)
            try await Task.sleep(for: .milliseconds(1100))  // the watch is blocked again before the next write
        }
        watch.cancel()
        print(row("plain GET (baseline)", baseline))
        print(row("write -> watch sees it", latencies))
        print(String(format: "  ratio p50 watch/GET: %.2fx   (goal: watch p50 under 100 ms)",
                     percentile(latencies, 0.5).inSeconds / percentile(baseline, 0.5).inSeconds))

        // Idle cost of many blocked watches.
        let failures = Failures()
        let idle = (0..<watchers).map { n in
            Task {
                for await update in client.watchPrefix("bench-idle/\(n)/", wait: .seconds(300)) {
                    if case .failed = update { failures.count.add(1, ordering: .relaxed) }
                }
            }
        }
        try await Task.sleep(for: .seconds(2))  // all blocked
        let before = cpuSeconds()
        let agentBefore = agentPid.flatMap(processCPUSeconds)
        let wallStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(idleSeconds))
        let used = cpuSeconds() - before
        let wall = (ContinuousClock.now - wallStart).inSeconds
        idle.forEach { $0.cancel() }
        let who = consul == nil ? "client + agent" : "client"
        print(String(format: "  %d idle watches (%@): %.3f s CPU in %.0f s = %.2f %% of one core   (goal: ~0)",
                     watchers, who as NSString, used, wall, used / wall * 100))
        print("  failed reads during the idle phase: \(failures.count.load(ordering: .relaxed))   (must be 0)")
        if let agentPid, let agentBefore, let agentAfter = processCPUSeconds(agentPid) {
            print(String(format: "  agent PID %d meanwhile: %.3f s CPU = %.2f %% of one core",
                         agentPid, agentAfter - agentBefore, (agentAfter - agentBefore) / wall * 100))
        }
    }

    func row(_ label: String, _ values: [Duration]) -> String {
        String(format: "  %-26@ p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (n=%d)", label as NSString,
               percentile(values, 0.5).inSeconds * 1000, percentile(values, 0.99).inSeconds * 1000,
               (values.max() ?? .zero).inSeconds * 1000, values.count)
    }
}

func percentile(_ values: [Duration], _ p: Double) -> Duration {
    guard !values.isEmpty else { return .zero }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// User plus system CPU time of this process.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// User plus system CPU time of another process, from /proc/PID/stat (fields 14 and 15, in clock ticks).
func processCPUSeconds(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

final class Failures: Sendable {
    let count = Atomic<Int>(0)
}
