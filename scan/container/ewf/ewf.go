// Package ewf reads Expert Witness Compression Format (EWF, "E01") images
// read-only, as ewfacquire, EnCase and FTK Imager write them, and presents
// the media inside as a device.Device.
//
// It works from the published description of the format: a set of
// segment files (.E01, .E02 … .E99, .EAA … .ZZZ), each a 13-byte file
// header and a chain of sections, each section a 76-byte descriptor
// (type, next offset, size, Adler-32) and its data. The volume (or disk)
// section gives the geometry, table sections the offsets of the chunks
// (32 KiB by default) in the sectors sections, each chunk either zlib
// compressed or stored with an Adler-32 after it. Every checksum is
// checked: section descriptors, volume, tables, chunks; a chunk that
// fails is an error naming it, never zeros.
//
// EWF2 (Ex01, Lx01) and the logical evidence format (L01) are recognised
// and refused.
package ewf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// Signatures of the segment file formats of the family.
var (
	sigEVF  = []byte("EVF\x09\x0d\x0a\xff\x00") // EWF, EWF-E01, EWF-S01
	sigLVF  = []byte("LVF\x09\x0d\x0a\xff\x00") // EWF-L01 (logical evidence)
	sigEVF2 = []byte("EVF2\x0d\x0a\x81\x00")    // EWF2-Ex01
	sigLEF2 = []byte("LEF2\x0d\x0a\x81\x00")    // EWF2-Lx01
)

const (
	fileHeaderSize  = 13
	sectionHdrSize  = 76
	tableHdrSize    = 24
	maxChunkSize    = 64 << 20 // largest chunk accepted (EnCase writes up to 32768 sectors of 512 bytes = 16 MiB)
	maxSegments     = 99 + 26*26*26
	maxSections     = 1 << 16 // per segment file
	maxHeaderText   = 1 << 20 // decompressed header/header2 bytes kept
	maxErrorEntries = 1 << 20
)

// ErrNotEWF is returned by Open for a file that is not an EWF segment.
var ErrNotEWF = errors.New("ewf: not an EWF (E01) segment file")

// UnsupportedError is an image of the EWF family that this reader refuses.
type UnsupportedError struct {
	Path   string
	Format string
	Why    string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Path, e.Format, e.Why)
}

// FormatError is a structure of the image that is malformed or fails its
// checksum.
type FormatError struct {
	File string // segment file
	Off  int64  // byte offset in that file
	What string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: byte %d (%#x): %s", e.File, e.Off, e.Off, e.What)
}

// MissingSegmentError is a segment file of the set that is not there.
type MissingSegmentError struct {
	Path   string // the name expected
	Number int    // its segment number
	Err    error
}

func (e *MissingSegmentError) Error() string {
	return fmt.Sprintf("ewf: segment file %d of the image is missing: %s: %v", e.Number, e.Path, e.Err)
}

func (e *MissingSegmentError) Unwrap() error { return e.Err }

// Probe reports whether r starts with the signature of an EWF family
// segment file (E01, S01, L01, Ex01, Lx01). Open says which ones it
// reads.
func Probe(r io.ReaderAt, size int64) bool {
	if size < 8 {
		return false
	}
	var b [8]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return false
	}
	for _, s := range [][]byte{sigEVF, sigLVF, sigEVF2, sigLEF2} {
		if bytes.Equal(b[:], s) {
			return true
		}
	}
	return false
}

// refusal says why a signature that Probe accepts is not read, or "" for
// EVF.
func refusal(sig []byte) (format, why string) {
	switch {
	case bytes.Equal(sig, sigEVF):
		return "", ""
	case bytes.Equal(sig, sigEVF2):
		return "EWF2 (Ex01)", "EnCase 7 EWF version 2 images are recognised but not read yet (no test image); convert with ewfexport or open the E01 of the acquisition"
	case bytes.Equal(sig, sigLEF2):
		return "EWF2 logical evidence (Lx01)", "a logical evidence file holds files, not a disk image"
	case bytes.Equal(sig, sigLVF):
		return "EWF logical evidence (L01)", "a logical evidence file holds files, not a disk image"
	}
	return "unknown", "not an EWF segment file"
}

