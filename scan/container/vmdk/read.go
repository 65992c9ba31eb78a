package vmdk

import (
	"fmt"
	"sort"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// pieces resolves [eoff, eoff+n) of extent x into pieces of the disk.
func (x *extent) pieces(eoff, n int64, unalloc blockdev.PieceKind, read bool, fn func(blockdev.Piece) error) error {
	off := x.start + eoff
	switch {
	case x.bad != "":
		return fn(blockdev.Piece{Off: off, N: n, Kind: blockdev.Bad, Why: x.bad})
	case x.Access == "NOACCESS":
		return fn(blockdev.Piece{Off: off, N: n, Kind: blockdev.Bad, Why: fmt.Sprintf("extent of descriptor line %d is NOACCESS", x.line)})
	case x.Type == "ZERO":
		return fn(blockdev.Piece{Off: off, N: n, Kind: blockdev.Zero})
	case x.sp != nil:
		return x.sp.pieces(x.start, eoff, n, unalloc, read, fn)
	}
	// FLAT: the bytes at Offset sectors of the file; past its end they
	// cannot be read.
	at := x.Offset*sectorSize + eoff
	k := max(min(n, x.f.size-at), 0)
	if k > 0 {
		if err := fn(blockdev.Piece{Off: off, N: k, Kind: blockdev.InFile, FileOff: at, R: x.f.r, File: x.f.name}); err != nil {
			return err
		}
	}
	if k < n {
		return fn(blockdev.Piece{Off: off + k, N: n - k, Kind: blockdev.Bad, Why: fmt.Sprintf("beyond the end of %s (%d bytes)", x.f.name, x.f.size)})
	}
	return nil
}

// walk resolves [off, off+n) (within Size) into consecutive pieces,
// extent by extent.
func (im *Image) walk(off, n int64, read bool, fn func(blockdev.Piece) error) error {
	unalloc := blockdev.Zero
	if im.child {
		unalloc = blockdev.InParent
	}
	xs := im.extents
	i := sort.Search(len(xs), func(i int) bool { return xs[i].start+xs[i].size > off })
	for ; n > 0 && i < len(xs); i++ {
		x := xs[i]
		eoff := off - x.start
		l := min(x.size-eoff, n)
		if err := x.pieces(eoff, l, unalloc, read, fn); err != nil {
			return err
		}
		off += l
		n -= l
	}
	return nil
}

func (im *Image) mapPieces(off, n int64, fn func(blockdev.Piece) error) error {
	return im.walk(off, n, false, fn)
}

func (im *Image) readPieces(off, n int64, fn func(blockdev.Piece) error) error {
	return im.walk(off, n, true, fn)
}

// read fills q with the disk's bytes at off (within Size).
func (im *Image) read(q []byte, off int64) (int, error) {
	return blockdev.ReadPieces(q, off, im.name, nil, im.readPieces, blockdev.ParentReader(im.parent))
}

// ReadAt reads the virtual disk. A read that spans several compressed
// grains decompresses them on several cores.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("vmdk: "+im.name, p, off, im.size, func(p []byte) (int, error) {
		if im.unit > 0 {
			return blockdev.ReadParallel(p, off, im.unit, workers(), im.read)
		}
		return im.read(p, off)
	})
}

// Map describes [off, off+length) as data, holes (grains not allocated,
// zeroed grains, ZERO extents; through the parent chain for a child) and
// unreadable ranges.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	return blockdev.MapDisk("vmdk: "+im.name, off, length, im.size, im.mapPieces, im.parent)
}
