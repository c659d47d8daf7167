// ncursesw for Swift. SwiftPM drops pkg-config's -D flags, so the wide-character API is switched on
// here. Swift 6 cannot read C globals (stdscr, COLS, ...) or call function-like macros, so each one
// used is wrapped in a static inline function.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncursesw/curses.h>
#include <locale.h>

static inline WINDOW *opsdeck_stdscr(void) { return stdscr; }
static inline int opsdeck_cols(void) { return COLS; }
static inline int opsdeck_lines(void) { return LINES; }
static inline int opsdeck_colors(void) { return COLORS; }
static inline int opsdeck_color_pairs(void) { return COLOR_PAIRS; }

static inline attr_t opsdeck_a_bold(void) { return A_BOLD; }
static inline attr_t opsdeck_a_dim(void) { return A_DIM; }
static inline attr_t opsdeck_a_reverse(void) { return A_REVERSE; }
static inline attr_t opsdeck_a_underline(void) { return A_UNDERLINE; }

static inline int opsdeck_attr_set(attr_t attrs, short pair) { return attr_set(attrs, pair, NULL); }
static inline int opsdeck_get_wch(wint_t *ch) { return get_wch(ch); }
static inline int opsdeck_key_code_yes(void) { return KEY_CODE_YES; }

static inline mmask_t opsdeck_mouse_mask(void) {
    return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED;
}
static inline int opsdeck_is_wheel_up(mmask_t m) { return (m & BUTTON4_PRESSED) != 0; }
static inline int opsdeck_is_wheel_down(mmask_t m) { return (m & BUTTON5_PRESSED) != 0; }
static inline int opsdeck_is_click(mmask_t m) { return (m & (BUTTON1_PRESSED | BUTTON1_CLICKED)) != 0; }
