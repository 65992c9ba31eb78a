package ui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/termsafe"
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
		p := newTextPane(newSession(Config{}), nil, newTextKeys())
		p.SetSize(40, 10)
		p.setText("t", text)
		p.setQuery(q)
		p.next(1)
		p.scroll(3)
		for _, l := range strings.Split(p.View(), "\n") {
			if w := lipgloss.Width(l); w > p.width {
				t.Fatalf("line %q is %d wide", l, w)
			}
		}
		// The history pane colours diff lines after escaping them, as
		// here: a raw tab would be widened by the renderer.
		for _, l := range strings.Split(text, "\n") {
			l = termsafe.Text(l)
			if w := lipgloss.Width(diffLine(st, l)); w != lipgloss.Width(l) {
				t.Fatalf("diff line %q changed width", l)
			}
		}
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

// wrapWords keeps every word whole (command options such as --readonly
// included) unless it is wider than the line, and no line is wider than
// asked.
func FuzzWrapWords(f *testing.F) {
	f.Add("open it read-only (cryptsetup open --readonly DEVICE name) and scan /dev/mapper/name", 20)
	f.Add("x", 1)
	f.Add("", 30)
	f.Add("ünïcödé wörds — and a verylongwordthatmustbecut", 12)
	f.Fuzz(func(t *testing.T, s string, width int) {
		if width > 500 || !utf8.ValidString(s) {
			return
		}
		lines := wrapWords(s, width)
		w := max(width, 10)
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Fatalf("line %q is %d wide, limit %d", l, lw, w)
			}
		}
		if strings.Join(strings.Fields(strings.Join(lines, " ")), "") != strings.Join(strings.Fields(s), "") {
			t.Fatalf("text changed: %q -> %q", s, lines)
		}
		whole := map[string]bool{}
		for _, l := range lines {
			for _, word := range strings.Fields(l) {
				whole[word] = true
			}
		}
		for _, word := range strings.Fields(s) {
			if ansi.StringWidth(word) <= w && !whole[word] {
				t.Fatalf("word %q split: %q", word, lines)
			}
		}
	})
}
