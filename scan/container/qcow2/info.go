package qcow2

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/lvminspect/lvminspect/model"
)

// Snapshot is one entry of the internal snapshot table.
type Snapshot struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Date          time.Time `json:"date"`
	VMClockNs     uint64    `json:"vm_clock_ns"`
	VMStateSize   uint64    `json:"vm_state_size"`
	DiskSize      int64     `json:"disk_size,omitempty"` // from the extra data, 0 if it has none
	L1Size        uint32    `json:"l1_size"`
	L1TableOffset uint64    `json:"l1_table_offset"`
	Offset        int64     `json:"offset"` // of the entry in the file
	Length        int       `json:"length"` // of the entry, padding included

	extra uint32
	idLen uint16
	nmLen uint16
}

// Info is what an image says about itself, for JSON.
type Info struct {
	Format               string     `json:"format"` // "qcow2"
	Path                 string     `json:"path,omitempty"`
	FileSize             int64      `json:"file_size"`
	Version              uint32     `json:"version"`
	VirtualSize          int64      `json:"virtual_size"`
	ClusterSize          int64      `json:"cluster_size"`
	Compression          string     `json:"compression"` // "zlib" or "zstd": the type of compressed clusters
	BackingFile          string     `json:"backing_file,omitempty"`
	BackingFormat        string     `json:"backing_format,omitempty"` // as recorded, or as probed
	BackingFormatProbed  bool       `json:"backing_format_probed,omitempty"`
	BackingPath          string     `json:"backing_path,omitempty"` // where it was opened from
	Backing              *Info      `json:"backing,omitempty"`
	Encrypted            bool       `json:"encrypted"`
	DataFile             string     `json:"data_file,omitempty"`
	IncompatibleFeatures []string   `json:"incompatible_features,omitempty"`
	CompatibleFeatures   []string   `json:"compatible_features,omitempty"`
	AutoclearFeatures    []string   `json:"autoclear_features,omitempty"`
	RefcountBits         int        `json:"refcount_bits"`
	L1Size               uint32     `json:"l1_size"`
	HeaderExtensions     []string   `json:"header_extensions,omitempty"`
	Snapshots            int        `json:"snapshots"`
	SnapshotList         []Snapshot `json:"snapshot_list,omitempty"`
	Files                []string   `json:"files,omitempty"` // the image's file and its backing chain's, in order
	Problems             []string   `json:"problems,omitempty"`
}

var (
	incompatNames  = []string{"dirty bit", "corrupt bit", "external data file", "compression type", "extended L2 entries"}
	compatNames    = []string{"lazy refcounts"}
	autoclearNames = []string{"bitmaps", "raw external data"}
)

// featureNames names the bits set in f, of kind 0 (incompatible), 1
// (compatible) or 2 (autoclear): the image's feature name table first,
// the specification's names, else "bit N".
func (im *Image) featureNames(kind uint8, f uint64) []string {
	known := [][]string{incompatNames, compatNames, autoclearNames}[kind]
	var out []string
	for bit := range 64 {
		if f&(1<<bit) == 0 {
			continue
		}
		name := im.featName[featKey{kind, uint8(bit)}]
		if name == "" && bit < len(known) {
			name = known[bit]
		}
		if name == "" {
			name = fmt.Sprintf("bit %d", bit)
		}
		out = append(out, name)
	}
	return out
}

func extName(t uint32) string {
	switch t {
	case ExtEnd:
		return "end of header extensions"
	case ExtBackingFormat:
		return "backing file format name"
	case ExtFeatureNames:
		return "feature name table"
	case ExtBitmaps:
		return "bitmaps"
	case ExtEncryption:
		return "full disk encryption header pointer"
	case ExtDataFile:
		return "external data file name"
	}
	return fmt.Sprintf("unknown %#08x", t)
}

// refcountBits is the width of a refcount, 0 for an order above 6.
func refcountBits(order uint32) int {
	if order > 6 {
		return 0
	}
	return 1 << order
}

