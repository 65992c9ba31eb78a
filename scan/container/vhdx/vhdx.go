// Package vhdx reads Microsoft Virtual Hard Disk v2 (VHDX) images
// read-only: fixed, dynamic and differencing disks, the last with its
// chain of parents. It follows Microsoft's "[MS-VHDX]: Virtual Hard Disk
// v2 (VHDX) File Format": a file type identifier at offset 0, two 4 KiB
// headers at 64 KiB and 128 KiB (the valid one with the higher sequence
// number is current), two copies of the region table at 192 KiB and
// 256 KiB locating the block allocation table (BAT) and the metadata
// region, a log of metadata updates, and payload blocks of 1 to 256 MiB
// interleaved in the BAT with the sector bitmap blocks of differencing
// disks. Every integer is little-endian; every checksum is CRC-32C.
//
// The virtual disk is a device.Device and a device.Mapper: payload
// blocks not present, zero, unmapped or undefined are holes; a
// differencing disk reads the blocks it does not hold, and the sectors
// its sector bitmap does not mark in partially present blocks, from its
// parent, and Map answers through the chain.
//
// Damage: a header or region table copy whose signature or checksum is
// wrong is reported (Problems, Info) and the other copy is used; with
// neither copy sound the image is refused. A log that has not been
// applied (a non-zero LogGuid in the current header) is replayed in
// memory: the writes of its active sequence overlay the file, which is
// never written. Unknown regions or metadata items marked required are
// refused with their GUID, as the specification asks. A payload block
// whose BAT entry is impossible (a reserved state, a block beyond the end
// of the file) reads as a *device.UnreadableError, never as zeros.
package vhdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// On-disk constants from the specification.
const (
	kib = 1 << 10
	mib = 1 << 20

	fileIDSize         = 8 + 512 // signature and creator
	header1Off         = 64 * kib
	header2Off         = 128 * kib
	headerSize         = 4 * kib
	regionTable1Off    = 192 * kib
	regionTable2Off    = 256 * kib
	regionTableSize    = 64 * kib
	headerSectionSize  = 1 * mib
	maxRegionEntries   = 2047
	metadataTableSize  = 64 * kib
	maxMetadataEntries = 2047
	maxMetadataItem    = 1 * mib
	sectorBitmapSize   = 1 * mib // a sector bitmap block
	sectorsPerBitmap   = 1 << 23 // sectors one sector bitmap block describes

	minBlockSize = 1 * mib
	maxBlockSize = 256 * mib
	// maxVirtualSize is the specification's limit, 64 TiB.
	maxVirtualSize = 64 << 40
	// maxFileSize bounds the file size a replayed log may extend to.
	maxFileSize = 1 << 50
	// batLoadMax is the number of BAT entries loaded into memory; a
	// larger BAT is read entry by entry from the file.
	batLoadMax = 1 << 22
	// bitmapCacheBytes bounds the cache of sector bitmaps.
	bitmapCacheBytes = 8 << 20
	// maxChain bounds the depth of a differencing chain.
	maxChain = 16
)

// Payload block states of a BAT entry (bits 0-2).
const (
	PayloadNotPresent       = 0
	PayloadUndefined        = 1
	PayloadZero             = 2
	PayloadUnmapped         = 3
	PayloadFullyPresent     = 6
	PayloadPartiallyPresent = 7
)

// Sector bitmap block states of a BAT entry.
const (
	SectorBitmapNotPresent = 0
	SectorBitmapPresent    = 6
)

var (
	fileSig     = []byte("vhdxfile")
	headerSig   = []byte("head")
	regionSig   = []byte("regi")
	metadataSig = []byte("metadata")

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// Known GUIDs.
var (
	RegionBAT              = mustGUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
	RegionMetadata         = mustGUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	MetaFileParameters     = mustGUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	MetaVirtualDiskSize    = mustGUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	MetaPage83Data         = mustGUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
	MetaLogicalSectorSize  = mustGUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	MetaPhysicalSectorSize = mustGUID("CDA348C7-445D-4471-9CC9-E9885251C556")
	MetaParentLocator      = mustGUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
	ParentLocatorTypeVHDX  = mustGUID("B04AEFB7-D19E-4A81-B789-25B8E9445913")
	metadataNames          = map[GUID]string{MetaFileParameters: "file parameters", MetaVirtualDiskSize: "virtual disk size", MetaPage83Data: "page 83 data", MetaLogicalSectorSize: "logical sector size", MetaPhysicalSectorSize: "physical sector size", MetaParentLocator: "parent locator"}
	regionNames            = map[GUID]string{RegionBAT: "BAT", RegionMetadata: "metadata"}
)

var (
	_ device.Device     = (*Image)(nil)
	_ device.Mapper     = (*Image)(nil)
	_ device.Closer     = (*Image)(nil)
	_ device.Concurrent = (*Image)(nil)
)

// GUID is a GUID as VHDX stores it: the first three fields
// little-endian, the last eight bytes in order.
type GUID [16]byte

// String is the GUID in its usual lower-case form, without braces.
func (g GUID) String() string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:10], g[10:16])
}

