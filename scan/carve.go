package scan

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/lvminspect/lvminspect/model"
)

const carveChunk = 4 << 20

// carve searches every 512-byte sector of the input for a label (LABELONE
// with a sector number 0..3) and returns the PV start offsets it implies,
// in order, without duplicates. Holes of a sparse image file are skipped
// without reading them where the OS can tell (SEEK_DATA).
func carve(in *Input) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	buf := make([]byte, carveChunk)
	f := in.OSFile()
	for off := int64(0); off < in.Size; {
		if f != nil && !in.IsDevice {
			d, ok := nextData(f, off)
			if ok && d < 0 {
				break // nothing but a hole up to the end
			}
			if ok && d > off {
				off = d - d%model.SectorSize
			}
			if !ok {
				f = nil // no SEEK_DATA here: read everything
			}
		}
		n := min(int64(len(buf)), in.Size-off)
		got, err := in.r.ReadAt(buf[:n], off)
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
			if !seen[start] {
				seen[start] = true
				out = append(out, start)
			}
		}
		off += int64(len(b))
		if len(b) == 0 {
			break
		}
	}
	return out, nil
}
