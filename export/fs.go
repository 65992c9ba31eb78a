package export

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// File is an output file being written. *os.File implements it.
type File interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
	Sync() error
	Close() error
}

// FS is the file system the output goes to. The default, OSFS, is the
// operating system's; tests substitute one whose files fail (ENOSPC), and
// AferoFS adapts an afero.Fs.
type FS interface {
	// Lstat describes name without following a final symlink.
	Lstat(name string) (fs.FileInfo, error)
	// MkdirAll creates a directory and any missing parents.
	MkdirAll(path string, perm fs.FileMode) error
	// CreateExcl creates name for writing; it fails with an error
	// satisfying errors.Is(err, fs.ErrExist) when name exists.
	CreateExcl(name string, perm fs.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename moves oldpath to newpath. With replace false it must fail
	// with an error satisfying errors.Is(err, fs.ErrExist) rather than
	// replace an existing newpath.
	Rename(oldpath, newpath string, replace bool) error
	// SyncDir makes the directory entries of dir durable.
	SyncDir(dir string) error
}

// OSFS is the operating system's file system.
type OSFS struct{}

// Lstat calls os.Lstat.
func (OSFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// MkdirAll calls os.MkdirAll.
func (OSFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// CreateExcl opens name with O_CREATE|O_EXCL|O_WRONLY.
func (OSFS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
}

// Remove calls os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// Rename renames oldpath to newpath. Without replace it uses an atomic
// no-clobber rename where the OS has one (renameat2 RENAME_NOREPLACE on
// Linux), else a hard link (which fails atomically if newpath exists)
// followed by removing oldpath, and only where neither works a re-check
// followed by a plain rename.
func (OSFS) Rename(oldpath, newpath string, replace bool) error {
	if replace {
		return os.Rename(oldpath, newpath)
	}
	if ok, err := renameNoReplace(oldpath, newpath); ok {
		return err
	}
	err := os.Link(oldpath, newpath)
	if err == nil {
		return os.Remove(oldpath)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links here (FAT, some FUSE): the small window between this
	// check and the rename cannot be closed.
	if _, serr := os.Lstat(newpath); serr == nil {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}

// SyncDir opens dir and fsyncs it. File systems that cannot sync a
// directory (EINVAL) are not an error.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if isSyncUnsupported(err) {
		return nil
	}
	return err
}