// IsZero reports whether g is all zeros.
func (g GUID) IsZero() bool { return g == GUID{} }

// ParseGUID parses a GUID written "01234567-89ab-cdef-0123-456789abcdef",
// with or without braces, in either case.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("vhdx: %q is not a GUID", s)
	}
	hex := strings.ReplaceAll(t, "-", "")
	var raw [16]byte
	for i := range 16 {
		hi, ok1 := unhex(hex[2*i])
		lo, ok2 := unhex(hex[2*i+1])
		if !ok1 || !ok2 {
			return g, fmt.Errorf("vhdx: %q is not a GUID", s)
		}
		raw[i] = hi<<4 | lo
	}
	// raw holds the fields big-endian as written; store the first three
	// little-endian.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func mustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

func guidAt(b []byte) GUID {
	var g GUID
	copy(g[:], b)
	return g
}

// ErrFormat is wrapped by every error about a malformed image.
var ErrFormat = errors.New("vhdx: malformed image")

// ErrUnsupported is wrapped by the errors about a sound image this reader
// does not read: an unknown region or metadata item marked required, a
// header or log version it does not know, a log too large to replay.
var ErrUnsupported = errors.New("vhdx: not supported")

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, a...))
}

// ChecksumError is a stored CRC-32C that does not match the one computed
// over its structure.
type ChecksumError struct {
	Structure string // "header 1", "region table 2", "log entry"
	Off       int64  // absolute offset of the structure in the file
	Field     string // "Checksum"
	FieldOff  int64  // absolute offset of the field
	Stored    uint32
	Computed  uint32
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("vhdx: %s at byte %d: %s (byte %d) stored %#08x, computed %#08x",
		e.Structure, e.Off, e.Field, e.FieldOff, e.Stored, e.Computed)
}

// ParentError is a child disk whose parent cannot be used.
type ParentError = blockdev.ParentError

// Header is a decoded VHDX header.
type Header struct {
	Signature      string
	Checksum       uint32
	SequenceNumber uint64
	FileWriteGUID  GUID
	DataWriteGUID  GUID
	LogGUID        GUID
	LogVersion     uint16
	Version        uint16
	LogLength      uint32
	LogOffset      uint64
}

func decodeHeader(b []byte) Header {
	le := binary.LittleEndian
	return Header{
		Signature:      string(b[0:4]),
		Checksum:       le.Uint32(b[4:]),
		SequenceNumber: le.Uint64(b[8:]),
		FileWriteGUID:  guidAt(b[16:]),
		DataWriteGUID:  guidAt(b[32:]),
		LogGUID:        guidAt(b[48:]),
		LogVersion:     le.Uint16(b[64:]),
		Version:        le.Uint16(b[66:]),
		LogLength:      le.Uint32(b[68:]),
		LogOffset:      le.Uint64(b[72:]),
	}
}

// Region is a region table entry.
type Region struct {
	GUID       GUID
	FileOffset uint64
	Length     uint32
	Required   bool
}

// Name is "BAT", "metadata" or "" for a region this reader does not know.
func (r Region) Name() string { return regionNames[r.GUID] }

// MetadataEntry is an entry of the metadata table.
type MetadataEntry struct {
	ItemID        GUID
	Offset        uint32 // from the start of the metadata region
	Length        uint32
	IsUser        bool
	IsVirtualDisk bool
	IsRequired    bool
}

// Name is the item's name ("file parameters", ...), "" if not known.
func (m MetadataEntry) Name() string {
	if m.IsUser {
		return ""
	}
	return metadataNames[m.ItemID]
}

// KeyValue is one entry of a parent locator.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParentLocator is the decoded parent locator metadata item.
type ParentLocator struct {
	Type    GUID
	Entries []KeyValue
}

