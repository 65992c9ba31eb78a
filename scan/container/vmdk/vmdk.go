// Package vmdk reads VMware virtual disks (VMDK) read-only, following
// VMware's "Virtual Disk Format 1.1" technical note: a text descriptor
// (a file of its own, or embedded in a sparse extent) lists the extents
// that make up the disk, in order; each extent is FLAT (raw bytes at an
// offset of a file), SPARSE (a hosted sparse extent file: a 512-byte
// header "KDMV", a grain directory of grain tables of grain offsets) or
// ZERO (zeros, stored nowhere).
//
// The subformats qemu-img and VMware's hosted products write are read:
// monolithicSparse, streamOptimized (grains compressed with deflate,
// each behind a grain marker; the grain directory named by the footer
// when the header says it is at the end), twoGbMaxExtentSparse,
// monolithicFlat and twoGbMaxExtentFlat; a child of a snapshot chain
// (parentCID, parentFileNameHint) reads the grains it does not hold
// from its parent. ESX formats (vmfs, vmfsSparse, seSparse and their
// extent types) and the old COWD sparse format are refused with the
// reason.
//
// The virtual disk is a device.Device and a device.Mapper: grains not
// allocated are holes (or the parent's), zeroed grains (grain table
// entry 1 in an extent of version 2 or with the zeroed-grain flag, as
// Virtual Disk Format 5.0 adds them) are holes, and a grain, grain table
// or extent that lies beyond the end of its file, or whose compressed
// data is damaged, is unreadable: ReadAt fails there with a
// *device.UnreadableError, never with zeros. Sizes in a header are
// checked before anything is allocated, grain tables are cached within a
// byte bound, and ReadAt may be called from several goroutines.
//
// What qemu-img writes differs from the specification in places: its
// compressed grains are zlib streams (RFC 1950: a two-byte header, then
// deflate data, then an Adler-32, which is checked) where the
// specification says deflate (RFC 1951, read too); a grain of random
// data compresses to more than a grain; and its streamOptimized files
// keep the grain directory and tables at the start, as monolithicSparse
// does, with no footer, where the specification puts them after the
// grains, named by a footer (read too).
package vmdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// On-disk constants of the specification.
const (
	// Magic is the sparse extent header's magicNumber, "KDMV" in the
	// file (0x564d444b little-endian).
	Magic = 0x564d444b
	// GDAtEnd is the gdOffset of a stream-optimized extent's header
	// whose grain directory is named by the footer at the end.
	GDAtEnd = ^uint64(0)

	sectorSize = 512
	headerSize = 512

	flagNewlineTest = 1 << 0  // the line-ending bytes are valid
	flagRedundant   = 1 << 1  // a redundant grain directory exists
	flagZeroGrain   = 1 << 2  // grain table entry 1 means a zeroed grain
	flagCompressed  = 1 << 16 // grains are compressed
	flagMarkers     = 1 << 17 // metadata is preceded by markers

	compressNone    = 0
	compressDeflate = 1

	grainMarkerSize = 12 // lba uint64, size uint32, then the data
	cidNone         = 0xffffffff
)

// Bounds on what a header or descriptor may ask for.
const (
	maxGrainSectors    = 1 << 14 // 8 MiB grains (VMware's are 64 KiB)
	maxGTEs            = 1 << 16 // entries per grain table (the specification's is 512)
	maxSectors         = 1 << 41 // 1 PiB
	maxDescriptorBytes = 1 << 20
	maxExtents         = 1 << 16
	// gdLoadMax is the number of grain directory entries an image
	// chain keeps in memory; larger directories are read entry by
	// entry from the file.
	gdLoadMax = 1 << 22
	// gtCacheBytes and grainCacheBytes bound the caches of grain tables
	// and of decompressed grains an image chain shares.
	gtCacheBytes    = 8 << 20
	grainCacheBytes = 16 << 20
	maxChain        = 16 // depth of a snapshot chain
	maxProblems     = 64
	maxWorkers      = 8 // decompressing goroutines of one ReadAt
)

