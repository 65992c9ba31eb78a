package ui

import (
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/lvminspect/lvminspect/scan"
)

// hostileImage is a PV whose metadata text carries terminal control
// sequences in a tag, the description and the creation host: a window
// title change with a bell, a colour, a screen clear and blinking. A disk
// under examination must not be able to drive the examiner's terminal.
func hostileImage(t testing.TB) []byte {
	pv := uuidN('p', 7)
	ti := testImage{mdaSize: 1 << 20, peStart: 2 << 20, pvUUID: pv}
	ti.size = ti.peStart + 4*4096
	tx := vgText("evil", 1, pv, 4, ti.peStart, []string{"lv0"}, "TAGMARK")
	tx = strings.Replace(tx, "TAGMARK", "\x1b]0;PWNED\x07\x1b[31mred\u009b31m", 1)
	tx = strings.Replace(tx, `description = "generation 1"`, "description = \"\x1b[2J\x1b[Hcleared\"", 1)
	tx = strings.Replace(tx, `creation_host = "test"`, "creation_host = \"h\x1b[5mblink\r\"", 1)
	return ti.build(t, []string{tx})
}

// Every view of a hostile disk shows its control characters as visible
// text, never as the bytes themselves (the test draws without colour, so
// any escape in the output came from the disk).
func TestHostileTextIsShownNotObeyed(t *testing.T) {
	img := hostileImage(t)
	for _, keys := range [][]string{
		nil,                         // the tree and the first LV's details
		{"g", "/VG ", "enter"},      // the VG's details (tags)
		{"g", "/VG ", "enter", "m"}, // the metadata text
		{"g", "/VG ", "enter", "v"}, // the history (description)
		{"g", "/lv0", "enter"},
		{"g", "/mda1", "enter", "x"},
	} {
		in := scan.NewInput("evil.img", bytesReaderAt(img), int64(len(img)))
		m := New(Config{Result: scan.Scan([]*scan.Input{in}, scan.Options{})})
		start(t, m, 120, 40)
		press(t, m, keys...)
		screen := m.View()
		if i := strings.IndexAny(screen, "\x1b\x07\r\u009b"); i >= 0 {
			t.Errorf("keys %q: a control character reaches the terminal: %q", keys, screen[max(0, i-20):min(len(screen), i+20)])
		}
		// Shown, as escapes, where the value is shown.
		if len(keys) == 3 && keys[1] == "/VG " && !strings.Contains(screen, `\x1b]0;PWNED\x07\x1b[31mred\u009b31m`) {
			t.Errorf("the VG's tag is not shown escaped:\n%s", screen)
		}
	}
}

// Names from a disk hold SGR sequences too (a crafted "\x1b[8m" conceals
// the rest of the line): with colour on, where the frame's own SGR
// sequences are let through, they must still be shown as text in the
// tree, the details header and the history's diff; and a right-to-left
// override must not reorder what follows it.
func TestHostileNamesInColour(t *testing.T) {
	withColour(t, termenv.ANSI256)
	pv := uuidN('p', 7)
	ti := testImage{mdaSize: 1 << 20, peStart: 2 << 20, pvUUID: pv}
	ti.size = ti.peStart + 4*4096
	g1 := vgText("evil", 1, pv, 4, ti.peStart, []string{"lv0"}, "")
	g2 := strings.Replace(vgText("evil", 2, pv, 4, ti.peStart, []string{"lv0", "lvX"}, ""), "lvX", "hid\x1b[8mden\u202eexe.gpj", 1)
	img := ti.build(t, []string{g1, g2})
	in := scan.NewInput("evil.img", bytesReaderAt(img), int64(len(img)))
	for _, keys := range [][]string{
		nil,
		{"g", "/hid", "enter"},
		{"g", "/VG ", "enter", "v"},
		{"g", "/VG ", "enter", "v", "j", "k"},
	} {
		m := New(Config{Result: scan.Scan([]*scan.Input{in}, scan.Options{})})
		start(t, m, 160, 50)
		press(t, m, keys...)
		screen := m.View()
		for _, bad := range []string{"\x1b[8m", "\u202e"} {
			if i := strings.Index(screen, bad); i >= 0 {
				t.Errorf("keys %q: %q from a name reaches the terminal: %q", keys, bad, screen[max(0, i-30):min(len(screen), i+30)])
			}
		}
		if keys == nil || keys[1] == "/hid" {
			if !strings.Contains(screen, `hid\x1b[8mden\u202eexe.gpj`) {
				t.Errorf("keys %q: the name is not shown escaped:\n%s", keys, screen)
			}
		}
	}
}