// Get returns the value of key (the first entry with that key).
func (l *ParentLocator) Get(key string) (string, bool) {
	if l == nil {
		return "", false
	}
	for _, e := range l.Entries {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Checksum is a stored checksum and the one computed over its structure.
type Checksum struct {
	Structure string `json:"structure"`
	Offset    int64  `json:"offset"`
	Stored    string `json:"stored"`
	Computed  string `json:"computed"`
	OK        bool   `json:"ok"`
}

func mkSum(structure string, off int64, stored, computed uint32) Checksum {
	return Checksum{Structure: structure, Offset: off, Stored: fmt.Sprintf("%#08x", stored), Computed: fmt.Sprintf("%#08x", computed), OK: stored == computed}
}

// HeaderInfo describes one of the two header copies.
type HeaderInfo struct {
	Copy           int    `json:"copy"` // 1 or 2
	Offset         int64  `json:"offset"`
	Valid          bool   `json:"valid"`
	SequenceNumber uint64 `json:"sequence_number"`
}

// RegionInfo describes a region table entry.
type RegionInfo struct {
	Name       string `json:"name,omitempty"`
	GUID       string `json:"guid"`
	FileOffset uint64 `json:"file_offset"`
	Length     uint32 `json:"length"`
	Required   bool   `json:"required"`
}

// LogInfo describes the log and what was replayed from it.
type LogInfo struct {
	// State is "empty" (LogGuid zero: nothing to replay), "replayed"
	// (the active sequence was applied in memory) or "no valid sequence"
	// (LogGuid set but no complete sequence found: nothing replayed).
	State           string `json:"state"`
	GUID            string `json:"log_guid,omitempty"`
	Offset          int64  `json:"offset"`
	Length          int64  `json:"length"`
	Version         uint16 `json:"version"`
	Entries         int    `json:"entries,omitempty"`
	FirstSequence   uint64 `json:"first_sequence,omitempty"`
	LastSequence    uint64 `json:"last_sequence,omitempty"`
	TailOffset      int64  `json:"tail_offset,omitempty"` // file offset of the sequence's first entry
	HeadOffset      int64  `json:"head_offset,omitempty"` // file offset of its last entry
	DataDescriptors int    `json:"data_descriptors,omitempty"`
	ZeroDescriptors int    `json:"zero_descriptors,omitempty"`
	FileSizeAfter   int64  `json:"file_size_after,omitempty"` // the file's size once replayed
}

// Info is what an image says about itself, for JSON.
type Info struct {
	Format               string       `json:"format"` // "vhdx"
	Subformat            string       `json:"subformat"`
	Path                 string       `json:"path,omitempty"`
	FileSize             int64        `json:"file_size"`
	Creator              string       `json:"creator"`
	VirtualSize          int64        `json:"virtual_size"`
	BlockSize            int64        `json:"block_size"`
	LogicalSectorSize    int64        `json:"logical_sector_size"`
	PhysicalSectorSize   int64        `json:"physical_sector_size"`
	ChunkRatio           int64        `json:"chunk_ratio"`
	LeaveBlocksAllocated bool         `json:"leave_blocks_allocated"`
	HasParent            bool         `json:"has_parent"`
	VirtualDiskID        string       `json:"virtual_disk_id,omitempty"` // page 83 data
	BATEntries           int64        `json:"bat_entries"`
	BlocksPresent        int64        `json:"blocks_present"` // -1 when the BAT was not loaded
	HeaderUsed           int          `json:"header_used"`    // 1 or 2
	Headers              []HeaderInfo `json:"headers"`
	FileWriteGUID        string       `json:"file_write_guid"`
	DataWriteGUID        string       `json:"data_write_guid"`
	RegionTableUsed      int          `json:"region_table_used"` // 1 or 2
	Regions              []RegionInfo `json:"regions"`
	Checksums            []Checksum   `json:"checksums"`
	Log                  LogInfo      `json:"log"`
	ParentLocator        []KeyValue   `json:"parent_locator,omitempty"`
	ParentPath           string       `json:"parent_path,omitempty"`
	Parent               *Info        `json:"parent,omitempty"`
	Problems             []string     `json:"problems,omitempty"`
}

// headerCopy is one of the two headers as read.
type headerCopy struct {
	off              int64
	raw              []byte // nil if it could not be read
	sigOK, sumOK     bool
	stored, computed uint32
	h                Header
}

func (c *headerCopy) valid() bool { return c.raw != nil && c.sigOK && c.sumOK }

// tableCopy is one of the two region tables as read.
type tableCopy struct {
	off              int64
	raw              []byte
	sigOK, sumOK     bool
	countOK          bool
	stored, computed uint32
}

func (c *tableCopy) valid() bool { return c.raw != nil && c.sigOK && c.sumOK && c.countOK }

// metaItem is a known metadata item as read.
type metaItem struct {
	entry MetadataEntry
	raw   []byte
	off   int64 // absolute, in the file
}

// Image is an opened VHDX: the virtual disk it holds.
type Image struct {
	name     string
	file     io.ReaderAt // the file as stored
	r        io.ReaderAt // the file as the log leaves it: file, or the replay overlay
	fileSize int64       // the file's size
	effSize  int64       // its size once the log is replayed
	closers  []io.Closer

	idRaw   []byte
	creator string
	headers [2]*headerCopy
	cur     int // index of the current header
	header  Header
	tables  [2]*tableCopy
	tblUsed int
	regions []Region
	bat     Region
	meta    Region

	metaRaw     []byte // the metadata table header and entries
	metaEntries []MetadataEntry
	items       []metaItem

	size           int64
	blockSize      int64
	logicalSector  int64
	physicalSector int64
	leave          bool
	hasParent      bool
	diskID         GUID
	locator        *ParentLocator
	chunkRatio     int64
	dataBlocks     int64
	batEntries     int64
	batTable       []uint64 // nil when too large to load
	present        int64

	log       LogInfo
	overlay   *overlay
	logFields []logField

	parent     device.Device
	parentPath string
	checksums  []Checksum
	problems   []error

	mu          sync.Mutex
	bitmaps     map[int64][]byte // sector bitmap of a payload block
	bitmapBytes int
}

// Option configures New.
type Option func(*options)

type options struct {
	name   string
	parent device.Device
}

// WithName names the image in errors (default "vhdx").
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithParent gives a differencing disk its parent. When the parent is an
// *Image, its DataWriteGuid must match the child's parent_linkage.
func WithParent(p device.Device) Option { return func(o *options) { o.parent = p } }

// Probe reports whether r starts with the VHDX file type identifier
// signature, "vhdxfile".
func Probe(r io.ReaderAt, size int64) bool {
	if size < int64(len(fileSig)) {
		return false
	}
	var b [8]byte
	if _, err := r.ReadAt(b[:], 0); err != nil && err != io.EOF {
		return false
	}
	return bytes.Equal(b[:], fileSig)
}

// New opens the VHDX held by r (size bytes). A differencing disk needs
// WithParent; Open finds the parent itself.
func New(r io.ReaderAt, size int64, opts ...Option) (*Image, error) {
	o := options{name: "vhdx"}
	for _, f := range opts {
		f(&o)
	}
	im := newImage(o.name, r, size)
	if err := im.open(); err != nil {
		return nil, err
	}
	if im.hasParent {
		if o.parent == nil {
			return nil, &ParentError{Format: "vhdx", Child: im.name, Name: im.linkage(), Why: "a differencing disk needs its parent"}
		}
		if p, ok := o.parent.(*Image); ok {
			if why := im.checkLinkage(p); why != "" {
				return nil, &ParentError{Format: "vhdx", Child: im.name, Name: im.linkage(), Why: p.name + " " + why}
			}
			im.checkParentGeometry(p, p.name)
		}
		im.parent = o.parent
	}
	return im, nil
}

func newImage(name string, r io.ReaderAt, size int64) *Image {
	return &Image{name: name, file: r, r: r, fileSize: size, effSize: size, bitmaps: map[int64][]byte{}}
}

// crcZeroed is the CRC-32C of b with the 4 bytes at at taken as zeros.
func crcZeroed(b []byte, at int) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, b[:at])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, b[at+4:])
}

