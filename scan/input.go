package scan

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// Input is one disk the scan reads: an image file or block device given
// on the command line, the virtual disk of an evidence container in one
// (E01, qcow2, VMDK, VHD, VHDX, VDI, split raw), or a device a layer
// above found (an LV holding a partition table or a PV). It is a
// device.Device with the capabilities of what is below it: where the
// data is (Map), readahead hints, concurrent reads.
type Input struct {
	Path     string `json:"path"` // as given; for a nested device, its name in the graph
	Size     int64  `json:"size"`
	IsDevice bool   `json:"is_device"`

	// Node is the device scanned; File, for an input whose file holds a
	// container, the file itself (its parent in the graph).
	Node *Node `json:"-"`
	File *Node `json:"-"`
	// Files are every file a container reader opened for this input
	// (the file given, its other segments or extents, parents, backing
	// files): evidence, never to be written.
	Files []string `json:"-"`
	// ContainerErr says why the container in the file could not be
	// opened (a missing segment or extent file, a damaged header, an
	// encrypted image): the input is then scanned as the file it is.
	ContainerErr error `json:"-"`

	dev     device.Device
	closers []io.Closer
}

// ReaderAt gives read access to the whole input.
func (in *Input) ReaderAt() io.ReaderAt { return in.dev }

// Device is the input as a device of the graph.
func (in *Input) Device() device.Device { return in.dev }

// ReadAt reads the input.
func (in *Input) ReadAt(p []byte, off int64) (int, error) { return in.dev.ReadAt(p, off) }

// Map says where the input's data is (holes of a sparse file, clusters a
// container never allocated).
func (in *Input) Map(off, length int64) ([]device.Extent, error) {
	return device.MapAll(in.dev, off, length)
}

// Close closes the input and every file it opened.
func (in *Input) Close() error {
	var first error
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	in.closers = nil
	return first
}

// NewInput wraps an already open reader (tests, embedded demo disks).
func NewInput(path string, r io.ReaderAt, size int64) *Input {
	in := &Input{Path: path, Size: size, dev: device.Reader{R: r, N: size}}
	in.Node = &Node{Kind: KindFile, Path: path, Size: size, Label: path, dev: in.dev}
	return in
}

// NewDeviceInput makes a device a layer above the scan found (an LV that
// holds a partition table or a PV) an input of its own: node says what
// it is in the graph (kind, parents, a label for messages).
func NewDeviceInput(node *Node, d device.Device) *Input {
	node.Size = d.Size()
	node.dev = d
	return &Input{Path: node.Label, Size: d.Size(), Node: node, dev: d}
}

// ReadOnlyOSFs is the filesystem inputs are opened from: the operating
// system's, behind afero's read-only wrapper so that no code path can open
// evidence for writing.
func ReadOnlyOSFs() afero.Fs { return afero.NewReadOnlyFs(afero.NewOsFs()) }

// Open opens path on fs read-only and determines its size: the file size
// for regular files, the kernel's idea of the device size for block
// devices. A file that holds an evidence or virtual-disk container (found
// by its signature, whatever its name) is opened through the container's
// reader, with the other files the container names (segments, extents,
// backing files) opened read-only from fs too: the input is then the
// virtual disk. A container that cannot be opened leaves the input as
// the file, with ContainerErr saying why.
func Open(fs afero.Fs, path string) (*Input, error) {
	in, err := openFile(fs, path)
	if err != nil {
		return nil, err
	}
	openContainer(fs, in)
	return in, nil
}

func openFile(fs afero.Fs, path string) (*Input, error) {
	// Refuse a pipe before opening it: opening one for reading waits for
	// a writer.
	if st, err := fs.Stat(path); err == nil && st.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		return nil, fmt.Errorf("%s: is a pipe or socket: LVM2 structures are read at offsets all over the disk, so the data must be in a file or on a device (save the stream to a file first)", path)
	}
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	in := &Input{Path: path, Size: st.Size(), closers: []io.Closer{f}}
	osf, isOS := f.(*os.File)
	switch {
	case st.Mode()&os.ModeDevice != 0:
		in.IsDevice = true
		if !isOS {
			f.Close()
			return nil, fmt.Errorf("%s: a device, but not opened from the OS filesystem", path)
		}
		sz, err := deviceSize(osf)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: device size: %w", path, err)
		}
		in.Size = sz
		in.dev = device.NewFile(osf, sz, false, &sectorReader{r: f, size: sz})
	case isOS:
		in.dev = device.NewFile(osf, in.Size, st.Mode().IsRegular(), nil)
	default:
		// Only the OS's files read at an offset without a shared file
		// position (pread): others (afero's in-memory files seek and
		// read) are read one call at a time, as the export engine reads
		// in several goroutines.
		in.dev = &lockedDevice{Reader: device.Reader{R: f, N: in.Size}}
	}
	kind := KindFile
	if in.IsDevice {
		kind = KindBlockDevice
	}
	in.Node = &Node{Kind: kind, Path: path, Size: in.Size, Label: path, dev: in.dev}
	return in, nil
}

// lockedDevice serializes the reads of a file that is not safe for
// concurrent use.
type lockedDevice struct {
	mu sync.Mutex
	device.Reader
}

func (l *lockedDevice) ReadAt(p []byte, off int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Reader.ReadAt(p, off)
}

// ConcurrentReads is false: reads are serialized.
func (l *lockedDevice) ConcurrentReads() bool { return false }

// deviceOf returns the device a PV at [off, off+size) of in reads.
func deviceOf(in *Input, off, size int64) device.Device {
	if off == 0 && size == in.Size {
		return in.dev
	}
	return device.NewSection(in.dev, off, size)
}
