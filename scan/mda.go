package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/model"
)

// mdaMagic is the magic at byte 4 of every mda_header.
var mdaMagic = []byte(" LVM2 x[5A%r0N*>")

const (
	mdaHeaderSize = 512
	rawLocnSize   = 24
	rawLocnIgnore = 0x1
	// rawLocnIgnoreBE is the ignored bit as a big-endian writer leaves it.
	rawLocnIgnoreBE = 0x01000000
	// MaxTextSize bounds one metadata text copy held in memory. LVM caps a
	// copy at half its area; areas above 128 MiB are not made in practice.
	MaxTextSize = 64 << 20
)

// MDAHeader is a decoded metadata-area header.
type MDAHeader struct {
	Checksum model.Check `json:"checksum"`
	MagicOK  bool        `json:"magic_ok"`
	Version  uint32      `json:"version"`
	Start    uint64      `json:"start"`
	Size     uint64      `json:"size"`
	Slots    [2]RawLocn  `json:"raw_locn"`

	Struct model.Structure `json:"structure"`
}

// RawLocn is one raw_locn slot of an mda_header.
type RawLocn struct {
	Offset   uint64 `json:"offset"` // relative to the area start
	Size     uint64 `json:"size"`   // text bytes, NUL included
	Checksum uint32 `json:"checksum"`
	Flags    uint32 `json:"flags"`
}

// Ignored reports the RAW_LOCN_IGNORED flag (either byte order).
func (l RawLocn) Ignored() bool { return l.Flags&(rawLocnIgnore|rawLocnIgnoreBE) != 0 }

// Empty reports a slot that records no text.
func (l RawLocn) Empty() bool { return l.Offset == 0 && l.Size == 0 }

// ReadMDAHeader decodes the mda_header at PV offset off (the pv_header's
// metadata-area entry loc). r reads PV-relative offsets, size is the
// number of readable PV bytes and base the PV's offset in its input.
//
// A header whose checksum, start or size disagree is still returned with
// the problems found, since its slots may still locate intact text; an
// error means no header could be decoded at all (bad magic, unreadable).
func ReadMDAHeader(r io.ReaderAt, size, base int64, loc DiskLocn) (*MDAHeader, []Problem, error) {
	abs := base + int64(loc.Offset)
	if loc.Offset > uint64(size) || uint64(size)-loc.Offset < mdaHeaderSize {
		return nil, nil, &FormatError{Structure: "mda_header", Off: abs, Err: ErrTruncated,
			Msg: fmt.Sprintf("metadata area at PV offset %d lies beyond the %d readable bytes", loc.Offset, size)}
	}
	buf := make([]byte, mdaHeaderSize)
	if err := readFull(r, buf, int64(loc.Offset)); err != nil {
		return nil, nil, fmt.Errorf("mda_header at byte %d: %w", abs, err)
	}
	return decodeMDAHeader(buf, abs, loc)
}

func decodeMDAHeader(buf []byte, abs int64, loc DiskLocn) (*MDAHeader, []Problem, error) {
	f := newFieldBuf("mda_header", buf, abs)
	h := &MDAHeader{}
	stored := f.hex32("checksum", 0)
	h.Checksum = *f.check(stored, CRC(InitialCRC, buf[4:]))
	f.text("magic", 4, 16)
	h.MagicOK = bytes.Equal(buf[4:20], mdaMagic)
	h.Version = f.u32("version", 20)
	h.Start = f.u64("start", 24)
	h.Size = f.u64("size", 32)
	for i := range h.Slots {
		o := 40 + i*rawLocnSize
		name := fmt.Sprintf("raw_locn[%d]", i)
		s := &h.Slots[i]
		s.Offset = f.u64(name+".offset", o)
		s.Size = f.u64(name+".size", o+8)
		s.Checksum = f.hex32(name+".checksum", o+16)
		s.Flags = binary.LittleEndian.Uint32(buf[o+20:])
		fl := fmt.Sprintf("%#x", s.Flags)
		if s.Ignored() {
			fl += " (ignored)"
		}
		f.add(name+".flags", o+20, 4, fl)
	}
	h.Struct = *f.st
	if !h.MagicOK {
		return h, nil, &FormatError{Structure: "mda_header", Field: "magic", Off: abs + 4,
			Stored: fmt.Sprintf("%q", buf[4:20]), Computed: fmt.Sprintf("%q", mdaMagic), Msg: "not a metadata-area header (bad magic)"}
	}
	var probs []Problem
	if !h.Checksum.OK {
		probs = append(probs, Problem{Severity: SevError, Off: abs, Structure: "mda_header", Field: "checksum",
			Stored: h.Checksum.Stored, Computed: h.Checksum.Computed,
			Msg: "metadata-area header checksum mismatch (LVM rejects this header; its slots are still used here)"})
	}
	if h.Version != 1 {
		probs = append(probs, Problem{Severity: SevWarn, Off: abs + 20, Structure: "mda_header", Field: "version",
			Stored: fmt.Sprint(h.Version), Computed: "1", Msg: "unexpected metadata-area header version"})
	}
	if h.Start != loc.Offset {
		probs = append(probs, Problem{Severity: SevWarn, Off: abs + 24, Structure: "mda_header", Field: "start",
			Stored: fmt.Sprint(h.Start), Computed: fmt.Sprint(loc.Offset),
			Msg: "header records another start than the pv_header (copied or moved image?)"})
	}
	if h.Size < mdaHeaderSize {
		return h, probs, &FormatError{Structure: "mda_header", Field: "size", Off: abs + 32,
			Msg: fmt.Sprintf("area size %d is below 512", h.Size)}
	}
	if h.Size != loc.Size {
		probs = append(probs, Problem{Severity: SevWarn, Off: abs + 32, Structure: "mda_header", Field: "size",
			Stored: fmt.Sprint(h.Size), Computed: fmt.Sprint(loc.Size),
			Msg: "header records another area size than the pv_header (the header's value is used)"})
	}
	return h, probs, nil
}

