//go:build unix

package export

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on f, without waiting.
func lockFile(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB) })
}

// heldByExport reports whether a running export holds the temporary at
// path: its flock cannot be taken.
func heldByExport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // gone, or not ours to judge
	}
	defer f.Close()
	held := false
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	_ = rc.Control(func(fd uintptr) {
		if err := unix.Flock(int(fd), unix.LOCK_SH|unix.LOCK_NB); err == unix.EWOULDBLOCK {
			held = true
		}
	})
	return held
}
