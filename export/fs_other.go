//go:build !linux

package export

import (
	"errors"
	"syscall"
)

// renameNoReplace is not available here: the caller falls back to a hard
// link.
func renameNoReplace(oldpath, newpath string) (ok bool, err error) { return false, nil }

// isSyncUnsupported says whether a directory fsync error means the file
// system cannot do it.
func isSyncUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL)
}

// startWriteback does nothing where sync_file_range is not available: the
// final fsync writes everything.
func startWriteback(f File, off, n int64) {}