// readerAtCloser is what a segment file must be.
type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

// section is one section descriptor of a segment file.
type section struct {
	Type     string
	Off      int64 // of the descriptor in the segment file
	Next     int64
	Size     int64
	Stored   uint32
	Computed uint32
	raw      [sectionHdrSize]byte
}

// dataOff is the offset of the section's data; dataLen its length as far
// as the file holds it.
func (s *section) dataOff() int64 { return s.Off + sectionHdrSize }

type segment struct {
	name     string // path as opened
	f        readerAtCloser
	size     int64
	number   int
	header   [fileHeaderSize]byte
	sections []section
	starts   []int64 // sorted section descriptor offsets, and the file size last
}

// table is one table section: its entries are read on demand from the
// segment file.
type table struct {
	seg        int   // index in Image.segs
	sec        int   // index of the section used (table, or table2 when table fails)
	entriesOff int64 // offset of entry 0 in the segment file
	count      int64
	base       int64 // table base offset (EnCase 6); entries are relative to it
	first      int64 // index of its first chunk in the image
	bad        string
}

// errRange is an acquisition error range from the error2 section, in bytes.
type errRange struct {
	Off, Len     int64
	Sector, Secs uint64
}

// Image is an opened EWF image: a device.Device of the media inside.
type Image struct {
	name string // base name of the first segment file, for errors
	segs []*segment

	mediaType       uint8
	chunks          int64
	sectorsPerChunk uint32
	bytesPerSector  uint32
	sectors         uint64
	chunkSize       int64
	size            int64
	compLevel       uint8
	hasCompLevel    bool
	volume          *section // the volume/disk/data section used
	volumeSeg       int
	volumeRaw       []byte

	tables []table
	errs   []errRange

	storedMD5, storedSHA1 []byte
	hashWhere             string

	notes    Notes
	warnings []string

	cache *chunkCache
	ra    *readAhead
	pool  sync.Pool // *decoder
}

// Notes are the acquisition notes of the header sections.
type Notes struct {
	CaseNumber     string `json:"case_number,omitempty"`
	EvidenceNumber string `json:"evidence_number,omitempty"`
	Description    string `json:"description,omitempty"`
	Examiner       string `json:"examiner,omitempty"`
	Notes          string `json:"notes,omitempty"`
	Acquired       string `json:"acquired,omitempty"` // acquisition date as stored (header2: Unix time, decoded to UTC)
	SystemDate     string `json:"system_date,omitempty"`
	Software       string `json:"software_version,omitempty"`
	OS             string `json:"os,omitempty"`
	Model          string `json:"model,omitempty"`
	Serial         string `json:"serial,omitempty"`
	// Values holds every identifier and value of the main category as stored.
	Values map[string]string `json:"values,omitempty"`
}

// Open opens the EWF image whose first segment file is path, finding the
// other segment files by name, read-only.
func Open(fsys afero.Fs, path string) (*Image, error) {
	im := &Image{name: filepath.Base(path)}
	ok := false
	defer func() {
		if !ok {
			im.Close()
		}
	}()
	if _, err := im.openSegment(fsys, path, 1); err != nil {
		return nil, err
	}
	for {
		last := im.segs[len(im.segs)-1]
		end := last.sections[len(last.sections)-1]
		if end.Type == "done" {
			break
		}
		n := len(im.segs) + 1
		if n > maxSegments {
			return nil, &FormatError{File: last.name, Off: end.Off, What: "more segment files than the naming scheme allows"}
		}
		next, err := segmentName(path, n)
		if err != nil {
			return nil, &FormatError{File: last.name, Off: end.Off, What: fmt.Sprintf("ends with a next section (another segment file follows) but %v", err)}
		}
		if _, err := im.openSegment(fsys, next, n); err != nil {
			return nil, err
		}
	}
	if err := im.parse(); err != nil {
		return nil, err
	}
	im.cache = newChunkCache(im.chunkSize)
	ok = true
	return im, nil
}

