//go:build linux

package scan

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// osExtents finds the data extents of a file with SEEK_DATA and SEEK_HOLE.
type osExtents struct{ f *os.File }

func (e osExtents) dataAt(off int64) (start, end int64, ok bool) {
	fd := int(e.f.Fd())
	d, err := unix.Seek(fd, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return -1, 0, true
	}
	if err != nil {
		return 0, 0, false
	}
	h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
	if err != nil || h <= d {
		return 0, 0, false
	}
	return d, h, true
}
