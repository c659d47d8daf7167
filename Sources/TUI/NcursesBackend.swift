import CNcurses
import Foundation

/// The real terminal through ncursesw. Owns it from `init` to `shutdown()`: nothing else may call
/// curses, and only the UI thread may call this.
public final class NcursesBackend: TerminalBackend {
    private var pairs: [PairKey: Int16] = [:]
    private let hasColor: Bool
    private let colorCount: Int
    private var isOpen = true
    /// Polled together with the keyboard, so that work from other threads wakes the UI at once.
    private let wakeDescriptor: Int32

    struct PairKey: Hashable { var fg: Color, bg: Color }

    /// `useColor: false` (NO_COLOR, or the mono theme) never starts colour.
    public init(useColor: Bool, mouse: Bool = true, wakeDescriptor: Int32) {
        setlocale(LC_ALL, "")  // without a UTF-8 locale braille and box drawing print as '?'
        initscr()
        raw()  // ctrl-c arrives as a key; SIGINT/SIGTERM from outside are handled by the app
        noecho()
        keypad(opsdeck_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        nodelay(opsdeck_stdscr(), true)
        if useColor && has_colors() {
            start_color()
            use_default_colors()
            hasColor = true
            colorCount = Int(opsdeck_colors())
        } else {
            hasColor = false
            colorCount = 0
        }
        if mouse { mousemask(opsdeck_mouse_mask(), nil) }
        self.wakeDescriptor = wakeDescriptor
    }

    /// Gives the terminal back (also called from the crash and signal paths; safe to call twice).
    public func shutdown() {
        guard isOpen else { return }
        isOpen = false
        endwin()
    }

    public var size: (width: Int, height: Int) { (Int(opsdeck_cols()), Int(opsdeck_lines())) }

    public func draw(_ runs: [CellRun]) {
        for run in runs {
            let (attrs, pair) = cursesStyle(run.style)
            opsdeck_attr_set(attrs, pair)
            mvaddstr(Int32(run.y), Int32(run.x), run.text)
        }
    }

    public func present() { refresh() }

    public func copyToClipboard(_ text: String) {
        // Between frames, on the UI thread: ncurses has flushed, so the sequence is not cut into a frame.
        let sequence = "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
        FileHandle.standardOutput.write(Data(sequence.utf8))
    }

    public func suspend(_ body: () -> Void) {
        def_prog_mode()  // the modes to come back to
        endwin()         // the terminal as the shell had it: cooked, echo, cursor, main screen
        body()
        reset_prog_mode()
        invalidate()
        refresh()
    }

    /// Forces the next frame to be drawn whole (after a resize the old screen is gone).
    public func invalidate() { clearok(opsdeck_stdscr(), true) }

    public func readEvents(timeoutMilliseconds: Int32) -> [InputEvent] {
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, timeoutMilliseconds)
        if fds[1].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            _ = read(wakeDescriptor, &drain, drain.count)
        }
        var events: [InputEvent] = []
        while events.count < 256 {
            var ch: wint_t = 0
            let result = opsdeck_get_wch(&ch)
            if result == ERR { break }
            if result == opsdeck_key_code_yes() {
                if let event = special(Int32(ch)) { events.append(event) }
            } else if let event = character(UInt32(ch)) {
                events.append(event)
            }
        }
        return events
    }

    private func character(_ code: UInt32) -> InputEvent? {
        switch code {
        case 0x0d, 0x0a: return .key(.enter)
        case 0x1b: return .key(.escape)
        case 0x09: return .key(.tab)
        case 0x7f, 0x08: return .key(.backspace)
        case 0x01...0x1a: return .key(.ctrl(Character(Unicode.Scalar(code + 0x60)!)))
        default:
            guard let scalar = Unicode.Scalar(code) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }

    private func special(_ code: Int32) -> InputEvent? {
        switch code {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_BTAB: return .key(.backTab)
        case KEY_ENTER: return .key(.enter)
        case KEY_RESIZE: return .resize(width: size.width, height: size.height)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let kind: MouseEvent.Kind
            if opsdeck_is_wheel_up(event.bstate) != 0 { kind = .wheelUp }
            else if opsdeck_is_wheel_down(event.bstate) != 0 { kind = .wheelDown }
            else if opsdeck_is_click(event.bstate) != 0 { kind = .click }
            else { return nil }
            return .mouse(MouseEvent(kind: kind, x: Int(event.x), y: Int(event.y)))
        default:
            if code >= KEY_F0 + 1 && code <= KEY_F0 + 12 { return .key(.function(Int(code - KEY_F0))) }
            return nil
        }
    }

    private func cursesStyle(_ style: Style) -> (attr_t, Int16) {
        var attrs = attr_t(0)
        if style.attributes.contains(.bold) { attrs |= opsdeck_a_bold() }
        if style.attributes.contains(.dim) { attrs |= opsdeck_a_dim() }
        if style.attributes.contains(.reverse) { attrs |= opsdeck_a_reverse() }
        if style.attributes.contains(.underline) { attrs |= opsdeck_a_underline() }
        guard hasColor else { return (attrs, 0) }
        let key = PairKey(fg: fit(style.foreground), bg: fit(style.background))
        if key.fg == .default && key.bg == .default { return (attrs, 0) }
        if let pair = pairs[key] { return (attrs, pair) }
        let next = Int16(pairs.count + 1)
        guard Int(next) < min(Int(opsdeck_color_pairs()), Int(Int16.max)) else { return (attrs, 0) }
        init_pair(next, number(key.fg), number(key.bg))
        pairs[key] = next
        return (attrs, next)
    }

    /// 256-colour indices on a terminal with fewer colours become their nearest of the eight.
    private func fit(_ color: Color) -> Color {
        guard case .index(let i) = color else { return color }
        return Int(i) < colorCount ? color : color.eightColorFallback
    }

    private func number(_ color: Color) -> Int16 {
        if case .index(let i) = color { return Int16(i) }
        return -1  // use_default_colors: the terminal's own
    }
}
