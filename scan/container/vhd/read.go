package vhd

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// Kinds of piece a virtual range resolves to.
const (
	pFile = iota
	pHole
	pParent
	pBad
)

type piece struct {
	off, n int64 // virtual range
	kind   int
	fo     int64  // file offset, for pFile
	why    string // for pBad
}

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
func (im *Image) pieces(off, n int64, fn func(piece) error) error {
	if im.dyn == nil {
		return fn(piece{off: off, n: n, kind: pFile, fo: off})
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

func (im *Image) blockPieces(b, in, l int64, fn func(piece) error) error {
	off := b*im.blockSize + in
	entry, err := im.batEntry(b)
	if err != nil {
		return fn(piece{off: off, n: l, kind: pBad, why: fmt.Sprintf("BAT entry %d: %v", b, err)})
	}
	diff := im.footer.DiskType == TypeDifferencing
	if entry == batUnused {
		if diff {
			return fn(piece{off: off, n: l, kind: pParent})
		}
		return fn(piece{off: off, n: l, kind: pHole})
	}
	start := int64(entry) * sectorSize
	data := start + im.bitmapSize
	used := min(im.blockSize, im.size-b*im.blockSize)
	if data+used > im.fileSize {
		return fn(piece{off: off, n: l, kind: pBad, why: fmt.Sprintf("block %d at byte %d lies beyond the end of the file (%d bytes)", b, start, im.fileSize)})
	}
	if !diff {
		return fn(piece{off: off, n: l, kind: pFile, fo: data + in})
	}
	bm, err := im.bitmap(entry)
	if err != nil {
		return fn(piece{off: off, n: l, kind: pBad, why: fmt.Sprintf("bitmap of block %d: %v", b, err)})
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
		p := piece{off: b*im.blockSize + in, n: e - in, kind: pParent}
		if set {
			p.kind, p.fo = pFile, data+in
		}
		if err := fn(p); err != nil {
			return err
		}
		in = e
	}
	return nil
}

func (im *Image) unreadable(off, n int64, why string) error {
	return &device.UnreadableError{Device: im.name, Off: off, Len: n, Why: why}
}

// ReadAt reads the virtual disk.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhd: %s: negative offset %d", im.name, off)
	}
	return blockdev.ReadAt(p, off, im.size, func(p []byte) (int, error) {
		done := 0
		err := im.pieces(off, int64(len(p)), func(pc piece) error {
			q := p[pc.off-off : pc.off-off+pc.n]
			switch pc.kind {
			case pFile:
				n, err := im.r.ReadAt(q, pc.fo)
				if err := blockdev.ShortRead(n, len(q), err); err != nil {
					return im.unreadable(pc.off, pc.n, fmt.Sprintf("reading byte %d of the file: %v", pc.fo, err))
				}
			case pHole:
				clear(q)
			case pParent:
				if err := readParent(im.parent, q, pc.off); err != nil {
					return err
				}
			case pBad:
				return im.unreadable(pc.off, pc.n, pc.why)
			}
			done += len(q)
			return nil
		})
		return done, err
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
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("vhd: %s: map of [%d, +%d): negative", im.name, off, length)
	}
	if off >= im.size {
		return nil, nil
	}
	length = min(length, im.size-off)
	var out []device.Extent
	add := func(e device.Extent) { out = blockdev.AppendExtent(out, e) }
	err := im.pieces(off, length, func(pc piece) error {
		switch pc.kind {
		case pFile:
			add(device.Extent{Off: pc.off, Len: pc.n, Kind: device.Data})
		case pHole:
			add(device.Extent{Off: pc.off, Len: pc.n, Kind: device.Hole})
		case pBad:
			add(device.Extent{Off: pc.off, Len: pc.n, Kind: device.Unreadable, Why: pc.why})
		case pParent:
			if im.parent == nil {
				add(device.Extent{Off: pc.off, Len: pc.n, Kind: device.Hole})
				return nil
			}
			ps := im.parent.Size()
			k := max(min(pc.n, ps-pc.off), 0)
			if k > 0 {
				es, err := device.MapAll(im.parent, pc.off, k)
				if err != nil {
					return err
				}
				for _, e := range es {
					add(e)
				}
			}
			add(device.Extent{Off: pc.off + k, Len: pc.n - k, Kind: device.Hole})
		}
		return nil
	})
	return out, err
}
