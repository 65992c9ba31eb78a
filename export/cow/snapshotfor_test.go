package cow

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lvminspect/lvminspect/model"
)

// snapshotForRef is SnapshotFor as a scan of every LV (the reference).
func snapshotForRef(vg *model.VG, lv *model.LV) (*model.LV, error) {
	var found *model.LV
	for _, s := range vg.LVs {
		for _, seg := range s.Segments {
			p := seg.Snapshot
			if p == nil || s == lv {
				continue
			}
			if p.CowStore != lv.Name && p.MergingStore != lv.Name && (p.MergingStore == "" || p.Origin != lv.Name) {
				continue
			}
			if found != nil && found != s {
				return nil, fmt.Errorf("conflict")
			}
			found = s
		}
	}
	return found, nil
}

// TestSnapshotForIndex: on VGs whose snapshot segments name LVs at
// random (several per LV, conflicts, merging, names that repeat),
// SnapshotFor answers as the scan of every LV did.
func TestSnapshotForIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		n := 1 + rng.IntN(7)
		name := func() string { return fmt.Sprintf("l%d", rng.IntN(n+1)) }
		vg := &model.VG{Name: "vg", ExtentSize: 8}
		for i := 0; i < n; i++ {
			lv := &model.LV{Name: fmt.Sprintf("l%d", i)}
			if rng.IntN(6) == 0 {
				lv.Name = name()
			}
			for k := rng.IntN(3); k > 0; k-- {
				s := &model.Segment{Type: "snapshot", BaseType: "snapshot", ExtentCount: 1}
				if rng.IntN(3) > 0 {
					s.Snapshot = &model.SnapshotParams{Origin: name(), CowStore: name()}
					switch rng.IntN(4) {
					case 0:
						s.Snapshot.MergingStore = s.Snapshot.CowStore
					case 1:
						s.Snapshot.CowStore, s.Snapshot.MergingStore = "", name()
					}
				}
				lv.Segments = append(lv.Segments, s)
			}
			vg.LVs = append(vg.LVs, lv)
		}
		for _, lv := range vg.LVs {
			got, gerr := SnapshotFor(vg, lv)
			want, werr := snapshotForRef(vg, lv)
			if got != want || (gerr == nil) != (werr == nil) {
				t.Fatalf("iteration %d, %s: got %v, %v; want %v, %v", iter, lv.Name, got, gerr, want, werr)
			}
		}
	}
}
