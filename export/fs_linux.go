//go:build linux

package export

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames with RENAME_NOREPLACE. ok is false when the
// file system does not support it, so that the caller falls back.
func renameNoReplace(oldpath, newpath string) (ok bool, err error) {
	err = unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EEXIST):
		return true, &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EPERM):
		return false, nil
	}
	return true, &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
}

// isSyncUnsupported says whether a directory fsync error means the file
// system cannot do it.
func isSyncUnsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP)
}

// startWriteback asks the kernel to start writing [off, off+n) of f to the
// disk now, without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). An
// export would otherwise leave the whole image dirty in the page cache
// (up to the dirty limits, gigabytes on a large machine) and write all of
// it in the final fsync, after reading and hashing: with writeback
// started as it goes, the disk writes while the export still reads. A
// hint: errors are left to the final fsync.
func startWriteback(f File, off, n int64) {
	osf, ok := f.(*os.File)
	if !ok {
		return
	}
	rc, err := osf.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
}
