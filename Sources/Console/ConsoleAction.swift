import Consul
import TUI

/// Everything that can happen to the console: input, time, and what effects report.
public enum ConsoleAction: Sendable {
    case input(InputEvent)
    case tick(now: Int64)
    case servicesChanged([String: [String]], at: Int64)
    case checksChanged([HealthCheck], at: Int64)
    case instancesChanged(service: String, [ServiceEntry], at: Int64)
    case monitorSampled(instanceID: String, MonitorSample)
    case monitorRound(ok: Int, failed: Int, at: Int64)
    case effectFailed(EffectID, reason: String, retryInMilliseconds: Int64, at: Int64)
    case themeChanged(name: String)
    case themeFailed(String, at: Int64)
    /// SIGINT, SIGTERM or SIGHUP from outside: leave cleanly.
    case quitRequested
}

/// Work the reducer asks the runtime to do (the reducer itself does none).
public enum ConsoleEffect: Equatable, Sendable {
    /// Watch this service's instances (and poll their Monitor), replacing any previous one; nil stops.
    case followInstances(service: String?)
    /// Poll Monitor on these instances (id -> host:port).
    case monitorTargets([String: String])
    case loadTheme(String)
    case quit
}