// readFile reads from the file as stored.
func (im *Image) readFile(p []byte, off int64) error {
	if off < 0 || off > im.fileSize || int64(len(p)) > im.fileSize-off {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", im.name, len(p), off, im.fileSize)
	}
	if err := blockdev.ReadFull(im.file, p, off); err != nil {
		return fmt.Errorf("vhdx: %s: reading %d bytes at byte %d: %w", im.name, len(p), off, err)
	}
	return nil
}

// readFull reads from the file as the log leaves it.
func (im *Image) readFull(p []byte, off int64) error {
	if off < 0 || off > im.effSize || int64(len(p)) > im.effSize-off {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", im.name, len(p), off, im.effSize)
	}
	if err := blockdev.ReadFull(im.r, p, off); err != nil {
		return fmt.Errorf("vhdx: %s: reading %d bytes at byte %d: %w", im.name, len(p), off, err)
	}
	return nil
}

func (im *Image) open() error {
	if im.fileSize < regionTable2Off+regionTableSize {
		return formatErr("%s: %d bytes: too small for the VHDX header section", im.name, im.fileSize)
	}
	im.idRaw = make([]byte, fileIDSize)
	if err := im.readFile(im.idRaw, 0); err != nil {
		return err
	}
	if !bytes.Equal(im.idRaw[:8], fileSig) {
		return formatErr("%s: no file type identifier (signature \"vhdxfile\") at byte 0", im.name)
	}
	im.creator = utf16String(im.idRaw[8:])
	if err := im.readHeaders(); err != nil {
		return err
	}
	if err := im.replayLog(); err != nil {
		return err
	}
	if err := im.readRegionTables(); err != nil {
		return err
	}
	if err := im.readMetadata(); err != nil {
		return err
	}
	return im.readBAT()
}

