package vmdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/spf13/afero"
)

// Open opens the VMDK at name in fsys, read-only: a descriptor and the
// extent files it names (relative to the descriptor's directory), or a
// sparse extent file with its embedded descriptor; and for a child of a
// snapshot chain its parents (parentFileNameHint, relative to the
// child's directory), through the same fs.
func Open(fsys afero.Fs, name string) (*Image, error) {
	return open(fsys, name, nil, newShared())
}

func open(fsys afero.Fs, name string, seen []string, sh *shared) (*Image, error) {
	f, size, seen, err := blockdev.OpenLink(fsys, "vmdk", name, seen, maxChain)
	if err != nil {
		return nil, err
	}
	im := newImage(name, sh)
	im.closers = append(im.closers, f)
	main := &file{name: name, r: blockdev.ConcurrentReader(f), size: size}
	opened := map[string]*file{filepath.Clean(name): main}
	openFile := func(x *extent) (*file, error) {
		tried := extentPaths(filepath.Dir(name), x.File)
		var last error
		for _, c := range tried {
			if fl, ok := opened[filepath.Clean(c)]; ok {
				return fl, nil
			}
			g, err := fsys.Open(c)
			if err != nil {
				last = err
				continue
			}
			st, err := g.Stat()
			if err == nil && st.IsDir() {
				err = fmt.Errorf("%s is a directory", c)
			}
			if err != nil {
				g.Close()
				last = err
				continue
			}
			im.closers = append(im.closers, g)
			fl := &file{name: c, r: blockdev.ConcurrentReader(g), size: st.Size()}
			opened[filepath.Clean(c)] = fl
			return fl, nil
		}
		return nil, &ExtentFileError{Descriptor: im.desc.file, Line: x.line, Name: x.File, Tried: tried, Err: last}
	}
	if err := im.load(main, openFile); err != nil {
		im.Close()
		return nil, err
	}
	if im.child {
		if err := im.openParent(fsys, seen); err != nil {
			im.Close()
			return nil, err
		}
	}
	im.setUnit()
	return im, nil
}

