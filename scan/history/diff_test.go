package history_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/history"
)

// expectation is what one LVM command must change, read from the command.
type expectation struct {
	re    *regexp.Regexp
	check func(t *testing.T, d *history.VGDiff, m []string)
}

var expectations = []expectation{
	// Plain and striped LVs only: other types take several commits.
	{regexp.MustCompile(`^lvcreate -y -n (\S+) (?:-i \d+ -I \S+ )?-L \S+ \S+( /dev/\S+)*$`), func(t *testing.T, d *history.VGDiff, m []string) {
		if len(d.LVsAdded) != 1 || d.LVsAdded[0].Name != m[1] || len(d.LVsRemoved)+len(d.LVsChanged) != 0 {
			t.Errorf("want LV %s added only; got %s", m[1], touched(d))
		}
	}},
	{regexp.MustCompile(`^lvremove -y [^/]+/(\S+)$`), func(t *testing.T, d *history.VGDiff, m []string) {
		if len(d.LVsRemoved) != 1 || d.LVsRemoved[0].Name != m[1] || len(d.LVsAdded) != 0 {
			t.Errorf("want LV %s removed; got %s", m[1], touched(d))
		}
	}},
	{regexp.MustCompile(`^lvrename \S+ (\S+) (\S+)$`), func(t *testing.T, d *history.VGDiff, m []string) {
		c := onlyChange(t, d)
		if c == nil || !c.Renamed || c.OldName != m[1] || c.Name != m[2] || c.Resized || len(c.Segments) != 0 {
			t.Errorf("want %s renamed to %s; got %s", m[1], m[2], touched(d))
		}
	}},
	{regexp.MustCompile(`^(lvextend|lvreduce) .*?[^ /]+/(\S+)`), func(t *testing.T, d *history.VGDiff, m []string) {
		c := onlyChange(t, d)
		if c == nil || c.Name != m[2] || !c.Resized || len(c.Segments) == 0 ||
			(m[1] == "lvextend") != (c.NewExtents > c.OldExtents) || c.NewSize-c.OldSize == 0 {
			t.Errorf("want %s resized by %s; got %s", m[2], m[1], touched(d))
		}
	}},
	{regexp.MustCompile(`^lvchange --(addtag|deltag) (\S+) [^/]+/(\S+)$`), func(t *testing.T, d *history.VGDiff, m []string) {
		c := onlyChange(t, d)
		if c == nil || c.Name != m[3] || len(c.Changes) != 1 || c.Changes[0].Field != "tags" ||
			strings.Contains(c.Changes[0].New, m[2]) != (m[1] == "addtag") {
			t.Errorf("want tag %s %s on %s; got %s", m[2], m[1], m[3], touched(d))
		}
	}},
	{regexp.MustCompile(`^lvchange -p (r|rw) [^/]+/(\S+)$`), func(t *testing.T, d *history.VGDiff, m []string) {
		c := onlyChange(t, d)
		if c == nil || c.Name != m[2] || len(c.Changes) != 1 || c.Changes[0].Field != "status" ||
			strings.Contains(c.Changes[0].New, "WRITE") != (m[1] == "rw") {
			t.Errorf("want %s made %s; got %s", m[2], m[1], touched(d))
		}
	}},
	{regexp.MustCompile(`^vgchange --addtag (\S+) \S+$`), func(t *testing.T, d *history.VGDiff, m []string) {
		if len(d.VG) != 1 || d.VG[0].Field != "tags" || !strings.Contains(d.VG[0].New, m[1]) || len(d.LVsChanged) != 0 {
			t.Errorf("want VG tag %s; got %+v %s", m[1], d.VG, touched(d))
		}
	}},
}

// onlyChange returns the single changed LV of a diff that adds or removes
// nothing, or nil.
func onlyChange(t *testing.T, d *history.VGDiff) *history.LVChange {
	if len(d.LVsChanged) != 1 || len(d.LVsAdded)+len(d.LVsRemoved)+len(d.PVsAdded)+len(d.PVsRemoved)+len(d.VG) != 0 {
		return nil
	}
	return &d.LVsChanged[0]
}

func touched(d *history.VGDiff) string {
	var b bytes.Buffer
	d.WriteText(&b)
	return b.String()
}

