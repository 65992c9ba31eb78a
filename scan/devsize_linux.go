//go:build linux

package scan

import (
	"os"

	"golang.org/x/sys/unix"
)

// deviceSize asks the kernel for a block device's size in bytes
// (BLKGETSIZE64).
func deviceSize(f *os.File) (int64, error) {
	var sz uint64
	c, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var ioErr error
	err = c.Control(func(fd uintptr) {
		sz, ioErr = unix.IoctlGetUint64(int(fd), unix.BLKGETSIZE64)
	})
	if err != nil {
		return 0, err
	}
	return int64(sz), ioErr
}
