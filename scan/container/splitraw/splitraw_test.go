package splitraw

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

func TestSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	raw := make([]byte, 10*1000+123)
	for i := range raw {
		raw[i] = byte(rng.IntN(256))
	}
	fs := afero.NewMemMapFs()
	var names []string
	for i := 0; i*1000 < len(raw); i++ {
		n := segName("/ev/disk.img.", i+1, 3)
		names = append(names, n)
		afero.WriteFile(fs, n, raw[i*1000:min((i+1)*1000, len(raw))], 0o644)
	}
	ro := afero.NewReadOnlyFs(fs)
	if !Probe("/ev/disk.img.001") || Probe("/ev/disk.img.002") || Probe("/ev/disk.img") {
		t.Fatal("Probe")
	}
	if _, err := Open(ro, "/ev/disk.img.002"); !errors.Is(err, ErrNotFirst) {
		t.Fatalf("second segment: %v", err)
	}
	im, err := Open(ro, "/ev/disk.img.001")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if im.Size() != int64(len(raw)) || len(im.Info().Segments) != 11 || len(im.Info().Problems) != 0 {
		t.Fatalf("info %+v", im.Info())
	}
	got := make([]byte, len(raw))
	if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got, raw) {
		t.Fatal("whole read differs", err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for range 300 {
				off := r.Int64N(int64(len(raw)) + 10)
				n := r.IntN(3000)
				buf := make([]byte, n)
				k, err := im.ReadAt(buf, off)
				wantN := max(0, min(n, len(raw)-int(off)))
				if k != wantN || (k < n) != (err == io.EOF) || (k == n && err != nil) {
					t.Errorf("ReadAt(%d, %d) = %d, %v", off, n, k, err)
					return
				}
				if k > 0 && !bytes.Equal(buf[:k], raw[off:off+int64(k)]) {
					t.Errorf("ReadAt(%d, %d) differs", off, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	es, _ := im.Map(5, 1<<40)
	if len(es) != 1 || es[0] != (device.Extent{Off: 5, Len: int64(len(raw)) - 5, Kind: device.Data}) {
		t.Fatal(es)
	}

	// A gap: segment 005 missing while 006 exists.
	fs.Remove(names[4])
	_, err = Open(ro, "/ev/disk.img.001")
	if err == nil || !strings.Contains(err.Error(), "disk.img.005 is missing") {
		t.Fatalf("gap: %v", err)
	}
}

func TestShortSegment(t *testing.T) {
	// A segment shorter than it claims (a file truncated under us) is
	// unreadable, not zeros.
	a := bytes.NewReader(make([]byte, 100))
	b := bytes.NewReader(make([]byte, 50))
	im, err := New(Segment{Name: "x.001", R: a, Size: 100}, Segment{Name: "x.002", R: b, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, err = im.ReadAt(make([]byte, 200), 0)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || ue.Device != "x.002" || ue.Off != 150 {
		t.Fatalf("%v", err)
	}
	if _, n, w, ok := SegmentName("disk.1000"); !ok || n != 1000 || w != 4 {
		t.Fatal("SegmentName")
	}
	if segName("d.", 1000, 3) != "d.1000" {
		t.Fatal(segName("d.", 1000, 3))
	}
}
