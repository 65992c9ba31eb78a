//go:build freebsd

package scan

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deviceSize asks GEOM for a disk's size in bytes (DIOCGMEDIASIZE): on
// FreeBSD disks are character devices whose end cannot be found by
// seeking.
func deviceSize(f *os.File) (int64, error) {
	c, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var size int64 // off_t
	var errno unix.Errno
	if err := c.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, unix.DIOCGMEDIASIZE, uintptr(unsafe.Pointer(&size)))
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	if size <= 0 {
		return 0, errors.New("the device reports no size")
	}
	return size, nil
}
