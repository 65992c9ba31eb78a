package blockdev

import (
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/scan/device"
)

// PieceKind says where the bytes of a Piece are.
type PieceKind int

// The kinds of Piece.
const (
	InFile   PieceKind = iota // in the container file, at FileOff
	Zero                      // not stored: they read as zeros
	InParent                  // in the parent disk, at the same offset
	Bad                       // cannot be read, for Why
)

// Piece is a range of a virtual disk whose bytes are all of one kind.
type Piece struct {
	Off, N  int64 // the range of the virtual disk
	Kind    PieceKind
	FileOff int64  // for InFile
	Why     string // for Bad
	// R and File are for an InFile piece of a disk stored in several
	// files, or in blocks that must be decoded: R is what to read at
	// FileOff instead of ReadPieces' r, File its name in errors ("the
	// file" if empty). MapPieces does not use them.
	R    io.ReaderAt
	File string
}

// Pieces calls fn on the consecutive pieces [off, off+n) of a virtual
// disk resolves to, in order, and stops at fn's first error.
type Pieces func(off, n int64, fn func(Piece) error) error

// ReadPieces fills p with the bytes at off of the virtual disk name:
// the InFile pieces from r (or from their own R), the Zero pieces with
// zeros, the InParent pieces with parent (zeros if parent is nil). A
// Bad piece, or a file that reads short, stops it with a
// *device.UnreadableError. It returns the number of bytes filled before
// it stopped.
func ReadPieces(p []byte, off int64, name string, r io.ReaderAt, pieces Pieces, parent func(q []byte, off int64) error) (int, error) {
	done := 0
	err := pieces(off, int64(len(p)), func(pc Piece) error {
		q := p[pc.Off-off : pc.Off-off+pc.N]
		switch pc.Kind {
		case InFile:
			src, file := r, pc.File
			if pc.R != nil {
				src = pc.R
			}
			if file == "" {
				file = "the file"
			}
			n, err := src.ReadAt(q, pc.FileOff)
			if err := ShortRead(n, len(q), err); err != nil {
				return &device.UnreadableError{Device: name, Off: pc.Off, Len: pc.N, Why: fmt.Sprintf("reading byte %d of %s: %v", pc.FileOff, file, err)}
			}
		case Zero:
			clear(q)
		case InParent:
			if parent == nil {
				clear(q)
			} else if err := parent(q, pc.Off); err != nil {
				return err
			}
		case Bad:
			return &device.UnreadableError{Device: name, Off: pc.Off, Len: pc.N, Why: pc.Why}
		}
		done += len(q)
		return nil
	})
	return done, err
}

// MapPieces describes [off, off+n) of a virtual disk as the extents of
// its pieces, merged: InFile pieces are Data, Zero pieces Hole, Bad
// pieces Unreadable, and InParent pieces what parent's Map says of them
// (Hole past the parent's end, or all Hole without a parent).
func MapPieces(off, n int64, pieces Pieces, parent device.Device) ([]device.Extent, error) {
	var out []device.Extent
	add := func(e device.Extent) { out = AppendExtent(out, e) }
	err := pieces(off, n, func(pc Piece) error {
		switch pc.Kind {
		case InFile:
			add(device.Extent{Off: pc.Off, Len: pc.N, Kind: device.Data})
		case Zero:
			add(device.Extent{Off: pc.Off, Len: pc.N, Kind: device.Hole})
		case Bad:
			add(device.Extent{Off: pc.Off, Len: pc.N, Kind: device.Unreadable, Why: pc.Why})
		case InParent:
			if parent == nil {
				add(device.Extent{Off: pc.Off, Len: pc.N, Kind: device.Hole})
				return nil
			}
			ps := parent.Size()
			k := max(min(pc.N, ps-pc.Off), 0)
			if k > 0 {
				es, err := device.MapAll(parent, pc.Off, k)
				if err != nil {
					return err
				}
				for _, e := range es {
					add(e)
				}
			}
			add(device.Extent{Off: pc.Off + k, Len: pc.N - k, Kind: device.Hole})
		}
		return nil
	})
	return out, err
}
