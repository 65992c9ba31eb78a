// Package qcow2 reads QEMU copy-on-write images (qcow2, versions 2 and 3)
// read-only, through github.com/lima-vm/go-qcow2reader for the cluster
// lookups (L1 and L2 tables), the reads and the decompression of
// compressed clusters (deflate, and zstd through
// github.com/klauspost/compress).
//
// The header is decoded and checked here first, from QEMU's published
// description of the format (docs/interop/qcow2.txt), so that the
// library never sees a header that would make it allocate from an
// unchecked size: the version, cluster_bits (9 to 21), the virtual size,
// the L1 table (its size bounded, enough entries for the virtual size,
// inside the file), the header length and the header extensions.
// Encrypted images (AES or LUKS), images whose data is in an external
// data file, qcow version 1 and unknown incompatible feature bits are
// refused with the reason; the dirty and corrupt bits are reported in
// Problems and the image is read as its tables say.
//
// The library would open a backing file by itself, through the operating
// system, by the path the image records; it is kept from doing so (it
// sees the header without its backing file fields) and the backing file
// is opened here instead, read-only through the afero filesystem Open is
// given, as QEMU resolves it (relative to the image's directory when the
// name is relative), as a qcow2 image or a raw file. The clusters the
// image does not hold are read from that backing device.
//
// The virtual disk is a device.Device and a device.Mapper: clusters not
// allocated are holes (or what the backing file says of them), zero
// clusters are holes, clusters stored in the image (plain or compressed)
// are data. A range that cannot be read fails with an error wrapping
// *device.UnreadableError, never with zeros.
package qcow2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	lqcow2 "github.com/lima-vm/go-qcow2reader/image/qcow2"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// On-disk constants.
const (
	Magic = "QFI\xfb"

	v2HeaderSize = 72
	v3HeaderSize = 104

	minClusterBits = 9
	maxClusterBits = 21 // QEMU's limit: 2 MiB clusters
	// maxL1Entries is QEMU's limit on the active L1 table (32 MiB).
	maxL1Entries = 1 << 22
	// maxVirtualSize bounds the virtual size (61 bits: what 2 MiB
	// clusters and the largest L1 table address).
	maxVirtualSize = 1 << 61
	maxBackingName = 1023
	maxExtensions  = 1024
	// Snapshot table: at most this many entries decoded, reading at most
	// snapReadMax bytes of it.
	snapListMax = 1024
	snapReadMax = 4 << 20
	// maxChain bounds the depth of a backing chain.
	maxChain = 16

	// Incompatible feature bits.
	IncompatDirty      = 0
	IncompatCorrupt    = 1
	IncompatDataFile   = 2
	IncompatCompress   = 3
	IncompatExtendedL2 = 4
	// Compatible feature bits.
	CompatLazyRefcounts = 0
	// Autoclear feature bits.
	AutoclearBitmaps = 0
	AutoclearRawData = 1

	// Crypt methods.
	CryptNone = 0
	CryptAES  = 1
	CryptLUKS = 2

	// Compression types.
	CompressionZlib = 0
	CompressionZstd = 1

	// Header extension types.
	ExtEnd            = 0x00000000
	ExtBackingFormat  = 0xe2792aca
	ExtFeatureNames   = 0x6803f857
	ExtBitmaps        = 0x23852875
	ExtEncryption     = 0x0537be77
	ExtDataFile       = 0x44415441
	featureNameLength = 48
)

var (
	// ErrFormat is wrapped by every error about a malformed image.
	ErrFormat = errors.New("qcow2: malformed image")
	// ErrUnsupported is wrapped by the errors about an image that uses a
	// feature this reader does not read (encryption, an external data
	// file, qcow version 1, unknown incompatible features).
	ErrUnsupported = errors.New("qcow2: not supported")
	// ErrEncrypted is wrapped by the error about an encrypted image; it
	// wraps ErrUnsupported.
	ErrEncrypted = fmt.Errorf("%w: encrypted image", ErrUnsupported)
)

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, a...))
}

// BackingError is an image whose backing file cannot be used.
type BackingError struct {
	Image string   // the image that names the backing file
	Name  string   // the backing file's name as the image records it
	Tried []string // the paths tried, in order
	Why   string
	Err   error // the error opening it, if it was found
}

// Unwrap is the error opening the backing file.
func (e *BackingError) Unwrap() error { return e.Err }