func compressionName(t uint8) string {
	switch t {
	case CompressionZlib:
		return "zlib"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("type %d", t)
}

// readSnapshots decodes the snapshot table, its first snapListMax
// entries, reading at most snapReadMax bytes; what cannot be decoded is
// a problem.
func (im *Image) readSnapshots() {
	h := &im.h
	if h.NbSnapshots == 0 {
		return
	}
	be := binary.BigEndian
	off := int64(h.SnapshotsOffset)
	if h.SnapshotsOffset > uint64(im.fileSize) {
		im.problem("snapshot table at byte %d lies beyond the end of the file (%d bytes)", h.SnapshotsOffset, im.fileSize)
		return
	}
	read := int64(0)
	for i := 0; i < int(h.NbSnapshots); i++ {
		if i >= snapListMax || read > snapReadMax {
			im.problem("snapshot table: %d of %d entries listed", i, h.NbSnapshots)
			return
		}
		var b [40]byte
		if err := im.readFull(b[:], off); err != nil {
			im.problem("snapshot %d: %v", i, err)
			return
		}
		s := Snapshot{
			L1TableOffset: be.Uint64(b[0:]),
			L1Size:        be.Uint32(b[8:]),
			idLen:         be.Uint16(b[12:]),
			nmLen:         be.Uint16(b[14:]),
			Date:          time.Unix(int64(be.Uint32(b[16:])), int64(be.Uint32(b[20:]))).UTC(),
			VMClockNs:     be.Uint64(b[24:]),
			VMStateSize:   uint64(be.Uint32(b[32:])),
			extra:         be.Uint32(b[36:]),
			Offset:        off,
		}
		if s.extra > 64<<10 {
			im.problem("snapshot %d at byte %d: %d bytes of extra data", i, off, s.extra)
			return
		}
		rest := make([]byte, int(s.extra)+int(s.idLen)+int(s.nmLen))
		if err := im.readFull(rest, off+40); err != nil {
			im.problem("snapshot %d: %v", i, err)
			return
		}
		x := rest[:s.extra]
		if len(x) >= 8 {
			s.VMStateSize = be.Uint64(x)
		}
		if len(x) >= 16 {
			s.DiskSize = int64(be.Uint64(x[8:]))
		}
		s.ID = string(rest[s.extra : int(s.extra)+int(s.idLen)])
		s.Name = string(rest[int(s.extra)+int(s.idLen):])
		s.Length = (40 + len(rest) + 7) / 8 * 8
		im.snapshots = append(im.snapshots, s)
		off += int64(s.Length)
		read += int64(s.Length)
	}
}

// Snapshots lists the internal snapshots decoded from the snapshot table.
func (im *Image) Snapshots() []Snapshot { return append([]Snapshot(nil), im.snapshots...) }

// Info describes the image and its backing chain.
func (im *Image) Info() Info {
	h := &im.h
	in := Info{
		Format:               "qcow2",
		Path:                 im.name,
		FileSize:             im.fileSize,
		Version:              h.Version,
		VirtualSize:          im.size,
		ClusterSize:          im.clusterSize,
		Compression:          compressionName(h.CompressionType),
		BackingFile:          im.backingName,
		BackingFormat:        im.backingFormat,
		BackingFormatProbed:  im.backingProbed,
		BackingPath:          im.backingPath,
		Encrypted:            h.CryptMethod != CryptNone,
		DataFile:             im.dataFile,
		IncompatibleFeatures: im.featureNames(0, h.IncompatibleFeatures),
		CompatibleFeatures:   im.featureNames(1, h.CompatibleFeatures),
		AutoclearFeatures:    im.featureNames(2, h.AutoclearFeatures),
		RefcountBits:         refcountBits(h.RefcountOrder),
		L1Size:               h.L1Size,
		Snapshots:            int(h.NbSnapshots),
		SnapshotList:         im.Snapshots(),
	}
	if im.backingProbed {
		in.BackingFormat = im.backingUsed
	}
	for _, e := range im.exts {
		if e.Type != ExtEnd {
			in.HeaderExtensions = append(in.HeaderExtensions, extName(e.Type))
		}
	}
	if im.r != nil {
		in.Files = []string{im.name}
	}
	switch b := im.backing.(type) {
	case *Image:
		bi := b.Info()
		in.Backing = &bi
		in.Files = append(in.Files, bi.Files...)
	case *rawFile:
		in.Backing = &Info{Format: "raw", Path: b.name, FileSize: b.size, VirtualSize: b.size, Files: []string{b.name}}
		in.Files = append(in.Files, b.name)
	}
	for _, p := range im.problems {
		in.Problems = append(in.Problems, p.Error())
	}
	return in
}

// fieldBuf records the fields of a buffer read at absolute offset base.
type fieldBuf struct {
	b    []byte
	base int64
	st   model.Structure
}

func (f *fieldBuf) add(name string, off, n int, val string) {
	if off+n > len(f.b) {
		return
	}
	f.st.Fields = append(f.st.Fields, model.Field{Name: name, Off: f.base + int64(off), Len: n, Value: val})
}

func (f *fieldBuf) u32(name string, off int, dec func(uint32) string) {
	if off+4 > len(f.b) {
		return
	}
	v := binary.BigEndian.Uint32(f.b[off:])
	s := fmt.Sprint(v)
	if dec != nil {
		s += " (" + dec(v) + ")"
	}
	f.add(name, off, 4, s)
}

func (f *fieldBuf) u64(name string, off int, dec func(uint64) string) {
	if off+8 > len(f.b) {
		return
	}
	v := binary.BigEndian.Uint64(f.b[off:])
	s := fmt.Sprint(v)
	if dec != nil {
		s += " (" + dec(v) + ")"
	}
	f.add(name, off, 8, s)
}

// l1FieldsMax is the number of L1 table entries shown as fields.
const l1FieldsMax = 1024

// snapFieldsMax is the number of snapshot table entries shown.
const snapFieldsMax = 64

// Fields returns the header, its extensions, the backing file name, the
// first entries of the L1 table and of the snapshot table, with every
// field's absolute byte range and decoded value.
func (im *Image) Fields() []model.Structure {
	h := &im.h
	hf := &fieldBuf{b: im.raw, st: model.Structure{Name: "QCOW2 header", Len: len(im.raw)}}
	hf.add("magic", 0, 4, fmt.Sprintf("%q", h.Magic[:]))
	hf.u32("version", 4, nil)
	hf.u64("backing_file_offset", 8, func(v uint64) string {
		if v == 0 {
			return "no backing file"
		}
		return "name at byte " + fmt.Sprint(v)
	})
	hf.u32("backing_file_size", 16, nil)
	hf.u32("cluster_bits", 20, func(v uint32) string { return fmt.Sprintf("%d-byte clusters", im.clusterSize) })
	hf.u64("size", 24, func(v uint64) string { return "virtual size in bytes" })
	hf.u32("crypt_method", 32, func(v uint32) string {
		return map[uint32]string{CryptNone: "none", CryptAES: "AES", CryptLUKS: "LUKS"}[v]
	})
	hf.u32("l1_size", 36, func(uint32) string { return "entries" })
	hf.u64("l1_table_offset", 40, nil)
	hf.u64("refcount_table_offset", 48, nil)
	hf.u32("refcount_table_clusters", 56, nil)
	hf.u32("nb_snapshots", 60, nil)
	hf.u64("snapshots_offset", 64, nil)
	if h.Version >= 3 {
		feat := func(kind uint8) func(uint64) string {
			return func(v uint64) string {
				if v == 0 {
					return "none"
				}
				return strings.Join(im.featureNames(kind, v), ", ")
			}
		}
		hf.u64("incompatible_features", 72, feat(0))
		hf.u64("compatible_features", 80, feat(1))
		hf.u64("autoclear_features", 88, feat(2))
		hf.u32("refcount_order", 96, func(v uint32) string { return fmt.Sprintf("%d-bit refcounts", uint64(1)<<min(v, 63)) })
		hf.u32("header_length", 100, nil)
		if len(im.raw) > v3HeaderSize {
			hf.add("compression_type", 104, 1, fmt.Sprintf("%d (%s)", h.CompressionType, compressionName(h.CompressionType)))
			hf.add("padding", 105, 7, hex.EncodeToString(im.raw[105:112]))
			if len(im.raw) > 112 {
				hf.add("additional fields", 112, len(im.raw)-112, hex.EncodeToString(im.raw[112:]))
			}
		}
	}
	out := []model.Structure{hf.st}
	for _, e := range im.exts {
		out = append(out, im.extFields(e))
	}
	if im.backingName != "" || h.BackingFileOffset != 0 {
		n := int(h.BackingFileSize)
		out = append(out, model.Structure{Name: "backing file name", Off: int64(h.BackingFileOffset), Len: n,
			Fields: []model.Field{{Name: "backing file name", Off: int64(h.BackingFileOffset), Len: n, Value: fmt.Sprintf("%q", im.backingName)}}})
	}
	if st, ok := im.l1Fields(); ok {
		out = append(out, st)
	}
	for i, s := range im.snapshots {
		if i >= snapFieldsMax {
			break
		}
		out = append(out, snapFields(i, s))
	}
	return out
}

func (im *Image) extFields(e Extension) model.Structure {
	n := 8 + (int(e.Length)+7)/8*8
	if e.Type == ExtEnd {
		n = 8
	}
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, e.Type)
	binary.BigEndian.PutUint32(b[4:], e.Length)
	copy(b[8:], e.Data)
	f := &fieldBuf{b: b, base: e.Off, st: model.Structure{Name: "header extension: " + extName(e.Type), Off: e.Off, Len: n}}
	f.add("type", 0, 4, fmt.Sprintf("%#08x (%s)", e.Type, extName(e.Type)))
	f.u32("length", 4, nil)
	d := e.Data
	switch e.Type {
	case ExtEnd:
		return f.st
	case ExtBackingFormat, ExtDataFile:
		f.add("name", 8, len(d), fmt.Sprintf("%q", d))
	case ExtFeatureNames:
		kinds := []string{"incompatible", "compatible", "autoclear"}
		for i := 0; i+featureNameLength <= len(d); i += featureNameLength {
			k := fmt.Sprintf("type %d", d[i])
			if int(d[i]) < len(kinds) {
				k = kinds[d[i]]
			}
			f.add(fmt.Sprintf("%s bit %d", k, d[i+1]), 8+i, featureNameLength, fmt.Sprintf("%q", cstring(d[i+2:i+featureNameLength])))
		}
	case ExtBitmaps:
		f.u32("nb_bitmaps", 8, nil)
		f.u32("reserved", 12, nil)
		f.u64("bitmap_directory_size", 16, nil)
		f.u64("bitmap_directory_offset", 24, nil)
	case ExtEncryption:
		f.u64("encryption header offset", 8, nil)
		f.u64("encryption header length", 16, nil)
	default:
		if len(d) > 0 {
			f.add("data", 8, len(d), hex.EncodeToString(d[:min(len(d), 64)]))
		}
	}
	if pad := n - 8 - len(d); pad > 0 {
		f.add("padding", 8+len(d), pad, "to a multiple of 8 bytes")
	}
	return f.st
}

