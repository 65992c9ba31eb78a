package vmdk

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

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
	b := containertest.Fixture(f, "banana-stream.vmdk.gz")
	f.Add(bytes.Clone(b[:20<<10]))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		Probe(r, int64(len(data)))
		im, err := New(r, int64(len(data)), WithParent(containertest.ZeroDev(1<<20)))
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
			containertest.CheckMapRange(t, es, off, 1<<20, size)
			for i, e := range es {
				if i >= 16 {
					break
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
		}
	})
}
