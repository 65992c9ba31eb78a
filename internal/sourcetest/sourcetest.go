// Package sourcetest reads export sources in tests the way the export
// engine does, checking that their runs tile every window.
package sourcetest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// Hash reads src window by window through Runs and ReadAt (data runs
// read, zero and missing runs hashed as zeros), fails the test when the
// runs do not tile a window or a read comes up short, and returns the
// sha256 and all runs, adjacent runs of one kind merged.
func Hash(t testing.TB, src export.Source, win int64) (string, []export.Run) {
	t.Helper()
	h := sha256.New()
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
			if r.Kind == export.RunData {
				if m, err := src.ReadAt(b, r.Off); m != len(b) {
					t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", len(b), r.Off, m, err)
				}
			} else {
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
		h.Write(buf[:n])
	}
	return hex.EncodeToString(h.Sum(nil)), all
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