// segmentName is the name of segment n of the set whose first file is
// path: .E01 … .E99, .EAA … .EZZ, .FAA … .ZZZ (and likewise .s01, .L01,
// in the case of the first).
func segmentName(path string, n int) (string, error) {
	ext := filepath.Ext(path)
	if len(ext) != 4 || ext[2:] != "01" || !isLetter(ext[1]) {
		return "", fmt.Errorf("the name %s does not end in .E01 (or .s01), so the names of the others cannot be derived", filepath.Base(path))
	}
	base := path[:len(path)-3]
	first := ext[1]
	lower := first >= 'a'
	if n < 1 || n > maxSegments {
		return "", fmt.Errorf("segment number %d out of range", n)
	}
	if n <= 99 {
		return fmt.Sprintf("%s%c%02d", base, first, n), nil
	}
	k := n - 100
	c3 := byte(k % 26)
	c2 := byte(k / 26 % 26)
	c1 := byte(k/(26*26)) + upper(first) - 'A'
	if int(c1) >= 26 {
		return "", fmt.Errorf("segment number %d is past .ZZZ", n)
	}
	a := byte('A')
	if lower {
		a = 'a'
	}
	return fmt.Sprintf("%s%c%c%c", base, a+c1, a+c2, a+c3), nil
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func upper(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 'A'
	}
	return c
}

