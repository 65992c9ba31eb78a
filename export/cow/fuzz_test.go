package cow

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadStore decodes arbitrary COW LV contents: it must not panic or
// hang, and whatever it accepts must be a consistent table that the
// snapshot view can be built from.
func FuzzReadStore(f *testing.F) {
	f.Add(buildStore(1, 100, []Exception{{Old: 3, New: 2}, {Old: 1, New: 3}}), int64(1<<20), uint64(8))
	f.Add(buildStore(1, 1+2*33, func() []Exception {
		var ex []Exception
		for i := 0; i < 64; i++ {
			ex = append(ex, Exception{Old: uint64(i), New: uint64(2 + i/32*33 + i%32)})
		}
		return ex
	}()), int64(1<<20), uint64(1))
	f.Add(buildStore(8, 3, []Exception{{Old: 0x100, New: 2}}), int64(8<<20), uint64(8))
	f.Add(make([]byte, 2048), int64(4096), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, originSize int64, chunk uint64) {
		if originSize < 0 {
			originSize = -originSize
		}
		p := StoreParams{LV: "fuzz", Size: int64(len(data)), OriginSize: originSize, ChunkSectors: chunk}
		st, err := ReadStore(bytes.NewReader(data), p)
		if err != nil {
			var se *StoreError
			if !errors.As(err, &se) || se.Error() == "" {
				t.Fatalf("untyped error %v", err)
			}
			if !errors.Is(err, ErrInvalidated) {
				return
			}
		}
		if st.ChunkBytes == 0 {
			if len(st.Exceptions) != 0 {
				t.Fatalf("exceptions without a chunk size")
			}
			return
		}
		nChunks := uint64(p.Size / st.ChunkBytes)
		for i, e := range st.Exceptions {
			if e.New == 0 || e.New >= nChunks || uint64(int64(e.Old)*st.ChunkBytes) >= uint64(originSize) {
				t.Fatalf("exception %d out of range: %+v", i, e)
			}
			if i > 0 && st.Exceptions[i-1].Old >= e.Old {
				t.Fatalf("exceptions not sorted or duplicated at %d", i)
			}
		}
		if uint64(len(st.Exceptions)) > nChunks {
			t.Fatalf("%d exceptions in %d chunks", len(st.Exceptions), nChunks)
		}
		if _, err := NewOverlay(Zero(originSize), Zero(p.Size), st.Extents(originSize)); err != nil {
			t.Fatalf("accepted store gives no view: %v", err)
		}
	})
}