func (im *Image) l1Fields() (model.Structure, bool) {
	h := &im.h
	k := int(min(h.L1Size, l1FieldsMax))
	if k == 0 || h.L1TableOffset == 0 {
		return model.Structure{}, false
	}
	b := make([]byte, 8*k)
	if im.readFull(b, int64(h.L1TableOffset)) != nil {
		return model.Structure{}, false
	}
	f := &fieldBuf{b: b, base: int64(h.L1TableOffset), st: model.Structure{Name: "L1 table", Off: int64(h.L1TableOffset), Len: 8 * int(h.L1Size)}}
	cover := im.clusterSize * im.l2Entries
	for i := range k {
		f.u64(fmt.Sprintf("L1 entry %d (disk bytes %d+)", i, int64(i)*cover), 8*i, func(v uint64) string {
			off := v & 0x00fffffffffffe00
			if off == 0 {
				return "no L2 table"
			}
			s := fmt.Sprintf("L2 table at byte %d", off)
			if v>>63 != 0 {
				s += ", refcount 1"
			}
			return s
		})
	}
	return f.st, true
}

func snapFields(i int, s Snapshot) model.Structure {
	st := model.Structure{Name: fmt.Sprintf("snapshot %d (%q)", i, s.Name), Off: s.Offset, Len: s.Length}
	add := func(name string, off, n int, v string) {
		if n <= 0 {
			return
		}
		st.Fields = append(st.Fields, model.Field{Name: name, Off: s.Offset + int64(off), Len: n, Value: v})
	}
	add("l1_table_offset", 0, 8, fmt.Sprint(s.L1TableOffset))
	add("l1_size", 8, 4, fmt.Sprint(s.L1Size))
	add("id_str_size", 12, 2, fmt.Sprint(s.idLen))
	add("name_size", 14, 2, fmt.Sprint(s.nmLen))
	add("date_sec", 16, 4, fmt.Sprint(s.Date.Unix())+" ("+s.Date.Format(time.RFC3339)+")")
	add("date_nsec", 20, 4, fmt.Sprint(s.Date.Nanosecond()))
	add("vm_clock_nsec", 24, 8, fmt.Sprint(s.VMClockNs))
	add("vm_state_size", 32, 4, fmt.Sprint(uint32(s.VMStateSize)))
	add("extra_data_size", 36, 4, fmt.Sprint(s.extra))
	if s.extra >= 8 {
		add("vm_state_size_large", 40, 8, fmt.Sprint(s.VMStateSize))
	}
	if s.extra >= 16 {
		add("disk_size", 48, 8, fmt.Sprint(s.DiskSize))
	}
	if s.extra > 16 {
		add("more extra data", 56, int(s.extra)-16, fmt.Sprintf("%d bytes", s.extra-16))
	}
	add("id_str", 40+int(s.extra), int(s.idLen), fmt.Sprintf("%q", s.ID))
	add("name", 40+int(s.extra)+int(s.idLen), int(s.nmLen), fmt.Sprintf("%q", s.Name))
	return st
}
