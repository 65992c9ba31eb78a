package thin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/model"
)

// TestFixtureThinLVsExport exports every thin LV of the fixture with the
// export engine and compares it with the oracle.
func TestFixtureThinLVsExport(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	lvs := tf.thinLVs()
	if len(lvs) != 3 {
		t.Fatalf("fixture lists %d thin LVs, want 3", len(lvs))
	}
	for _, lv := range lvs {
		t.Run(lv.Name, func(t *testing.T) {
			src, err := r.Open(lv.Name)
			if err != nil {
				t.Fatal(err)
			}
			if src.Size() != lv.SizeBytes {
				t.Fatalf("size %d, manifest %d", src.Size(), lv.SizeBytes)
			}
			res, err := export.Export(context.Background(), src, export.Options{
				Output: filepath.Join(t.TempDir(), lv.Name+".img"), Sparse: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.SHA256 != lv.ExpectedSHA256() {
				t.Errorf("sha256 %s, manifest %s", res.SHA256, lv.ExpectedSHA256())
			}
			if len(res.Missing) != 0 {
				t.Errorf("missing ranges: %v", res.Missing)
			}
		})
	}
}

// TestFixtureRunsAndTreePath hashes every thin LV through Runs and ReadAt,
// once with the in-memory extent list and once looking blocks up in the
// tree, and checks that exactly the written blocks are data and the rest
// RunZero.
func TestFixtureRunsAndTreePath(t *testing.T) {
	tf := loadThin(t)
	for _, mode := range []string{"extents", "tree"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "tree" {
				old := maxExtents
				maxExtents = 0
				defer func() { maxExtents = old }()
			}
			r := tf.resolver(nil)
			for _, lv := range tf.thinLVs() {
				ts := openThin(t, r, lv.Name)
				src := export.Source(ts)
				if _, isTree := ts.m.(treeMap); isTree != (mode == "tree") {
					t.Fatalf("%s: mapper %T in mode %s", lv.Name, ts.m, mode)
				}
				sum, runs := hashSource(t, src)
				if sum != lv.ExpectedSHA256() {
					t.Errorf("%s: sha256 %s, manifest %s", lv.Name, sum, lv.ExpectedSHA256())
				}
				want := tf.provisioned(r.VG, lv.Name, ts.bsize)
				var got []export.Run
				for _, run := range runs {
					if run.Kind == export.RunData {
						got = append(got, export.Run{Off: run.Off, Len: run.Len})
					}
				}
				if !equalRanges(got, want) {
					t.Errorf("%s: data runs %v, want the written blocks %v", lv.Name, got, want)
				}
			}
		})
	}
}

// provisioned lists the ranges of an LV that were written (its own stamps,
// and for a thin snapshot the origin's stamps of generation 1, written
// before the snapshot), rounded out to data blocks and merged.
func (tf *thinFixture) provisioned(vg *model.VG, name string, bsize int64) []export.Run {
	origin := vg.LV(name).Segments[0].Thin.Origin
	var marks []bool
	size := vg.LVSize(vg.LV(name))
	marks = make([]bool, size/bsize)
	for _, s := range tf.stamps {
		if s.LV == name || (s.LV == origin && s.Gen == 1) {
			for b := s.Off / bsize; b*bsize < s.Off+s.Length; b++ {
				marks[b] = true
			}
		}
	}
	var out []export.Run
	for b, m := range marks {
		if m {
			out = export.AppendRun(out, export.Run{Off: int64(b) * bsize, Len: bsize})
		}
	}
	return out
}

func equalRanges(a, b []export.Run) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Off != b[i].Off || a[i].Len != b[i].Len {
			return false
		}
	}
	return true
}

// TestFixtureReadAtUnaligned compares ReadAt at odd offsets and lengths
// with the whole image read in one go.
func TestFixtureReadAtUnaligned(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	src, err := r.Open("vol1snap")
	if err != nil {
		t.Fatal(err)
	}
	whole := make([]byte, src.Size())
	if n, err := src.ReadAt(whole, 0); n != len(whole) || err != nil {
		t.Fatalf("ReadAt whole: %d, %v", n, err)
	}
	for _, c := range []struct{ off, n int64 }{
		{1, 511}, {65535, 2}, {1<<20 - 7, 70000}, {4<<20 - 100, 200}, {20<<20 + 3, 1 << 20}, {src.Size() - 10, 10},
	} {
		b := make([]byte, c.n)
		if n, err := src.ReadAt(b, c.off); int64(n) != c.n || err != nil {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
		if string(b) != string(whole[c.off:c.off+c.n]) {
			t.Errorf("ReadAt(%d, %d) differs from the whole read", c.off, c.n)
		}
	}
	b := make([]byte, 100)
	if n, err := src.ReadAt(b, src.Size()-40); n != 40 || err == nil {
		t.Errorf("ReadAt past the end = %d, %v; want 40, io.EOF", n, err)
	}
	// Stamp check: sector 2048 (1 MiB) of the snapshot is vol1's gen 1.
	want := "LVMI vg=thin lv=vol1 gen=1 sector=2048\n"
	if got := string(whole[1<<20 : 1<<20+len(want)]); got != want {
		t.Errorf("vol1snap at 1 MiB: %q, want %q", got, want)
	}
}
