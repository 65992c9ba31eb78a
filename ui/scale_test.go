package ui

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/scan"
)

// timed runs f n times and returns the median and the worst time.
func timed(n int, f func()) (time.Duration, time.Duration) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		f()
		ds = append(ds, time.Since(t))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[len(ds)-1]
}

// TestScaleThousandLVsAndGenerations builds a VG of 1,000 LVs and a VG
// with 1,000 metadata generations, and measures how long Update and View
// take for the common actions. It asserts what must hold (everything is
// there) and only logs the times: machines differ.
func TestScaleThousandLVsAndGenerations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two images with 1,000 LVs and 1,000 generations")
	}
	ins := bigInputs(t, 1000, 1000)
	t0 := time.Now()
	res := scan.Scan(ins, scan.Options{})
	scanDur := time.Since(t0)
	if len(res.VGs) != 2 {
		t.Fatalf("want 2 VGs, got %d: %v", len(res.VGs), res.AllProblems())
	}
	t0 = time.Now()
	m := New(Config{Result: res})
	start(t, m, 160, 50)
	newDur := time.Since(t0)
	if n := len(res.VGs[0].Meta.LVs); n != 1000 {
		t.Fatalf("VG big has %d LVs", n)
	}

	key := func(k string) func() { return func() { press(t, m, k) } }
	view := func() { _ = m.View() }
	report := func(what string, n int, f func()) {
		med, worst := timed(n, f)
		t.Logf("%-40s median %8v  worst %8v", what, med, worst)
	}
	t.Logf("scan of both images: %v; New+first layout: %v", scanDur, newDur)
	report("View (tree of 1,000 LVs)", 20, view)
	report("Update j (move down)", 200, key("j"))
	report("Update G (bottom)", 20, key("G"))
	report("Update g (top)", 20, key("g"))
	report("search /lv0999 enter", 10, func() { press(t, m, "g", "/lv0999", "enter") })
	if n := m.selected(); n == nil || n.kind != kLV || n.lv.Name != "lv0999" {
		t.Fatalf("search did not find lv0999: %v", m.status())
	}
	report("m (metadata text of 1,000 LVs)", 5, func() { press(t, m, "esc", "m") })
	if len(m.textP().lines) < 20000 {
		t.Errorf("text has %d lines", len(m.textP().lines))
	}
	report("View (metadata text)", 20, view)
	report("text search /lv0998 enter", 1, func() { press(t, m, "/", "lv0998", "enter") })
	report("text search n (next match)", 50, key("n"))
	if len(m.textP().matches) == 0 {
		t.Error("text search found nothing")
	}
	report("a (toggle hidden, rebuild)", 10, func() { press(t, m, "esc", "a") })

	// History of 1,000 generations.
	press(t, m, "g", "/VG many", "enter")
	t0 = time.Now()
	press(t, m, "v")
	t.Logf("%-40s %v (history scan of both areas, first time)", "v (open history)", time.Since(t0))
	if len(m.histP().gens) != 1000 {
		n := len(m.histP().gens)
		t.Fatalf("history of many has %d generations, want 1000 (%s)", n, m.status())
	}
	report("View (history, 1,000 generations)", 20, view)
	report("Update k (previous generation + diff)", 200, key("k"))
	report("Update g (oldest)", 10, key("g"))
	report("Update G (newest)", 10, key("G"))
	report("t (time travel) then c", 10, func() { press(t, m, "k", "t", "c") })
	press(t, m, "esc")
	press(t, m, "/VG big", "enter", "v")
	if len(m.histP().gens) != 2 {
		t.Fatalf("big has %d generations", len(m.histP().gens))
	}
	report("history of big: k, j (Update; diff in background)", 5, func() {
		for _, k := range keyMsgs("k", "j") {
			m.Update(k)
		}
	})
	m.histP().cache = nil // compute it again, and time it
	press(t, m, "k")
	_, cmd := m.Update(keyMsgs("j")[0])
	if !strings.Contains(strings.Join(m.histP().diff, "\n"), "comparing") {
		t.Errorf("no placeholder while the diff of big is computed: %q", m.histP().diff)
	}
	t0 = time.Now()
	drain(t, m, cmd, nil)
	t.Logf("%-40s %v (history.Diff of two 1,000-LV generations, off the UI loop)", "background diff", time.Since(t0))
	if !strings.Contains(strings.Join(m.histP().diff, "\n"), "+ LV lv0999") {
		t.Errorf("diff of big 1 → 2:\n%s", strings.Join(m.histP().diff, "\n"))
	}
}
