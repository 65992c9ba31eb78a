// Package vdi reads VirtualBox Virtual Disk Images (VDI) read-only:
// dynamic ("normal") and fixed images of header version 1.1, as the
// published VDI header description lays them out: a 64-byte text, the
// signature 0xBEDA107F, the version, then the version-1 header (size,
// type, flags, comment, offsets of the block map and of the data,
// geometry, disk size, block size, per-block extra data, block counts,
// UUIDs), all little-endian; the block map is one uint32 per block,
// 0xFFFFFFFF for a block not allocated and 0xFFFFFFFE for a zero block,
// otherwise the index of the block in the data area.
//
// Undo and differencing images are refused with the reason.
package vdi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// On-disk constants.
const (
	Signature   = 0xBEDA107F
	preHeader   = 72 // text (64), signature, version
	header1Size = 400
	headerRead  = preHeader + header1Size

	blockFree = 0xFFFFFFFF
	blockZero = 0xFFFFFFFE

	// Image types.
	TypeNormal = 1
	TypeFixed  = 2
	TypeUndo   = 3
	TypeDiff   = 4

	minBlockSize  = 512
	maxBlockSize  = 1 << 28
	maxBlockExtra = 1 << 20
	maxDiskSize   = 1 << 50
	mapLoadMax    = 1 << 22 // block map entries kept in memory
)

// ErrFormat is wrapped by every error about a malformed image.
var ErrFormat = errors.New("vdi: malformed image")

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

// Header is the decoded VDI header.
type Header struct {
	Text          string
	Signature     uint32
	Version       uint32 // major<<16 | minor
	HeaderSize    uint32
	Type          uint32
	Flags         uint32
	Comment       string
	OffBlocks     uint32
	OffData       uint32
	Cylinders     uint32
	Heads         uint32
	Sectors       uint32
	SectorSize    uint32
	DiskSize      uint64
	BlockSize     uint32
	BlockExtra    uint32
	Blocks        uint32
	BlocksAlloc   uint32
	UUID          [16]byte
	UUIDLastSnap  [16]byte
	UUIDLink      [16]byte
	UUIDParent    [16]byte
	LCHSCylinders uint32
	LCHSHeads     uint32
	LCHSSectors   uint32
	LCHSSector    uint32
}

// Info is what an image says about itself, for JSON.
type Info struct {
	Format          string   `json:"format"` // "vdi"
	Subformat       string   `json:"subformat"`
	Path            string   `json:"path,omitempty"`
	FileSize        int64    `json:"file_size"`
	Version         string   `json:"version"`
	VirtualSize     int64    `json:"virtual_size"`
	BlockSize       int64    `json:"block_size"`
	BlockExtra      int64    `json:"block_extra"`
	Blocks          int64    `json:"blocks"`
	BlocksAllocated int64    `json:"blocks_allocated"`         // as the header says
	BlocksMapped    int64    `json:"blocks_mapped"`            // counted in the block map, -1 if not loaded
	ZeroBlocks      int64    `json:"zero_blocks"`              // counted, -1 if not loaded
	Comment         string   `json:"comment,omitempty"`        // as stored (UTF-8)
	UUID            string   `json:"uuid"`                     // of the image
	ParentUUID      string   `json:"parent_uuid,omitempty"`    // UUID of link, when set
	LastSnapUUID    string   `json:"last_snap_uuid,omitempty"` // when set
	Problems        []string `json:"problems,omitempty"`
}

// Image is an opened VDI: the virtual disk it holds.
type Image struct {
	name     string
	r        io.ReaderAt
	fileSize int64
	closer   io.Closer

	h      Header
	raw    []byte
	bmap   []uint32 // nil when too large to load
	mapped int64
	zero   int64

	size      int64
	blockSize int64
	extra     int64
	problems  []error
}

// Probe reports whether r starts with a VDI header signature.
func Probe(r io.ReaderAt, size int64) bool {
	if size < preHeader {
		return false
	}
	var b [4]byte
	if _, err := r.ReadAt(b[:], 64); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(b[:]) == Signature
}

// Option configures New.
type Option func(*Image)

// WithName names the image in errors (default "vdi").
func WithName(name string) Option { return func(im *Image) { im.name = name } }

// New opens the VDI held by r (size bytes).
func New(r io.ReaderAt, size int64, opts ...Option) (*Image, error) {
	im := &Image{name: "vdi", r: r, fileSize: size}
	for _, o := range opts {
		o(im)
	}
	if err := im.open(); err != nil {
		return nil, err
	}
	return im, nil
}

