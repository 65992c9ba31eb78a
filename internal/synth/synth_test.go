package synth

import (
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/scan"
)

// TestScanSynth: the images scan as the VG described, without problems.
func TestScanSynth(t *testing.T) {
	dir := t.TempDir()
	vg := &VG{Name: "vg", PVs: []PV{{UUID: UUIDFor("pv", 0), PECount: 16}, {UUID: UUIDFor("pv", 1), PECount: 8}},
		LVs: []LV{LinearLV("a", 0, 0, 4), {Name: "s", Tags: []string{"t"}, Segments: []Segment{{Count: 4, StripeSize: 128, Stripes: []Stripe{{0, 4}, {1, 0}}}}}}}
	paths := []string{filepath.Join(dir, "pv0.img"), filepath.Join(dir, "pv1.img")}
	if err := WriteImages(vg, paths, nil); err != nil {
		t.Fatal(err)
	}
	many := ManyLinear("many", 100)
	paths = append(paths, filepath.Join(dir, "many.img"))
	if err := WriteImages(many, paths[2:], nil); err != nil {
		t.Fatal(err)
	}
	var ins []*scan.Input
	for _, p := range paths {
		in, err := scan.Open(scan.ReadOnlyOSFs(), p)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		ins = append(ins, in)
	}
	res := scan.Scan(ins, scan.Options{})
	if len(res.VGs) != 2 {
		t.Fatalf("%d VGs, problems %v", len(res.VGs), res.AllProblems())
	}
	for _, p := range res.AllProblems() {
		t.Errorf("problem: %s", p)
	}
	for _, v := range res.VGs {
		want := map[string]int{"vg": 2, "many": 100}[v.Meta.Name]
		if len(v.Meta.LVs) != want || len(v.PVs) == 0 || v.PVs[0].PV == nil {
			t.Errorf("VG %s: %d LVs, want %d", v.Meta.Name, len(v.Meta.LVs), want)
		}
	}
}
