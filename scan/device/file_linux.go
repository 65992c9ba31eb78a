//go:build linux

package device

import (
	"errors"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// lseek runs lseek(2) on f without changing f's blocking mode, and
// without moving the offset other readers use (reads are preads).
func lseek(f *os.File, off int64, whence int) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var r int64
	var serr error
	if err := rc.Control(func(fd uintptr) { r, serr = unix.Seek(int(fd), off, whence) }); err != nil {
		return 0, err
	}
	return r, serr
}

// probeExtent finds the data or hole extent of f containing off, using
// SEEK_DATA and SEEK_HOLE. ok is false when the file system or file type
// cannot tell.
func probeExtent(f *os.File, off int64) (data bool, end int64, ok bool) {
	d, err := lseek(f, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		// No data at or after off: a hole up to the end of the file.
		return false, math.MaxInt64, true
	}
	if err != nil || d < off {
		return false, 0, false
	}
	if d > off {
		return false, d, true
	}
	h, err := lseek(f, off, unix.SEEK_HOLE)
	if err != nil || h <= off {
		return false, 0, false
	}
	return true, h, true
}

func adviseSequential(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), off, n, unix.FADV_SEQUENTIAL) })
}

func adviseWillNeed(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), off, n, unix.FADV_WILLNEED) })
}
