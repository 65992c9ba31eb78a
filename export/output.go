package export

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// output is an image file on its way to the final name: written under a
// temporary name in the same directory, then renamed into place.
type output struct {
	fs      FS
	final   string
	dir     string
	tmp     string
	f       File
	force   bool
	created []string // directories this export created, outermost first
}

// newOutput checks the target path before anything is written: it must
// not exist unless force, and even then must not be a directory or a
// special file.
func newOutput(fsys FS, path string, force bool) (*output, error) {
	final := filepath.Clean(path)
	o := &output{fs: fsys, final: final, dir: filepath.Dir(final), force: force}
	fi, err := fsys.Lstat(final)
	switch {
	case err == nil:
		if !force {
			return nil, &ExistsError{Path: final}
		}
		if m := fi.Mode(); !m.IsRegular() && m&fs.ModeSymlink == 0 {
			return nil, fmt.Errorf("export: %s exists and is not a regular file (%s); refusing to replace it", final, m.Type())
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("export: checking %s: %w", final, err)
	}
	return o, nil
}

// create makes the missing parent directories and the temporary file.
func (o *output) create() (File, error) {
	for d := o.dir; ; d = filepath.Dir(d) {
		if _, err := o.fs.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		o.created = append([]string{d}, o.created...)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(o.created) > 0 {
		if err := o.fs.MkdirAll(o.dir, 0o777); err != nil {
			o.removeDirs()
			return nil, fmt.Errorf("export: creating %s: %w", o.dir, err)
		}
	}
	base := filepath.Base(o.final)
	for range 100 {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		name := filepath.Join(o.dir, "."+base+".tmp-"+hex.EncodeToString(rnd[:]))
		f, err := o.fs.CreateExcl(name, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			o.removeDirs()
			return nil, fmt.Errorf("export: creating a temporary file beside %s: %w", o.final, err)
		}
		lockTemporary(f) // held while written: see StaleTemporaries
		o.tmp, o.f = name, f
		return f, nil
	}
	o.removeDirs()
	return nil, fmt.Errorf("export: no free temporary name beside %s", o.final)
}

// commit syncs and closes the temporary file and renames it to the final
// name. Without force the rename does not replace a file that appeared
// since newOutput checked: that is an *ExistsError.
func (o *output) commit() error {
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	if err != nil {
		return fmt.Errorf("export: writing %s: %w", o.tmp, err)
	}
	if err := o.fs.Rename(o.tmp, o.final, o.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Path: o.final}
		}
		return fmt.Errorf("export: renaming %s to %s: %w", o.tmp, o.final, err)
	}
	o.tmp, o.created = "", nil
	if err := o.fs.SyncDir(o.dir); err != nil {
		return fmt.Errorf("export: %s is complete but syncing its directory failed: %w", o.final, err)
	}
	return nil
}

// abort closes and removes the temporary file and the directories this
// export created (if they are empty). It is a no-op after commit.
func (o *output) abort() {
	if o.f != nil {
		_ = o.f.Close()
		o.f = nil
	}
	if o.tmp != "" {
		_ = o.fs.Remove(o.tmp)
		o.tmp = ""
	}
	o.removeDirs()
}

func (o *output) removeDirs() {
	for i := len(o.created) - 1; i >= 0; i-- {
		_ = o.fs.Remove(o.created[i])
	}
	o.created = nil
}