// Open opens the VDI at name in fsys.
func Open(fsys afero.Fs, name string) (*Image, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("vdi: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vdi: %w", err)
	}
	im, err := New(blockdev.ConcurrentReader(f), st.Size(), WithName(name))
	if err != nil {
		f.Close()
		return nil, err
	}
	im.closer = f
	return im, nil
}

func (im *Image) readFull(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > im.fileSize {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", im.name, len(p), off, im.fileSize)
	}
	if err := blockdev.ReadFull(im.r, p, off); err != nil {
		return fmt.Errorf("vdi: %s: reading %d bytes at byte %d: %w", im.name, len(p), off, err)
	}
	return nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func (im *Image) open() error {
	if im.fileSize < headerRead {
		return formatErr("%s: %d bytes: too small for a VDI header", im.name, im.fileSize)
	}
	b := make([]byte, headerRead)
	if err := im.readFull(b, 0); err != nil {
		return err
	}
	im.raw = b
	le := binary.LittleEndian
	h := &im.h
	h.Text = cstring(b[:64])
	h.Signature = le.Uint32(b[64:])
	h.Version = le.Uint32(b[68:])
	if h.Signature != Signature {
		return formatErr("%s: signature %#08x, not %#08x", im.name, h.Signature, Signature)
	}
	if h.Version>>16 != 1 {
		return formatErr("%s: header version %d.%d not supported (1.x is)", im.name, h.Version>>16, h.Version&0xffff)
	}
	h.HeaderSize = le.Uint32(b[72:])
	h.Type = le.Uint32(b[76:])
	h.Flags = le.Uint32(b[80:])
	h.Comment = cstring(b[84:340])
	h.OffBlocks = le.Uint32(b[340:])
	h.OffData = le.Uint32(b[344:])
	h.Cylinders = le.Uint32(b[348:])
	h.Heads = le.Uint32(b[352:])
	h.Sectors = le.Uint32(b[356:])
	h.SectorSize = le.Uint32(b[360:])
	h.DiskSize = le.Uint64(b[368:])
	h.BlockSize = le.Uint32(b[376:])
	h.BlockExtra = le.Uint32(b[380:])
	h.Blocks = le.Uint32(b[384:])
	h.BlocksAlloc = le.Uint32(b[388:])
	copy(h.UUID[:], b[392:])
	copy(h.UUIDLastSnap[:], b[408:])
	copy(h.UUIDLink[:], b[424:])
	copy(h.UUIDParent[:], b[440:])
	h.LCHSCylinders = le.Uint32(b[456:])
	h.LCHSHeads = le.Uint32(b[460:])
	h.LCHSSectors = le.Uint32(b[464:])
	h.LCHSSector = le.Uint32(b[468:])

	if h.HeaderSize < header1Size-16 || h.HeaderSize > 1<<16 {
		// 0x180 (384) is version 1.1 without the LCHS geometry.
		return formatErr("%s: header size %d not supported", im.name, h.HeaderSize)
	}
	switch h.Type {
	case TypeNormal, TypeFixed:
	case TypeUndo, TypeDiff:
		return formatErr("%s: %s image (its blocks not allocated are in its parent %s): not supported", im.name, typeName(h.Type), uuidString(h.UUIDLink))
	default:
		return formatErr("%s: image type %d not known", im.name, h.Type)
	}
	if h.DiskSize > maxDiskSize {
		return formatErr("%s: disk size %d too large", im.name, h.DiskSize)
	}
	bs := int64(h.BlockSize)
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return formatErr("%s: block size %d: not a power of two between %d and %d", im.name, bs, minBlockSize, maxBlockSize)
	}
	if h.BlockExtra > maxBlockExtra {
		return formatErr("%s: block extra data %d not supported", im.name, h.BlockExtra)
	}
	im.size = int64(h.DiskSize)
	im.blockSize = bs
	im.extra = int64(h.BlockExtra)
	need := (im.size + bs - 1) / bs
	if int64(h.Blocks) < need {
		return formatErr("%s: %d blocks of %d bytes cover %d bytes, less than the disk's %d", im.name, h.Blocks, bs, int64(h.Blocks)*bs, im.size)
	}
	if int64(h.OffBlocks)+4*int64(h.Blocks) > im.fileSize {
		return formatErr("%s: block map of %d entries at byte %d beyond the end of the file (%d bytes)", im.name, h.Blocks, h.OffBlocks, im.fileSize)
	}
	if int64(h.OffData) > im.fileSize {
		return formatErr("%s: data at byte %d beyond the end of the file (%d bytes)", im.name, h.OffData, im.fileSize)
	}
	if h.SectorSize != 512 && h.SectorSize != 0 {
		im.problems = append(im.problems, fmt.Errorf("vdi: %s: sector size %d (512 expected)", im.name, h.SectorSize))
	}
	if int64(h.Blocks) <= mapLoadMax {
		raw := make([]byte, 4*int64(h.Blocks))
		if err := im.readFull(raw, int64(h.OffBlocks)); err != nil {
			return err
		}
		im.bmap = make([]uint32, h.Blocks)
		for i := range im.bmap {
			e := le.Uint32(raw[4*i:])
			im.bmap[i] = e
			switch e {
			case blockFree:
			case blockZero:
				im.zero++
			default:
				im.mapped++
				if e >= h.BlocksAlloc {
					im.problems = append(im.problems, fmt.Errorf("vdi: %s: block %d maps to data block %d, beyond the %d allocated", im.name, i, e, h.BlocksAlloc))
				}
			}
		}
		if im.mapped != int64(h.BlocksAlloc) {
			im.problems = append(im.problems, fmt.Errorf("vdi: %s: header says %d blocks allocated, the block map has %d", im.name, h.BlocksAlloc, im.mapped))
		}
		if len(im.problems) > 16 {
			im.problems = append(im.problems[:16], fmt.Errorf("vdi: %s: more problems not listed", im.name))
		}
	} else {
		im.mapped, im.zero = -1, -1
	}
	return nil
}

