package scan

import (
	"errors"
	"fmt"
	"io"
)

// deviceAlign is the granularity of reads from disk devices: a multiple of
// every common sector size (512 and 4096 bytes).
const deviceAlign = 4096

// bounceMax bounds the buffer an unaligned read goes through.
const bounceMax = 1 << 20

// sectorReader makes every read of a disk device start and end on a
// sector boundary. The disk devices of FreeBSD (/dev/ada0) and macOS
// (/dev/rdisk2) refuse other reads with EINVAL, and labels, headers and
// metadata text are read at any offset and length. Aligned reads (the
// export's chunks) pass straight through; the others are read whole
// sectors at a time through a bounce buffer. The end of a read is clipped
// to the device size, which is a whole number of sectors.
type sectorReader struct {
	r    io.ReaderAt
	size int64
}

func (s *sectorReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at negative offset %d", off)
	}
	if off%deviceAlign == 0 && len(p)%deviceAlign == 0 {
		return s.r.ReadAt(p, off)
	}
	var bounce []byte
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= s.size {
			return n, io.EOF
		}
		start := pos - pos%deviceAlign
		want := min(int64(len(p)-n), bounceMax-(pos-start))
		stop := min((pos+want+deviceAlign-1)/deviceAlign*deviceAlign, s.size)
		if need := int(stop - start); cap(bounce) < need {
			bounce = make([]byte, need)
		}
		b := bounce[:stop-start]
		m, err := s.r.ReadAt(b, start)
		if skip := int(pos - start); m > skip {
			n += copy(p[n:], b[skip:m])
		} else if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if n == len(p) {
			return n, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && m < len(b) && stop < s.size {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		if m < len(b) {
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, nil
}