// TextCopy is one metadata text copy read from a metadata area.
type TextCopy struct {
	Off      int64  `json:"offset"` // absolute byte offset of the first byte in the input
	RelOff   uint64 `json:"rel_offset"`
	Size     uint64 `json:"size"` // NUL included
	Wrapped  bool   `json:"wrapped"`
	WrapSize uint64 `json:"wrap_size,omitempty"` // bytes continued at relative 512
	Stored   uint32 `json:"stored_crc"`
	Computed uint32 `json:"computed_crc"`
	CRCOK    bool   `json:"crc_ok"`
	Text     []byte `json:"-"` // without the terminating NUL
}

// ReadText reads the text a raw_locn slot points to, reassembling wrapped
// copies, and verifies its checksum. The area is described by the header
// (whose size governs wrapping) at PV offset areaOff; r, size and base as
// for ReadMDAHeader. A copy with a bad checksum is returned together with
// a *FormatError wrapping ErrBadChecksum.
func ReadText(r io.ReaderAt, size, base int64, areaOff uint64, h *MDAHeader, slot int) (*TextCopy, error) {
	l := h.Slots[slot]
	S := h.Size
	name := fmt.Sprintf("raw_locn[%d]", slot)
	fieldOff := base + int64(areaOff) + 40 + int64(slot)*rawLocnSize
	bad := func(field string, off int64, msg string) error {
		return &FormatError{Structure: "mda_header", Field: name + "." + field, Off: off, Msg: msg}
	}
	var damaged error
	switch {
	case l.Offset < mdaHeaderSize || l.Offset >= S:
		damaged = bad("offset", fieldOff, fmt.Sprintf("text offset %d outside the buffer [512, %d)", l.Offset, S))
	case l.Size == 0 || l.Size > S-mdaHeaderSize:
		damaged = bad("size", fieldOff+8, fmt.Sprintf("text size %d does not fit a buffer of %d bytes", l.Size, S-mdaHeaderSize))
	case l.Size > MaxTextSize:
		return nil, bad("size", fieldOff+8, fmt.Sprintf("text size %d above the %d bytes this reader holds in memory", l.Size, MaxTextSize))
	}
	if damaged != nil {
		// One field is damaged: the copy it located may still be found by
		// the other field and the slot's checksum.
		c, how, err := recoverSlotText(r, size, base, areaOff, h, l)
		if err != nil || c == nil {
			return nil, damaged
		}
		fe := damaged.(*FormatError)
		fe.Msg += fmt.Sprintf("; %s, of %d bytes, has the checksum the slot records (%#08x): it is used", how, c.Size, l.Checksum)
		return c, fe
	}
	return readSlotText(r, size, base, areaOff, h, slot, l)
}