func typeName(t uint32) string {
	switch t {
	case TypeNormal:
		return "dynamic"
	case TypeFixed:
		return "fixed"
	case TypeUndo:
		return "undo"
	case TypeDiff:
		return "differencing"
	}
	return fmt.Sprintf("type %d", t)
}

// uuidString formats a VDI UUID (stored as RTCUUID: the first three
// groups little-endian).
func uuidString(u [16]byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(u[0:]), binary.LittleEndian.Uint16(u[4:]), binary.LittleEndian.Uint16(u[6:]), u[8:10], u[10:16])
}

func (im *Image) entry(b int64) (uint32, error) {
	if im.bmap != nil {
		return im.bmap[b], nil
	}
	var buf [4]byte
	if err := im.readFull(buf[:], int64(im.h.OffBlocks)+4*b); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(buf[:]), nil
}

// Size is the virtual disk's size in bytes.
func (im *Image) Size() int64 { return im.size }

// ConcurrentReads is true.
func (im *Image) ConcurrentReads() bool { return true }

// Close closes the file Open opened.
func (im *Image) Close() error {
	if im.closer == nil {
		return nil
	}
	c := im.closer
	im.closer = nil
	return c.Close()
}

// Header is the decoded header.
func (im *Image) Header() Header { return im.h }

// Problems lists what is inconsistent in the image without stopping it
// from being read.
func (im *Image) Problems() []error { return append([]error(nil), im.problems...) }

// Info describes the image.
func (im *Image) Info() Info {
	h := &im.h
	in := Info{
		Format:          "vdi",
		Subformat:       typeName(h.Type),
		Path:            im.name,
		FileSize:        im.fileSize,
		Version:         fmt.Sprintf("%d.%d", h.Version>>16, h.Version&0xffff),
		VirtualSize:     im.size,
		BlockSize:       im.blockSize,
		BlockExtra:      im.extra,
		Blocks:          int64(h.Blocks),
		BlocksAllocated: int64(h.BlocksAlloc),
		BlocksMapped:    im.mapped,
		ZeroBlocks:      im.zero,
		Comment:         h.Comment,
		UUID:            uuidString(h.UUID),
	}
	if h.UUIDLink != ([16]byte{}) {
		in.ParentUUID = uuidString(h.UUIDLink)
	}
	if h.UUIDLastSnap != ([16]byte{}) {
		in.LastSnapUUID = uuidString(h.UUIDLastSnap)
	}
	for _, p := range im.problems {
		in.Problems = append(in.Problems, p.Error())
	}
	return in
}

