package vmdk

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

// zeroDev is a parent of zeros.
type zeroDev int64

func (z zeroDev) Size() int64 { return int64(z) }
func (z zeroDev) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(z) {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), int64(z)-off))
	clear(p[:n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func FuzzVMDK(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it finds.
	raw := make([]byte, 32<<10)
	for i := range raw {
		if i%5000 < 3000 {
			raw[i] = byte(i * 7)
		}
	}
	small := sparseSpec{grainSectors: 8, gtes: 4}
	f.Add(buildSparse(f, raw, small))
	small.descriptor = descriptorText("monolithicSparse", 1, cidNone, "", `RW 64 SPARSE "f.vmdk"`, `RW 8 ZERO`)
	f.Add(buildSparse(f, raw, small))
	small.stream = true
	f.Add(buildSparse(f, raw, small))
	small.rawFlat = true
	f.Add(buildSparse(f, raw, small))
	f.Add(buildSparse(f, raw, sparseSpec{grainSectors: 8, gtes: 4, zeroGrains: true, unallocated: func(g int64) bool { return g%3 == 0 },
		descriptor: descriptorText("monolithicSparse", 2, 1, "p.vmdk", `RW 64 SPARSE "f.vmdk"`)}))
	f.Add([]byte(descriptorText("custom", 1, cidNone, "", `RW 100 ZERO`, `RDONLY 3 ZERO`)))
	b := gunzipFixture(f, "banana-stream.vmdk.gz")
	f.Add(bytes.Clone(b[:20<<10]))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		Probe(r, int64(len(data)))
		im, err := New(r, int64(len(data)), WithParent(zeroDev(1<<20)))
		if err != nil {
			return
		}
		im.Info()
		im.Fields()
		im.Problems()
		size := im.Size()
		buf := make([]byte, 1<<16)
		for _, off := range []int64{0, size / 3, size - 100, size - 1} {
			if off < 0 {
				continue
			}
			im.ReadAt(buf, off)
			es, err := im.Map(off, 1<<20)
			if err != nil {
				continue
			}
			at := off
			for i, e := range es {
				if e.Off != at || e.Len <= 0 {
					t.Fatalf("Map(%d): extent %+v at %d", off, e, at)
				}
				at += e.Len
				if i >= 16 {
					continue
				}
				// Reads agree with Map: unreadable ranges fail,
				// holes read as zeros.
				q := buf[:min(e.Len, 4096)]
				n, err := im.ReadAt(q, e.Off)
				switch e.Kind {
				case device.Unreadable:
					if !errors.Is(err, device.ErrUnreadable) {
						t.Fatalf("unreadable %+v read: %d, %v", e, n, err)
					}
				case device.Hole:
					if err != nil || !bytes.Equal(q, make([]byte, len(q))) {
						t.Fatalf("hole %+v read: %v", e, err)
					}
				}
			}
			if at != min(size, off+1<<20) {
				t.Fatalf("Map(%d) ends at %d", off, at)
			}
		}
	})
}
