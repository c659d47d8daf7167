import Consul
import Deadlines
import Logging

/// Keeps this instance registered in Consul for as long as it runs, and takes it out first at shutdown.
///
/// Consul down at start does not stop the server: registration is retried with backoff until it works.
/// Afterwards the registration is checked every `antiEntropy` and put back if the agent lost it (an agent
/// restart, or the reaper after a long critical spell), like Consul's own anti-entropy.
public struct ConsulRegistrar: Sendable {
    public let registration: ServiceRegistration
    private let consul: ConsulClient
    private let logger: Logger
    private let antiEntropy: Duration

    public init(consul: ConsulClient, registration: ServiceRegistration, antiEntropy: Duration = .seconds(10),
                logger: Logger) {
        self.consul = consul
        self.registration = registration
        self.antiEntropy = antiEntropy
        self.logger = logger
    }

    public var serviceID: String { registration.id ?? registration.name }

    /// Registers and keeps the registration in place until cancelled.
    public func run() async {
        // Capped at 2 s: an agent that comes back empty (a dev agent, or one that lost its data) has no
        // instance to offer until each server registers again, and one request every 2 s to an agent that
        // is down costs nothing.
        let backoff = Backoff(base: .milliseconds(500), cap: .seconds(2))
        var attempt = 0
        var registered = false
        while !Task.isCancelled {
            do {
                var present = false
                if registered { present = try await consul.agentServices()[serviceID] != nil }
                if !present {
                    try await consul.register(registration)
                    logger.info(registered ? "re-registered in Consul (the agent had lost us)" : "registered in Consul",
                                metadata: ["service": "\(registration.name)", "id": "\(serviceID)",
                                           "address": "\(registration.address ?? ""):\(registration.port ?? 0)",
                                           "consul": "\(consul.configuration.baseURL)"])
                    registered = true
                }
                attempt = 0
                try? await Task.sleep(for: antiEntropy)
            } catch {
                attempt += 1
                let delay = backoff.delay(attempt: attempt)
                // Say it once, then only every tenth retry: a long Consul outage should not flood the logs.
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("cannot reach Consul; serving anyway and retrying",
                                   metadata: ["reason": "\(error)", "attempt": "\(attempt)", "retry_in": "\(delay)"])
                }
                registered = false
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Removes the registration; gives up after `timeout` so shutdown never hangs on a dead agent.
    public func deregister(timeout: Duration = .seconds(1)) async {
        do {
            try await withDeadline(timeout) { [consul, serviceID] in try await consul.deregister(serviceID: serviceID) }
            logger.info("deregistered from Consul", metadata: ["id": "\(serviceID)"])
        } catch {
            logger.warning("could not deregister from Consul", metadata: ["id": "\(serviceID)", "reason": "\(error)"])
        }
    }
}
