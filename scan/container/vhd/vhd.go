// Package vhd reads Microsoft Virtual Hard Disk (VHD) images read-only:
// fixed, dynamic and differencing disks, the last with its chain of
// parents. It follows Microsoft's "Virtual Hard Disk Image Format
// Specification" (version 1.0): a 512-byte footer at the end of the file
// (and a copy at offset 0 for dynamic and differencing disks), a dynamic
// disk header naming the block allocation table (BAT), and blocks made of
// a sector bitmap followed by the block's data.
//
// The virtual disk is a device.Device and a device.Mapper: unallocated
// blocks are holes; a differencing disk reads the sectors its block
// bitmaps do not mark from its parent, and Map answers through the chain.
// A dynamic disk's blocks are read whole (their bitmaps are not
// consulted: a block present holds its sectors, written or zero).
//
// Checksums: the footer's and the dynamic disk header's are verified.
// A footer at the end that is damaged (bad checksum or no cookie) is
// replaced by the copy at offset 0 of a dynamic or differencing disk
// when that copy is sound. A checksum mismatch does not stop the image
// from being read when the structure is otherwise consistent (sizes and
// offsets checked): it is reported as a *ChecksumError in Problems and
// Info, naming the structure, its offset, the field, stored and computed
// values. A structure whose sizes or offsets are impossible is refused.
package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// On-disk constants from the specification.
const (
	footerSize    = 512
	dynHeaderSize = 1024
	sectorSize    = 512
	batUnused     = 0xFFFFFFFF

	// Disk types.
	TypeFixed        = 2
	TypeDynamic      = 3
	TypeDifferencing = 4

	minBlockSize = 1 << 12 // sane limits: the specification's default is 2 MiB
	maxBlockSize = 1 << 28
	// maxVirtualSize bounds Current Size (the specification's limit is
	// 2040 GiB; larger values are accepted up to 1 PiB as some writers
	// exceed it).
	maxVirtualSize = 1 << 50
	// batLoadMax is the number of BAT entries loaded into memory; a
	// larger BAT is read entry by entry from the file.
	batLoadMax = 1 << 22
	// bitmapCacheBytes bounds the cache of differencing block bitmaps.
	bitmapCacheBytes = 8 << 20
	// maxChain bounds the depth of a differencing chain.
	maxChain = 16
)

