import TUI

/// Where each visible pane goes: a pure function of the screen's size, the panes' placements, the focus
/// and the zoom.
///
/// Panes fill a top row and a bottom row (the bottom one gets 45 %). On a screen too short for two rows,
/// only the row with the focus is shown; in a row too narrow for all its panes' minimum widths, only the
/// focused pane (else the row's first flexible one) is. Tab then brings the others in turn.
public enum DashboardLayout {
    /// Below this many body rows, one row of panes at a time.
    public static let twoRowsFrom = 20

    public static func frames(body: Rect, panes: [(id: PaneID, placement: PanePlacement)], focus: PaneID,
                              zoomed: Bool) -> [PaneID: Rect] {
        guard !body.isEmpty, !panes.isEmpty else { return [:] }
        if zoomed, panes.contains(where: { $0.id == focus }) { return [focus: body] }
        let top = panes.filter { $0.placement.row == .top }
        let bottom = panes.filter { $0.placement.row == .bottom }
        let focusRow = panes.first { $0.id == focus }?.placement.row ?? .top
        var frames: [PaneID: Rect] = [:]
        if !top.isEmpty && !bottom.isEmpty && body.height >= twoRowsFrom {
            let (upper, lower) = body.splitTop(fraction: 0.55)
            fill(upper, with: top, focus: focus, into: &frames)
            fill(lower, with: bottom, focus: focus, into: &frames)
        } else if !top.isEmpty && (bottom.isEmpty || focusRow == .top) {
            fill(body, with: top, focus: focus, into: &frames)
        } else {
            fill(body, with: bottom, focus: focus, into: &frames)
        }
        return frames
    }

    /// One row: sidebars get their fraction (clamped), flexible panes share the rest.
    static func fill(_ rect: Rect, with panes: [(id: PaneID, placement: PanePlacement)], focus: PaneID,
                     into frames: inout [PaneID: Rect]) {
        if panes.reduce(0, { $0 + $1.placement.minimumWidth }) > rect.width {
            let alone = panes.first { $0.id == focus }
                ?? panes.first { if case .flexible = $0.placement.width { return true } else { return false } }
                ?? panes[0]
            frames[alone.id] = rect
            return
        }
        var widths = panes.map { pane -> Int? in
            guard case .sidebar(let fraction, let minimum, let maximum) = pane.placement.width else { return nil }
            return min(max(Int(Double(rect.width) * fraction), minimum), maximum)
        }
        let flexible = widths.indices.filter { widths[$0] == nil }
        // Sidebars give back what the flexible panes need for their minimums (down to their own minimum;
        // the check above says that is enough).
        var deficit = flexible.reduce(0) { $0 + panes[$1].placement.minimumWidth }
            - (rect.width - widths.compactMap { $0 }.reduce(0, +))
        for index in widths.indices where deficit > 0 {
            guard let width = widths[index] else { continue }
            let giveBack = min(deficit, width - panes[index].placement.minimumWidth)
            widths[index] = width - giveBack
            deficit -= giveBack
        }
        var spare = rect.width - widths.compactMap { $0 }.reduce(0, +)
        if flexible.isEmpty {
            widths[widths.count - 1]! += spare  // sidebars only: the last one takes what is left
        } else {
            for (n, index) in flexible.enumerated() {
                let share = n == flexible.count - 1 ? spare : spare / (flexible.count - n)
                widths[index] = share
                spare -= share
            }
        }
        var x = rect.x
        for (pane, width) in zip(panes, widths) {
            frames[pane.id] = Rect(x: x, y: rect.y, width: width!, height: rect.height)
            x += width!
        }
    }
}
