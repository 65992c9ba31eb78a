package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/synth"
	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// forgedTagPV writes a PV of two generations of VG vg whose second gives
// LV a a tag holding a newline and a line of scan's tree, an escape
// sequence and a right-to-left override.
func forgedTagPV(t *testing.T) string {
	t.Helper()
	gen := func(seqno uint64, tag string) *synth.VG {
		lv := synth.LinearLV("a", 0, 0, 1)
		lv.Tags = []string{tag}
		return &synth.VG{Name: "vg", Seqno: seqno, PVs: []synth.PV{{UUID: synth.UUIDFor("pv forged", 0), PECount: 4}}, LVs: []synth.LV{lv}}
	}
	p := filepath.Join(t.TempDir(), "forged.img")
	if err := synth.WriteHistory(p, []*synth.VG{gen(1, "plain"), gen(2, "ok\n├─ LV forged  4.00 MiB  linear\x1b[8m")}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNewlineInTagForgesNoLine: a tag holding "\n├─ LV forged" is shown
// on its LV's line with the newline as a visible escape, by scan, diff
// and the reports; it used to start a line of its own in scan's tree and
// diff's text.
func TestNewlineInTagForgesNoLine(t *testing.T) {
	p := forgedTagPV(t)
	for _, args := range [][]string{
		{"scan", p},
		{"diff", "--vg", "vg", "1", "2", p},
		{"lvs", "-o", "+lv_tags", p},
		{"history", p},
	} {
		out, errOut, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut)
		}
		for _, l := range strings.Split(out+errOut, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " │"), "├─ LV forged") {
				t.Errorf("%v: a line forged by the tag:\n%s", args, out)
			}
		}
		if strings.ContainsAny(out+errOut, "\x1b") {
			t.Errorf("%v prints an escape:\n%q", args, out)
		}
		if args[0] != "history" && !strings.Contains(out, `ok\n├─ LV forged`) {
			t.Errorf("%v does not show the tag with its newline escaped:\n%s", args, out)
		}
	}
}

// TestRuneWriterWholeCharacters: a character cut between two Writes
// reaches termsafe.Writer whole (it showed each half as an invalid byte).
func TestRuneWriterWholeCharacters(t *testing.T) {
	var b strings.Builder
	rw := &runeWriter{w: termsafe.Writer{W: &b}}
	text := "a→b├─c\xff"
	for i := 0; i < len(text); i++ {
		if _, err := rw.Write([]byte{text[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.String() != `a→b├─c\xff` {
		t.Errorf("%q", b.String())
	}
}
