//go:build darwin

package scan

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// The disk ioctls of <sys/disk.h>: _IOR('d', 24, uint32_t) and
// _IOR('d', 25, uint64_t).
const (
	dkiocGetBlockSize  = 0x40046418
	dkiocGetBlockCount = 0x40086419
)

// deviceSize asks the disk driver for its block count and block size
// (DKIOCGETBLOCKCOUNT, DKIOCGETBLOCKSIZE): /dev/diskN and /dev/rdiskN
// cannot be sized by seeking. (Go's int is 64 bits on every darwin port,
// and both are little-endian, so the 32-bit block size lands in the low
// half of a zeroed int.)
func deviceSize(f *os.File) (int64, error) {
	c, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var count, bsize int
	var ioErr error
	if err := c.Control(func(fd uintptr) {
		if count, ioErr = unix.IoctlGetInt(int(fd), dkiocGetBlockCount); ioErr != nil {
			return
		}
		bsize, ioErr = unix.IoctlGetInt(int(fd), dkiocGetBlockSize)
	}); err != nil {
		return 0, err
	}
	if ioErr != nil {
		return 0, ioErr
	}
	bsize &= 0xffffffff
	if count <= 0 || bsize <= 0 || count > (1<<62)/bsize {
		return 0, errors.New("the device reports no usable size")
	}
	return int64(count) * int64(bsize), nil
}
