package qcow2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

// fuzzAllocMax bounds what one input may allocate.
const fuzzAllocMax = 256 << 20

func FuzzQCOW2(f *testing.F) {
	for _, v := range []uint32{2, 3} {
		f.Add(tinyImage(v).build(f))
	}
	z := tinyImage(3)
	z.zstd = true
	f.Add(z.build(f))
	b := tinyImage(3)
	b.backing, b.backingFmt = "base.raw", "raw"
	f.Add(b.build(f))
	big := tiny{version: 3, clusterBits: 12, size: 1 << 30, data: map[int64][]byte{200000: pattern(4096, 3)}}
	f.Add(big.build(f))
	f.Fuzz(fuzzOne)
}

// fuzzOne opens data as a qcow2 image without a backing file: no panic,
// a bounded allocation, a Map that covers the range asked, reads that
// agree with it (holes read as zeros, unreadable ranges fail, every
// failure an unreadable range).
func fuzzOne(t *testing.T, data []byte) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r := bytes.NewReader(data)
	Probe(r, int64(len(data)))
	im, err := New(r, int64(len(data)))
	if err != nil {
		return
	}
	if _, err := json.Marshal(im.Info()); err != nil {
		t.Fatal(err)
	}
	im.Fields()
	size := im.Size()
	const span = 1 << 22
	for _, off := range []int64{0, size / 3, size - 100, size - 1} {
		if off < 0 {
			continue
		}
		es, err := im.Map(off, span)
		if err != nil {
			t.Fatalf("Map(%d): %v", off, err)
		}
		containertest.CheckMapRange(t, es, off, span, size)
		// reads agree with the map
		for i, e := range es {
			if i >= 16 {
				break
			}
			buf := bytes.Repeat([]byte{0xaa}, int(min(e.Len, 1<<16)))
			n, err := im.ReadAt(buf, e.Off)
			if err == io.EOF && e.Off+int64(n) == size {
				err = nil
			}
			if err != nil && !errors.Is(err, device.ErrUnreadable) {
				t.Fatalf("ReadAt(%d): %v: not an unreadable range", e.Off, err)
			}
			switch e.Kind {
			case device.Hole:
				if err != nil || n != len(buf) || !bytes.Equal(buf, make([]byte, len(buf))) {
					t.Fatalf("hole %+v: %d, %v", e, n, err)
				}
			case device.Unreadable:
				if err == nil {
					t.Fatalf("unreadable %+v read", e)
				}
			case device.Data:
				if err == nil && n != len(buf) {
					t.Fatalf("data %+v: %d bytes", e, n)
				}
			}
		}
	}
	runtime.ReadMemStats(&m1)
	if a := m1.TotalAlloc - m0.TotalAlloc; a > fuzzAllocMax {
		t.Fatalf("allocated %d bytes for a %d-byte input", a, len(data))
	}
}