// pieces resolves [off, off+n) (within Size) into consecutive pieces,
// one a block at most.
func (im *Image) pieces(off, n int64, fn func(blockdev.Piece) error) error {
	bs := im.blockSize
	for n > 0 {
		b := off / bs
		in := off % bs
		l := min(bs-in, n)
		p := blockdev.Piece{Off: off, N: l}
		e, err := im.entry(b)
		switch {
		case err != nil:
			p.Kind, p.Why = blockdev.Bad, fmt.Sprintf("block map entry %d: %v", b, err)
		case e == blockFree || e == blockZero:
			p.Kind = blockdev.Zero
		default:
			start := int64(im.h.OffData) + int64(e)*(bs+im.extra) + im.extra
			used := min(bs, im.size-b*bs)
			if start+used > im.fileSize {
				p.Kind, p.Why = blockdev.Bad, fmt.Sprintf("block %d (data block %d at byte %d) lies beyond the end of the file (%d bytes)", b, e, start, im.fileSize)
			} else {
				p.Kind, p.FileOff = blockdev.InFile, start+in
			}
		}
		if err := fn(p); err != nil {
			return err
		}
		off += l
		n -= l
	}
	return nil
}

// ReadAt reads the virtual disk.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("vdi: "+im.name, p, off, im.size, func(p []byte) (int, error) {
		return blockdev.ReadPieces(p, off, im.name, im.r, im.pieces, nil)
	})
}

// Map describes [off, off+length) as data, holes (blocks not allocated
// and zero blocks) and unreadable ranges.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	return blockdev.MapDisk("vdi: "+im.name, off, length, im.size, im.pieces, nil)
}

// mapFieldsMax is the number of block map entries shown as fields.
const mapFieldsMax = 1024

// Fields returns the header and the first entries of the block map with
// every field's absolute byte range and decoded value.
func (im *Image) Fields() []model.Structure {
	b := im.raw
	le := binary.LittleEndian
	hlen := min(preHeader+int(im.h.HeaderSize), len(b))
	st := model.Structure{Name: "VDI header", Off: 0, Len: hlen}
	add := func(name string, off, n int, v string) {
		if off+n <= hlen {
			st.Fields = append(st.Fields, model.Field{Name: name, Off: int64(off), Len: n, Value: v})
		}
	}
	u32 := func(name string, off int) { add(name, off, 4, fmt.Sprint(le.Uint32(b[off:]))) }
	uuid := func(name string, off int) {
		var u [16]byte
		copy(u[:], b[off:])
		add(name, off, 16, uuidString(u))
	}
	add("Text", 0, 64, fmt.Sprintf("%q", im.h.Text))
	add("Signature", 64, 4, fmt.Sprintf("%#08x", im.h.Signature))
	add("Version", 68, 4, fmt.Sprintf("%d.%d", im.h.Version>>16, im.h.Version&0xffff))
	u32("Header Size", 72)
	add("Image Type", 76, 4, fmt.Sprintf("%d (%s)", im.h.Type, typeName(im.h.Type)))
	add("Image Flags", 80, 4, fmt.Sprintf("%#08x", im.h.Flags))
	add("Comment", 84, 256, fmt.Sprintf("%q", im.h.Comment))
	u32("Offset of Block Map", 340)
	u32("Offset of Data", 344)
	u32("Geometry: Cylinders", 348)
	u32("Geometry: Heads", 352)
	u32("Geometry: Sectors", 356)
	u32("Geometry: Sector Size", 360)
	u32("Unused", 364)
	add("Disk Size", 368, 8, fmt.Sprint(im.h.DiskSize))
	u32("Block Size", 376)
	u32("Block Extra Data", 380)
	u32("Blocks in Image", 384)
	u32("Blocks Allocated", 388)
	uuid("UUID of Image", 392)
	uuid("UUID of Last Snapshot", 408)
	uuid("UUID of Link", 424)
	uuid("UUID of Parent", 440)
	u32("LCHS Geometry: Cylinders", 456)
	u32("LCHS Geometry: Heads", 460)
	u32("LCHS Geometry: Sectors", 464)
	u32("LCHS Geometry: Sector Size", 468)

	base := int64(im.h.OffBlocks)
	bm := model.Structure{Name: "VDI block map", Off: base, Len: int(4 * int64(im.h.Blocks))}
	for i := int64(0); i < int64(im.h.Blocks) && i < mapFieldsMax; i++ {
		e, err := im.entry(i)
		v := fmt.Sprintf("data block %d", e)
		switch {
		case err != nil:
			v = err.Error()
		case e == blockFree:
			v = "0xffffffff (not allocated)"
		case e == blockZero:
			v = "0xfffffffe (zero block)"
		}
		bm.Fields = append(bm.Fields, model.Field{Name: fmt.Sprintf("Block %d", i), Off: base + 4*i, Len: 4, Value: v})
	}
	return []model.Structure{st, bm}
}