// readSlotText reads the text of slot l, whose offset and size are valid.
func readSlotText(r io.ReaderAt, size, base int64, areaOff uint64, h *MDAHeader, slot int, l RawLocn) (*TextCopy, error) {
	S := h.Size
	name := fmt.Sprintf("raw_locn[%d]", slot)
	c := &TextCopy{RelOff: l.Offset, Size: l.Size, Stored: l.Checksum, Off: base + int64(areaOff+l.Offset)}
	first := l.Size
	if l.Offset+l.Size > S {
		c.Wrapped = true
		first = S - l.Offset
		c.WrapSize = l.Size - first
	}
	// The area must be readable: check against the device before allocating.
	end := areaOff + l.Offset + first
	if c.Wrapped {
		end = areaOff + S
	}
	if end > uint64(size) {
		return nil, &FormatError{Structure: "metadata text", Off: c.Off, Err: ErrTruncated,
			Msg: fmt.Sprintf("text ends at PV byte %d, beyond the %d readable bytes", end, size)}
	}
	buf := make([]byte, l.Size)
	if err := readFull(r, buf[:first], int64(areaOff+l.Offset)); err != nil {
		return nil, fmt.Errorf("metadata text at byte %d: %w", c.Off, err)
	}
	if c.Wrapped {
		if err := readFull(r, buf[first:], int64(areaOff+mdaHeaderSize)); err != nil {
			return nil, fmt.Errorf("metadata text (wrapped part) at byte %d: %w", base+int64(areaOff)+mdaHeaderSize, err)
		}
	}
	c.Computed = CRC(InitialCRC, buf)
	c.CRCOK = c.Computed == c.Stored
	c.Text = buf
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		c.Text = buf[:i]
	}
	if !c.CRCOK {
		return c, &FormatError{Structure: "metadata text", Off: c.Off, Err: ErrBadChecksum,
			Stored: fmt.Sprintf("%#08x", c.Stored), Computed: fmt.Sprintf("%#08x", c.Computed),
			Msg: fmt.Sprintf("checksum of the %d-byte text that %s points to does not match", l.Size, name)}
	}
	return c, nil
}

// recoverSlotText finds the copy a slot with one damaged field locates:
// with a valid offset, the text from there to its NUL; with a valid size,
// the copy of that size the ring walk finds; in both cases only when its
// checksum is the one the slot records. how says where it was found.
func recoverSlotText(r io.ReaderAt, size, base int64, areaOff uint64, h *MDAHeader, l RawLocn) (*TextCopy, string, error) {
	S := min(h.Size, uint64(max(size, 0))-min(areaOff, uint64(max(size, 0))))
	if S <= mdaHeaderSize {
		return nil, "", nil
	}
	if l.Offset >= mdaHeaderSize && l.Offset < S {
		ar := &areaReader{r: r, areaOff: areaOff, S: S}
		var nc nulCache
		end, err := ar.nextNUL(&nc, l.Offset)
		if err != nil {
			return nil, "", err
		}
		var n uint64
		switch {
		case end < S:
			n = end - l.Offset + 1
		case S == h.Size: // continued at 512, up to the first NUL there
			wn, err := ar.nextNUL(&nulCache{}, mdaHeaderSize)
			if err != nil || wn >= l.Offset {
				return nil, "", err
			}
			n = S - l.Offset + wn - mdaHeaderSize + 1
		default:
			return nil, "", nil
		}
		if n > MaxTextSize {
			return nil, "", nil
		}
		c, err := readSlotText(r, size, base, areaOff, h, 0, RawLocn{Offset: l.Offset, Size: n, Checksum: l.Checksum})
		if err != nil || c == nil || !c.CRCOK {
			return nil, "", nil
		}
		return c, fmt.Sprintf("the copy at its offset %d", l.Offset), nil
	}
	if l.Size == 0 || l.Size > S-mdaHeaderSize || l.Size > MaxTextSize {
		return nil, "", nil
	}
	var found []RingCopy
	w := RingWalker{}
	rs, err := w.Walk(r, size, base, areaOff, h.Size)
	if rs == nil {
		return nil, "", err
	}
	for _, c := range rs.Copies {
		if c.Size == l.Size && c.CRC == l.Checksum {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return nil, "", nil
	}
	c, err := readSlotText(r, size, base, areaOff, h, 0, RawLocn{Offset: found[0].RelOff, Size: l.Size, Checksum: l.Checksum})
	if err != nil || c == nil || !c.CRCOK {
		return nil, "", nil
	}
	return c, fmt.Sprintf("the copy of its size found at relative offset %d", found[0].RelOff), nil
}

// TextProblems lists oddities of a copy whose checksum matched: a missing
// terminating NUL, an embedded NUL, a missing final blank line.
func (c *TextCopy) TextProblems() []Problem {
	var probs []Problem
	n := uint64(len(c.Text))
	switch {
	case n == c.Size:
		probs = append(probs, Problem{Severity: SevWarn, Off: c.Off, Structure: "metadata text", Msg: "text has no terminating NUL byte"})
	case n < c.Size-1:
		probs = append(probs, Problem{Severity: SevWarn, Off: c.Off, Structure: "metadata text",
			Msg: fmt.Sprintf("NUL byte at text offset %d before the end (%d)", n, c.Size-1)})
	}
	if !bytes.HasSuffix(c.Text, []byte("\n\n")) {
		probs = append(probs, Problem{Severity: SevInfo, Off: c.Off, Structure: "metadata text", Msg: "text does not end with a blank line as LVM writes it"})
	}
	return probs
}