func (e *BackingError) Error() string {
	s := fmt.Sprintf("qcow2: %s: backing file %q: %s", e.Image, e.Name, e.Why)
	if len(e.Tried) > 0 && (len(e.Tried) > 1 || e.Tried[0] != e.Name) {
		s += fmt.Sprintf(" (tried %q)", e.Tried)
	}
	return s
}

// Header is the decoded qcow2 header (the version 3 fields are zero in a
// version 2 header).
type Header struct {
	Magic                 [4]byte
	Version               uint32
	BackingFileOffset     uint64
	BackingFileSize       uint32
	ClusterBits           uint32
	Size                  uint64
	CryptMethod           uint32
	L1Size                uint32
	L1TableOffset         uint64
	RefcountTableOffset   uint64
	RefcountTableClusters uint32
	NbSnapshots           uint32
	SnapshotsOffset       uint64
	// Version 3.
	IncompatibleFeatures uint64
	CompatibleFeatures   uint64
	AutoclearFeatures    uint64
	RefcountOrder        uint32
	HeaderLength         uint32 // 72 for version 2
	CompressionType      uint8  // byte 104, when HeaderLength > 104
}

// Extension is one header extension.
type Extension struct {
	Type   uint32
	Off    int64 // byte offset of its type field
	Length uint32
	Data   []byte
}

type featKey struct{ kind, bit uint8 }

// Image is an opened qcow2 image: the virtual disk it holds.
type Image struct {
	name     string
	r        io.ReaderAt
	fileSize int64
	closers  []io.Closer

	h        Header
	raw      []byte // the header, [0, HeaderLength)
	exts     []Extension
	featName map[featKey]string

	backingName   string // as recorded ("" for none)
	backingFormat string // as recorded in the header extension
	backingUsed   string // the format the backing file was opened as
	backingProbed bool
	backingPath   string
	dataFile      string
	snapshots     []Snapshot
	problems      []error

	size        int64
	clusterSize int64
	l2Entries   int64
	l1          []uint64      // the active L1 table
	lib         *lqcow2.Qcow2 // nil for an empty disk
	backing     device.Device
	// compressed is set once a compressed cluster was seen: reads of
	// several clusters are then made by several goroutines.
	compressed atomic.Bool
}

// Probe reports whether r starts with the qcow magic ("QFI\xfb"; qcow
// version 1 has it too, and Open refuses it with the reason).
func Probe(r io.ReaderAt, size int64) bool {
	if size < v2HeaderSize {
		return false
	}
	var b [4]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return false
	}
	return string(b[:]) == Magic
}

// Option configures New.
type Option func(*options)

type options struct {
	name    string
	backing device.Device
}

