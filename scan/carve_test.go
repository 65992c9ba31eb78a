package scan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestCarveFindsPVAtAnyOffset hides the banana PV at an odd offset of a
// larger image with no partition table.
func TestCarveFindsPVAtAnyOffset(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	const at = 3<<20 + 1536
	img := make([]byte, at+len(pv)+4096)
	copy(img[at:], pv)
	in := scan.NewInput("disk", bytes.NewReader(img), int64(len(img)))
	if res := scan.Scan([]*scan.Input{in}, scan.Options{}); len(res.PVs) != 0 {
		t.Fatalf("found %d PVs without carving", len(res.PVs))
	}
	res := scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	if len(res.PVs) != 1 || res.PVs[0].Offset != at || !res.PVs[0].Carved {
		t.Fatalf("PVs: %+v", res.PVs)
	}
	if vg := findVG(res, "banana"); vg == nil || len(vg.Meta.LVs) != 3 || vg.PVs[0].Missing {
		t.Fatalf("VG banana not assembled from the carved PV")
	}
}

// TestCarveSparseFileSkipsHoles carves a 64 GiB sparse file holding the PV
// near its end: only the data is read, so it finishes at once.
func TestCarveSparseFileSkipsHoles(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	path := filepath.Join(t.TempDir(), "sparse.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const at = 60 << 30
	if err := f.Truncate(64 << 30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	if _, err := f.WriteAt(pv, at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res := scanFile(t, path)
	if len(res.PVs) != 0 {
		t.Fatalf("PV found without carving")
	}
	in, err := scan.Open(scan.ReadOnlyOSFs(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res = scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	if len(res.PVs) != 1 || res.PVs[0].Offset != at {
		t.Fatalf("PVs %+v", res.PVs)
	}
}
