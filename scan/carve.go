package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/lvminspect/lvminspect/scan/device"
	"io"

	"github.com/lvminspect/lvminspect/model"
)

const carveChunk = 4 << 20

// MaxCarvedLabels bounds the PV labels one search of an input (carving)
// keeps: each is probed as a PV, which costs memory and reads. Beyond it
// the search stops and says so; a smaller range finds the others.
const MaxCarvedLabels = 4096

// CarveLimitError says that carving found more labels than it keeps.
type CarveLimitError struct {
	Limit int   // MaxCarvedLabels
	Last  int64 // offset of the last PV start kept
	Next  int64 // offset of the first PV start not kept
}

func (e *CarveLimitError) Error() string {
	return fmt.Sprintf("more than %d PV labels found by carving: only those of PVs starting up to byte %d are probed, the search stopped at the next one (byte %d); narrow the range searched (for instance a read-only loop device with --offset and --sizelimit) to see the others",
		e.Limit, e.Last, e.Next)
}

// extentFinder reports the data extents of a sparse file.
type extentFinder interface {
	// dataAt returns the first data extent [start, end) at or after off;
	// start < 0 when only a hole follows. ok is false when the file system
	// cannot tell (everything is then read).
	dataAt(off int64) (start, end int64, ok bool)
}

// carve searches every 512-byte sector of the input for a label (LABELONE
// with a sector number 0..3) and returns the PV start offsets it implies,
// in order, without duplicates, at most MaxCarvedLabels of them (then with
// a *CarveLimitError). Only the data extents of a sparse image file are
// read where the OS can tell them (SEEK_DATA, SEEK_HOLE).
func carve(in *Input) ([]int64, error) {
	return carveReader(in.dev, in.Size, mapExtents{in.dev}, MaxCarvedLabels)
}

func carveReader(r io.ReaderAt, size int64, ext extentFinder, limit int) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	buf := make([]byte, carveChunk)
	dataEnd := int64(-1) // end of the data extent being read; -1: unknown
	for off := int64(0); off < size; {
		if ext != nil && off >= dataEnd {
			start, end, ok := ext.dataAt(off)
			switch {
			case !ok:
				ext = nil // no SEEK_DATA here: read everything
			case start < 0:
				return out, nil // nothing but a hole up to the end
			default:
				off = max(off, start-start%model.SectorSize)
				dataEnd = end
			}
		}
		n := min(int64(len(buf)), size-off)
		if ext != nil && dataEnd > off {
			// Up to the end of the extent, rounded up to a whole sector.
			n = min(n, (dataEnd-off+model.SectorSize-1)/model.SectorSize*model.SectorSize)
		}
		got, err := r.ReadAt(buf[:n], off)
		if got < model.SectorSize && err != nil {
			if err == io.EOF {
				break
			}
			return out, err
		}
		b := buf[:got-got%model.SectorSize]
		for i := 0; i < len(b); i += model.SectorSize {
			if !bytes.Equal(b[i:i+8], labelID) {
				continue
			}
			s := binary.LittleEndian.Uint64(b[i+8:])
			at := off + int64(i)
			if s > 3 || at < int64(s)*model.SectorSize {
				continue
			}
			start := at - int64(s)*model.SectorSize
			if seen[start] {
				continue
			}
			if len(out) == limit {
				return out, &CarveLimitError{Limit: limit, Last: out[len(out)-1], Next: start}
			}
			seen[start] = true
			out = append(out, start)
		}
		off += int64(len(b))
		if len(b) == 0 {
			break
		}
	}
	return out, nil
}

// mapExtents finds data extents through a device's Map: the holes of a
// sparse file, the clusters a container never allocated.
type mapExtents struct{ d device.Device }

// mapWindow bounds the range one Map call describes.
const mapWindow = 1 << 30

func (e mapExtents) dataAt(off int64) (start, end int64, ok bool) {
	if _, isMapper := e.d.(device.Mapper); !isMapper {
		return 0, 0, false
	}
	size := e.d.Size()
	for pos := off; pos < size; pos += mapWindow {
		ext, err := device.MapAll(e.d, pos, min(mapWindow, size-pos))
		if err != nil {
			return 0, 0, false
		}
		for i, x := range ext {
			if x.Kind != device.Data {
				continue // a hole, or a range that cannot be read
			}
			end := x.Off + x.Len
			for _, y := range ext[i+1:] {
				if y.Kind != device.Data {
					break
				}
				end = y.Off + y.Len
			}
			return max(x.Off, off), end, true
		}
	}
	return -1, 0, true
}