// WithName names the image in errors (default "qcow2").
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithBacking gives an image with a backing file its backing device (the
// virtual disk the backing file holds); Open finds and opens it itself.
func WithBacking(d device.Device) Option { return func(o *options) { o.backing = d } }

// New opens the qcow2 image held by r (size bytes). An image with a
// backing file needs WithBacking.
func New(r io.ReaderAt, size int64, opts ...Option) (*Image, error) {
	o := options{name: "qcow2"}
	for _, f := range opts {
		f(&o)
	}
	im := &Image{name: o.name, r: r, fileSize: size}
	if err := im.parse(); err != nil {
		return nil, err
	}
	if im.backingName != "" {
		if o.backing == nil {
			return nil, &BackingError{Image: im.name, Name: im.backingName, Why: "an image with a backing file needs it (open it with Open, or give it WithBacking)"}
		}
		im.backing = o.backing
	}
	if err := im.openLib(); err != nil {
		return nil, err
	}
	return im, nil
}

func (im *Image) readFull(p []byte, off int64) error {
	if off < 0 || off > im.fileSize || int64(len(p)) > im.fileSize-off {
		return formatErr("%s: %d bytes at byte %d lie beyond the end of the file (%d bytes)", im.name, len(p), off, im.fileSize)
	}
	if err := blockdev.ReadFull(im.r, p, off); err != nil {
		return fmt.Errorf("qcow2: %s: reading %d bytes at byte %d: %w", im.name, len(p), off, err)
	}
	return nil
}

func (im *Image) problem(format string, a ...any) {
	im.problems = append(im.problems, fmt.Errorf("qcow2: %s: %s", im.name, fmt.Sprintf(format, a...)))
}

// parse decodes and checks the header, its extensions, the backing file
// name and the snapshot table.
func (im *Image) parse() error {
	if im.fileSize < v2HeaderSize {
		return formatErr("%s: %d bytes: too small for a qcow2 header", im.name, im.fileSize)
	}
	b := make([]byte, v2HeaderSize)
	if err := im.readFull(b, 0); err != nil {
		return err
	}
	be := binary.BigEndian
	h := &im.h
	copy(h.Magic[:], b)
	h.Version = be.Uint32(b[4:])
	if string(h.Magic[:]) != Magic {
		return formatErr("%s: magic %q, not %q", im.name, h.Magic[:], Magic)
	}
	switch h.Version {
	case 2, 3:
	case 1:
		return unsupported("%s: qcow version 1 image (go-qcow2reader reads qcow2, versions 2 and 3)", im.name)
	default:
		return unsupported("%s: qcow2 version %d not known (2 and 3 are)", im.name, h.Version)
	}
	h.BackingFileOffset = be.Uint64(b[8:])
	h.BackingFileSize = be.Uint32(b[16:])
	h.ClusterBits = be.Uint32(b[20:])
	h.Size = be.Uint64(b[24:])
	h.CryptMethod = be.Uint32(b[32:])
	h.L1Size = be.Uint32(b[36:])
	h.L1TableOffset = be.Uint64(b[40:])
	h.RefcountTableOffset = be.Uint64(b[48:])
	h.RefcountTableClusters = be.Uint32(b[56:])
	h.NbSnapshots = be.Uint32(b[60:])
	h.SnapshotsOffset = be.Uint64(b[64:])
	h.HeaderLength = v2HeaderSize
	h.RefcountOrder = 4

	if h.ClusterBits < minClusterBits || h.ClusterBits > maxClusterBits {
		return formatErr("%s: cluster_bits %d: not between %d and %d", im.name, h.ClusterBits, minClusterBits, maxClusterBits)
	}
	cs := int64(1) << h.ClusterBits
	im.clusterSize = cs

	if h.Version >= 3 {
		if im.fileSize < v3HeaderSize {
			return formatErr("%s: %d bytes: too small for a version 3 header", im.name, im.fileSize)
		}
		b = make([]byte, v3HeaderSize)
		if err := im.readFull(b, 0); err != nil {
			return err
		}
		h.IncompatibleFeatures = be.Uint64(b[72:])
		h.CompatibleFeatures = be.Uint64(b[80:])
		h.AutoclearFeatures = be.Uint64(b[88:])
		h.RefcountOrder = be.Uint32(b[96:])
		h.HeaderLength = be.Uint32(b[100:])
		hl := int64(h.HeaderLength)
		if hl < v3HeaderSize || hl%8 != 0 || hl > cs {
			return formatErr("%s: header_length %d: not a multiple of 8 between %d and the cluster size %d", im.name, hl, v3HeaderSize, cs)
		}
		if hl > im.fileSize {
			return formatErr("%s: header of %d bytes in a file of %d bytes", im.name, hl, im.fileSize)
		}
		if hl > v3HeaderSize {
			b = make([]byte, hl)
			if err := im.readFull(b, 0); err != nil {
				return err
			}
			h.CompressionType = b[104]
		}
	}
	im.raw = b
	im.parseExtensions()

	switch h.CryptMethod {
	case CryptNone:
	case CryptAES:
		return fmt.Errorf("%w: %s: encrypted with AES (crypt_method 1): its clusters cannot be read without the key, and go-qcow2reader does not decrypt", ErrEncrypted, im.name)
	case CryptLUKS:
		return fmt.Errorf("%w: %s: encrypted with LUKS (crypt_method 2): its clusters cannot be read without the key, and go-qcow2reader does not decrypt", ErrEncrypted, im.name)
	default:
		return fmt.Errorf("%w: %s: crypt_method %d not known (1 AES, 2 LUKS)", ErrEncrypted, im.name, h.CryptMethod)
	}
	if err := im.checkFeatures(); err != nil {
		return err
	}
	if h.Size > maxVirtualSize {
		return formatErr("%s: virtual size %d too large (more than 2^61 bytes)", im.name, h.Size)
	}
	im.size = int64(h.Size)
	im.l2Entries = cs / 8
	if im.extendedL2() {
		im.l2Entries = cs / 16
	}
	if err := im.checkL1(); err != nil {
		return err
	}
	if h.RefcountOrder > 6 {
		im.problem("refcount_order %d: more than 6 (64-bit refcounts); refcounts are not used for reading", h.RefcountOrder)
	}
	if err := im.readBackingName(); err != nil {
		return err
	}
	if im.backingName != "" && im.extendedL2() {
		return unsupported("%s: extended L2 entries with a backing file %q: go-qcow2reader reads subclusters not allocated in the image as zeros, not from the backing file", im.name, im.backingName)
	}
	im.readSnapshots()
	return nil
}

func (im *Image) extendedL2() bool { return im.h.IncompatibleFeatures&(1<<IncompatExtendedL2) != 0 }

// parseExtensions decodes the header extensions, from the end of the
// header to the end marker or the end of the first cluster.
func (im *Image) parseExtensions() {
	be := binary.BigEndian
	off := int64(im.h.HeaderLength)
	end := min(im.clusterSize, im.fileSize)
	im.featName = map[featKey]string{}
	for n := 0; ; n++ {
		if off+8 > end {
			if off < end {
				im.problem("header extensions: %d bytes left at byte %d, too few for an extension header and no end marker", end-off, off)
			}
			return
		}
		if n >= maxExtensions {
			im.problem("header extensions: more than %d", maxExtensions)
			return
		}
		var hb [8]byte
		if err := im.readFull(hb[:], off); err != nil {
			im.problem("header extension at byte %d: %v", off, err)
			return
		}
		e := Extension{Type: be.Uint32(hb[:]), Off: off, Length: be.Uint32(hb[4:])}
		if e.Type == ExtEnd {
			im.exts = append(im.exts, e)
			return
		}
		if int64(e.Length) > end-off-8 {
			im.problem("header extension %#08x at byte %d: %d bytes of data run past the first cluster", e.Type, off, e.Length)
			return
		}
		e.Data = make([]byte, e.Length)
		if err := im.readFull(e.Data, off+8); err != nil {
			im.problem("header extension %#08x at byte %d: %v", e.Type, off, err)
			return
		}
		im.exts = append(im.exts, e)
		switch e.Type {
		case ExtBackingFormat:
			im.backingFormat = string(e.Data)
		case ExtDataFile:
			im.dataFile = string(e.Data)
		case ExtFeatureNames:
			for i := 0; i+featureNameLength <= len(e.Data); i += featureNameLength {
				im.featName[featKey{e.Data[i], e.Data[i+1]}] = cstring(e.Data[i+2 : i+featureNameLength])
			}
		}
		off += 8 + (int64(e.Length)+7)/8*8
	}
}

func cstring(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (im *Image) checkFeatures() error {
	h := &im.h
	f := h.IncompatibleFeatures
	if f&(1<<IncompatDirty) != 0 {
		im.problem("dirty bit set: the image was not closed cleanly (its refcounts may be out of date; the data is read as the L1 and L2 tables say)")
	}
	if f&(1<<IncompatCorrupt) != 0 {
		im.problem("corrupt bit set: QEMU found an inconsistency in the image's metadata; what is read may be wrong")
	}
	if f&(1<<IncompatDataFile) != 0 {
		name := im.dataFile
		if name == "" {
			name = "(no data-file extension)"
		}
		return unsupported("%s: the guest data is in an external data file %q: go-qcow2reader does not read external data files", im.name, name)
	}
	if unknown := f &^ (1<<IncompatDirty | 1<<IncompatCorrupt | 1<<IncompatDataFile | 1<<IncompatCompress | 1<<IncompatExtendedL2); unknown != 0 {
		return unsupported("%s: incompatible features %s not known", im.name, strings.Join(im.featureNames(0, unknown), ", "))
	}
	if im.extendedL2() && h.ClusterBits < 14 {
		return formatErr("%s: extended L2 entries with %d-byte clusters (16384 at least)", im.name, im.clusterSize)
	}
	switch {
	case h.CompressionType > CompressionZstd:
		return unsupported("%s: compression type %d not known (0 zlib, 1 zstd)", im.name, h.CompressionType)
	case h.CompressionType != CompressionZlib && f&(1<<IncompatCompress) == 0:
		return formatErr("%s: compression type %d without the compression type incompatible feature bit", im.name, h.CompressionType)
	case h.CompressionType == CompressionZlib && f&(1<<IncompatCompress) != 0:
		im.problem("compression type incompatible feature bit set with compression type 0 (zlib)")
	}
	return nil
}

// checkL1 checks the active L1 table's size and place before the library
// allocates it.
func (im *Image) checkL1() error {
	h := &im.h
	if im.size == 0 {
		return nil
	}
	clusters := (uint64(im.size) + uint64(im.clusterSize) - 1) / uint64(im.clusterSize)
	need := (clusters + uint64(im.l2Entries) - 1) / uint64(im.l2Entries)
	if h.L1Size > maxL1Entries {
		return formatErr("%s: L1 table of %d entries: more than %d (32 MiB)", im.name, h.L1Size, maxL1Entries)
	}
	if uint64(h.L1Size) < need {
		return formatErr("%s: L1 table of %d entries covers %d bytes, less than the virtual size %d", im.name, h.L1Size, uint64(h.L1Size)*uint64(im.l2Entries)*uint64(im.clusterSize), im.size)
	}
	if h.L1TableOffset == 0 {
		return formatErr("%s: L1 table at byte 0", im.name)
	}
	if h.L1TableOffset > uint64(im.fileSize) || 8*int64(h.L1Size) > im.fileSize-int64(h.L1TableOffset) {
		return formatErr("%s: L1 table of %d entries at byte %d lies beyond the end of the file (%d bytes): truncated?", im.name, h.L1Size, h.L1TableOffset, im.fileSize)
	}
	if h.L1TableOffset%uint64(im.clusterSize) != 0 {
		im.problem("L1 table at byte %d: not aligned to a cluster", h.L1TableOffset)
	}
	b := make([]byte, 8*int64(h.L1Size))
	if err := im.readFull(b, int64(h.L1TableOffset)); err != nil {
		return err
	}
	im.l1 = make([]uint64, h.L1Size)
	for i := range im.l1 {
		im.l1[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return nil
}

// l2OffsetMask selects the offset of an L2 table in an L1 entry.
const l2OffsetMask = 0x00fffffffffffe00

func (im *Image) readBackingName() error {
	h := &im.h
	if h.BackingFileOffset == 0 {
		return nil
	}
	if h.BackingFileSize > maxBackingName {
		return formatErr("%s: backing file name of %d bytes (%d at most)", im.name, h.BackingFileSize, maxBackingName)
	}
	b := make([]byte, h.BackingFileSize)
	if h.BackingFileOffset > uint64(im.fileSize) {
		return formatErr("%s: backing file name at byte %d lies beyond the end of the file (%d bytes)", im.name, h.BackingFileOffset, im.fileSize)
	}
	if err := im.readFull(b, int64(h.BackingFileOffset)); err != nil {
		return err
	}
	im.backingName = string(b)
	if im.backingName == "" {
		im.problem("backing file offset %d with an empty name: no backing file", h.BackingFileOffset)
	}
	return nil
}

// Size is the virtual disk's size in bytes.
func (im *Image) Size() int64 { return im.size }

// ConcurrentReads is true: go-qcow2reader's reads share only its L2 table
// cache, which is locked; the file is read with ReadAt (Open reads an
// *os.File with pread, another file behind a lock).
func (im *Image) ConcurrentReads() bool { return true }

// Close closes the files Open opened (the image and its backing chain).
func (im *Image) Close() error {
	err := blockdev.CloseAll(im.closers)
	im.closers = nil
	return err
}

// Header is the decoded header.
func (im *Image) Header() Header { return im.h }

// Extensions lists the header extensions, in order, the end marker last
// when there is one.
func (im *Image) Extensions() []Extension { return append([]Extension(nil), im.exts...) }

// Backing is the backing device, nil for an image without a backing file.
func (im *Image) Backing() device.Device { return im.backing }

// Problems lists what is wrong with the image that did not stop it from
// being read: the dirty and corrupt bits, malformed header extensions or
// snapshot table, a backing file found by another path than the one
// recorded or whose format was probed.
func (im *Image) Problems() []error {
	out := append([]error(nil), im.problems...)
	if b, ok := im.backing.(*Image); ok {
		out = append(out, b.Problems()...)
	}
	return out
}
