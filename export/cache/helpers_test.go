package cache

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

// scanCache scans the cache fixture with patches applied to copies of
// its images, leaving out the images in drop.
func scanCache(t testing.TB, drop []string, patches ...patch) (*fixture.Fixture, *scan.VG) {
	t.Helper()
	f, vg, _ := sourcetest.ScanVG(t, "cache", "cache", drop, patches...)
	return f, vg
}

// hashSource hashes a Source through Runs and ReadAt; missing runs hash
// as zeros and are returned.
func hashSource(t testing.TB, src export.Source) (string, []export.Run) {
	sum, runs := sourcetest.Hash(t, src, 1<<20)
	return sum, sourcetest.Missing(runs)
}

// imageOffset maps byte off of a linear LV to its image and offset.
func imageOffset(t testing.TB, vg *scan.VG, lvName string, off int64) (string, int64) {
	t.Helper()
	lv := vg.Meta.LV(lvName)
	if lv == nil {
		t.Fatalf("no LV %s", lvName)
	}
	pieces, err := vg.Meta.MapRange(lv, off, 1)
	if err != nil || len(pieces) != 1 {
		t.Fatalf("map %s byte %d: %v %v", lvName, off, pieces, err)
	}
	for _, p := range vg.PVs {
		if p.Meta.UUID == pieces[0].PVUUID {
			return p.PV.Path, pieces[0].PVOffset + p.PV.Offset
		}
	}
	t.Fatalf("PV %s not found", pieces[0].PVUUID)
	return "", 0
}

func resolver(vg *scan.VG) *volume.Resolver { return volume.FromScan(vg) }

func manifestLV(t testing.TB, f *fixture.Fixture, name string) fixture.LV {
	t.Helper()
	for _, lv := range f.Manifest.LVs {
		if lv.Name == name {
			return lv
		}
	}
	t.Fatalf("manifest has no LV %s", name)
	return fixture.LV{}
}
