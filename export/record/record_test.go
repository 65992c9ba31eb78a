package record

import (
	"errors"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// TestReusedExtentsNeedNoScanForTheCurrentGeneration: the newest
// generation's record has no reused extents without any history; an old
// one's come from the history given, and without it the record says they
// were not checked.
func TestReusedExtentsNeedNoScanForTheCurrentGeneration(t *testing.T) {
	f := fixture.Load(t, "multiseg")
	fs := afero.NewMemMapFs()
	if err := afero.WriteFile(fs, "/pv0.img", f.Image(t, "pv0"), 0o444); err != nil {
		t.Fatal(err)
	}
	in, err := scan.Open(fs, "/pv0.img")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res := scan.Scan([]*scan.Input{in}, scan.Options{})
	cur := res.VGs[0]
	if NeedsHistory(cur) {
		t.Fatal("the current generation needs a history")
	}
	for _, lv := range cur.Meta.LVs {
		if r, err := ReusedExtents(cur, lv, nil); err != nil || r == nil || len(r) != 0 {
			t.Errorf("%s: %v %v", lv.Name, r, err)
		}
	}
	h := history.Scan(res, history.Options{})
	old, err := h.Open(res, "multiseg", 7)
	if err != nil {
		t.Fatal(err)
	}
	gamma := old.Meta.LV("gamma")
	if !NeedsHistory(old) {
		t.Fatal("seqno 7 needs no history")
	}
	if r, err := ReusedExtents(old, gamma, nil); !errors.Is(err, ErrNoHistory) || len(r) != 0 {
		t.Errorf("no history: %v %v", r, err)
	}
	r, err := ReusedExtents(old, gamma, h)
	if err != nil || len(r) == 0 || r[0].ByLV != "epsilon" {
		t.Errorf("with the history: %v %v", r, err)
	}
}
