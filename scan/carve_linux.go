//go:build linux

package scan

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// nextData returns the offset of the first data at or after off (-1 when
// only a hole follows); ok is false when the file system cannot tell.
func nextData(f *os.File, off int64) (int64, bool) {
	d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return -1, true
	}
	if err != nil {
		return 0, false
	}
	return d, true
}
