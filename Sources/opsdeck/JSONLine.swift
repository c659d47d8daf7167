import Foundation

/// One JSON value on one line, keys sorted: what every command's `--output json` prints.
func jsonLine(_ object: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}
