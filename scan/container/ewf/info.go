package ewf

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/adler32"
	"path/filepath"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// Info describes an opened image.
type Info struct {
	Format          string   `json:"format"` // "EWF-E01"
	Segments        []string `json:"segment_files"`
	MediaSize       int64    `json:"media_size"`
	Sectors         uint64   `json:"sectors"`
	BytesPerSector  uint32   `json:"bytes_per_sector"`
	SectorsPerChunk uint32   `json:"sectors_per_chunk"`
	ChunkSize       int64    `json:"chunk_size"`
	Chunks          int64    `json:"chunks"`
	MediaType       string   `json:"media_type"`
	// Compression is the level the volume section records (none, fast,
	// best); chunks are zlib compressed or stored, each flagged.
	Compression       string   `json:"compression"`
	StoredMD5         string   `json:"stored_md5,omitempty"`
	StoredSHA1        string   `json:"stored_sha1,omitempty"`
	Notes             Notes    `json:"acquisition"`
	AcquisitionErrors []Range  `json:"acquisition_errors,omitempty"`
	Warnings          []string `json:"warnings,omitempty"`
}

// Info returns what the image says of itself.
func (im *Image) Info() Info {
	in := Info{
		Format:          "EWF-E01",
		MediaSize:       im.size,
		Sectors:         im.sectors,
		BytesPerSector:  im.bytesPerSector,
		SectorsPerChunk: im.sectorsPerChunk,
		ChunkSize:       im.chunkSize,
		Chunks:          im.chunks,
		MediaType:       mediaType(im.mediaType),
		Compression:     "unknown",
		Notes:           im.notes,
		Warnings:        append([]string(nil), im.warnings...),
	}
	if len(im.volumeRaw) < 1052 {
		in.Format = "EWF-S01"
	}
	if im.hasCompLevel {
		in.Compression = compLevel(im.compLevel)
	}
	for _, s := range im.segs {
		in.Segments = append(in.Segments, s.name)
	}
	if im.storedMD5 != nil {
		in.StoredMD5 = hex.EncodeToString(im.storedMD5)
	}
	if im.storedSHA1 != nil {
		in.StoredSHA1 = hex.EncodeToString(im.storedSHA1)
	}
	for _, e := range im.errs {
		in.AcquisitionErrors = append(in.AcquisitionErrors, Range{Off: e.Off, Len: e.Len, First: e.Sector, Count: e.Secs})
	}
	return in
}

func mediaType(t uint8) string {
	switch t {
	case 0x00:
		return "removable"
	case 0x01:
		return "fixed"
	case 0x03:
		return "optical"
	case 0x0e:
		return "logical evidence"
	case 0x10:
		return "memory"
	}
	return fmt.Sprintf("%#02x", t)
}

func compLevel(c uint8) string {
	switch c {
	case 0:
		return "none"
	case 1:
		return "fast"
	case 2:
		return "best"
	}
	return fmt.Sprintf("level %d", c)
}

// fb builds a structure's fields; its integers are little-endian.
type fb struct{ blockdev.FieldBuf }

// newFB starts the structure name of n bytes at base, whose first bytes
// are b.
func newFB(name string, b []byte, base int64, n int) *fb {
	f := &fb{*blockdev.NewFieldBuf(name, b, base, binary.LittleEndian)}
	f.St.Len = n
	return f
}

func (f *fb) u8(name string, off int, dec func(uint8) string) {
	v := f.B[off]
	s := fmt.Sprint(v)
	if dec != nil {
		s += " (" + dec(v) + ")"
	}
	f.Add(name, off, 1, s)
}

func (f *fb) adler(name string, off int) {
	f.Checksum(name, off, adler32.Checksum(f.B[:off]))
}

