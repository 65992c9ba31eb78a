package export

import (
	"errors"
	"io/fs"
	"os"

	"github.com/spf13/afero"
)

// AferoFS adapts an afero.Fs as an output FS (for example an in-memory
// file system in tests). afero has no no-clobber rename: Rename without
// replace re-checks that the target does not exist just before renaming.
type AferoFS struct {
	Fs afero.Fs
}

// Lstat uses afero's Lstater where the Fs has one, else Stat.
func (a AferoFS) Lstat(name string) (fs.FileInfo, error) {
	if l, ok := a.Fs.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, err
	}
	return a.Fs.Stat(name)
}

// MkdirAll creates path and its parents.
func (a AferoFS) MkdirAll(path string, perm fs.FileMode) error { return a.Fs.MkdirAll(path, perm) }

// CreateExcl creates name, failing if it exists.
func (a AferoFS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return a.Fs.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
}

// Remove removes name.
func (a AferoFS) Remove(name string) error { return a.Fs.Remove(name) }

// Rename renames oldpath to newpath.
func (a AferoFS) Rename(oldpath, newpath string, replace bool) error {
	if !replace {
		if _, err := a.Lstat(newpath); err == nil {
			return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrExist}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return a.Fs.Rename(oldpath, newpath)
}

// SyncDir syncs dir where the Fs can open it; errors from Fs that cannot
// sync directories are ignored.
func (a AferoFS) SyncDir(dir string) error {
	d, err := a.Fs.Open(dir)
	if err != nil {
		return err
	}
	_ = d.Sync()
	return d.Close()
}