// TestDiffAgainstCommands diffs every consecutive pair of generations of
// the fixtures' lvm-archive (A = "before executing CMD", B = the next)
// and checks that the diff shows what CMD does, and nothing else.
func TestDiffAgainstCommands(t *testing.T) {
	checked := 0
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		f := fixture.Load(t, name)
		for vgName, gens := range archive(t, f) {
			var seqs []uint64
			for q := range gens {
				seqs = append(seqs, q)
			}
			sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
			for _, q := range seqs {
				a, b := gens[q], gens[q+1]
				if b == nil || !a.before {
					continue
				}
				for _, e := range expectations {
					if m := e.re.FindStringSubmatch(a.command); m != nil {
						d := history.Diff(a.vg, b.vg)
						if d.A.Seqno != q || d.B.Seqno != q+1 || d.VGName != vgName {
							t.Errorf("%s: header %+v %+v", a.file, d.A, d.B)
						}
						t.Run(a.file, func(t *testing.T) { e.check(t, d, m) })
						checked++
						break
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d archive pairs checked", checked)
	}
	t.Logf("%d consecutive generations diffed", checked)
}

// TestDiffSegments checks moved, resized, added and removed segments, PV
// changes and JSON on an edited copy of a real generation.
func TestDiffSegments(t *testing.T) {
	f := fixture.Load(t, "multiseg")
	gens := archive(t, f)["multiseg"]
	var last uint64
	for q := range gens {
		last = max(last, q)
	}
	a := gens[last].vg
	b := cloneVG(t, a)
	alpha, beta, delta := b.LV("alpha"), b.LV("beta"), b.LV("delta")
	alpha.Segments[0].Areas[0].Start += 100                 // moved
	alpha.Segments = alpha.Segments[:len(alpha.Segments)-1] // removed
	beta.Segments[len(beta.Segments)-1].ExtentCount++       // resized
	delta.Segments = append(delta.Segments, &model.Segment{StartExtent: delta.ExtentCount(), ExtentCount: 2,
		Type: "striped", BaseType: "striped", StripeCount: 1, Areas: []model.Area{{PV: "pv0", Start: 300}}}) // added
	b.PVs[0].PECount--
	b.Seqno++
	d := history.Diff(a, b)
	kinds := map[string][]string{}
	for _, c := range d.LVsChanged {
		for _, s := range c.Segments {
			kinds[c.Name] = append(kinds[c.Name], s.Kind)
		}
	}
	if !slices.Equal(kinds["alpha"], []string{history.SegMoved, history.SegRemoved}) || !slices.Equal(kinds["beta"], []string{history.SegResized}) ||
		!slices.Equal(kinds["delta"], []string{history.SegAdded}) {
		t.Errorf("segment changes %v\n%s", kinds, touched(d))
	}
	if len(d.PVsChanged) != 1 || d.PVsChanged[0].Changes[0].Field != "pe_count" {
		t.Errorf("PV changes %+v", d.PVsChanged)
	}
	if history.Diff(a, a).Empty() != true {
		t.Error("a generation differs from itself")
	}
	var back history.VGDiff
	if err := json.Unmarshal([]byte(mustJSONRoundTrip(t, d)), &back); err != nil || len(back.LVsChanged) != len(d.LVsChanged) {
		t.Errorf("JSON round trip: %v", err)
	}
}

func mustJSONRoundTrip(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cloneVG deep-copies a VG through JSON (params of other types are not
// needed here).
func cloneVG(t *testing.T, vg *model.VG) *model.VG {
	t.Helper()
	var c model.VG
	if err := json.Unmarshal([]byte(mustJSONRoundTrip(t, vg)), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestDiffTextWords: the text of every diff of the fixtures' archives
// names one-stripe segments "linear" and sizes as the other front ends
// write them (never "striped on" one area, never a bare "N bytes" or
// "1 extents").
func TestDiffTextWords(t *testing.T) {
	bare := regexp.MustCompile(`\(\d+ extents?, \d+ bytes\)|\b1 extents\b| striped on [^,]+$`)
	n := 0
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		f := fixture.Load(t, name)
		for _, gens := range archive(t, f) {
			for q, a := range gens {
				b := gens[q+1]
				if b == nil {
					continue
				}
				for _, l := range strings.Split(touched(history.Diff(a.vg, b.vg)), "\n") {
					n++
					if bare.MatchString(l) {
						t.Errorf("%s: %q", a.file, l)
					}
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d diff lines read", n)
	}
}
