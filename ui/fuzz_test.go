package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

// FuzzTextView draws arbitrary metadata text (it comes from the disk):
// highlighting, indenting, searching and scrolling must not panic, and
// every drawn line must fit the pane.
func FuzzTextView(f *testing.F) {
	f.Add("banana {\nid = \"x\"\nseqno = 6\nstatus = [\"READ\"]\n# c\n}\n", "seq")
	f.Add("\"unterminated\n{{{{[[[\n}}}}]]]\n-1 -x 0x\\\"", "\"")
	f.Add("\t\tindented = 1\n\x00\xff\xfe", "")
	st := DefaultStyles()
	f.Fuzz(func(t *testing.T, text, q string) {
		if len(text) > 1<<16 {
			return
		}
		p := &textPane{width: 40, height: 10}
		p.setText("t", text, false)
		p.setQuery(q)
		p.next(1)
		p.scroll(3)
		for _, l := range strings.Split(p.view(st), "\n") {
			if w := lipgloss.Width(l); w > p.width {
				t.Fatalf("line %q is %d wide", l, w)
			}
		}
		d := &textPane{width: 40, height: 10}
		d.setText("d", text, true)
		_ = d.view(st)
	})
}

// FuzzParseOffset reads what a user types at the go-to-offset prompt.
func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"4096", "0x1000", "8s", "4k", "1m", "2g", "-1", "0x", "99999999999999999999g", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseOffset(s)
		if err == nil && v < 0 {
			t.Fatalf("%q gave negative offset %d", s, v)
		}
	})
}