func (im *Image) readHeaders() error {
	for i, off := range []int64{header1Off, header2Off} {
		c := &headerCopy{off: off}
		im.headers[i] = c
		b := make([]byte, headerSize)
		if im.readFile(b, off) != nil {
			continue
		}
		c.raw = b
		c.sigOK = bytes.Equal(b[:4], headerSig)
		c.stored = binary.LittleEndian.Uint32(b[4:])
		c.computed = crcZeroed(b, 4)
		c.sumOK = c.stored == c.computed
		c.h = decodeHeader(b)
		im.checksums = append(im.checksums, mkSum(fmt.Sprintf("header %d", i+1), off, c.stored, c.computed))
	}
	h1, h2 := im.headers[0], im.headers[1]
	switch {
	case h1.valid() && h2.valid():
		im.cur = 0
		if h2.h.SequenceNumber > h1.h.SequenceNumber {
			im.cur = 1
		} else if h2.h.SequenceNumber == h1.h.SequenceNumber && !bytes.Equal(h1.raw, h2.raw) {
			im.problems = append(im.problems, formatErr("%s: both headers have sequence number %d but differ: header 1 is used", im.name, h1.h.SequenceNumber))
		}
	case h1.valid():
		im.cur = 0
	case h2.valid():
		im.cur = 1
	default:
		return formatErr("%s: no valid header: %s; %s", im.name, im.headerDamage(0), im.headerDamage(1))
	}
	for i, c := range im.headers {
		if !c.valid() {
			var err error = formatErr("%s: %s: header %d is used", im.name, im.headerDamage(i), im.cur+1)
			if c.raw != nil && c.sigOK {
				err = &ChecksumError{Structure: fmt.Sprintf("header %d", i+1), Off: c.off, Field: "Checksum", FieldOff: c.off + 4, Stored: c.stored, Computed: c.computed}
			}
			im.problems = append(im.problems, err)
		}
	}
	im.header = im.headers[im.cur].h
	if v := im.header.Version; v != 1 {
		return unsupported("%s: header %d: version %d (this reader knows version 1)", im.name, im.cur+1, v)
	}
	return nil
}

func (im *Image) headerDamage(i int) string {
	c := im.headers[i]
	switch {
	case c.raw == nil:
		return fmt.Sprintf("header %d at byte %d cannot be read", i+1, c.off)
	case !c.sigOK:
		return fmt.Sprintf("header %d at byte %d has no signature \"head\"", i+1, c.off)
	case !c.sumOK:
		return fmt.Sprintf("header %d at byte %d: checksum stored %#08x, computed %#08x", i+1, c.off, c.stored, c.computed)
	}
	return fmt.Sprintf("header %d at byte %d is sound", i+1, c.off)
}

func (im *Image) readRegionTables() error {
	for i, off := range []int64{regionTable1Off, regionTable2Off} {
		c := &tableCopy{off: off}
		im.tables[i] = c
		b := make([]byte, regionTableSize)
		if im.readFull(b, off) != nil {
			continue
		}
		c.raw = b
		c.sigOK = bytes.Equal(b[:4], regionSig)
		c.stored = binary.LittleEndian.Uint32(b[4:])
		c.computed = crcZeroed(b, 4)
		c.sumOK = c.stored == c.computed
		c.countOK = binary.LittleEndian.Uint32(b[8:]) <= maxRegionEntries
		im.checksums = append(im.checksums, mkSum(fmt.Sprintf("region table %d", i+1), off, c.stored, c.computed))
	}
	t1, t2 := im.tables[0], im.tables[1]
	switch {
	case t1.valid():
		im.tblUsed = 0
	case t2.valid():
		im.tblUsed = 1
	default:
		return formatErr("%s: no valid region table: %s; %s", im.name, im.tableDamage(0), im.tableDamage(1))
	}
	for i, c := range im.tables {
		if !c.valid() {
			var err error = formatErr("%s: %s: region table %d is used", im.name, im.tableDamage(i), im.tblUsed+1)
			if c.raw != nil && c.sigOK && c.countOK {
				err = &ChecksumError{Structure: fmt.Sprintf("region table %d", i+1), Off: c.off, Field: "Checksum", FieldOff: c.off + 4, Stored: c.stored, Computed: c.computed}
			}
			im.problems = append(im.problems, err)
		}
	}
	if t1.valid() && t2.valid() && !bytes.Equal(t1.raw[8:], t2.raw[8:]) {
		im.problems = append(im.problems, formatErr("%s: the two region tables differ: region table 1 is used", im.name))
	}
	b := im.tables[im.tblUsed].raw
	le := binary.LittleEndian
	n := int(le.Uint32(b[8:]))
	var haveBAT, haveMeta bool
	for i := range n {
		e := b[16+32*i:]
		r := Region{GUID: guidAt(e), FileOffset: le.Uint64(e[16:]), Length: le.Uint32(e[24:]), Required: le.Uint32(e[28:])&1 != 0}
		im.regions = append(im.regions, r)
		where := fmt.Sprintf("%s: region table %d entry %d (%s)", im.name, im.tblUsed+1, i, r.GUID)
		switch r.GUID {
		case RegionBAT, RegionMetadata:
			if (r.GUID == RegionBAT && haveBAT) || (r.GUID == RegionMetadata && haveMeta) {
				return formatErr("%s: a second %s region", where, r.Name())
			}
			if r.FileOffset < headerSectionSize || r.FileOffset > uint64(im.effSize) || uint64(r.Length) > uint64(im.effSize)-r.FileOffset || r.Length == 0 {
				return formatErr("%s: %s region of %d bytes at byte %d: not within the file (%d bytes) after the header section", where, r.Name(), r.Length, r.FileOffset, im.effSize)
			}
			if r.FileOffset%mib != 0 || r.Length%mib != 0 {
				im.problems = append(im.problems, formatErr("%s: %s region of %d bytes at byte %d: not a multiple of 1 MiB", where, r.Name(), r.Length, r.FileOffset))
			}
			if r.GUID == RegionBAT {
				haveBAT, im.bat = true, r
			} else {
				haveMeta, im.meta = true, r
			}
		default:
			if r.Required {
				return unsupported("%s: region %s is marked required and is not known", where, r.GUID)
			}
		}
	}
	if !haveBAT || !haveMeta {
		return formatErr("%s: region table %d has no BAT or no metadata region", im.name, im.tblUsed+1)
	}
	if overlaps(int64(im.bat.FileOffset), int64(im.bat.Length), int64(im.meta.FileOffset), int64(im.meta.Length)) {
		return formatErr("%s: the BAT region [%d, +%d) and the metadata region [%d, +%d) overlap", im.name, im.bat.FileOffset, im.bat.Length, im.meta.FileOffset, im.meta.Length)
	}
	return nil
}

