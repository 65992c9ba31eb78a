package vhdx

import (
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/spf13/afero"
)

// Open opens the VHDX at name in fsys, read-only, and for a differencing
// disk its chain of parents. A parent is looked for, through the same
// fs, where the parent locator says: relative_path against the child's
// directory, then volume_path and absolute_win32_path as far as they map
// to a path here (the drive letter or volume name dropped, backslashes
// made slashes), then the file name of each alone in the child's
// directory. The first candidate whose current header's DataWriteGuid
// matches the child's parent_linkage (or parent_linkage2) is the parent;
// a candidate that does not match is skipped, and with none matching
// Open fails with a *ParentError saying why for each. Chains deeper than
// 16 and chains that loop are refused.
func Open(fsys afero.Fs, name string) (*Image, error) {
	im, err := openOne(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := im.resolveParent(fsys, []string{filepath.Clean(name)}); err != nil {
		im.Close()
		return nil, err
	}
	return im, nil
}

// openOne opens and decodes one file, without its parents.
func openOne(fsys afero.Fs, name string) (*Image, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	im := newImage(name, blockdev.ConcurrentReader(f), st.Size())
	im.closers = []io.Closer{f}
	if err := im.open(); err != nil {
		f.Close()
		return nil, err
	}
	return im, nil
}

// resolveParent finds, opens and checks im's parent and its chain; seen
// lists the files of the chain so far, im's last.
func (im *Image) resolveParent(fsys afero.Fs, seen []string) error {
	if !im.hasParent {
		return nil
	}
	perr := &ParentError{Format: "vhdx", Child: im.name, Name: im.linkage()}
	if len(seen) >= maxChain {
		perr.Why = fmt.Sprintf("the chain of parents from %s is deeper than %d", seen[0], maxChain)
		return perr
	}
	var why []string
	for _, c := range im.parentCandidates() {
		perr.Tried = append(perr.Tried, c)
		if _, err := fsys.Stat(c); err != nil {
			continue
		}
		clean := filepath.Clean(c)
		loop := false
		for _, s := range seen {
			loop = loop || s == clean
		}
		if loop {
			why = append(why, fmt.Sprintf("%s: the chain of parents loops back to it", c))
			continue
		}
		p, err := openOne(fsys, c)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if w := im.checkLinkage(p); w != "" {
			p.Close()
			why = append(why, c+" "+w)
			continue
		}
		if err := p.resolveParent(fsys, append(seen, clean)); err != nil {
			p.Close()
			var pe *ParentError
			if errors.As(err, &pe) {
				return err
			}
			perr.Why = err.Error()
			return perr
		}
		im.checkParentGeometry(p, c)
		im.parent = p
		im.parentPath = c
		im.closers = append(im.closers, p)
		return nil
	}
	switch {
	case len(why) > 0:
		perr.Why = strings.Join(why, "; ")
	case len(perr.Tried) == 0:
		perr.Why = "the parent locator has no path"
	default:
		perr.Why = "not found"
	}
	return perr
}

// linkage is the parent's DataWriteGuid the child records.
func (im *Image) linkage() string {
	v, _ := im.locator.Get("parent_linkage")
	return v
}

// checkLinkage says why p cannot be im's parent, "" if it can.
func (im *Image) checkLinkage(p *Image) string {
	var want []GUID
	var bad []string
	for _, k := range []string{"parent_linkage", "parent_linkage2"} {
		v, ok := im.locator.Get(k)
		if !ok {
			continue
		}
		g, err := ParseGUID(v)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s %q is not a GUID", k, v))
			continue
		}
		want = append(want, g)
	}
	got := p.header.DataWriteGUID
	for _, g := range want {
		if g == got {
			return ""
		}
	}
	if len(want) == 0 {
		if len(bad) > 0 {
			return "cannot be checked: the child's " + strings.Join(bad, ", ")
		}
		return "cannot be checked: the child's parent locator has no parent_linkage"
	}
	return fmt.Sprintf("has DataWriteGuid %s, the child expects %s (parent_linkage): modified since the child was made, or another file", got, im.linkage())
}

// checkParentGeometry reports a parent whose sectors or size differ from
// the child's.
func (im *Image) checkParentGeometry(p *Image, where string) {
	if p.logicalSector != im.logicalSector {
		im.problems = append(im.problems, formatErr("%s: parent %s has logical sectors of %d bytes, the child %d", im.name, where, p.logicalSector, im.logicalSector))
	}
	if p.size != im.size {
		im.problems = append(im.problems, formatErr("%s: parent %s is %d bytes, the child %d (past the parent's end the child reads zeros where it holds nothing)", im.name, where, p.size, im.size))
	}
}

// parentCandidates lists the paths where the parent may be, in order.
func (im *Image) parentCandidates() []string {
	dir := filepath.Dir(im.name)
	var out, names []string
	add := func(p string) {
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	if v, ok := im.locator.Get("relative_path"); ok && v != "" {
		s := strings.ReplaceAll(v, `\`, "/")
		if local, abs := winPath(v); abs {
			if local != "" {
				add(filepath.FromSlash(local))
			}
		} else {
			add(filepath.Join(dir, filepath.FromSlash(s)))
		}
		names = append(names, path.Base(s))
	}
	for _, k := range []string{"volume_path", "absolute_win32_path"} {
		v, ok := im.locator.Get(k)
		if !ok || v == "" {
			continue
		}
		if local, _ := winPath(v); local != "" {
			add(filepath.FromSlash(local))
		}
		names = append(names, path.Base(strings.ReplaceAll(v, `\`, "/")))
	}
	for _, n := range names {
		if n != "" && n != "." && n != ".." && n != "/" {
			add(filepath.Join(dir, n))
		}
	}
	return out
}

// winPath maps a Windows path to a slash-separated path here: abs says
// whether it is absolute (a drive letter, a volume, a UNC name or a
// leading separator), local is the path with the drive or volume
// dropped, "" for a network path, which is not on this system.
func winPath(v string) (local string, abs bool) {
	s := strings.ReplaceAll(v, `\`, "/")
	switch {
	case strings.HasPrefix(s, "//?/UNC/"):
		return "", true
	case strings.HasPrefix(s, "//?/"), strings.HasPrefix(s, "//./"):
		s = s[4:]
	case strings.HasPrefix(s, "//"):
		return "", true
	}
	switch {
	case len(s) >= 7 && strings.EqualFold(s[:7], "volume{"):
		i := strings.IndexByte(s, '}')
		if i < 0 {
			return "", true
		}
		s = s[i+1:]
	case len(s) >= 2 && s[1] == ':' && (s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z'):
		s = s[2:]
	case !strings.HasPrefix(s, "/"):
		return "", false
	}
	if !strings.HasPrefix(s, "/") {
		return "", true
	}
	return path.Clean(s), true
}
