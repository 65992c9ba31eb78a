package scan

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// strictDevice behaves like a FreeBSD or macOS disk device: a read that
// does not start and end on a sector boundary fails with EINVAL.
type strictDevice struct {
	data   []byte
	sector int64
	reads  int
}

func (d *strictDevice) ReadAt(p []byte, off int64) (int, error) {
	d.reads++
	if off%d.sector != 0 || int64(len(p))%d.sector != 0 {
		return 0, syscall.EINVAL
	}
	return bytes.NewReader(d.data).ReadAt(p, off)
}

func TestSectorReaderMatchesPlainReads(t *testing.T) {
	for _, sector := range []int64{512, 4096} {
		// 2 MiB + 3 sectors: not a multiple of 4096 for 512-byte sectors.
		size := int64(2<<20) + 3*sector
		data := make([]byte, size)
		rng := rand.New(rand.NewPCG(1, uint64(sector)))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		dev := &strictDevice{data: data, sector: sector}
		sr := &sectorReader{r: dev, size: size}
		want := bytes.NewReader(data)
		cases := []struct{ off, n int64 }{
			{0, 512}, {512, 8}, {1, 1}, {4095, 2}, {size - 1, 1}, {size - 5, 10}, {size, 1}, {size + 4096, 4096},
			{3, bounceMax + 12345}, {0, size}, {7, size}, {4096, 4096}, {4096 * 3, 1 << 20},
		}
		for range 300 {
			off := rng.Int64N(size + 100)
			cases = append(cases, struct{ off, n int64 }{off, rng.Int64N(3 << 20)})
		}
		for _, c := range cases {
			got := make([]byte, c.n)
			exp := make([]byte, c.n)
			gn, gerr := sr.ReadAt(got, c.off)
			en, eerr := want.ReadAt(exp, c.off)
			if gn != en || !bytes.Equal(got[:gn], exp[:en]) || (gerr == nil) != (eerr == nil) {
				t.Fatalf("sector %d: ReadAt(%d bytes at %d) = %d, %v; want %d, %v", sector, c.n, c.off, gn, gerr, en, eerr)
			}
		}
	}
}

// Aligned reads go straight to the device, in one read.
func TestSectorReaderPassesAlignedReads(t *testing.T) {
	dev := &strictDevice{data: make([]byte, 8<<20), sector: 512}
	sr := &sectorReader{r: dev, size: 8 << 20}
	if n, err := sr.ReadAt(make([]byte, 4<<20), 4096); n != 4<<20 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
	if dev.reads != 1 {
		t.Errorf("%d device reads for one aligned read", dev.reads)
	}
	if _, err := sr.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset read")
	}
}

// A device that ends before its reported size is a short read, not EOF
// at the right place.
func TestSectorReaderShortDevice(t *testing.T) {
	dev := &strictDevice{data: make([]byte, 1<<20), sector: 512}
	sr := &sectorReader{r: dev, size: 2 << 20}
	n, err := sr.ReadAt(make([]byte, 10), 1<<20+7)
	if n != 0 || err == nil || err == io.EOF {
		t.Errorf("read beyond the real end: %d, %v", n, err)
	}
}

// A whole disk read as a FreeBSD or macOS disk device would allow: the
// MBR fixture through a device that refuses unaligned reads scans exactly
// as it does from a file.
func TestScanThroughStrictDevice(t *testing.T) {
	b, err := fixture.Gunzip(filepath.Join(fixture.Root(), "mbr-disk", "disk0.img.gz"))
	if err != nil {
		t.Skip(err)
	}
	size := int64(len(b))
	plain := Scan([]*Input{NewInput("disk", bytes.NewReader(b), size)}, Options{})
	strict := Scan([]*Input{NewInput("disk", &sectorReader{r: &strictDevice{data: b, sector: 512}, size: size}, size)}, Options{})
	describe := func(res *Result) string {
		var s strings.Builder
		for _, vg := range res.VGs {
			fmt.Fprintf(&s, "VG %s seqno %d\n", vg.Meta.Name, vg.Meta.Seqno)
			for _, lv := range vg.Meta.LVs {
				fmt.Fprintf(&s, "  LV %s %d segments\n", lv.Name, len(lv.Segments))
			}
		}
		for _, p := range res.AllProblems() {
			fmt.Fprintln(&s, p)
		}
		return s.String()
	}
	if len(plain.VGs) == 0 {
		t.Fatal("no VG on the fixture")
	}
	if a, b := describe(plain), describe(strict); a != b {
		t.Errorf("through a strict device:\n%s\nfrom memory:\n%s", b, a)
	}
}
