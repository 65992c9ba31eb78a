package scan

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/ewf"
	"github.com/lvminspect/lvminspect/scan/container/qcow2"
	"github.com/lvminspect/lvminspect/scan/container/splitraw"
	"github.com/lvminspect/lvminspect/scan/container/vdi"
	"github.com/lvminspect/lvminspect/scan/container/vhd"
	"github.com/lvminspect/lvminspect/scan/container/vhdx"
	"github.com/lvminspect/lvminspect/scan/container/vmdk"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// Container is an opened evidence or virtual-disk container: the disk
// inside as a device, what the container says about itself, and its own
// headers for the hex view.
type Container interface {
	device.Device
	io.Closer
}

// containerFormat is one container reader: how to recognise its files
// and open them.
type containerFormat struct {
	kind string
	// probe looks at the file's bytes (nil: by name only).
	probe func(r io.ReaderAt, size int64) bool
	// byName recognises the first file of a set by its name alone.
	byName func(fs afero.Fs, path string) bool
	open   func(fs afero.Fs, path string) (*openedContainer, error)
}

// openedContainer is a container opened by its reader.
type openedContainer struct {
	Container
	info       any
	structures []model.Structure
	problems   []error
	verify     func(ctx context.Context, progress func(done, total int64)) (report any, ok bool, err error)
}

// containerFormats are tried in order on every input file.
var containerFormats = []containerFormat{
	{kind: KindEWF, probe: ewf.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := ewf.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(),
			verify: func(ctx context.Context, progress func(done, total int64)) (any, bool, error) {
				r, err := im.Verify(ctx, progress)
				if err != nil {
					return nil, false, err
				}
				return r, r.OK, nil
			}}, nil
	}},
	{kind: KindVDI, probe: vdi.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := vdi.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(), problems: im.Problems()}, nil
	}},
	{kind: KindVHD, probe: vhd.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := vhd.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(), problems: im.Problems()}, nil
	}},
	{kind: KindQCOW2, probe: qcow2.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := qcow2.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(), problems: im.Problems()}, nil
	}},
	{kind: KindVHDX, probe: vhdx.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := vhdx.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(), problems: im.Problems()}, nil
	}},
	{kind: KindVMDK, probe: vmdk.Probe, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := vmdk.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info(), structures: im.Fields(), problems: im.Problems()}, nil
	}},
	{kind: KindSplitRaw, byName: isSplitRaw, open: func(fs afero.Fs, p string) (*openedContainer, error) {
		im, err := splitraw.Open(fs, p)
		if err != nil {
			return nil, err
		}
		return &openedContainer{Container: im, info: im.Info()}, nil
	}},
}

// isSplitRaw says whether path is the first of two or more segments of
// a split raw image (NAME.001 with NAME.002 beside it); a lone NAME.001
// is read as the raw image it is.
func isSplitRaw(fs afero.Fs, path string) bool {
	if !splitraw.Probe(path) {
		return false
	}
	stem, n, width, _ := splitraw.SegmentName(path)
	_, err := fs.Stat(fmt.Sprintf("%s%0*d", stem, width, n+1))
	return err == nil
}

// openContainer opens the container the input file holds, if any, and
// makes its disk the input.
func openContainer(fs afero.Fs, in *Input) {
	if in.IsDevice {
		return
	}
	for _, cf := range containerFormats {
		if cf.probe != nil && !cf.probe(in.dev, in.Size) {
			continue
		}
		if cf.byName != nil && !cf.byName(fs, in.Path) {
			continue
		}
		rec := &recordingFs{Fs: fs}
		oc, err := cf.open(rec, in.Path)
		in.Files = rec.opened()
		if err != nil {
			in.ContainerErr = fmt.Errorf("%s container: %w", cf.kind, err)
			in.Node.Problems = append(in.Node.Problems, Problem{Severity: SevError, Path: in.Path, Structure: cf.kind,
				Msg: fmt.Sprintf("the %s container cannot be opened: %v", cf.kind, err)})
			return
		}
		file := in.Node
		in.File = file
		in.dev = oc
		in.Size = oc.Size()
		in.closers = append(in.closers, oc)
		in.Node = &Node{Kind: cf.kind, Path: in.Path, Size: oc.Size(), Format: oc.info,
			Label: fmt.Sprintf("%s (%s)", filepath.Base(in.Path), cf.kind), Structures: oc.structures, dev: oc,
			verify: oc.verify}
		for _, p := range oc.problems {
			in.Node.Problems = append(in.Node.Problems, Problem{Severity: SevWarn, Path: in.Path, Structure: cf.kind, Msg: p.Error()})
		}
		return
	}
}

// Verify checks a container device's own integrity data (E01 chunk
// checksums and its stored MD5/SHA-1) and returns the reader's report.
// ok is false for a device that has nothing to verify.
func (n *Node) Verify(ctx context.Context, progress func(done, total int64)) (report any, match bool, ok bool, err error) {
	if n.verify == nil {
		return nil, false, false, nil
	}
	r, match, err := n.verify(ctx, progress)
	return r, match, true, err
}

// recordingFs notes every file a container reader opens: the segments,
// extents, parents and backing files that are evidence as much as the
// file given (an export must never replace them).
type recordingFs struct {
	afero.Fs
	mu    sync.Mutex
	paths []string
}

func (r *recordingFs) note(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.paths {
		if p == name {
			return
		}
	}
	r.paths = append(r.paths, name)
}

func (r *recordingFs) opened() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// Open opens name and notes it.
func (r *recordingFs) Open(name string) (afero.File, error) {
	f, err := r.Fs.Open(name)
	if err == nil {
		r.note(name)
	}
	return f, err
}

// OpenFile opens name and notes it.
func (r *recordingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := r.Fs.OpenFile(name, flag, perm)
	if err == nil {
		r.note(name)
	}
	return f, err
}