func overlaps(a, an, b, bn int64) bool { return a < b+bn && b < a+an }

func (im *Image) tableDamage(i int) string {
	c := im.tables[i]
	switch {
	case c.raw == nil:
		return fmt.Sprintf("region table %d at byte %d cannot be read", i+1, c.off)
	case !c.sigOK:
		return fmt.Sprintf("region table %d at byte %d has no signature \"regi\"", i+1, c.off)
	case !c.countOK:
		return fmt.Sprintf("region table %d at byte %d has %d entries (at most %d)", i+1, c.off, binary.LittleEndian.Uint32(c.raw[8:]), maxRegionEntries)
	case !c.sumOK:
		return fmt.Sprintf("region table %d at byte %d: checksum stored %#08x, computed %#08x", i+1, c.off, c.stored, c.computed)
	}
	return fmt.Sprintf("region table %d at byte %d is sound", i+1, c.off)
}

func (im *Image) readMetadata() error {
	m := im.meta
	base := int64(m.FileOffset)
	if m.Length < metadataTableSize {
		return formatErr("%s: metadata region of %d bytes: smaller than its table", im.name, m.Length)
	}
	hdr := make([]byte, 32)
	if err := im.readFull(hdr, base); err != nil {
		return err
	}
	if !bytes.Equal(hdr[:8], metadataSig) {
		return formatErr("%s: no metadata table (signature \"metadata\") at byte %d", im.name, base)
	}
	le := binary.LittleEndian
	n := int(le.Uint16(hdr[10:]))
	if n > maxMetadataEntries {
		return formatErr("%s: metadata table at byte %d: %d entries (at most %d)", im.name, base, n, maxMetadataEntries)
	}
	raw := make([]byte, 32+32*n)
	if err := im.readFull(raw, base); err != nil {
		return err
	}
	im.metaRaw = raw
	seen := map[GUID]bool{}
	for i := range n {
		e := raw[32+32*i:]
		fl := le.Uint32(e[24:])
		me := MetadataEntry{ItemID: guidAt(e), Offset: le.Uint32(e[16:]), Length: le.Uint32(e[20:]), IsUser: fl&1 != 0, IsVirtualDisk: fl&2 != 0, IsRequired: fl&4 != 0}
		im.metaEntries = append(im.metaEntries, me)
		where := fmt.Sprintf("%s: metadata entry %d (%s)", im.name, i, me.ItemID)
		name := me.Name()
		if name == "" {
			if me.IsRequired {
				return unsupported("%s: metadata item %s is marked required and is not known", where, me.ItemID)
			}
			continue
		}
		if seen[me.ItemID] {
			return formatErr("%s: a second %s item", where, name)
		}
		seen[me.ItemID] = true
		if me.Length == 0 {
			return formatErr("%s: %s item of length 0", where, name)
		}
		if me.Offset < metadataTableSize || me.Length > maxMetadataItem || uint64(me.Offset)+uint64(me.Length) > uint64(m.Length) {
			return formatErr("%s: %s item of %d bytes at offset %d: not within the metadata region (%d bytes) after its table", where, name, me.Length, me.Offset, m.Length)
		}
		b := make([]byte, me.Length)
		if err := im.readFull(b, base+int64(me.Offset)); err != nil {
			return err
		}
		im.items = append(im.items, metaItem{entry: me, raw: b, off: base + int64(me.Offset)})
	}
	return im.decodeMetadata()
}

