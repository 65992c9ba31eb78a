package history_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// generationText is otherVGText as generation seqno, with a description
// that tells the generations apart near their end.
func generationText(seqno int) []byte {
	t := strings.Replace(otherVGText, "seqno = 2\n", fmt.Sprintf("seqno = %d\n", seqno), 1)
	t = strings.Replace(t, "Write from vgcreate newvg /dev/sdz.", fmt.Sprintf("generation %d", seqno), 1)
	return append([]byte(t), 0)
}

// ringPV is a PV whose area of areaSize bytes holds unit(i) in each KiB i
// from relative offset 512, slot 0 recording the last copy.
func ringPV(t *testing.T, areaSize uint64, n int, unit func(i int) []byte) *synthPV {
	area := make([]byte, areaSize)
	var last []byte
	var lastRel uint64
	for i := 0; i < n; i++ {
		b := unit(i)
		rel := uint64(512 + i*1024)
		if len(b) > 1024 || rel+1024 > areaSize {
			t.Fatalf("unit %d of %d bytes at %d", i, len(b), rel)
		}
		copy(area[rel:], b)
		if len(b) > 0 && string(b[:5]) == "newvg" {
			last, lastRel = b, rel
		}
	}
	pv := newSynthPV(areaSize, lastRel, last, func(p []byte, off int64) { clear(p) })
	pv.plants = map[int64][]byte{4096 + 512: area[512:]}
	return pv
}

// TestManyCopies walks a 64 MiB area holding 65,535 generations: every
// copy is listed and parsed, in bounded time and memory.
func TestManyCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB area, 65,535 generations")
	}
	const n = 65535
	pv := ringPV(t, 64<<20, n, func(i int) []byte { return generationText(i + 1) })
	start := time.Now()
	res := scan.Scan([]*scan.Input{scan.NewInput("pv", pv, pv.size)}, scan.Options{})
	h := history.Scan(res, history.Options{})
	elapsed := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d copies, %d generations in %v; %d MiB live", len(h.Copies), len(h.Generations), elapsed, ms.HeapAlloc>>20)
	if len(h.Copies) != n || len(h.Generations) != n || h.Areas[0].Truncated {
		t.Fatalf("%d copies, %d generations", len(h.Copies), len(h.Generations))
	}
	for i, g := range h.Generations {
		if g.Seqno != uint64(i+1) || !g.Parses() || g.ParseErr != nil || len(g.Copies) != 1 {
			t.Fatalf("generation %d: %+v", i, g)
		}
		// Most models are not kept (4 MiB of text's worth are): every
		// 1,000th is parsed again from its copy, as a diff or an old
		// generation's export would.
		if i%1000 == 0 || i == n-1 {
			if m := g.Model(); m == nil || m.Seqno != g.Seqno || m.Description != g.Description {
				t.Fatalf("generation %d: model %+v", i, m)
			}
		}
	}
	if !h.Generations[n-1].Committed || !h.Generations[n-1].Current {
		t.Errorf("newest generation not committed and current")
	}
	runtime.KeepAlive(h)
}

// TestFragmentsMatchedBeyondTextBudget interleaves 1,000 generations
// with the tails of each (their first 300 bytes overwritten): with no
// text kept in memory (TextBudget 1) every tail is still tied to its
// generation, the texts being read again (no tail was identified), and
// matching is by hash, not by comparing every tail with every text.
func TestFragmentsMatchedBeyondTextBudget(t *testing.T) {
	const n = 2000
	pv := ringPV(t, 4<<20, n, func(i int) []byte {
		g := generationText(i/2*2 + 1)
		if i%2 == 1 {
			return g[300:]
		}
		return g
	})
	res := scan.Scan([]*scan.Input{scan.NewInput("pv", pv, pv.size)}, scan.Options{})
	h := history.Scan(res, history.Options{TextBudget: 1})
	frags := h.Fragments()
	if len(frags) != n/2 || len(h.Generations) != n/2 {
		t.Fatalf("%d fragments, %d generations", len(frags), len(h.Generations))
	}
	for _, c := range frags {
		want := (c.RelOff - 512) / 1024 // the tail of the generation written just before it
		if c.Fragment.Kind != scan.FragmentTail || c.Fragment.Match == nil || c.Fragment.Match.Seqno != want {
			t.Fatalf("fragment at %d: %+v (match %+v), want generation %d", c.RelOff, c.Fragment, c.Fragment.Match, want)
		}
	}
}
