// Package blockdev holds what the container readers share: opening a
// file for concurrent reads, the bounds of a device's ReadAt, full reads
// of a container's own structures, the reading and mapping of a virtual
// disk resolved into pieces (Piece) and the merging of Map's extents.
package blockdev

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// ReaderAtCloser is a file to read at offsets and close.
type ReaderAtCloser interface {
	io.ReaderAt
	io.Closer
}

// lockedFile serialises the reads of a file whose ReadAt is not safe for
// concurrent use (afero's in-memory files move a shared offset).
type lockedFile struct {
	mu sync.Mutex
	f  ReaderAtCloser
}

func (l *lockedFile) ReadAt(p []byte, off int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.ReadAt(p, off)
}

// Close closes the file.
func (l *lockedFile) Close() error { return l.f.Close() }

// ConcurrentReader returns a reader of f that may be called from several
// goroutines: an *os.File itself (it reads with pread and needs no
// lock), any other file behind a lock. Closing it closes f.
func ConcurrentReader(f afero.File) ReaderAtCloser {
	if osf, ok := f.(*os.File); ok {
		return osf
	}
	return &lockedFile{f: f}
}

// CloseAll closes every closer in cs, in order, and returns the first
// error.
func CloseAll(cs []io.Closer) error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ReadAt frames the ReadAt of a device of size bytes; off must not be
// negative. At or past the end it returns 0 and io.EOF (0 and nil for an
// empty p). Otherwise it calls read with p cut at the end of the device
// and returns what read returns, with io.EOF if read had no error but p
// was cut or read returned less than it was given.
func ReadAt(p []byte, off, size int64, read func(q []byte) (int, error)) (int, error) {
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > size-off {
		p = p[:size-off]
	}
	n, err := read(p)
	if err != nil {
		return n, err
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// ShortRead is the error of a read that returned n of want bytes with
// err: nil if n is want, err if it says why, io.ErrUnexpectedEOF if err
// is nil or io.EOF.
func ShortRead(n, want int, err error) error {
	if n >= want {
		return nil
	}
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadFull reads all of p at off from r; a short read is an error, as
// ShortRead says.
func ReadFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	return ShortRead(n, len(p), err)
}

// AppendExtent appends e to out, merged into the last extent when e is
// of the same kind and reason and starts where it ends; an empty e is
// dropped.
func AppendExtent(out []device.Extent, e device.Extent) []device.Extent {
	if e.Len <= 0 {
		return out
	}
	if k := len(out) - 1; k >= 0 && out[k].Kind == e.Kind && out[k].Why == e.Why && out[k].Off+out[k].Len == e.Off {
		out[k].Len += e.Len
		return out
	}
	return append(out, e)
}

// ParentError is a differencing or snapshot disk whose parent (or a
// qcow2's backing file) cannot be used: the child, the parent as the
// child records it, the paths tried and why none would do.
type ParentError struct {
	Format string   // "vhd", "vhdx", "vmdk"
	Child  string   // the child's file
	Name   string   // the parent as the child names it (a file name hint, a VHDX parent linkage)
	Tried  []string // the paths tried, in order
	Why    string
}

func (e *ParentError) Error() string {
	s := fmt.Sprintf("%s: %s: parent %q: %s", e.Format, e.Child, e.Name, e.Why)
	if len(e.Tried) > 0 {
		s += fmt.Sprintf(" (tried %q)", e.Tried)
	}
	return s
}

// OpenLink opens name, the next file of a chain of parents (seen, from
// the first child on), read-only through fsys, and returns it with its
// size and the chain with it. A name already in the chain (a loop) or a
// chain of maxChain files already is refused with an error that names
// the first child; errors start with the format's name.
func OpenLink(fsys afero.Fs, format, name string, seen []string, maxChain int) (afero.File, int64, []string, error) {
	clean := filepath.Clean(name)
	for _, s := range seen {
		if s == clean {
			return nil, 0, nil, fmt.Errorf("%s: %s: the parent chain loops back to %s", format, seen[0], name)
		}
	}
	if len(seen) >= maxChain {
		return nil, 0, nil, fmt.Errorf("%s: %s: parent chain deeper than %d", format, seen[0], maxChain)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", format, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("%s: %w", format, err)
	}
	return f, st.Size(), append(seen, clean), nil
}