func (im *Image) openSegment(fsys afero.Fs, path string, n int) (*segment, error) {
	f, err := fsys.Open(path)
	if err != nil && n > 1 {
		// A set copied through a file system that changed the case
		// of the names: .E01 with .e02.
		alt := path[:len(path)-3] + swapCase(path[len(path)-3:])
		if f2, err2 := fsys.Open(alt); err2 == nil {
			f, err, path = f2, nil, alt
		}
	}
	if err != nil {
		if n > 1 {
			return nil, &MissingSegmentError{Path: path, Number: n, Err: err}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	// afero's files other than *os.File (MemMapFs) read at an offset by
	// seeking: ConcurrentReader serialises them.
	s := &segment{name: path, f: blockdev.ConcurrentReader(f), size: st.Size()}
	im.segs = append(im.segs, s)
	if s.size < fileHeaderSize {
		return nil, fmt.Errorf("%s: %w (%d bytes)", path, ErrNotEWF, s.size)
	}
	if _, err := f.ReadAt(s.header[:], 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if format, why := refusal(s.header[:8]); why != "" {
		if format == "unknown" {
			if n > 1 {
				return nil, &FormatError{File: path, Off: 0, What: "no EVF signature: not a segment file of this image"}
			}
			return nil, fmt.Errorf("%s: %w", path, ErrNotEWF)
		}
		return nil, &UnsupportedError{Path: path, Format: format, Why: why}
	}
	s.number = int(binary.LittleEndian.Uint16(s.header[9:]))
	if s.number != n {
		what := fmt.Sprintf("segment number %d in the file header, expected %d", s.number, n)
		if n == 1 {
			what += " (open the first segment file of the set, .E01)"
		}
		return nil, &FormatError{File: path, Off: 9, What: what}
	}
	if err := s.readSections(); err != nil {
		return nil, err
	}
	return s, nil
}

// readSections follows the section chain of one segment file.
func (s *segment) readSections() error {
	off := int64(fileHeaderSize)
	for {
		if len(s.sections) >= maxSections {
			return &FormatError{File: s.name, Off: off, What: fmt.Sprintf("more than %d sections", maxSections)}
		}
		if off+sectionHdrSize > s.size {
			return &FormatError{File: s.name, Off: off, What: fmt.Sprintf("section chain runs past the end of the file (%d bytes) without a done or next section: truncated segment file?", s.size)}
		}
		var sec section
		if _, err := s.f.ReadAt(sec.raw[:], off); err != nil {
			return fmt.Errorf("%s: section at %d: %w", s.name, off, err)
		}
		sec.Off = off
		sec.Type = cstring(sec.raw[:16])
		sec.Next = int64(binary.LittleEndian.Uint64(sec.raw[16:]))
		sec.Size = int64(binary.LittleEndian.Uint64(sec.raw[24:]))
		sec.Stored = binary.LittleEndian.Uint32(sec.raw[72:])
		sec.Computed = adler32.Checksum(sec.raw[:72])
		if sec.Stored != sec.Computed {
			return &FormatError{File: s.name, Off: off, What: fmt.Sprintf("section descriptor %q: adler32 stored %#08x, computed %#08x", sec.Type, sec.Stored, sec.Computed)}
		}
		s.sections = append(s.sections, sec)
		if sec.Type == "done" || sec.Type == "next" {
			break
		}
		if sec.Next <= off || sec.Next < off+sectionHdrSize || sec.Next > s.size || sec.Next < 0 {
			what := fmt.Sprintf("section %q: next section offset %d", sec.Type, sec.Next)
			if sec.Next <= off {
				what += " does not move forward (section chain loop)"
			} else {
				what += fmt.Sprintf(" outside the file (%d bytes)", s.size)
			}
			return &FormatError{File: s.name, Off: off + 16, What: what}
		}
		if sec.Size != 0 && (sec.Size < sectionHdrSize || sec.Size > s.size-off) {
			return &FormatError{File: s.name, Off: off + 24, What: fmt.Sprintf("section %q: size %d outside the file (%d bytes)", sec.Type, sec.Size, s.size)}
		}
		off = sec.Next
	}
	for _, sec := range s.sections {
		s.starts = append(s.starts, sec.Off)
	}
	s.starts = append(s.starts, s.size)
	return nil
}

// dataLen is the length of a section's data: its size less the
// descriptor, or up to the next section when the size is not given.
func (s *segment) dataLen(sec *section) int64 {
	n := sec.Size - sectionHdrSize
	if sec.Size == 0 || n < 0 {
		n = sec.Next - sec.dataOff()
	}
	if end := s.size - sec.dataOff(); n > end {
		n = end
	}
	return max(n, 0)
}

// readData reads a section's data, at most limit bytes.
func (s *segment) readData(sec *section, limit int64) ([]byte, error) {
	n := min(s.dataLen(sec), limit)
	b := make([]byte, n)
	if _, err := s.f.ReadAt(b, sec.dataOff()); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("%s: section %q at %d: %w", s.name, sec.Type, sec.Off, err)
	}
	return b, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parse reads the sections of every segment: volume, tables, hashes,
// error ranges, acquisition notes.
func (im *Image) parse() error {
	var headerDone, header2Done bool
	for si, s := range im.segs {
		for i := range s.sections {
			sec := &s.sections[i]
			switch sec.Type {
			case "header2":
				if !header2Done {
					if err := im.parseHeader(s, sec, true); err != nil {
						im.warnings = append(im.warnings, err.Error())
					} else {
						header2Done = true
					}
				}
			case "header":
				if !headerDone && !header2Done {
					if err := im.parseHeader(s, sec, false); err != nil {
						im.warnings = append(im.warnings, err.Error())
					} else {
						headerDone = true
					}
				}
			case "volume", "disk", "data":
				if im.volume == nil {
					if err := im.parseVolume(si, sec); err != nil {
						if sec.Type == "data" {
							im.warnings = append(im.warnings, err.Error())
							continue
						}
						return err
					}
				}
			case "table":
				if err := im.parseTable(si, i); err != nil {
					return err
				}
			case "digest":
				im.parseDigest(s, sec)
			case "hash":
				if im.hashWhere == "" {
					im.parseHash(s, sec)
				}
			case "xhash":
				im.parseXHash(s, sec)
			case "error2":
				if err := im.parseError2(s, sec); err != nil {
					im.warnings = append(im.warnings, err.Error())
				}
			}
		}
	}
	if im.volume == nil {
		return &FormatError{File: im.segs[0].name, Off: fileHeaderSize, What: "no volume or disk section: the geometry of the media is unknown"}
	}
	var n int64
	for _, t := range im.tables {
		n += t.count
	}
	if n != im.chunks {
		return &FormatError{File: im.segs[len(im.segs)-1].name, Off: 0, What: fmt.Sprintf("the tables of the segment files list %d chunks, the volume section says %d", n, im.chunks)}
	}
	// Clip error ranges to the media.
	var errs []errRange
	for _, e := range im.errs {
		if e.Off >= im.size {
			continue
		}
		e.Len = min(e.Len, im.size-e.Off)
		errs = append(errs, e)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Off < errs[j].Off })
	im.errs = errs
	return nil
}

func (im *Image) parseHeader(s *segment, sec *section, utf16le bool) error {
	raw, err := s.readData(sec, maxHeaderText)
	if err != nil {
		return err
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return &FormatError{File: s.name, Off: sec.dataOff(), What: fmt.Sprintf("%s section: %v", sec.Type, err)}
	}
	txt, err := io.ReadAll(io.LimitReader(zr, maxHeaderText))
	if err != nil {
		return &FormatError{File: s.name, Off: sec.dataOff(), What: fmt.Sprintf("%s section: %v", sec.Type, err)}
	}
	var text string
	if utf16le {
		if len(txt) >= 2 && txt[0] == 0xff && txt[1] == 0xfe {
			txt = txt[2:]
		}
		u := make([]uint16, len(txt)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(txt[2*i:])
		}
		text = string(utf16.Decode(u))
	} else {
		text = string(txt)
	}
	im.notes = parseNotes(text, utf16le)
	return nil
}

// parseNotes decodes the main category of a header text: a count, the
// category name, a line of identifiers and a line of values, tab
// separated.
func parseNotes(text string, header2 bool) Notes {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var n Notes
	for i := 0; i+2 < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "main" {
			continue
		}
		keys := strings.Split(lines[i+1], "\t")
		vals := strings.Split(lines[i+2], "\t")
		n.Values = map[string]string{}
		for k, key := range keys {
			if k < len(vals) {
				n.Values[key] = vals[k]
			}
		}
		break
	}
	v := n.Values
	n.CaseNumber, n.EvidenceNumber, n.Description = v["c"], v["n"], v["a"]
	n.Examiner, n.Notes, n.Software, n.OS = v["e"], v["t"], v["av"], v["ov"]
	n.Model, n.Serial = v["md"], v["sn"]
	n.Acquired, n.SystemDate = headerDate(v["m"]), headerDate(v["u"])
	return n
}

func (im *Image) parseVolume(si int, sec *section) error {
	s := im.segs[si]
	b, err := s.readData(sec, 1052)
	if err != nil {
		return err
	}
	bad := func(what string) error {
		return &FormatError{File: s.name, Off: sec.dataOff(), What: fmt.Sprintf("%s section: %s", sec.Type, what)}
	}
	var stored, computed uint32
	switch {
	case len(b) >= 1052:
		stored, computed = binary.LittleEndian.Uint32(b[1048:]), adler32.Checksum(b[:1048])
		im.compLevel, im.hasCompLevel = b[52], true
	case len(b) >= 94: // EWF-S01 (SMART) volume
		b = b[:94]
		stored, computed = binary.LittleEndian.Uint32(b[90:]), adler32.Checksum(b[:90])
	default:
		return bad(fmt.Sprintf("%d bytes, too short for a volume section", len(b)))
	}
	if stored != computed {
		return bad(fmt.Sprintf("adler32 stored %#08x, computed %#08x", stored, computed))
	}
	im.mediaType = b[0]
	im.chunks = int64(binary.LittleEndian.Uint32(b[4:]))
	im.sectorsPerChunk = binary.LittleEndian.Uint32(b[8:])
	im.bytesPerSector = binary.LittleEndian.Uint32(b[12:])
	if len(b) >= 1052 {
		im.sectors = binary.LittleEndian.Uint64(b[16:])
	} else {
		im.sectors = uint64(binary.LittleEndian.Uint32(b[16:]))
	}
	if im.sectorsPerChunk == 0 || im.bytesPerSector == 0 || uint64(im.sectorsPerChunk)*uint64(im.bytesPerSector) > maxChunkSize {
		return bad(fmt.Sprintf("chunk of %d sectors of %d bytes: not a size this reader accepts (1 byte to %d MiB)", im.sectorsPerChunk, im.bytesPerSector, maxChunkSize>>20))
	}
	im.chunkSize = int64(im.sectorsPerChunk) * int64(im.bytesPerSector)
	if im.sectors > 1<<62/uint64(im.bytesPerSector) {
		return bad(fmt.Sprintf("%d sectors: too many", im.sectors))
	}
	full := im.chunks * im.chunkSize
	if im.sectors == 0 {
		im.size = full
	} else {
		im.size = int64(im.sectors) * int64(im.bytesPerSector)
	}
	if im.size > full || (im.chunks > 0 && im.size <= full-im.chunkSize) {
		return bad(fmt.Sprintf("%d sectors of %d bytes do not fill %d chunks of %d bytes", im.sectors, im.bytesPerSector, im.chunks, im.chunkSize))
	}
	im.volume, im.volumeSeg, im.volumeRaw = sec, si, b
	return nil
}

// parseTable reads the table section at s.sections[i] (or the table2
// after it when it fails) and checks its entries' checksum.
func (im *Image) parseTable(si, i int) error {
	s := im.segs[si]
	try := func(j int) (table, error) {
		sec := &s.sections[j]
		t := table{seg: si, sec: j}
		n := s.dataLen(sec)
		bad := func(off int64, what string) (table, error) {
			return t, &FormatError{File: s.name, Off: off, What: fmt.Sprintf("%s section: %s", sec.Type, what)}
		}
		if n < tableHdrSize {
			return bad(sec.dataOff(), fmt.Sprintf("%d bytes, too short for a table", n))
		}
		var h [tableHdrSize]byte
		if _, err := s.f.ReadAt(h[:], sec.dataOff()); err != nil {
			return t, err
		}
		if st, c := binary.LittleEndian.Uint32(h[20:]), adler32.Checksum(h[:20]); st != c {
			return bad(sec.dataOff()+20, fmt.Sprintf("table header: adler32 stored %#08x, computed %#08x", st, c))
		}
		t.count = int64(binary.LittleEndian.Uint32(h[0:]))
		t.base = int64(binary.LittleEndian.Uint64(h[8:]))
		if t.base < 0 || t.base > s.size {
			return bad(sec.dataOff()+8, fmt.Sprintf("base offset %d outside the file (%d bytes)", t.base, s.size))
		}
		t.entriesOff = sec.dataOff() + tableHdrSize
		if t.count > (n-tableHdrSize)/4 {
			return bad(sec.dataOff(), fmt.Sprintf("%d entries do not fit in the section (%d bytes)", t.count, n))
		}
		// The entries' checksum follows them, when there is room for it.
		if n >= tableHdrSize+4*t.count+4 {
			sum := adler32.New()
			if _, err := io.Copy(sum, io.NewSectionReader(s.f, t.entriesOff, 4*t.count)); err != nil {
				return t, fmt.Errorf("%s: table at %d: %w", s.name, sec.Off, err)
			}
			var f [4]byte
			if _, err := s.f.ReadAt(f[:], t.entriesOff+4*t.count); err != nil {
				return t, err
			}
			if st, c := binary.LittleEndian.Uint32(f[:]), sum.Sum32(); st != c {
				t.bad = fmt.Sprintf("the %s section at byte %d of %s: entries adler32 stored %#08x, computed %#08x", sec.Type, sec.Off, filepath.Base(s.name), st, c)
				// EWF-S01 and EnCase 1 keep the chunks in the table
				// section after the entries, with no checksum.
				if n > tableHdrSize+4*t.count+4 {
					t.bad = ""
				}
			}
		}
		return t, nil
	}
	t, err := try(i)
	if err != nil || t.bad != "" {
		// A table2 right after it mirrors it.
		if i+1 < len(s.sections) && s.sections[i+1].Type == "table2" {
			if t2, err2 := try(i + 1); err2 == nil && t2.bad == "" && (err != nil || t2.count == t.count) {
				im.warnings = append(im.warnings, fmt.Sprintf("%s; its table2 copy used", firstNonEmpty(errString(err), t.bad)))
				t, err = t2, nil
			}
		}
	}
	if err != nil {
		return err
	}
	if t.bad != "" {
		im.warnings = append(im.warnings, t.bad)
	}
	for _, p := range im.tables {
		t.first += p.count
	}
	im.tables = append(im.tables, t)
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// checkedData returns the data of the section sec of type what, n bytes
// of which the last 4 are the adler32 of the others; if they are short or
// fail it, it warns that what is stored there is not used and returns
// nil.
func (im *Image) checkedData(s *segment, sec *section, n int, what, unused string) []byte {
	b, err := s.readData(sec, int64(n))
	if err != nil || len(b) < n {
		im.warnings = append(im.warnings, fmt.Sprintf("%s: %s section at %d: too short", s.name, what, sec.Off))
		return nil
	}
	if st, c := binary.LittleEndian.Uint32(b[n-4:]), adler32.Checksum(b[:n-4]); st != c {
		im.warnings = append(im.warnings, fmt.Sprintf("%s: %s section at %d: adler32 stored %#08x, computed %#08x: %s not used", s.name, what, sec.Off, st, c, unused))
		return nil
	}
	return b
}

func (im *Image) parseDigest(s *segment, sec *section) {
	b := im.checkedData(s, sec, 80, "digest", "stored hashes")
	if b == nil {
		return
	}
	if !allZero(b[:16]) {
		im.storedMD5 = append([]byte(nil), b[:16]...)
	}
	if !allZero(b[16:36]) {
		im.storedSHA1 = append([]byte(nil), b[16:36]...)
	}
	im.hashWhere = "digest"
}

func (im *Image) parseHash(s *segment, sec *section) {
	b := im.checkedData(s, sec, 36, "hash", "stored MD5")
	if b == nil {
		return
	}
	if !allZero(b[:16]) {
		im.storedMD5 = append([]byte(nil), b[:16]...)
	}
	im.hashWhere = "hash"
}

// parseError2 reads the acquisition error ranges: a 520-byte header
// (count, 512 bytes, adler32), 8-byte entries (first sector, number of
// sectors) and the entries' adler32.
func (im *Image) parseError2(s *segment, sec *section) error {
	n := s.dataLen(sec)
	bad := func(what string) error {
		return &FormatError{File: s.name, Off: sec.dataOff(), What: "error2 section: " + what}
	}
	if n < 520 {
		return bad("too short")
	}
	h := make([]byte, 520)
	if _, err := s.f.ReadAt(h, sec.dataOff()); err != nil {
		return err
	}
	if st, c := binary.LittleEndian.Uint32(h[516:]), adler32.Checksum(h[:516]); st != c {
		return bad(fmt.Sprintf("header adler32 stored %#08x, computed %#08x", st, c))
	}
	count := int64(binary.LittleEndian.Uint32(h))
	if count > (n-520)/8 || count > maxErrorEntries {
		return bad(fmt.Sprintf("%d entries do not fit in the section", count))
	}
	e := make([]byte, 8*count)
	if _, err := s.f.ReadAt(e, sec.dataOff()+520); err != nil {
		return err
	}
	if n >= 520+8*count+4 {
		var f [4]byte
		if _, err := s.f.ReadAt(f[:], sec.dataOff()+520+8*count); err != nil {
			return err
		}
		if st, c := binary.LittleEndian.Uint32(f[:]), adler32.Checksum(e); st != c {
			return bad(fmt.Sprintf("entries adler32 stored %#08x, computed %#08x", st, c))
		}
	}
	bps := int64(im.bytesPerSector)
	if bps == 0 {
		bps = 512
	}
	for k := int64(0); k < count; k++ {
		first := uint64(binary.LittleEndian.Uint32(e[8*k:]))
		secs := uint64(binary.LittleEndian.Uint32(e[8*k+4:]))
		if secs == 0 {
			continue
		}
		im.errs = append(im.errs, errRange{Off: int64(first) * bps, Len: int64(secs) * bps, Sector: first, Secs: secs})
	}
	return nil
}

var xmlElem = regexp.MustCompile(`<([A-Za-z0-9_]+)>([^<]*)</([A-Za-z0-9_]+)>`)

// parseXHash reads the hashes of an EWF-X xhash section (zlib XML: <MD5>,
// <SHA1>), for those the digest and hash sections do not give.
func (im *Image) parseXHash(s *segment, sec *section) {
	raw, err := s.readData(sec, maxHeaderText)
	if err != nil {
		return
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		im.warnings = append(im.warnings, fmt.Sprintf("%s: xhash section at %d: %v", s.name, sec.Off, err))
		return
	}
	txt, err := io.ReadAll(io.LimitReader(zr, maxHeaderText))
	if err != nil {
		im.warnings = append(im.warnings, fmt.Sprintf("%s: xhash section at %d: %v", s.name, sec.Off, err))
		return
	}
	for _, m := range xmlElem.FindAllSubmatch(txt, 64) {
		if !bytes.Equal(m[1], m[3]) {
			continue
		}
		v, err := hex.DecodeString(strings.TrimSpace(string(m[2])))
		if err != nil {
			continue
		}
		switch strings.ToLower(string(m[1])) {
		case "md5":
			if im.storedMD5 == nil && len(v) == 16 {
				im.storedMD5 = v
			}
		case "sha1":
			if im.storedSHA1 == nil && len(v) == 20 {
				im.storedSHA1 = v
			}
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Size is the size of the media in bytes.
func (im *Image) Size() int64 { return im.size }

// ChunkSize is the size of a chunk of media data in bytes.
func (im *Image) ChunkSize() int64 { return im.chunkSize }

// Chunks is the number of chunks.
func (im *Image) Chunks() int64 { return im.chunks }

// Name is the base name of the first segment file.
func (im *Image) Name() string { return im.name }

// ConcurrentReads reports that ReadAt may be called concurrently.
func (im *Image) ConcurrentReads() bool { return true }

// Close closes every segment file.
func (im *Image) Close() error {
	if im.ra != nil {
		im.ra.wg.Wait()
	}
	var first error
	for _, s := range im.segs {
		if s.f != nil {
			if err := s.f.Close(); err != nil && first == nil {
				first = err
			}
			s.f = nil
		}
	}
	return first
}

var (
	_ device.Device     = (*Image)(nil)
	_ device.Mapper     = (*Image)(nil)
	_ device.Concurrent = (*Image)(nil)
	_ device.Closer     = (*Image)(nil)
)