func (im *Image) item(id GUID) *metaItem {
	for i := range im.items {
		if im.items[i].entry.ItemID == id {
			return &im.items[i]
		}
	}
	return nil
}

func (im *Image) decodeMetadata() error {
	le := binary.LittleEndian
	need := func(id GUID, n int) ([]byte, error) {
		it := im.item(id)
		if it == nil {
			return nil, formatErr("%s: no %s metadata item", im.name, metadataNames[id])
		}
		if len(it.raw) < n {
			return nil, formatErr("%s: %s metadata item of %d bytes: %d expected", im.name, metadataNames[id], len(it.raw), n)
		}
		return it.raw, nil
	}
	fp, err := need(MetaFileParameters, 8)
	if err != nil {
		return err
	}
	bs := int64(le.Uint32(fp))
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return formatErr("%s: block size %d: not a power of two between 1 MiB and 256 MiB", im.name, bs)
	}
	im.blockSize = bs
	flags := le.Uint32(fp[4:])
	im.leave = flags&1 != 0
	im.hasParent = flags&2 != 0
	ls, err := need(MetaLogicalSectorSize, 4)
	if err != nil {
		return err
	}
	im.logicalSector = int64(le.Uint32(ls))
	if im.logicalSector != 512 && im.logicalSector != 4096 {
		return formatErr("%s: logical sector size %d: not 512 or 4096", im.name, im.logicalSector)
	}
	vs, err := need(MetaVirtualDiskSize, 8)
	if err != nil {
		return err
	}
	size := le.Uint64(vs)
	if size > maxVirtualSize {
		return formatErr("%s: virtual disk size %d: larger than 64 TiB", im.name, size)
	}
	im.size = int64(size)
	if im.size%im.logicalSector != 0 {
		im.problems = append(im.problems, formatErr("%s: virtual disk size %d: not a multiple of the logical sector size %d", im.name, im.size, im.logicalSector))
	}
	if ps, err := need(MetaPhysicalSectorSize, 4); err != nil {
		im.problems = append(im.problems, err)
	} else if im.physicalSector = int64(le.Uint32(ps)); im.physicalSector != 512 && im.physicalSector != 4096 {
		im.problems = append(im.problems, formatErr("%s: physical sector size %d: not 512 or 4096", im.name, im.physicalSector))
	}
	if id, err := need(MetaPage83Data, 16); err != nil {
		im.problems = append(im.problems, err)
	} else {
		im.diskID = guidAt(id)
	}
	if it := im.item(MetaParentLocator); it != nil {
		loc, err := decodeLocator(it.raw)
		if err != nil {
			if im.hasParent {
				return formatErr("%s: parent locator at byte %d: %v", im.name, it.off, err)
			}
			im.problems = append(im.problems, formatErr("%s: parent locator at byte %d: %v", im.name, it.off, err))
		}
		im.locator = loc
	}
	if im.hasParent {
		if im.locator == nil {
			return formatErr("%s: a differencing disk (HasParent set) without a parent locator", im.name)
		}
		if im.locator.Type != ParentLocatorTypeVHDX {
			return unsupported("%s: parent locator of type %s (this reader knows the VHDX type %s)", im.name, im.locator.Type, ParentLocatorTypeVHDX)
		}
	}
	return nil
}

// decodeLocator decodes a parent locator item: a 20-byte header, then
// 12-byte entries locating UTF-16 keys and values in the item.
func decodeLocator(b []byte) (*ParentLocator, error) {
	le := binary.LittleEndian
	if len(b) < 20 {
		return nil, fmt.Errorf("%d bytes: too short", len(b))
	}
	l := &ParentLocator{Type: guidAt(b)}
	n := int(le.Uint16(b[18:]))
	if 20+12*n > len(b) {
		return l, fmt.Errorf("%d entries do not fit in %d bytes", n, len(b))
	}
	str := func(off uint32, ln uint16) (string, bool) {
		if uint64(off)+uint64(ln) > uint64(len(b)) || ln%2 != 0 {
			return "", false
		}
		return utf16String(b[off : off+uint32(ln)]), true
	}
	for i := range n {
		e := b[20+12*i:]
		k, ok1 := str(le.Uint32(e), le.Uint16(e[8:]))
		v, ok2 := str(le.Uint32(e[4:]), le.Uint16(e[10:]))
		if !ok1 || !ok2 {
			return l, fmt.Errorf("entry %d: key or value beyond the item", i)
		}
		l.Entries = append(l.Entries, KeyValue{Key: k, Value: v})
	}
	return l, nil
}

