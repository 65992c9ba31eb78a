package vhd

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

func (im *Image) batEntry(b int64) (uint32, error) {
	if im.bat != nil {
		return im.bat[b], nil
	}
	var buf [4]byte
	if err := im.readFull(buf[:], int64(im.dyn.TableOffset)+4*b); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(buf[:]), nil
}

// bitmap returns a differencing block's sector bitmap.
func (im *Image) bitmap(entry uint32) ([]byte, error) {
	im.mu.Lock()
	bm, ok := im.bitmaps[entry]
	im.mu.Unlock()
	if ok {
		return bm, nil
	}
	bm = make([]byte, im.bitmapSize)
	if err := im.readFull(bm, int64(entry)*sectorSize); err != nil {
		return nil, err
	}
	im.mu.Lock()
	if im.bitmapBytes+len(bm) > bitmapCacheBytes {
		im.bitmaps = map[uint32][]byte{}
		im.bitmapBytes = 0
	}
	im.bitmaps[entry] = bm
	im.bitmapBytes += len(bm)
	im.mu.Unlock()
	return bm, nil
}

// pieces resolves [off, off+n) (within Size) into consecutive pieces.
func (im *Image) pieces(off, n int64, fn func(blockdev.Piece) error) error {
	if im.dyn == nil {
		return fn(blockdev.Piece{Off: off, N: n, Kind: blockdev.InFile, FileOff: off})
	}
	bs := im.blockSize
	for n > 0 {
		b := off / bs
		in := off % bs
		l := min(bs-in, n)
		if err := im.blockPieces(b, in, l, fn); err != nil {
			return err
		}
		off += l
		n -= l
	}
	return nil
}

func (im *Image) blockPieces(b, in, l int64, fn func(blockdev.Piece) error) error {
	off := b*im.blockSize + in
	entry, err := im.batEntry(b)
	if err != nil {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("BAT entry %d: %v", b, err)})
	}
	diff := im.footer.DiskType == TypeDifferencing
	if entry == batUnused {
		if diff {
			return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.InParent})
		}
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Zero})
	}
	start := int64(entry) * sectorSize
	data := start + im.bitmapSize
	used := min(im.blockSize, im.size-b*im.blockSize)
	if data+used > im.fileSize {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("block %d at byte %d lies beyond the end of the file (%d bytes)", b, start, im.fileSize)})
	}
	if !diff {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.InFile, FileOff: data + in})
	}
	bm, err := im.bitmap(entry)
	if err != nil {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("bitmap of block %d: %v", b, err)})
	}
	bit := func(s int64) bool { return bm[s/8]&(0x80>>(s%8)) != 0 }
	end := in + l
	for in < end {
		s := in / sectorSize
		set := bit(s)
		e := (s + 1) * sectorSize
		for e < end && bit(e/sectorSize) == set {
			e += sectorSize
		}
		e = min(e, end)
		p := blockdev.Piece{Off: b*im.blockSize + in, N: e - in, Kind: blockdev.InParent}
		if set {
			p.Kind, p.FileOff = blockdev.InFile, data+in
		}
		if err := fn(p); err != nil {
			return err
		}
		in = e
	}
	return nil
}

// ReadAt reads the virtual disk.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("vhd: "+im.name, p, off, im.size, func(p []byte) (int, error) {
		return blockdev.ReadPieces(p, off, im.name, im.r, im.pieces, func(q []byte, off int64) error {
			return readParent(im.parent, q, off)
		})
	})
}

// readParent reads q at off from the parent; the part past the parent's
// end (a child larger than its parent) reads as zeros.
func readParent(parent device.Device, q []byte, off int64) error {
	if parent == nil {
		clear(q)
		return nil
	}
	ps := parent.Size()
	k := 0
	if off < ps {
		k = int(min(int64(len(q)), ps-off))
		n, err := parent.ReadAt(q[:k], off)
		if n < k {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	clear(q[k:])
	return nil
}

// Map describes [off, off+length) as data, holes and unreadable ranges,
// through the parent chain.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	return blockdev.MapDisk("vhd: "+im.name, off, length, im.size, im.pieces, im.parent)
}
