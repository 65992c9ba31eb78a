package qcow2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// Open opens the qcow2 image at name in fsys, read-only, and its chain of
// backing files through the same fs: a backing file name is resolved as
// QEMU resolves it (relative to the directory of the image that names
// it; an absolute name as it is, then, if it is not there, its base name
// in the image's directory, which Problems reports), opened as the
// format the image records for it (the backing format header extension:
// qcow2 or raw) or, when none is recorded, as the format its first bytes
// show (qcow2, otherwise raw; other image formats are refused). A chain
// deeper than 16 or that loops is refused.
func Open(fsys afero.Fs, name string) (*Image, error) {
	return open(fsys, name, nil)
}

func open(fsys afero.Fs, name string, seen []string) (*Image, error) {
	clean := filepath.Clean(name)
	for _, s := range seen {
		if s == clean {
			return nil, fmt.Errorf("%w: %s: backing chain loops back to %s", ErrFormat, seen[0], name)
		}
	}
	if len(seen) >= maxChain {
		return nil, fmt.Errorf("%w: %s: backing chain deeper than %d", ErrUnsupported, seen[0], maxChain)
	}
	seen = append(seen, clean)
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("qcow2: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("qcow2: %w", err)
	}
	rc := blockdev.ConcurrentReader(f)
	im := &Image{name: name, r: rc, fileSize: st.Size()}
	im.closers = append(im.closers, rc)
	if err := im.parse(); err != nil {
		rc.Close()
		return nil, err
	}
	if im.backingName != "" {
		b, c, err := im.openBacking(fsys, seen)
		if err != nil {
			rc.Close()
			return nil, err
		}
		im.backing = b
		im.closers = append(im.closers, c)
	}
	if err := im.openLib(); err != nil {
		im.Close()
		return nil, err
	}
	return im, nil
}

// backingCandidates lists the paths where the backing file may be.
func (im *Image) backingCandidates() ([]string, error) {
	s := im.backingName
	// A colon before any slash is a protocol prefix for QEMU ("file:",
	// "nbd:", "json:"): only file: names a file.
	if i := strings.IndexByte(s, ':'); i > 0 && !strings.ContainsAny(s[:i], `/\`) {
		if s[:i] != "file" {
			return nil, fmt.Errorf("protocol %q: not a file (only file: names one)", s[:i])
		}
		s = s[i+1:]
	}
	if s == "" {
		return nil, errors.New("empty name")
	}
	dir := filepath.Dir(im.name)
	p := filepath.FromSlash(s)
	if filepath.IsAbs(p) {
		out := []string{p}
		if alt := filepath.Join(dir, filepath.Base(p)); alt != filepath.Clean(p) {
			out = append(out, alt)
		}
		return out, nil
	}
	return []string{filepath.Join(dir, p)}, nil
}

// openBacking finds and opens the backing file.
func (im *Image) openBacking(fsys afero.Fs, seen []string) (device.Device, io.Closer, error) {
	berr := &BackingError{Image: im.name, Name: im.backingName}
	cands, err := im.backingCandidates()
	if err != nil {
		berr.Why = err.Error()
		return nil, nil, berr
	}
	for i, c := range cands {
		berr.Tried = append(berr.Tried, c)
		if _, err := fsys.Stat(c); err != nil {
			continue
		}
		if i > 0 {
			im.problem("backing file %q not found; %s used instead", cands[0], c)
		}
		d, closer, err := im.openBackingFile(fsys, c, seen)
		if err != nil {
			var be *BackingError
			if errors.As(err, &be) {
				return nil, nil, err
			}
			berr.Why, berr.Err = err.Error(), err
			return nil, nil, berr
		}
		im.backingPath = c
		return d, closer, nil
	}
	berr.Why = "not found"
	return nil, nil, berr
}

func (im *Image) openBackingFile(fsys afero.Fs, path string, seen []string) (device.Device, io.Closer, error) {
	format := im.backingFormat
	switch format {
	case "qcow2", "raw":
	case "":
		probed, err := probeFormat(fsys, path)
		if err != nil {
			return nil, nil, err
		}
		if probed != "qcow2" && probed != "raw" {
			return nil, nil, fmt.Errorf("%w: no backing format recorded and the file is a %s image (raw and qcow2 backing files are read)", ErrUnsupported, probed)
		}
		format = probed
		im.backingProbed = true
		im.problem("no backing format recorded for %q: probed as %s", im.backingName, probed)
	default:
		return nil, nil, fmt.Errorf("%w: backing format %q (raw and qcow2 backing files are read)", ErrUnsupported, format)
	}
	im.backingUsed = format
	if format == "qcow2" {
		b, err := open(fsys, path, seen)
		if err != nil {
			return nil, nil, err
		}
		return b, b, nil
	}
	f, err := fsys.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	rc := blockdev.ConcurrentReader(f)
	return &rawFile{name: path, r: rc, size: st.Size()}, rc, nil
}

// probeFormat names the format of the image at path as QEMU's probing
// would for the formats it knows by a signature; "raw" for none.
func probeFormat(fsys afero.Fs, path string) (string, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	b := make([]byte, 512)
	n, _ := f.ReadAt(b, 0)
	b = b[:n]
	var tail []byte
	if st.Size() >= 512 {
		tail = make([]byte, 8)
		if _, err := f.ReadAt(tail, st.Size()-512); err != nil {
			tail = nil
		}
	}
	has := func(off int, s string) bool { return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s }
	switch {
	case has(0, Magic):
		if len(b) >= 8 && binary.BigEndian.Uint32(b[4:]) == 1 {
			return "qcow", nil
		}
		return "qcow2", nil
	case has(0, "QED\x00"):
		return "qed", nil
	case has(0, "KDMV"), has(0, "COWD"), has(0, "# Disk DescriptorFile"):
		return "vmdk", nil
	case has(0, "vhdxfile"):
		return "vhdx", nil
	case has(0, "conectix"), bytes.Equal(tail, []byte("conectix")):
		return "vpc", nil
	case len(b) >= 68 && binary.LittleEndian.Uint32(b[64:]) == 0xBEDA107F:
		return "vdi", nil
	case has(0, "LUKS\xba\xbe"):
		return "luks", nil
	case has(0, "WithoutFreeSpace"), has(0, "WithouFreSpacExt"):
		return "parallels", nil
	}
	return "raw", nil
}

// rawFile is a raw backing file: its bytes are the disk's.
type rawFile struct {
	name string
	r    io.ReaderAt
	size int64
}

func (d *rawFile) Size() int64 { return d.size }

func (d *rawFile) ConcurrentReads() bool { return true }

func (d *rawFile) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("qcow2: "+d.name, p, off, d.size, func(q []byte) (int, error) {
		n, err := d.r.ReadAt(q, off)
		if err := blockdev.ShortRead(n, len(q), err); err != nil {
			return n, &device.UnreadableError{Device: d.name, Off: off + int64(n), Len: int64(len(q) - n), Why: err.Error()}
		}
		return n, nil
	})
}
