// Package sourcetest reads export sources in tests the way the export
// engine does, checking that their runs tile every window.
package sourcetest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// Walk reads src window by window through Runs and ReadAt, the way the
// export engine does (data runs read, zero and missing runs as zeros),
// and hands each window's bytes to fn in order. It fails the test when
// the runs do not tile a window, a read comes up short or a missing run
// gives no reason, and returns all runs, adjacent runs of one kind and
// reason merged (whatever their source).
func Walk(t testing.TB, src export.Source, win int64, fn func(off int64, b []byte)) []export.Run {
	t.Helper()
	var all []export.Run
	buf := make([]byte, win)
	for off := int64(0); off < src.Size(); off += win {
		n := min(win, src.Size()-off)
		runs, err := src.Runs(off, n)
		if err != nil {
			t.Fatalf("Runs(%d, %d): %v", off, n, err)
		}
		pos := off
		for _, r := range runs {
			if r.Off != pos || r.Len <= 0 {
				t.Fatalf("Runs(%d, %d): run %+v does not continue at %d", off, n, r, pos)
			}
			b := buf[r.Off-off : r.End()-off]
			switch r.Kind {
			case export.RunData:
				if m, err := src.ReadAt(b, r.Off); m != len(b) {
					t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", len(b), r.Off, m, err)
				}
			case export.RunMissing:
				if r.Reason == "" {
					t.Errorf("missing run %+v without reason", r)
				}
				clear(b)
			default:
				clear(b)
			}
			if k := len(all); k > 0 && all[k-1].Kind == r.Kind && all[k-1].End() == r.Off && all[k-1].Reason == r.Reason {
				all[k-1].Len += r.Len
			} else {
				all = append(all, r)
			}
			pos = r.End()
		}
		if pos != off+n {
			t.Fatalf("Runs(%d, %d) end at %d", off, n, pos)
		}
		fn(off, buf[:n])
	}
	return all
}

// Hash is Walk hashing the bytes: the sha256 of src as exported, and its
// runs.
func Hash(t testing.TB, src export.Source, win int64) (string, []export.Run) {
	t.Helper()
	h := sha256.New()
	runs := Walk(t, src, win, func(_ int64, b []byte) { h.Write(b) })
	return hex.EncodeToString(h.Sum(nil)), runs
}

// Read is Walk keeping the bytes: all of src as exported, and its missing
// runs.
func Read(t testing.TB, src export.Source, win int64) ([]byte, []export.Run) {
	t.Helper()
	out := make([]byte, src.Size())
	runs := Walk(t, src, win, func(off int64, b []byte) { copy(out[off:], b) })
	return out, Missing(runs)
}

// Missing returns the RunMissing runs of runs.
func Missing(runs []export.Run) []export.Run {
	var out []export.Run
	for _, r := range runs {
		if r.Kind == export.RunMissing {
			out = append(out, r)
		}
	}
	return out
}