var (
	footerCookie = []byte("conectix")
	dynCookie    = []byte("cxsparse")
	vhdEpoch     = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ErrFormat is wrapped by every error about a malformed image.
var ErrFormat = errors.New("vhd: malformed image")

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

// ChecksumError is a stored checksum that does not match the one computed
// over its structure.
type ChecksumError struct {
	Structure string // "footer", "footer copy", "dynamic disk header"
	Off       int64  // absolute offset of the structure in the file
	Field     string // "Checksum"
	FieldOff  int64  // absolute offset of the field
	Stored    uint32
	Computed  uint32
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("vhd: %s at byte %d: %s (byte %d) stored %#08x, computed %#08x",
		e.Structure, e.Off, e.Field, e.FieldOff, e.Stored, e.Computed)
}

// ParentError is a child disk whose parent cannot be used.
type ParentError = blockdev.ParentError

// Footer is the decoded hard disk footer.
type Footer struct {
	Cookie         string
	Features       uint32
	Version        uint32
	DataOffset     uint64
	Timestamp      uint32
	CreatorApp     string
	CreatorVersion uint32
	CreatorHostOS  string
	OriginalSize   uint64
	CurrentSize    uint64
	Cylinders      uint16
	Heads          uint8
	SectorsPerTrk  uint8
	DiskType       uint32
	Checksum       uint32
	UniqueID       [16]byte
	SavedState     uint8
}

// Locator is one parent locator entry of a dynamic disk header.
type Locator struct {
	Code       string // "W2ru", "W2ku", "Wi2r", "Wi2k", "Mac ", "MacX" or the raw code
	DataSpace  uint32
	DataLength uint32
	DataOffset uint64
	Path       string // decoded platform data, "" if unreadable
}

// DynHeader is the decoded dynamic disk header.
type DynHeader struct {
	Cookie          string
	DataOffset      uint64
	TableOffset     uint64
	Version         uint32
	MaxTableEntries uint32
	BlockSize       uint32
	Checksum        uint32
	ParentUniqueID  [16]byte
	ParentTimestamp uint32
	ParentName      string
	Locators        []Locator // entries with a platform code, in order
}

// Checksum is a stored checksum and the one computed over its structure.
type Checksum struct {
	Structure string `json:"structure"`
	Offset    int64  `json:"offset"`
	Stored    string `json:"stored"`
	Computed  string `json:"computed"`
	OK        bool   `json:"ok"`
}

// Info is what an image says about itself, for JSON.
type Info struct {
	Format         string     `json:"format"` // "vhd"
	Subformat      string     `json:"subformat"`
	Path           string     `json:"path,omitempty"`
	FileSize       int64      `json:"file_size"`
	VirtualSize    int64      `json:"virtual_size"`
	OriginalSize   int64      `json:"original_size"`
	BlockSize      int64      `json:"block_size,omitempty"`
	BATEntries     int64      `json:"bat_entries,omitempty"`
	BlocksPresent  int64      `json:"blocks_present,omitempty"` // -1 when the BAT was not loaded
	Creator        string     `json:"creator"`
	CreatorVersion string     `json:"creator_version"`
	CreatorHostOS  string     `json:"creator_host_os"`
	Created        time.Time  `json:"created"`
	UniqueID       string     `json:"unique_id"`
	Geometry       string     `json:"geometry"` // C/H/S
	FooterUsed     string     `json:"footer_used"`
	Checksums      []Checksum `json:"checksums"`
	ParentName     string     `json:"parent_name,omitempty"`
	ParentUniqueID string     `json:"parent_unique_id,omitempty"`
	ParentPath     string     `json:"parent_path,omitempty"`
	Parent         *Info      `json:"parent,omitempty"`
	Problems       []string   `json:"problems,omitempty"`
}

// Image is an opened VHD: the virtual disk it holds.
type Image struct {
	name     string
	r        io.ReaderAt
	fileSize int64
	closers  []io.Closer

	footer    Footer
	footerOff int64 // where the footer in use was read
	footerRaw [footerSize]byte
	copyRaw   []byte // footer copy at offset 0, if read
	endRaw    []byte // footer at the end as read, if different from the one in use
	dyn       *DynHeader
	dynRaw    []byte
	dynOff    int64

	size       int64
	blockSize  int64
	bitmapSize int64
	entries    int64
	bat        []uint32 // nil when the BAT is too large to load
	present    int64

	parent     device.Device
	parentPath string
	checksums  []Checksum
	problems   []error

	mu          sync.Mutex
	bitmaps     map[uint32][]byte
	bitmapBytes int
}

// Option configures New.
type Option func(*options)

type options struct {
	name   string
	parent device.Device
}

// WithName names the image in errors (default "vhd").
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithParent gives a differencing disk its parent.
func WithParent(p device.Device) Option { return func(o *options) { o.parent = p } }

// Probe reports whether r looks like a VHD: a footer cookie at the end,
// or a footer copy at offset 0.
func Probe(r io.ReaderAt, size int64) bool {
	var b [8]byte
	if size >= footerSize {
		if _, err := r.ReadAt(b[:], size-footerSize); err == nil && bytes.Equal(b[:], footerCookie) {
			return true
		}
	}
	if size >= footerSize+dynHeaderSize {
		if _, err := r.ReadAt(b[:], 0); err == nil && bytes.Equal(b[:], footerCookie) {
			return true
		}
	}
	return false
}

// New opens the VHD held by r (size bytes). A differencing disk needs
// WithParent; Open resolves the parent itself.
func New(r io.ReaderAt, size int64, opts ...Option) (*Image, error) {
	o := options{name: "vhd"}
	for _, f := range opts {
		f(&o)
	}
	im := &Image{name: o.name, r: r, fileSize: size, bitmaps: map[uint32][]byte{}}
	if err := im.open(); err != nil {
		return nil, err
	}
	if im.footer.DiskType == TypeDifferencing {
		if o.parent == nil {
			return nil, &ParentError{Format: "vhd", Child: im.name, Name: im.dyn.ParentName, Why: "a differencing disk needs its parent"}
		}
		if p, ok := o.parent.(*Image); ok && p.footer.UniqueID != im.dyn.ParentUniqueID {
			return nil, &ParentError{Format: "vhd", Child: im.name, Name: im.dyn.ParentName, Why: fmt.Sprintf("%s has unique id %s, the child expects %s", p.name, uuidString(p.footer.UniqueID), uuidString(im.dyn.ParentUniqueID))}
		}
		im.parent = o.parent
	}
	return im, nil
}

func checksum(b []byte, at int) uint32 {
	var s uint32
	for i, c := range b {
		if i >= at && i < at+4 {
			continue
		}
		s += uint32(c)
	}
	return ^s
}

func (im *Image) readFull(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > im.fileSize {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", im.name, len(p), off, im.fileSize)
	}
	if err := blockdev.ReadFull(im.r, p, off); err != nil {
		return fmt.Errorf("vhd: %s: reading %d bytes at byte %d: %w", im.name, len(p), off, err)
	}
	return nil
}

func decodeFooter(b []byte) Footer {
	be := binary.BigEndian
	f := Footer{
		Cookie:         string(b[0:8]),
		Features:       be.Uint32(b[8:]),
		Version:        be.Uint32(b[12:]),
		DataOffset:     be.Uint64(b[16:]),
		Timestamp:      be.Uint32(b[24:]),
		CreatorApp:     string(b[28:32]),
		CreatorVersion: be.Uint32(b[32:]),
		CreatorHostOS:  string(b[36:40]),
		OriginalSize:   be.Uint64(b[40:]),
		CurrentSize:    be.Uint64(b[48:]),
		Cylinders:      be.Uint16(b[56:]),
		Heads:          b[58],
		SectorsPerTrk:  b[59],
		DiskType:       be.Uint32(b[60:]),
		Checksum:       be.Uint32(b[64:]),
		SavedState:     b[84],
	}
	copy(f.UniqueID[:], b[68:84])
	return f
}

// footerState is one footer candidate.
type footerState struct {
	raw      []byte
	off      int64
	cookieOK bool
	sumOK    bool
	stored   uint32
	computed uint32
}

func (im *Image) readFooter(off int64) *footerState {
	if off < 0 || off+footerSize > im.fileSize {
		return nil
	}
	b := make([]byte, footerSize)
	if im.readFull(b, off) != nil {
		return nil
	}
	fs := &footerState{raw: b, off: off, cookieOK: bytes.Equal(b[:8], footerCookie)}
	fs.stored = binary.BigEndian.Uint32(b[64:])
	fs.computed = checksum(b, 64)
	fs.sumOK = fs.stored == fs.computed
	return fs
}

func (im *Image) open() error {
	if im.fileSize < footerSize {
		return formatErr("%s: %d bytes: too small for a footer", im.name, im.fileSize)
	}
	end := im.readFooter(im.fileSize - footerSize)
	var cp *footerState
	if im.fileSize >= 2*footerSize {
		cp = im.readFooter(0)
	}
	// The footer in use: the one at the end, unless it is damaged and the
	// copy at offset 0 (dynamic and differencing disks) is sound.
	use := end
	switch {
	case end != nil && end.cookieOK && end.sumOK:
	case cp != nil && cp.cookieOK && cp.sumOK && isSparse(cp.raw):
		use = cp
	case end != nil && end.cookieOK:
	case cp != nil && cp.cookieOK && isSparse(cp.raw):
		use = cp
	default:
		return formatErr("%s: no VHD footer (cookie \"conectix\") at byte %d", im.name, im.fileSize-footerSize)
	}
	copy(im.footerRaw[:], use.raw)
	im.footerOff = use.off
	im.footer = decodeFooter(use.raw)
	if end != nil && end.cookieOK {
		im.endRaw = end.raw
		im.checksums = append(im.checksums, mkSum("footer", end.off, end.stored, end.computed))
		if !end.sumOK {
			im.problems = append(im.problems, &ChecksumError{Structure: "footer", Off: end.off, Field: "Checksum", FieldOff: end.off + 64, Stored: end.stored, Computed: end.computed})
		}
	} else {
		im.problems = append(im.problems, formatErr("%s: footer at byte %d damaged (no cookie): the copy at byte 0 is used", im.name, im.fileSize-footerSize))
	}
	if im.footer.DiskType == TypeDynamic || im.footer.DiskType == TypeDifferencing {
		if cp != nil && cp.cookieOK {
			im.copyRaw = cp.raw
			im.checksums = append(im.checksums, mkSum("footer copy", 0, cp.stored, cp.computed))
			if !cp.sumOK {
				im.problems = append(im.problems, &ChecksumError{Structure: "footer copy", Off: 0, Field: "Checksum", FieldOff: 64, Stored: cp.stored, Computed: cp.computed})
			}
			if end != nil && end.cookieOK && end.sumOK && cp.sumOK && !bytes.Equal(end.raw, cp.raw) {
				im.problems = append(im.problems, formatErr("%s: footer copy at byte 0 differs from the footer at byte %d", im.name, end.off))
			}
		} else {
			im.problems = append(im.problems, formatErr("%s: no footer copy at byte 0", im.name))
		}
	}
	if use.off == 0 && end != nil && end.cookieOK && !end.sumOK {
		// already reported as a checksum error; say which one is used
		im.problems = append(im.problems, formatErr("%s: the footer copy at byte 0 is used", im.name))
	}

	f := &im.footer
	if f.Version != 0x00010000 {
		im.problems = append(im.problems, formatErr("%s: footer file format version %#08x, not 0x00010000", im.name, f.Version))
	}
	if f.SavedState != 0 {
		im.problems = append(im.problems, formatErr("%s: saved state set: the disk was in use by a saved virtual machine", im.name))
	}
	if f.CurrentSize > maxVirtualSize {
		return formatErr("%s: current size %d too large", im.name, f.CurrentSize)
	}
	im.size = int64(f.CurrentSize)
	switch f.DiskType {
	case TypeFixed:
		if im.size > im.fileSize-footerSize {
			return formatErr("%s: fixed disk of %d bytes in a file of %d bytes", im.name, im.size, im.fileSize)
		}
		return nil
	case TypeDynamic, TypeDifferencing:
		return im.openDynamic()
	}
	return formatErr("%s: disk type %d not known (2 fixed, 3 dynamic, 4 differencing)", im.name, f.DiskType)
}

func isSparse(footer []byte) bool {
	t := binary.BigEndian.Uint32(footer[60:])
	return t == TypeDynamic || t == TypeDifferencing
}

func mkSum(structure string, off int64, stored, computed uint32) Checksum {
	return Checksum{Structure: structure, Offset: off, Stored: fmt.Sprintf("%#08x", stored), Computed: fmt.Sprintf("%#08x", computed), OK: stored == computed}
}

func (im *Image) openDynamic() error {
	f := &im.footer
	if f.DataOffset > uint64(im.fileSize) || int64(f.DataOffset)+dynHeaderSize > im.fileSize {
		return formatErr("%s: dynamic disk header at byte %d beyond the end of the file (%d bytes)", im.name, f.DataOffset, im.fileSize)
	}
	im.dynOff = int64(f.DataOffset)
	b := make([]byte, dynHeaderSize)
	if err := im.readFull(b, im.dynOff); err != nil {
		return err
	}
	im.dynRaw = b
	if !bytes.Equal(b[:8], dynCookie) {
		return formatErr("%s: no dynamic disk header (cookie \"cxsparse\") at byte %d", im.name, im.dynOff)
	}
	be := binary.BigEndian
	d := &DynHeader{
		Cookie:          string(b[:8]),
		DataOffset:      be.Uint64(b[8:]),
		TableOffset:     be.Uint64(b[16:]),
		Version:         be.Uint32(b[24:]),
		MaxTableEntries: be.Uint32(b[28:]),
		BlockSize:       be.Uint32(b[32:]),
		Checksum:        be.Uint32(b[36:]),
		ParentTimestamp: be.Uint32(b[56:]),
		ParentName:      utf16String(b[64:576], true),
	}
	copy(d.ParentUniqueID[:], b[40:56])
	im.dyn = d
	computed := checksum(b, 36)
	im.checksums = append(im.checksums, mkSum("dynamic disk header", im.dynOff, d.Checksum, computed))
	if computed != d.Checksum {
		im.problems = append(im.problems, &ChecksumError{Structure: "dynamic disk header", Off: im.dynOff, Field: "Checksum", FieldOff: im.dynOff + 36, Stored: d.Checksum, Computed: computed})
	}
	if d.Version != 0x00010000 {
		im.problems = append(im.problems, formatErr("%s: dynamic disk header version %#08x, not 0x00010000", im.name, d.Version))
	}
	for i := range 8 {
		e := b[576+24*i:]
		code := be.Uint32(e)
		if code == 0 {
			continue
		}
		l := Locator{Code: string(e[0:4]), DataSpace: be.Uint32(e[4:]), DataLength: be.Uint32(e[8:]), DataOffset: be.Uint64(e[16:])}
		l.Path = im.locatorPath(l)
		d.Locators = append(d.Locators, l)
	}

	bs := int64(d.BlockSize)
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return formatErr("%s: block size %d: not a power of two between %d and %d", im.name, bs, minBlockSize, maxBlockSize)
	}
	im.blockSize = bs
	im.bitmapSize = (bs/sectorSize/8 + sectorSize - 1) / sectorSize * sectorSize
	need := (im.size + bs - 1) / bs
	im.entries = int64(d.MaxTableEntries)
	if im.entries < need {
		return formatErr("%s: BAT of %d entries covers %d bytes, less than the disk's %d", im.name, im.entries, im.entries*bs, im.size)
	}
	if d.TableOffset > uint64(im.fileSize) || int64(d.TableOffset)+4*need > im.fileSize {
		return formatErr("%s: BAT of %d entries at byte %d beyond the end of the file (%d bytes)", im.name, need, d.TableOffset, im.fileSize)
	}
	// Only the entries that cover the disk are used.
	im.entries = need
	if need <= batLoadMax {
		raw := make([]byte, 4*need)
		if err := im.readFull(raw, int64(d.TableOffset)); err != nil {
			return err
		}
		im.bat = make([]uint32, need)
		for i := range im.bat {
			im.bat[i] = be.Uint32(raw[4*i:])
			if im.bat[i] != batUnused {
				im.present++
			}
		}
	} else {
		im.present = -1
	}
	return nil
}