// extentPaths lists where a file a descriptor names may be: relative to
// dir; an absolute path as it is, then its base name in dir (a disk
// moved from where it was made); a Windows path with a drive letter by
// its base name in dir.
func extentPaths(dir, name string) []string {
	s := strings.ReplaceAll(name, `\`, "/")
	if len(s) >= 2 && s[1] == ':' {
		return []string{filepath.Join(dir, path.Base(s))}
	}
	if path.IsAbs(s) {
		a, b := filepath.FromSlash(s), filepath.Join(dir, path.Base(s))
		if a == b {
			return []string{a}
		}
		return []string{a, b}
	}
	return []string{filepath.Join(dir, filepath.FromSlash(s))}
}

// load reads the image whose first file is main: a sparse extent with
// its embedded descriptor, or a descriptor; openFile opens the other
// files its extents name (nil: there must be none).
func (im *Image) load(main *file, openFile func(*extent) (*file, error)) error {
	im.main = main
	im.files = []*file{main}
	var head [4]byte
	isSparse := false
	if main.size >= 4 {
		if err := main.readFull(head[:], 0); err != nil {
			return err
		}
		isSparse = binary.LittleEndian.Uint32(head[:]) == Magic || string(head[:]) == "COWD"
	}
	if isSparse {
		sp, err := openSparse(main, im.sh, im.problem)
		if err != nil {
			return err
		}
		im.mainSp = sp
		if im.desc, err = im.embedded(sp); err != nil {
			return err
		}
	} else {
		if main.size > maxDescriptorBytes {
			return formatErr("%s: neither a sparse extent (no \"KDMV\" magic) nor a descriptor (%d bytes, more than %d)", main.name, main.size, maxDescriptorBytes)
		}
		text := make([]byte, main.size)
		if err := main.readFull(text, 0); err != nil {
			return err
		}
		d, problems, err := parseDescriptor(text, main.name, 0)
		if err != nil {
			return err
		}
		for _, p := range problems {
			im.problem(p)
		}
		im.desc = d
	}
	d := im.desc
	if why := unsupportedCreateType(d.createType); why != "" {
		return unsupported("%s: createType %q (%s)", d.file, d.createType, why)
	}
	sparseOf := map[*file]*sparse{}
	if im.mainSp != nil {
		sparseOf[main] = im.mainSp
	}
	var start int64
	for i, x := range d.extents {
		if ok, why := extentTypeSupported(x.Type); !ok {
			return unsupported("%s: descriptor line %d: extent type %s (%s)", d.file, x.line, x.Type, why)
		}
		if x.Sectors > maxSectors-start/sectorSize {
			return formatErr("%s: descriptor line %d: the extents add up to more than %d sectors", d.file, x.line, int64(maxSectors))
		}
		x.start, x.size = start, x.Sectors*sectorSize
		start += x.size
		if x.Type == "ZERO" {
			continue
		}
		if x.File == "" {
			return formatErr("%s: descriptor line %d: %s extent without a file name", d.file, x.line, x.Type)
		}
		var f *file
		switch {
		case im.isSelf(x):
			f = main
		case openFile == nil:
			return formatErr("%s: descriptor line %d names the extent file %q: a disk of several files is opened with Open", d.file, x.line, x.File)
		default:
			var err error
			if f, err = openFile(x); err != nil {
				return err
			}
		}
		x.f = f
		known := false
		for _, g := range im.files {
			known = known || g == f
		}
		if !known {
			im.files = append(im.files, f)
		}
		if x.Type == "FLAT" {
			if x.Offset*sectorSize > f.size || x.size > f.size-x.Offset*sectorSize {
				im.problem(formatErr("%s: descriptor line %d: FLAT extent of %d bytes at byte %d of %s goes beyond its end (%d bytes): the rest cannot be read", d.file, x.line, x.size, x.Offset*sectorSize, f.name, f.size))
			}
			continue
		}
		sp, ok := sparseOf[f]
		if !ok {
			var err error
			if sp, err = openSparse(f, im.sh, im.problem); err != nil {
				if errors.Is(err, ErrUnsupported) {
					return err
				}
				x.bad = err.Error()
				im.problem(fmt.Errorf("vmdk: %s: extent %d (%s) cannot be read: %w", d.file, i+1, f.name, err))
				continue
			}
			sparseOf[f] = sp
		}
		x.sp = sp
		if int64(sp.h.Capacity) != x.Sectors {
			im.problem(formatErr("%s: descriptor line %d: extent of %d sectors, but the capacity of %s is %d sectors", d.file, x.line, x.Sectors, f.name, sp.h.Capacity))
		}
	}
	im.size = start
	im.extents = d.extents
	im.child = d.parentHint != "" || (d.hasParentCID && d.parentCID != cidNone)
	return nil
}

// isSelf says whether extent x of an embedded descriptor is the sparse
// extent that holds it: the only sparse extent, or the one of the same
// base name (the file may have been renamed since it was made).
func (im *Image) isSelf(x *extent) bool {
	if im.mainSp == nil || x.Type != "SPARSE" {
		return false
	}
	if im.desc.synthetic {
		return true
	}
	n := 0
	for _, y := range im.desc.extents {
		if y.Type == "SPARSE" {
			n++
		}
	}
	base := func(s string) string { return path.Base(strings.ReplaceAll(s, `\`, "/")) }
	return n == 1 || base(x.File) == base(im.main.name)
}

// embedded reads the descriptor embedded in the sparse extent sp; one
// that is absent or empty (an extent of a disk of several files) makes
// a descriptor of the extent alone.
func (im *Image) embedded(sp *sparse) (*descriptor, error) {
	h := sp.h
	f := sp.f
	self := func() *descriptor {
		return &descriptor{file: f.name, parentCID: cidNone, synthetic: true,
			extents: []*extent{{Access: "RW", Sectors: int64(h.Capacity), Type: "SPARSE", File: path.Base(f.name)}}}
	}
	if h.DescriptorOffset == 0 || h.DescriptorSize == 0 {
		return self(), nil
	}
	const hs = "sparse extent header"
	if h.DescriptorSize > maxDescriptorBytes/sectorSize {
		return nil, sp.fieldErr(hs, 0, "descriptorSize", 36, fmt.Sprint(h.DescriptorSize), fmt.Sprintf("at most %d sectors", maxDescriptorBytes/sectorSize))
	}
	if h.DescriptorOffset > uint64(f.size/sectorSize) {
		return nil, sp.fieldErr(hs, 0, "descriptorOffset", 28, fmt.Sprint(h.DescriptorOffset), fmt.Sprintf("a sector within the file (%d bytes)", f.size))
	}
	off := int64(h.DescriptorOffset) * sectorSize
	n := min(int64(h.DescriptorSize)*sectorSize, f.size-off)
	text := make([]byte, n)
	if err := f.readFull(text, off); err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(strings.TrimRight(string(text), "\x00"))) == 0 {
		return self(), nil
	}
	d, problems, err := parseDescriptor(text, f.name, off)
	if err != nil {
		im.problem(fmt.Errorf("%w: the extent is read alone", err))
		return self(), nil
	}
	for _, p := range problems {
		im.problem(p)
	}
	return d, nil
}

// openParent opens the parent a child names.
func (im *Image) openParent(fsys afero.Fs, seen []string) error {
	d := im.desc
	perr := &ParentError{Format: "vmdk", Child: im.name, Name: d.parentHint}
	if d.parentHint == "" {
		perr.Why = fmt.Sprintf("parentCID is %08x but there is no parentFileNameHint", d.parentCID)
		return perr
	}
	for _, c := range extentPaths(filepath.Dir(im.name), d.parentHint) {
		perr.Tried = append(perr.Tried, c)
		if _, err := fsys.Stat(c); err != nil {
			continue
		}
		p, err := open(fsys, c, seen, im.sh)
		if err != nil {
			var pe *ParentError
			if errors.As(err, &pe) {
				return err
			}
			perr.Why = err.Error()
			return perr
		}
		im.parent, im.parentPath = p, c
		im.closers = append(im.closers, p)
		im.checkParentCID(p)
		return nil
	}
	perr.Why = "not found"
	return perr
}

// checkParentCID reports a parent whose CID is not the parentCID the
// child recorded: the parent was modified after the child was made.
func (im *Image) checkParentCID(p *Image) {
	d := im.desc
	switch {
	case !p.desc.hasCID:
		im.problem(formatErr("%s: the parent %s has no CID: the child's parentCID cannot be checked", im.name, p.name))
	case !d.hasParentCID:
		im.problem(formatErr("%s: no parentCID: the CID of the parent %s (%08x) cannot be checked", im.name, p.name, p.desc.cid))
	case p.desc.cid != d.parentCID:
		fieldOff := d.off
		for _, e := range d.entries {
			if strings.EqualFold(e.key, "parentCID") {
				fieldOff += int64(e.off)
			}
		}
		im.problem(&FieldError{File: d.file, Structure: "descriptor", Off: d.off, Field: "parentCID", FieldOff: fieldOff,
			Stored: fmt.Sprintf("%08x", d.parentCID), Expected: fmt.Sprintf("%08x, the CID of the parent %s (modified after the child was made?)", p.desc.cid, p.name)})
	}
}