// utf16String decodes UTF-16LE up to the first NUL.
func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func (im *Image) readBAT() error {
	bs := im.blockSize
	im.chunkRatio = sectorsPerBitmap * im.logicalSector / bs
	cr := im.chunkRatio
	im.dataBlocks = (im.size + bs - 1) / bs
	chunks := (im.dataBlocks + cr - 1) / cr
	switch {
	case im.hasParent:
		im.batEntries = chunks * (cr + 1)
	case im.dataBlocks > 0:
		im.batEntries = im.dataBlocks + (im.dataBlocks-1)/cr
	}
	if 8*im.batEntries > int64(im.bat.Length) {
		return formatErr("%s: BAT region of %d bytes at byte %d: %d entries of 8 bytes needed for a disk of %d bytes in blocks of %d", im.name, im.bat.Length, im.bat.FileOffset, im.batEntries, im.size, bs)
	}
	if im.batEntries > batLoadMax {
		im.present = -1
		return nil
	}
	raw := make([]byte, 8*im.batEntries)
	if err := im.readFull(raw, int64(im.bat.FileOffset)); err != nil {
		return err
	}
	im.batTable = make([]uint64, im.batEntries)
	var bad, partial int64
	for i := range im.batTable {
		e := binary.LittleEndian.Uint64(raw[8*i:])
		im.batTable[i] = e
		if int64(i)%(cr+1) == cr {
			continue // a sector bitmap entry
		}
		switch e & 7 {
		case PayloadFullyPresent:
			im.present++
		case PayloadPartiallyPresent:
			im.present++
			if !im.hasParent {
				partial++
			}
		case PayloadNotPresent, PayloadUndefined, PayloadZero, PayloadUnmapped:
		default:
			bad++
		}
	}
	if bad > 0 {
		im.problems = append(im.problems, formatErr("%s: %d payload BAT entries in a reserved state (4 or 5): those blocks cannot be read", im.name, bad))
	}
	if partial > 0 {
		im.problems = append(im.problems, formatErr("%s: %d payload blocks PARTIALLY_PRESENT in a disk without a parent: those blocks cannot be read", im.name, partial))
	}
	return nil
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
// being read: a damaged header or region table copy (a *ChecksumError
// when only the checksum is wrong), a log with no valid sequence, BAT
// entries in impossible states.
func (im *Image) Problems() []error { return append([]error(nil), im.problems...) }

// Header is the current header.
func (im *Image) Header() Header { return im.header }

// Regions are the entries of the region table in use.
func (im *Image) Regions() []Region { return append([]Region(nil), im.regions...) }

// MetadataEntries are the entries of the metadata table.
func (im *Image) MetadataEntries() []MetadataEntry {
	return append([]MetadataEntry(nil), im.metaEntries...)
}

// ParentLocator is the parent locator, nil if the image has none.
func (im *Image) ParentLocator() *ParentLocator { return im.locator }

// Parent is the parent of a differencing disk, nil otherwise.
func (im *Image) Parent() device.Device { return im.parent }

// ParentPath is the path the parent was opened from ("" if not opened
// with Open or not differencing).
func (im *Image) ParentPath() string { return im.parentPath }

func (im *Image) subformat() string {
	switch {
	case im.hasParent:
		return "differencing"
	case im.leave:
		return "fixed"
	}
	return "dynamic"
}

// Info describes the image and its parent chain.
func (im *Image) Info() Info {
	in := Info{
		Format:               "vhdx",
		Subformat:            im.subformat(),
		Path:                 im.name,
		FileSize:             im.fileSize,
		Creator:              printable(im.creator),
		VirtualSize:          im.size,
		BlockSize:            im.blockSize,
		LogicalSectorSize:    im.logicalSector,
		PhysicalSectorSize:   im.physicalSector,
		ChunkRatio:           im.chunkRatio,
		LeaveBlocksAllocated: im.leave,
		HasParent:            im.hasParent,
		BATEntries:           im.batEntries,
		BlocksPresent:        im.present,
		HeaderUsed:           im.cur + 1,
		FileWriteGUID:        im.header.FileWriteGUID.String(),
		DataWriteGUID:        im.header.DataWriteGUID.String(),
		RegionTableUsed:      im.tblUsed + 1,
		Checksums:            append([]Checksum(nil), im.checksums...),
		Log:                  im.log,
		ParentPath:           im.parentPath,
	}
	if !im.diskID.IsZero() {
		in.VirtualDiskID = im.diskID.String()
	}
	for i, c := range im.headers {
		in.Headers = append(in.Headers, HeaderInfo{Copy: i + 1, Offset: c.off, Valid: c.valid(), SequenceNumber: c.h.SequenceNumber})
	}
	for _, r := range im.regions {
		in.Regions = append(in.Regions, RegionInfo{Name: r.Name(), GUID: r.GUID.String(), FileOffset: r.FileOffset, Length: r.Length, Required: r.Required})
	}
	if im.locator != nil {
		in.ParentLocator = append([]KeyValue(nil), im.locator.Entries...)
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

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '.'
		}
		return r
	}, s)
}
