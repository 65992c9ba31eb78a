package vhd

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/spf13/afero"
)

// Open opens the VHD at name in fsys, and for a differencing disk its
// chain of parents, found through the parent locators (W2ru relative,
// W2ku absolute, then the deprecated Wi2r/Wi2k and MacX) and the parent's
// name, relative to the child's directory, opened through the same fs.
func Open(fsys afero.Fs, name string) (*Image, error) {
	return open(fsys, name, nil)
}

func open(fsys afero.Fs, name string, seen []string) (*Image, error) {
	f, size, seen, err := blockdev.OpenLink(fsys, "vhd", name, seen, maxChain)
	if err != nil {
		return nil, err
	}
	im := &Image{name: name, r: blockdev.ConcurrentReader(f), fileSize: size, bitmaps: map[uint32][]byte{}}
	im.closers = append(im.closers, f)
	if err := im.open(); err != nil {
		f.Close()
		return nil, err
	}
	if im.footer.DiskType != TypeDifferencing {
		return im, nil
	}
	p, err := im.openParent(fsys, seen)
	if err != nil {
		f.Close()
		return nil, err
	}
	im.parent = p
	im.closers = append(im.closers, p)
	return im, nil
}

// parentCandidates lists the paths where the parent may be, in order.
func (im *Image) parentCandidates() []string {
	dir := filepath.Dir(im.name)
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	winPath := func(s string) string { return strings.ReplaceAll(s, `\`, "/") }
	rel := func(s string) {
		s = winPath(s)
		s = strings.TrimPrefix(s, "./")
		if s == "" {
			return
		}
		if path.IsAbs(s) {
			add(filepath.FromSlash(s))
			return
		}
		add(filepath.Join(dir, filepath.FromSlash(s)))
	}
	absolute := func(s string) {
		s = winPath(s)
		if len(s) >= 2 && s[1] == ':' { // drive letter: not in this fs
			s = s[2:]
		}
		if s == "" {
			return
		}
		if strings.HasPrefix(s, "/") {
			add(filepath.FromSlash(s))
		}
		add(filepath.Join(dir, path.Base(s)))
	}
	order := []string{"W2ru", "W2ku", "Wi2r", "Wi2k", "MacX"}
	for _, code := range order {
		for _, l := range im.dyn.Locators {
			if l.Code != code || l.Path == "" {
				continue
			}
			switch code {
			case "W2ru", "Wi2r":
				rel(l.Path)
			default:
				absolute(l.Path)
			}
		}
	}
	if n := im.dyn.ParentName; n != "" {
		absolute(n)
	}
	return out
}

func (im *Image) openParent(fsys afero.Fs, seen []string) (*Image, error) {
	cands := im.parentCandidates()
	perr := &ParentError{Format: "vhd", Child: im.name, Name: im.dyn.ParentName}
	for _, c := range cands {
		perr.Tried = append(perr.Tried, c)
		if _, err := fsys.Stat(c); err != nil {
			continue
		}
		p, err := open(fsys, c, seen)
		if err != nil {
			var pe *ParentError
			if errors.As(err, &pe) {
				return nil, err
			}
			perr.Why = err.Error()
			return nil, perr
		}
		if !bytes.Equal(p.footer.UniqueID[:], im.dyn.ParentUniqueID[:]) {
			p.Close()
			perr.Why = fmt.Sprintf("%s has unique id %s, the child expects %s", c, uuidString(p.footer.UniqueID), uuidString(im.dyn.ParentUniqueID))
			return nil, perr
		}
		if p.footer.Timestamp != im.dyn.ParentTimestamp {
			im.problems = append(im.problems, fmt.Errorf("vhd: %s: parent %s time stamp %d differs from the %d the child recorded (modified after the child was made?)", im.name, c, p.footer.Timestamp, im.dyn.ParentTimestamp))
		}
		im.parentPath = c
		return p, nil
	}
	if len(cands) == 0 {
		perr.Why = "no parent locator and no parent name"
	} else {
		perr.Why = "not found"
	}
	return nil, perr
}

// ParentPath is the path the parent was opened from ("" if not opened
// with Open or not differencing).
func (im *Image) ParentPath() string { return im.parentPath }
