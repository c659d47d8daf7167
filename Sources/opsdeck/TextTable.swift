import Foundation
import TUI

/// A plain-text table for the CLI twins: columns padded to their widest cell (display width, so wide
/// characters line up), names left, figures right. Cells must already be terminal-safe.
struct TextTable {
    var header: [String]
    /// Columns aligned right (counts, times).
    var rightAligned: Set<Int> = []

    func lines(_ rows: [[String]]) -> [String] {
        let table = [header] + rows
        let widths = header.indices.map { i in table.map { DisplayWidth.of($0[i]) }.max() ?? 0 }
        return table.map { line in
            header.indices.map { i -> String in
                let pad = String(repeating: " ", count: widths[i] - DisplayWidth.of(line[i]))
                return rightAligned.contains(i) ? pad + line[i] : line[i] + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
