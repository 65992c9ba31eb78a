package model_test

import (
	"bytes"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// expand lists the pieces of sets chunk by chunk, merged as MapRange
// merges them.
func expand(sets []model.StripeSet) []model.Piece {
	var out []model.Piece
	for _, set := range sets {
		for off := int64(0); off < set.Length; {
			a, pvOff, run := set.ChunkAt(off)
			p := set.Areas[a]
			p.LVOffset, p.PVOffset, p.Length = set.LVOffset+off, pvOff, min(run, set.Length-off)
			if k := len(out); k > 0 && out[k-1].PVUUID == p.PVUUID && out[k-1].LVOffset+out[k-1].Length == p.LVOffset && out[k-1].PVOffset+out[k-1].Length == p.PVOffset {
				out[k-1].Length += p.Length
			} else {
				out = append(out, p)
			}
			off += p.Length
		}
	}
	return out
}

// TestLayoutAgreesWithMapRange: for every LV of every fixture that Layout
// describes, its chunks are MapRange's pieces.
func TestLayoutAgreesWithMapRange(t *testing.T) {
	n := 0
	for _, name := range fixture.Names() {
		f := fixture.Load(t, name)
		var ins []*scan.Input
		for _, im := range f.ImageNames(false) {
			b := f.Image(t, im)
			ins = append(ins, scan.NewInput(im, bytes.NewReader(b), int64(len(b))))
		}
		for _, vg := range scan.Scan(ins, scan.Options{}).VGs {
			m := vg.Meta
			for _, lv := range m.LVs {
				sets, ok, err := m.Layout(lv)
				if err != nil || !ok {
					continue
				}
				want, err := m.MapRange(lv, 0, m.LVSize(lv))
				if err != nil {
					t.Errorf("%s/%s: Layout ok, MapRange: %v", m.Name, lv.Name, err)
					continue
				}
				got := expand(sets)
				if len(got) != len(want) {
					t.Errorf("%s %s/%s: %d pieces, MapRange %d", name, m.Name, lv.Name, len(got), len(want))
					continue
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("%s %s/%s: piece %d %+v, MapRange %+v", name, m.Name, lv.Name, i, got[i], want[i])
						break
					}
				}
				n++
			}
		}
	}
	t.Logf("%d LVs", n)
}
