package cow

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/fixture"
)

// TestFixtureSnapshotLVs opens every LV of the snapshot fixture and checks
// it against the manifest: base (the origin as it is now), base_snap (the
// snapshot view, under the COW LV's name as LVM shows it) and the hidden
// snapshot0 (the same view); the raw COW store through OpenRaw matches the
// "cow" device.
func TestFixtureSnapshotLVs(t *testing.T) {
	f, vg, _ := scanFixture(t, "snapshot", "snap")
	r := resolver(vg)
	for _, lv := range f.Manifest.LVs {
		t.Run(lv.Name, func(t *testing.T) {
			src, err := r.Open(lv.Name)
			if err != nil {
				t.Fatal(err)
			}
			want, size := lv.ExpectedSHA256(), lv.SizeBytes
			for _, d := range lv.DMDevices {
				if d.Suffix == "" {
					size = d.SizeBytes
				}
			}
			if src.Size() != size {
				t.Fatalf("size %d, want %d", src.Size(), size)
			}
			if got := hashSource(t, src); got != want {
				t.Errorf("sha256 %s, manifest %s", got, want)
			}
			res, err := export.Export(context.Background(), src, export.Options{Output: filepath.Join(t.TempDir(), "out.img"), Sparse: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != want {
				t.Errorf("export sha256 %s, manifest %s", res.SHA256, want)
			}
			for _, d := range lv.DMDevices {
				if d.Suffix != "cow" {
					continue
				}
				raw, err := r.OpenRaw(vg.Meta.LV(lv.Name))
				if err != nil {
					t.Fatal(err)
				}
				if got := hashSource(t, raw); got != d.SHA256 {
					t.Errorf("raw COW store sha256 %s, manifest %s", got, d.SHA256)
				}
			}
		})
	}
	snap, err := r.Open("snapshot0")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hashSource(t, snap), manifestLV(t, f.Manifest.LVs, "base_snap").SHA256; got != want {
		t.Errorf("snapshot0 sha256 %s, want the snapshot view %s", got, want)
	}
}

func manifestLV(t *testing.T, lvs []fixture.LV, name string) fixture.LV {
	t.Helper()
	for _, lv := range lvs {
		if lv.Name == name {
			return lv
		}
	}
	t.Fatalf("manifest has no LV %s", name)
	return fixture.LV{}
}