var (
	// ErrFormat is wrapped by every error about a malformed image.
	ErrFormat = errors.New("vmdk: malformed image")
	// ErrUnsupported is wrapped by the errors about a disk of a kind
	// this package does not read (ESX formats, COWD).
	ErrUnsupported = errors.New("vmdk: not supported")
)

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, a...))
}

// FieldError is a field of an on-disk structure whose stored value is
// not what it should be.
type FieldError struct {
	File      string // the file holding the structure
	Structure string // "sparse extent header", "footer", "descriptor", ...
	Off       int64  // the structure's byte offset in the file
	Field     string // "grainSize"
	FieldOff  int64  // the field's byte offset in the file
	Stored    string // the value stored
	Expected  string // what it should be: computed, or the values allowed
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("vmdk: %s: %s at byte %d: %s (byte %d) stored %s, expected %s",
		e.File, e.Structure, e.Off, e.Field, e.FieldOff, e.Stored, e.Expected)
}

// Unwrap makes errors.Is(err, ErrFormat) true.
func (e *FieldError) Unwrap() error { return ErrFormat }

// ExtentFileError is an extent file a descriptor names that cannot be
// opened.
type ExtentFileError struct {
	Descriptor string   // the file holding the descriptor
	Line       int      // the extent's line in the descriptor
	Name       string   // the file as the descriptor names it
	Tried      []string // the paths tried, in order
	Err        error
}

func (e *ExtentFileError) Error() string {
	return fmt.Sprintf("vmdk: %s: extent file %q (descriptor line %d) cannot be opened (tried %q): %v", e.Descriptor, e.Name, e.Line, e.Tried, e.Err)
}

func (e *ExtentFileError) Unwrap() error { return e.Err }

// ParentError is a child disk whose parent cannot be used.
type ParentError = blockdev.ParentError

// Header is a decoded sparse extent header (or footer).
type Header struct {
	Magic              uint32
	Version            uint32
	Flags              uint32
	Capacity           uint64 // sectors
	GrainSize          uint64 // sectors
	DescriptorOffset   uint64 // sector
	DescriptorSize     uint64 // sectors
	NumGTEsPerGT       uint32
	RGDOffset          uint64 // sector of the redundant grain directory
	GDOffset           uint64 // sector of the grain directory
	OverHead           uint64 // sectors of metadata before the first grain
	UncleanShutdown    uint8
	SingleEndLineChar  byte
	NonEndLineChar     byte
	DoubleEndLineChar1 byte
	DoubleEndLineChar2 byte
	CompressAlgorithm  uint16
}

func decodeHeader(b []byte) Header {
	le := binary.LittleEndian
	return Header{
		Magic:              le.Uint32(b[0:]),
		Version:            le.Uint32(b[4:]),
		Flags:              le.Uint32(b[8:]),
		Capacity:           le.Uint64(b[12:]),
		GrainSize:          le.Uint64(b[20:]),
		DescriptorOffset:   le.Uint64(b[28:]),
		DescriptorSize:     le.Uint64(b[36:]),
		NumGTEsPerGT:       le.Uint32(b[44:]),
		RGDOffset:          le.Uint64(b[48:]),
		GDOffset:           le.Uint64(b[56:]),
		OverHead:           le.Uint64(b[64:]),
		UncleanShutdown:    b[72],
		SingleEndLineChar:  b[73],
		NonEndLineChar:     b[74],
		DoubleEndLineChar1: b[75],
		DoubleEndLineChar2: b[76],
		CompressAlgorithm:  le.Uint16(b[77:]),
	}
}

