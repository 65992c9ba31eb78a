package export

import (
	"bytes"
	"fmt"
	"io"
)

// sink is where exported bytes go, in LV order.
type sink interface {
	put(c *chunk) error
	// finish completes the output once every chunk has been put.
	finish(size int64) error
	holes() int64
}

// fileSink writes a regular file, optionally leaving all-zero blocks as
// holes: it seeks past them and the final Truncate sets the size.
type fileSink struct {
	f      File
	name   string
	sparse bool
	pos    int64 // the file offset
	hole   int64
	// started is the offset up to which writeback has been started
	// (startWriteback): everything before it is on its way to the disk.
	started int64
}

// writebackStep is how many bytes are written before writeback of them is
// started.
const writebackStep = 8 << 20

func (s *fileSink) holes() int64 { return s.hole }

func (s *fileSink) put(c *chunk) error {
	if err := s.write(c); err != nil {
		return err
	}
	if end := c.off + int64(len(c.buf)); end-s.started >= writebackStep {
		startWriteback(s.f, s.started, end-s.started)
		s.started = end
	}
	return nil
}

func (s *fileSink) write(c *chunk) error {
	switch {
	case c.zero && s.sparse:
		s.hole += int64(len(c.buf))
		return nil
	case c.zero:
		return s.writeZeros(c.off, len(c.buf))
	case !s.sparse:
		return s.writeAt(c.buf, c.off)
	}
	// Write runs of non-zero blocks; skip the zero blocks.
	z := zeros()[:blockSize]
	start := -1 // start of the pending non-zero run
	for i := 0; i < len(c.buf); i += blockSize {
		blk := c.buf[i:min(i+blockSize, len(c.buf))]
		if bytes.Equal(blk, z[:len(blk)]) {
			if start >= 0 {
				if err := s.writeAt(c.buf[start:i], c.off+int64(start)); err != nil {
					return err
				}
				start = -1
			}
			s.hole += int64(len(blk))
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		return s.writeAt(c.buf[start:], c.off+int64(start))
	}
	return nil
}

// writeAt writes b at file offset off, seeking first if needed.
func (s *fileSink) writeAt(b []byte, off int64) error {
	if s.pos != off {
		if _, err := s.f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("export: seeking %s to %d: %w", s.name, off, err)
		}
		s.pos = off
	}
	n, err := s.f.Write(b)
	s.pos += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("export: writing %s at %d: %w", s.name, off+int64(n), err)
	}
	return nil
}

func (s *fileSink) writeZeros(off int64, n int) error {
	z := zeros()
	for n > 0 {
		k := min(n, len(z))
		if err := s.writeAt(z[:k], off); err != nil {
			return err
		}
		off += int64(k)
		n -= k
	}
	return nil
}

// finish sets the file size, which also creates a trailing hole.
func (s *fileSink) finish(size int64) error {
	if err := s.f.Truncate(size); err != nil {
		return fmt.Errorf("export: setting the size of %s: %w", s.name, err)
	}
	return nil
}

// streamSink writes to a stream (stdout), zeros included.
type streamSink struct {
	w io.Writer
}

func (s *streamSink) holes() int64 { return 0 }

func (s *streamSink) put(c *chunk) error {
	if !c.zero {
		return s.write(c.buf)
	}
	z := zeros()
	for n := len(c.buf); n > 0; {
		k := min(n, len(z))
		if err := s.write(z[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func (s *streamSink) write(b []byte) error {
	n, err := s.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("export: writing to standard output: %w", err)
	}
	return nil
}

func (s *streamSink) finish(int64) error { return nil }
