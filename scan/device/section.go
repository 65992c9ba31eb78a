package device

import (
	"fmt"
	"io"
)

// Advisor is implemented by devices backed by a file of the operating
// system: hints for the kernel's readahead. Both are hints; errors are
// ignored.
type Advisor interface {
	// AdviseSequential says [off, off+n) will be read in order.
	AdviseSequential(off, n int64)
	// AdviseWillNeed starts reading [off, off+n) ahead.
	AdviseWillNeed(off, n int64)
}

// Section is the part [off, off+size) of a parent device as a device of
// its own (a partition, a PV inside a disk): reads, Map and the hints
// are passed to the parent, shifted. Reads stop at the section's end.
type Section struct {
	parent Device
	off    int64
	size   int64
}

// NewSection returns [off, off+size) of d, clipped to d's size.
func NewSection(d Device, off, size int64) *Section {
	if off < 0 {
		off = 0
	}
	if end := d.Size(); off > end {
		off = end
	}
	if size < 0 || size > d.Size()-off {
		size = d.Size() - off
	}
	return &Section{parent: d, off: off, size: size}
}

// Parent is the device the section is part of, and where it starts.
func (s *Section) Parent() (Device, int64) { return s.parent, s.off }

// Size is the section's length.
func (s *Section) Size() int64 { return s.size }

// ReadAt reads the section.
func (s *Section) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("device: read at negative offset %d", off)
	}
	if off >= s.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	short := false
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
		short = true
	}
	n, err := s.parent.ReadAt(p, s.off+off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

// Map is the parent's map of the range, shifted.
func (s *Section) Map(off, length int64) ([]Extent, error) {
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("device: map of [%d, +%d): negative", off, length)
	}
	if off >= s.size {
		return nil, nil
	}
	length = min(length, s.size-off)
	ext, err := MapAll(s.parent, s.off+off, length)
	for i := range ext {
		ext[i].Off -= s.off
	}
	return ext, err
}

// ConcurrentReads is the parent's answer (true when it does not say).
func (s *Section) ConcurrentReads() bool { return ConcurrentReads(s.parent) }

// AdviseSequential passes the hint to the parent.
func (s *Section) AdviseSequential(off, n int64) {
	if a, ok := s.parent.(Advisor); ok {
		a.AdviseSequential(s.off+off, min(n, s.size-off))
	}
}

// AdviseWillNeed passes the hint to the parent.
func (s *Section) AdviseWillNeed(off, n int64) {
	if a, ok := s.parent.(Advisor); ok {
		a.AdviseWillNeed(s.off+off, min(n, s.size-off))
	}
}

// ConcurrentReads reports whether d may be read from several goroutines
// at once: its own answer, true when it does not say.
func ConcurrentReads(d Device) bool {
	if c, ok := d.(Concurrent); ok {
		return c.ConcurrentReads()
	}
	return true
}

// Reader is an io.ReaderAt as a device of size bytes, with no
// capabilities (tests, in-memory disks).
type Reader struct {
	R io.ReaderAt
	N int64
}

// Size is N.
func (r Reader) Size() int64 { return r.N }

// ReadAt reads R, clipped at N.
func (r Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("device: read at negative offset %d", off)
	}
	if off >= r.N {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	short := false
	if int64(len(p)) > r.N-off {
		p = p[:r.N-off]
		short = true
	}
	n, err := r.R.ReadAt(p, off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}
