package export

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/device"
)

// adviceRecorder is a PV device that records the readahead it is asked
// for and says where its data is: 1 MiB of data every 64 MiB.
type adviceRecorder struct {
	device.Reader
	mu     sync.Mutex
	advice [][2]int64
}

func (a *adviceRecorder) AdviseSequential(off, n int64) {}
func (a *adviceRecorder) AdviseWillNeed(off, n int64) {
	a.mu.Lock()
	a.advice = append(a.advice, [2]int64{off, n})
	a.mu.Unlock()
}

func (a *adviceRecorder) Map(off, length int64) ([]device.Extent, error) {
	var out []device.Extent
	for pos := off; pos < off+length; {
		base := pos &^ (64<<20 - 1)
		if pos < base+1<<20 {
			end := min(base+1<<20, off+length)
			out = append(out, device.Extent{Off: pos, Len: end - pos, Kind: device.Data})
			pos = end
			continue
		}
		end := min(base+64<<20, off+length)
		out = append(out, device.Extent{Off: pos, Len: end - pos, Kind: device.Hole})
		pos = end
	}
	return out, nil
}

// The data of a sparse LV far ahead of the engine is asked for ahead of
// time: every 1 MiB piece beyond the readers' buffers gets its readahead
// hint, at its PV offset.
func TestPrefetchAsksForDataAhead(t *testing.T) {
	const size = 512 << 20
	pv := &adviceRecorder{Reader: device.Reader{R: bytes.NewReader(nil), N: size}}
	pv.R = zeroReaderAt{}
	src := NewPieceSource(size, []model.Piece{{LVOffset: 0, Length: size, PVUUID: "pv", PVOffset: 0}},
		map[string]PVReader{"pv": {R: pv, Size: size, Name: "pv", Dev: pv}})
	dir := t.TempDir()
	if _, err := Export(context.Background(), src, Options{Output: dir + "/lv.img", Sparse: true}); err != nil {
		t.Fatal(err)
	}
	pv.mu.Lock()
	defer pv.mu.Unlock()
	want := map[int64]bool{}
	for off := int64(64 << 20); off < size; off += 64 << 20 {
		want[off] = false
	}
	for _, a := range pv.advice {
		if _, ok := want[a[0]]; ok && a[1] == 1<<20 {
			want[a[0]] = true
		}
	}
	asked := 0
	for _, ok := range want {
		if ok {
			asked++
		}
	}
	// The pieces within the readers' own reach (the first buffers) may be
	// read before the prefetcher gets to them.
	if asked < len(want)-2 {
		t.Errorf("readahead asked for %d of the %d data pieces ahead: %v", asked, len(want), pv.advice)
	}
}

type zeroReaderAt struct{}

func (zeroReaderAt) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}
