import ConsulModels
import Foundation
import TUI

/// How every pane writes statuses, durations and remote text.
enum Format {
    static func statusStyle(_ status: HealthStatus, _ theme: Theme) -> Style {
        switch status {
        case .passing: return theme[.ok]
        case .warning: return theme[.warning]
        default: return theme[.critical]
        }
    }

    static func symbol(_ status: HealthStatus) -> String {
        switch status {
        case .passing: return "●"
        case .warning: return "▲"
        default: return "✖"
        }
    }

    /// Remote text on one row: newlines and tabs become spaces (controls are dropped by the grid).
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r\n" || $0 == "\t" ? " " : $0 })
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60 < 10 ? "0" : "")\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60 < 10 ? "0" : "")\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }

    static func milliseconds(_ ms: Double) -> String {
        ms < 10 ? String(format: "%.1fms", ms) : String(format: "%.0fms", ms)
    }

    static func age(_ milliseconds: Int64) -> String {
        let s = max(0, milliseconds / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h"
    }
}