// locatorPath decodes a parent locator's platform data.
func (im *Image) locatorPath(l Locator) string {
	if l.DataLength == 0 || l.DataLength > 64<<10 || l.DataOffset > uint64(im.fileSize) {
		return ""
	}
	b := make([]byte, l.DataLength)
	if im.readFull(b, int64(l.DataOffset)) != nil {
		return ""
	}
	switch l.Code {
	case "W2ru", "W2ku":
		return utf16String(b, false)
	case "MacX":
		s := string(bytes.TrimRight(b, "\x00"))
		if len(s) > 7 && s[:7] == "file://" {
			s = s[7:]
			if len(s) > 9 && s[:9] == "localhost" {
				s = s[9:]
			}
		}
		return s
	case "Wi2r", "Wi2k":
		return string(bytes.TrimRight(b, "\x00"))
	}
	return ""
}

// utf16String decodes UTF-16 (big- or little-endian) up to the first NUL.
func utf16String(b []byte, bigEndian bool) string {
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		var c uint16
		if bigEndian {
			c = binary.BigEndian.Uint16(b[i:])
		} else {
			c = binary.LittleEndian.Uint16(b[i:])
		}
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16Decode(u))
}

func utf16Decode(u []uint16) []rune {
	r := make([]rune, 0, len(u))
	for i := 0; i < len(u); i++ {
		c := rune(u[i])
		if c >= 0xD800 && c < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000 {
			r = append(r, 0x10000+(c-0xD800)<<10+rune(u[i+1])-0xDC00)
			i++
			continue
		}
		if c >= 0xD800 && c < 0xE000 {
			c = 0xFFFD
		}
		r = append(r, c)
	}
	return r
}