// Info is what an image says about itself, for JSON.
type Info struct {
	Format      string `json:"format"`    // "vmdk"
	Subformat   string `json:"subformat"` // the descriptor's createType
	Path        string `json:"path,omitempty"`
	Version     int    `json:"version,omitempty"` // of the descriptor
	VirtualSize int64  `json:"virtual_size"`
	// GrainSize is the grain size in bytes of the first sparse extent
	// (0 without one).
	GrainSize   int64        `json:"grain_size,omitempty"`
	Compression string       `json:"compression"` // "none" or "deflate"
	Extents     []ExtentInfo `json:"extents"`
	CID         string       `json:"cid,omitempty"`
	ParentCID   string       `json:"parent_cid,omitempty"`
	ParentHint  string       `json:"parent_file_name_hint,omitempty"`
	ParentPath  string       `json:"parent_path,omitempty"`
	Parent      *Info        `json:"parent,omitempty"`
	Files       []string     `json:"files"`
	Problems    []string     `json:"problems,omitempty"`
}

// ExtentInfo describes one extent of the descriptor.
type ExtentInfo struct {
	File    string `json:"file,omitempty"` // as the descriptor names it
	Path    string `json:"path,omitempty"` // where it was opened
	Access  string `json:"access"`         // RW, RDONLY, NOACCESS
	Type    string `json:"type"`           // SPARSE, FLAT, ZERO
	Sectors int64  `json:"sectors"`
	Offset  int64  `json:"offset"` // FLAT: the sector of the file where it starts
	Start   int64  `json:"start"`  // its byte offset in the virtual disk
	// Sparse extents: the header's version, grain size in bytes,
	// compression and the grain directory in use.
	Version        uint32 `json:"version,omitempty"`
	GrainSize      int64  `json:"grain_size,omitempty"`
	Compressed     bool   `json:"compressed,omitempty"`
	GrainDirectory string `json:"grain_directory,omitempty"`
	// Unreadable says why the extent cannot be read at all.
	Unreadable string `json:"unreadable,omitempty"`
}

// file is a file of the image: the descriptor, a sparse or a flat
// extent.
type file struct {
	name string
	r    io.ReaderAt
	size int64
}

// readFull reads all of p at off, which must lie within the file.
func (f *file) readFull(p []byte, off int64) error {
	if off < 0 || off > f.size || int64(len(p)) > f.size-off {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", f.name, len(p), off, f.size)
	}
	if err := blockdev.ReadFull(f.r, p, off); err != nil {
		return fmt.Errorf("vmdk: %s: reading %d bytes at byte %d: %w", f.name, len(p), off, err)
	}
	return nil
}

// Image is an opened VMDK: the virtual disk its extents make up.
type Image struct {
	name    string
	main    *file   // the file opened: descriptor or sparse extent
	mainSp  *sparse // main's sparse extent, if it is one
	desc    *descriptor
	extents []*extent
	files   []*file // every file of the image, main first
	closers []io.Closer
	sh      *shared

	size       int64
	child      bool
	parent     device.Device
	parentPath string
	unit       int64 // grain size of compressed grains, for parallel reads
	problems   []error
}

// Option configures New.
type Option func(*options)

type options struct {
	name   string
	parent device.Device
}

// WithName names the image in errors (default "vmdk").
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithParent gives a child of a snapshot chain its parent.
func WithParent(p device.Device) Option { return func(o *options) { o.parent = p } }

// Probe reports whether r looks like a VMDK: a sparse extent header
// (KDMV, or the old COWD), or a text descriptor ("# Disk DescriptorFile"
// near the start).
func Probe(r io.ReaderAt, size int64) bool {
	if size < 4 {
		return false
	}
	b := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(b, 0)
	b = b[:n]
	if len(b) >= 4 && (binary.LittleEndian.Uint32(b) == Magic || string(b[:4]) == "COWD") {
		return true
	}
	return containsFold(b, "# disk descriptorfile")
}

