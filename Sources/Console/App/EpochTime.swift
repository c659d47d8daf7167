import Foundation

/// Milliseconds since the Unix epoch: the console's one clock for state and effects.
public func epochMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