// Size is the virtual disk's size in bytes.
func (im *Image) Size() int64 { return im.size }

// ConcurrentReads is true: ReadAt may be called from several goroutines.
func (im *Image) ConcurrentReads() bool { return true }

// Close closes the files Open opened (the image and its parents).
func (im *Image) Close() error {
	err := blockdev.CloseAll(im.closers)
	im.closers = nil
	return err
}

// Problems lists what is wrong with the image that did not stop it from
// being read: checksum mismatches (*ChecksumError), a damaged footer
// replaced by its copy, a parent modified after the child was made.
func (im *Image) Problems() []error { return append([]error(nil), im.problems...) }

// Footer is the footer in use.
func (im *Image) Footer() Footer { return im.footer }

// DynamicHeader is the dynamic disk header, nil for a fixed disk.
func (im *Image) DynamicHeader() *DynHeader { return im.dyn }

// Parent is the parent of a differencing disk, nil otherwise.
func (im *Image) Parent() device.Device { return im.parent }

func subformat(t uint32) string {
	switch t {
	case TypeFixed:
		return "fixed"
	case TypeDynamic:
		return "dynamic"
	case TypeDifferencing:
		return "differencing"
	}
	return fmt.Sprintf("type %d", t)
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Info describes the image and its parent chain.
func (im *Image) Info() Info {
	f := &im.footer
	in := Info{
		Format:         "vhd",
		Subformat:      subformat(f.DiskType),
		Path:           im.name,
		FileSize:       im.fileSize,
		VirtualSize:    im.size,
		OriginalSize:   int64(f.OriginalSize),
		Creator:        printable(f.CreatorApp),
		CreatorVersion: fmt.Sprintf("%d.%d", f.CreatorVersion>>16, f.CreatorVersion&0xffff),
		CreatorHostOS:  printable(f.CreatorHostOS),
		Created:        vhdEpoch.Add(time.Duration(f.Timestamp) * time.Second),
		UniqueID:       uuidString(f.UniqueID),
		Geometry:       fmt.Sprintf("%d/%d/%d", f.Cylinders, f.Heads, f.SectorsPerTrk),
		Checksums:      append([]Checksum(nil), im.checksums...),
	}
	if im.footerOff == 0 {
		in.FooterUsed = "copy at byte 0"
	} else {
		in.FooterUsed = fmt.Sprintf("footer at byte %d", im.footerOff)
	}
	if im.dyn != nil {
		in.BlockSize = im.blockSize
		in.BATEntries = im.entries
		in.BlocksPresent = im.present
	}
	if f.DiskType == TypeDifferencing && im.dyn != nil {
		in.ParentName = im.dyn.ParentName
		in.ParentUniqueID = uuidString(im.dyn.ParentUniqueID)
		in.ParentPath = im.parentPath
		if p, ok := im.parent.(*Image); ok {
			pi := p.Info()
			in.Parent = &pi
		}
	}
	for _, p := range im.problems {
		in.Problems = append(in.Problems, p.Error())
	}
	return in
}

func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return string(b)
}
