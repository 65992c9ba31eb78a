package cow

import (
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
	"github.com/lvminspect/lvminspect/scan"
)

// patch is a byte edit of a fixture image.
type patch = sourcetest.Patch

// scanFixture scans a fixture's images with patches applied to copies and
// returns the VG named vg.
func scanFixture(t testing.TB, name, vg string, patches ...patch) (*fixture.Fixture, *scan.VG, map[string][]byte) {
	t.Helper()
	return sourcetest.ScanVG(t, name, vg, nil, patches...)
}

// hashSource hashes a Source through Runs and ReadAt; it must have no
// missing runs.
func hashSource(t testing.TB, src export.Source) string {
	t.Helper()
	sum, runs := sourcetest.Hash(t, src, 1<<20)
	if m := sourcetest.Missing(runs); len(m) > 0 {
		t.Fatalf("missing runs %+v", m)
	}
	return sum
}

// pvOffset maps byte off of an LV (linear on one PV) to its image offset.
func pvOffset(t testing.TB, vg *scan.VG, lvName string, off int64) int64 {
	t.Helper()
	lv := vg.Meta.LV(lvName)
	if lv == nil {
		t.Fatalf("no LV %s", lvName)
	}
	pieces, err := vg.Meta.MapRange(lv, off, 1)
	if err != nil || len(pieces) != 1 {
		t.Fatalf("map %s byte %d: %v %v", lvName, off, pieces, err)
	}
	return pieces[0].PVOffset
}

func resolver(vg *scan.VG) *volume.Resolver { return volume.FromScan(vg) }
