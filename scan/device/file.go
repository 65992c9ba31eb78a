package device

import (
	"os"
)

// File is a file or disk device of the operating system as a device. A
// regular file knows where its holes are (SEEK_DATA and SEEK_HOLE, where
// the system and file system tell) and takes the kernel's readahead
// hints; reads use pread, so they may run concurrently.
type File struct {
	f *os.File
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	size    int64
	regular bool
}

// NewFile returns f (size bytes) as a device; r, when not nil, is what
// reads it (a block device's sector-aligning reader), else f itself.
// regular says whether f is a regular file (holes are asked of it only
// then).
func NewFile(f *os.File, size int64, regular bool, r interface {
	ReadAt([]byte, int64) (int, error)
}) *File {
	if r == nil {
		r = f
	}
	return &File{f: f, r: r, size: size, regular: regular}
}

// OS is the file of the operating system.
func (d *File) OS() *os.File { return d.f }

// Size is the file's or device's size.
func (d *File) Size() int64 { return d.size }

// ReadAt reads the file.
func (d *File) ReadAt(p []byte, off int64) (int, error) { return d.r.ReadAt(p, off) }

// ConcurrentReads is true: reads are preads.
func (d *File) ConcurrentReads() bool { return true }

// Map describes [off, off+length) as data and holes, as the file system
// tells them; all data where it cannot tell (a block device, a file
// system or system without SEEK_DATA).
func (d *File) Map(off, length int64) ([]Extent, error) {
	if off < 0 || length < 0 {
		return nil, nil
	}
	end := min(off+length, d.size)
	if off >= end {
		return nil, nil
	}
	all := []Extent{{Off: off, Len: end - off, Kind: Data}}
	if !d.regular {
		return all, nil
	}
	var out []Extent
	for pos := off; pos < end; {
		data, next, ok := probeExtent(d.f, pos)
		if !ok {
			if len(out) == 0 {
				return all, nil
			}
			return append(out, Extent{Off: pos, Len: end - pos, Kind: Data}), nil
		}
		next = min(max(next, pos+1), end)
		k := Hole
		if data {
			k = Data
		}
		if n := len(out); n > 0 && out[n-1].Kind == k {
			out[n-1].Len += next - pos
		} else {
			out = append(out, Extent{Off: pos, Len: next - pos, Kind: k})
		}
		pos = next
	}
	return out, nil
}

// AdviseSequential hints that [off, off+n) will be read in order.
func (d *File) AdviseSequential(off, n int64) { adviseSequential(d.f, off, n) }

// AdviseWillNeed starts the kernel reading [off, off+n) ahead.
func (d *File) AdviseWillNeed(off, n int64) { adviseWillNeed(d.f, off, n) }

// Close closes the file.
func (d *File) Close() error { return d.f.Close() }
