package cache

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// TestFixtureCacheLVs exports every LV of the cache fixture that has a
// device (the cached LVs data and wdata, their origins, the cache pool's
// sub-LVs and the cachevol) and compares it with the manifest.
func TestFixtureCacheLVs(t *testing.T) {
	f, vg := scanCache(t, nil)
	r := resolver(vg)
	n := 0
	for _, lv := range f.Manifest.LVs {
		if lv.SHA256 == "" {
			continue // never activated: no oracle
		}
		n++
		t.Run(lv.Name, func(t *testing.T) {
			src, err := r.Open(lv.Name)
			if err != nil {
				t.Fatal(err)
			}
			if src.Size() != lv.SizeBytes {
				t.Fatalf("size %d, manifest %d", src.Size(), lv.SizeBytes)
			}
			want := lv.ExpectedSHA256()
			if got, miss := hashSource(t, src); got != want || len(miss) > 0 {
				t.Errorf("sha256 %s (missing %v), manifest %s", got, miss, want)
			}
			res, err := export.Export(context.Background(), src, export.Options{Output: filepath.Join(t.TempDir(), "out.img"), Sparse: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != want {
				t.Errorf("export sha256 %s, manifest %s", res.SHA256, want)
			}
		})
	}
	if n != 7 {
		t.Errorf("%d LVs with an oracle, want 7", n)
	}
}
