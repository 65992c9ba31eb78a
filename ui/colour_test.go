package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// withColour renders with a colour profile for the length of a test: the
// golden tests draw without colour, which hid escape codes that were
// printed as text.
func withColour(t *testing.T, p termenv.Profile) {
	t.Helper()
	lipgloss.SetColorProfile(p)
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
}

// visibleEscape reports where a frame shows an escape sequence as text
// (a program-drawn colour that was escaped as if it came from a disk).
func visibleEscape(frame string) (string, bool) {
	for _, bad := range []string{`\x1b`, `\u009b`, "\\x1b["} {
		if i := strings.Index(frame, bad); i >= 0 {
			return frame[max(0, i-40):min(len(frame), i+40)], true
		}
	}
	return "", false
}

// TestNoEscapeShownAsText renders every tree item of every fixture and
// corrupt variant in colour, in the details pane and in each view that
// opens on it, and checks that no colour code appears as text.
func TestNoEscapeShownAsText(t *testing.T) {
	for _, prof := range []termenv.Profile{termenv.ANSI256, termenv.TrueColor} {
		withColour(t, prof)
		models := allModels(t, 160, 50)
		models["demo"] = demoModel(t, 160, 50)
		for name, m := range models {
			for _, n := range walkAll(m.tree.roots) {
				n.expanded = true
			}
			m.tree.refresh()
			for i := range m.tree.rows {
				for _, keys := range [][]string{nil, {"x"}, {"m"}, {"v"}, {"e"}, {"?"}} {
					m.tree.moveTo(i)
					settle(t, m, m.moved())
					m.after()
					if len(keys) > 0 && !enabledKey(m, keys[0]) {
						continue
					}
					press(t, m, keys...)
					if s, bad := visibleEscape(m.View()); bad {
						t.Errorf("%s (profile %d): %q on %q shows an escape as text: %q", name, prof, keys, m.selected().name, s)
					}
					press(t, m, "esc", "esc")
					m.focus = focusTree
				}
			}
		}
	}
}
