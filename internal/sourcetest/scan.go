package sourcetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// Patch is a byte edit of a fixture image, applied to a copy.
type Patch struct {
	Image string
	Off   int64
	B     []byte
}

// ScanVG scans fixture name's images, leaving out those in drop and
// applying patches to copies, and returns the fixture, the VG named vg
// and the images as scanned (by image name).
func ScanVG(t testing.TB, name, vg string, drop []string, patches ...Patch) (*fixture.Fixture, *scan.VG, map[string][]byte) {
	t.Helper()
	f := fixture.Load(t, name)
	imgs := map[string][]byte{}
	var ins []*scan.Input
	for _, n := range f.ImageNames(false) {
		if slices.Contains(drop, n) {
			continue
		}
		b := f.Image(t, n)
		copied := false
		for _, p := range patches {
			if p.Image == n {
				if !copied {
					b, copied = append([]byte(nil), b...), true
				}
				copy(b[p.Off:], p.B)
			}
		}
		imgs[n] = b
		ins = append(ins, scan.NewInput(n, bytes.NewReader(b), int64(len(b))))
	}
	for _, v := range scan.Scan(ins, scan.Options{}).VGs {
		if v.Meta.Name == vg {
			return f, v, imgs
		}
	}
	t.Fatalf("fixture %s: VG %s not found", name, vg)
	return nil, nil, nil
}