// New opens the VMDK held by r (size bytes): a sparse extent file,
// monolithicSparse or streamOptimized, whose embedded descriptor names
// no other file. A child of a snapshot chain needs WithParent; Open
// opens descriptors, extent files and parents itself.
func New(r io.ReaderAt, size int64, opts ...Option) (*Image, error) {
	o := options{name: "vmdk"}
	for _, f := range opts {
		f(&o)
	}
	im := newImage(o.name, newShared())
	if err := im.load(&file{name: o.name, r: r, size: size}, nil); err != nil {
		return nil, err
	}
	if im.child {
		if o.parent == nil {
			return nil, &ParentError{Format: "vmdk", Child: im.name, Name: im.desc.parentHint, Why: "a child of a snapshot chain needs its parent"}
		}
		im.parent = o.parent
		if p, ok := o.parent.(*Image); ok {
			im.checkParentCID(p)
		}
	}
	im.setUnit()
	return im, nil
}

func newImage(name string, sh *shared) *Image {
	return &Image{name: name, sh: sh}
}

func (im *Image) problem(err error) {
	switch {
	case len(im.problems) < maxProblems:
		im.problems = append(im.problems, err)
	case len(im.problems) == maxProblems:
		im.problems = append(im.problems, fmt.Errorf("vmdk: %s: more problems not listed", im.name))
	}
}

// setUnit sets the size of the parts a large read is cut into to be
// decompressed in parallel: the grain size of the first compressed
// extent of the image or its parents.
func (im *Image) setUnit() {
	for p := im; p != nil; {
		for _, x := range p.extents {
			if x.sp != nil && x.sp.compressed {
				im.unit = x.sp.grain
				return
			}
		}
		p, _ = p.parent.(*Image)
	}
}

// Size is the virtual disk's size in bytes.
func (im *Image) Size() int64 { return im.size }

// ConcurrentReads is true: ReadAt may be called from several goroutines.
func (im *Image) ConcurrentReads() bool { return true }

// Close closes the files Open opened (the image's and its parents').
func (im *Image) Close() error {
	err := blockdev.CloseAll(im.closers)
	im.closers = nil
	return err
}

// Problems lists what is wrong with the image that did not stop it from
// being read: a damaged grain directory replaced by the redundant one,
// a parent whose CID is not the one the child recorded, an unclean
// shutdown, an extent file that cannot be read.
func (im *Image) Problems() []error { return append([]error(nil), im.problems...) }

// Parent is the parent of a child of a snapshot chain, nil otherwise.
func (im *Image) Parent() device.Device { return im.parent }

// ParentPath is the path the parent was opened from ("" if not opened
// with Open or not a child).
func (im *Image) ParentPath() string { return im.parentPath }

// Info describes the image and its parent chain.
func (im *Image) Info() Info {
	d := im.desc
	in := Info{
		Format:      "vmdk",
		Subformat:   d.createType,
		Path:        im.name,
		Version:     d.version,
		VirtualSize: im.size,
		Compression: "none",
		ParentHint:  d.parentHint,
		ParentPath:  im.parentPath,
	}
	if d.hasCID {
		in.CID = fmt.Sprintf("%08x", d.cid)
	}
	if d.hasParentCID {
		in.ParentCID = fmt.Sprintf("%08x", d.parentCID)
	}
	for _, x := range im.extents {
		e := ExtentInfo{File: x.File, Access: x.Access, Type: x.Type, Sectors: x.Sectors, Offset: x.Offset, Start: x.start, Unreadable: x.bad}
		if x.f != nil {
			e.Path = x.f.name
		}
		if sp := x.sp; sp != nil {
			e.Version = sp.h.Version
			e.GrainSize = sp.grain
			e.Compressed = sp.compressed
			e.GrainDirectory = fmt.Sprintf("%s at sector %d", sp.gdWhich, sp.gdOff/sectorSize)
			if in.GrainSize == 0 {
				in.GrainSize = sp.grain
			}
			if sp.compressed {
				in.Compression = "deflate"
			}
		}
		in.Extents = append(in.Extents, e)
	}
	for _, f := range im.files {
		in.Files = append(in.Files, f.name)
	}
	if p, ok := im.parent.(*Image); ok {
		pi := p.Info()
		in.Parent = &pi
	}
	for _, p := range im.problems {
		in.Problems = append(in.Problems, p.Error())
	}
	return in
}

func workers() int { return min(runtime.GOMAXPROCS(0), maxWorkers) }
