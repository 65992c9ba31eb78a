package vhdx

import (
	"encoding/binary"
	"fmt"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// batEntry returns BAT entry i.
func (im *Image) batEntry(i int64) (uint64, error) {
	if im.batTable != nil {
		return im.batTable[i], nil
	}
	var buf [8]byte
	if err := im.readFull(buf[:], int64(im.bat.FileOffset)+8*i); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// entryOffset is the file offset a BAT entry locates, and false if it
// lies beyond what the file could hold.
func entryOffset(e uint64) (int64, bool) {
	mb := e >> 20
	if mb > maxFileSize/mib {
		return 0, false
	}
	return int64(mb) * mib, true
}

func stateName(s uint64) string {
	switch s {
	case PayloadNotPresent:
		return "NOT_PRESENT"
	case PayloadUndefined:
		return "UNDEFINED"
	case PayloadZero:
		return "ZERO"
	case PayloadUnmapped:
		return "UNMAPPED"
	case PayloadFullyPresent:
		return "FULLY_PRESENT"
	case PayloadPartiallyPresent:
		return "PARTIALLY_PRESENT"
	}
	return fmt.Sprintf("reserved state %d", s)
}

// bitmap returns the part of the sector bitmap that covers payload block
// b (one bit a logical sector, bit 0 of byte 0 first).
func (im *Image) bitmap(b int64) ([]byte, error) {
	im.mu.Lock()
	bm, ok := im.bitmaps[b]
	im.mu.Unlock()
	if ok {
		return bm, nil
	}
	cr := im.chunkRatio
	i := (b/cr)*(cr+1) + cr
	e, err := im.batEntry(i)
	if err != nil {
		return nil, fmt.Errorf("sector bitmap BAT entry %d: %v", i, err)
	}
	if e&7 != SectorBitmapPresent {
		return nil, fmt.Errorf("sector bitmap BAT entry %d (byte %d of the file) in state %d, not SB_BLOCK_PRESENT", i, int64(im.bat.FileOffset)+8*i, e&7)
	}
	off, ok := entryOffset(e)
	if !ok || off < headerSectionSize || off+sectorBitmapSize > im.effSize {
		return nil, fmt.Errorf("sector bitmap block of BAT entry %d (byte %d of the file) at byte %d lies outside the file (%d bytes)", i, int64(im.bat.FileOffset)+8*i, off, im.effSize)
	}
	n := im.blockSize / im.logicalSector / 8
	bm = make([]byte, n)
	if err := im.readFull(bm, off+(b%cr)*n); err != nil {
		return nil, err
	}
	im.mu.Lock()
	if im.bitmapBytes+len(bm) > bitmapCacheBytes {
		im.bitmaps = map[int64][]byte{}
		im.bitmapBytes = 0
	}
	im.bitmaps[b] = bm
	im.bitmapBytes += len(bm)
	im.mu.Unlock()
	return bm, nil
}

// pieces resolves [off, off+n) (within Size) into consecutive pieces.
func (im *Image) pieces(off, n int64, fn func(blockdev.Piece) error) error {
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
	bs := im.blockSize
	off := b*bs + in
	i := b + b/im.chunkRatio
	entryAt := int64(im.bat.FileOffset) + 8*i
	e, err := im.batEntry(i)
	if err != nil {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("payload block %d: BAT entry %d: %v", b, i, err)})
	}
	state := e & 7
	switch state {
	case PayloadNotPresent:
		if im.hasParent {
			return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.InParent})
		}
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Zero})
	case PayloadUndefined, PayloadZero, PayloadUnmapped:
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Zero})
	case PayloadFullyPresent, PayloadPartiallyPresent:
	default:
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("payload block %d: BAT entry %d (byte %d of the file) %#016x in a reserved state (%d)", b, i, entryAt, e, state)})
	}
	if state == PayloadPartiallyPresent && !im.hasParent {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("payload block %d: BAT entry %d (byte %d of the file) PARTIALLY_PRESENT in a disk without a parent", b, i, entryAt)})
	}
	start, ok := entryOffset(e)
	used := min(bs, im.size-b*bs)
	if !ok || start < headerSectionSize || start > im.effSize-used {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("payload block %d: BAT entry %d (byte %d of the file) places it at byte %d, outside the file (%d bytes)", b, i, entryAt, start, im.effSize)})
	}
	if state == PayloadFullyPresent {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.InFile, FileOff: start + in})
	}
	bm, err := im.bitmap(b)
	if err != nil {
		return fn(blockdev.Piece{Off: off, N: l, Kind: blockdev.Bad, Why: fmt.Sprintf("payload block %d: %v", b, err)})
	}
	ss := im.logicalSector
	bit := func(s int64) bool { return bm[s/8]&(1<<(s%8)) != 0 }
	end := in + l
	for in < end {
		s := in / ss
		set := bit(s)
		e := (s + 1) * ss
		for e < end && bit(e/ss) == set {
			e += ss
		}
		e = min(e, end)
		p := blockdev.Piece{Off: b*bs + in, N: e - in, Kind: blockdev.InParent}
		if set {
			p.Kind, p.FileOff = blockdev.InFile, start+in
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
	return blockdev.ReadDisk("vhdx: "+im.name, p, off, im.size, func(p []byte) (int, error) {
		return blockdev.ReadPieces(p, off, im.name, im.r, im.pieces, blockdev.ParentReader(im.parent))
	})
}

// Map describes [off, off+length) as data, holes and unreadable ranges,
// through the parent chain.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	return blockdev.MapDisk("vhdx: "+im.name, off, length, im.size, im.pieces, im.parent)
}
