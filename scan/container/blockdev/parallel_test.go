package blockdev

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

func TestReadParallel(t *testing.T) {
	data := make([]byte, 200)
	for i := range data {
		data[i] = byte(i)
	}
	bad := errors.New("bad block")
	var calls atomic.Int32
	// read copies from data, block by block of 8, failing at failAt.
	read := func(failAt int64) func(q []byte, off int64) (int, error) {
		return func(q []byte, off int64) (int, error) {
			calls.Add(1)
			return blockRead(data, off, 8, failAt, bad)(q)
		}
	}
	for _, tc := range []struct {
		name          string
		off           int64
		n             int
		workers       int
		failAt        int64
		wantN         int
		wantErr       error
		wantCallsOver int32 // more calls than this
	}{
		{"one unit", 3, 4, 4, -1, 4, nil, 0},
		{"many units", 3, 150, 4, -1, 150, nil, 1},
		{"one worker", 3, 150, 1, -1, 150, nil, 0},
		{"all of it", 0, 200, 3, -1, 200, nil, 1},
		{"error in a later part", 3, 150, 4, 100, 93, bad, 1},
		{"error in the first part", 3, 150, 4, 5, 0, bad, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			p := bytes.Repeat([]byte{0xee}, tc.n)
			n, err := ReadParallel(p, tc.off, 8, tc.workers, read(tc.failAt))
			if n != tc.wantN || err != tc.wantErr {
				t.Fatalf("%d, %v; want %d, %v", n, err, tc.wantN, tc.wantErr)
			}
			if !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatal("bytes differ")
			}
			if c := calls.Load(); c <= tc.wantCallsOver || (tc.wantCallsOver == 0 && c != 1) {
				t.Fatalf("%d calls", c)
			}
		})
	}
	// A part that reads short without an error stops it there.
	short := func(q []byte, off int64) (int, error) {
		if off > 0 {
			return len(q) / 2, nil
		}
		return copy(q, data[off:]), nil
	}
	p := make([]byte, 64)
	if n, err := ReadParallel(p, 0, 8, 2, short); n != 32+16 || err != nil {
		t.Fatalf("short part: %d, %v", n, err)
	}
}

// TestReadPiecesOwnReader reads InFile pieces that name their own
// reader, as a disk in several files does.
func TestReadPiecesOwnReader(t *testing.T) {
	a, b := bytes.NewReader([]byte("0123456789")), bytes.NewReader([]byte("abc"))
	pieces := func(off, n int64, fn func(Piece) error) error {
		for _, pc := range []Piece{
			{Off: 0, N: 4, Kind: InFile, FileOff: 6, R: a},
			{Off: 4, N: 2, Kind: InFile, FileOff: 1, R: b, File: "b.img"},
			{Off: 6, N: 2, Kind: InFile, FileOff: 2, R: b, File: "b.img"},
		} {
			if err := fn(pc); err != nil {
				return err
			}
		}
		return nil
	}
	p := make([]byte, 8)
	n, err := ReadPieces(p, 0, "disk", nil, pieces, nil)
	var ue *device.UnreadableError
	if n != 6 || string(p[:6]) != "6789bc" || !errors.As(err, &ue) || ue.Off != 6 || ue.Why != "reading byte 2 of b.img: unexpected EOF" {
		t.Fatalf("%d %q, %v", n, p, err)
	}
}