// Fields returns the decoded structures of the image, for the hex view:
// each segment file's header and section descriptors, and the volume
// section, with every field's byte range in its segment file (the
// structure's name says which file) and its decoded value.
func (im *Image) Fields() []model.Structure {
	var out []model.Structure
	for si, s := range im.segs {
		file := filepath.Base(s.name)
		h := newFB(file+": file header", s.header[:], 0, fileHeaderSize)
		h.Add("signature", 0, 8, fmt.Sprintf("%q", s.header[:8]))
		h.u8("fields_start", 8, nil)
		h.U16("segment_number", 9)
		h.U16("fields_end", 11)
		out = append(out, h.St)
		for i := range s.sections {
			sec := &s.sections[i]
			f := newFB(fmt.Sprintf("%s: section %q", file, sec.Type), sec.raw[:], sec.Off, sectionHdrSize)
			f.Add("type", 0, 16, fmt.Sprintf("%q", sec.Type))
			f.U64("next_offset", 16)
			f.U64("size", 24)
			f.Raw("padding", 32, 40)
			f.adler("checksum", 72)
			out = append(out, f.St)
			if si == im.volumeSeg && sec == im.volume {
				out = append(out, im.volumeFields(file, sec))
			}
			if st, ok := sectionFields(s, file, sec); ok {
				out = append(out, st)
			}
		}
	}
	return out
}

func (im *Image) volumeFields(file string, sec *section) model.Structure {
	b := im.volumeRaw
	f := newFB(fmt.Sprintf("%s: %s section data", file, sec.Type), b, sec.dataOff(), len(b))
	if len(b) >= 1052 {
		f.u8("media_type", 0, mediaType)
		f.Raw("unknown1", 1, 3)
		f.U32("number_of_chunks", 4)
		f.U32("sectors_per_chunk", 8)
		f.U32("bytes_per_sector", 12)
		f.U64("number_of_sectors", 16)
		f.U32("chs_cylinders", 24)
		f.U32("chs_heads", 28)
		f.U32("chs_sectors", 32)
		f.u8("media_flags", 36, nil)
		f.Raw("unknown2", 37, 3)
		f.U32("palm_volume_start_sector", 40)
		f.Raw("unknown3", 44, 4)
		f.U32("smart_logs_start_sector", 48)
		f.u8("compression_level", 52, compLevel)
		f.Raw("unknown4", 53, 3)
		f.U32("error_granularity", 56)
		f.Raw("unknown5", 60, 4)
		f.Raw("set_identifier", 64, 16)
		f.Raw("unknown6", 80, 963)
		f.Raw("signature", 1043, 5)
		f.adler("checksum", 1048)
	} else {
		f.U32("reserved", 0)
		f.U32("number_of_chunks", 4)
		f.U32("sectors_per_chunk", 8)
		f.U32("bytes_per_sector", 12)
		f.U32("number_of_sectors", 16)
		f.Raw("reserved2", 20, 20)
		f.Raw("padding", 40, 45)
		f.Raw("signature", 85, 5)
		f.adler("checksum", 90)
	}
	return f.St
}

// sectionFields decodes the fixed part of a table, hash or digest
// section's data.
func sectionFields(s *segment, file string, sec *section) (model.Structure, bool) {
	var n int
	switch sec.Type {
	case "table", "table2":
		n = tableHdrSize
	case "hash":
		n = 36
	case "digest":
		n = 80
	default:
		return model.Structure{}, false
	}
	if s.f == nil || s.dataLen(sec) < int64(n) {
		return model.Structure{}, false
	}
	b := make([]byte, n)
	if _, err := s.f.ReadAt(b, sec.dataOff()); err != nil {
		return model.Structure{}, false
	}
	f := newFB(fmt.Sprintf("%s: %s section data", file, sec.Type), b, sec.dataOff(), n)
	switch sec.Type {
	case "table", "table2":
		f.U32("number_of_entries", 0)
		f.Raw("padding1", 4, 4)
		f.U64("base_offset", 8)
		f.Raw("padding2", 16, 4)
		f.adler("checksum", 20)
	case "hash":
		f.Raw("md5", 0, 16)
		f.Raw("unknown", 16, 16)
		f.adler("checksum", 32)
	case "digest":
		f.Raw("md5", 0, 16)
		f.Raw("sha1", 16, 20)
		f.Raw("padding", 36, 40)
		f.adler("checksum", 76)
	}
	return f.St, true
}
