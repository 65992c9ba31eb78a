package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/model"
)

// On-disk constants of the label (label-and-pv-header.md §2-5).
const (
	labelScanSectors = 4
	labelHeaderSize  = 32
	pvHeaderFixed    = 40 // pv_uuid + device_size
	diskLocnSize     = 16
)

var (
	labelID   = []byte("LABELONE")
	labelType = []byte("LVM2 001")
)

// DiskLocn is one entry of a pv_header area list.
type DiskLocn struct {
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
}

// Label is a decoded LVM2 label sector with its PV header.
type Label struct {
	Sector   int    `json:"sector"` // 0..3, where it was found
	Weak     bool   `json:"weak"`   // no LABELONE: accepted by its type field alone, as LVM does
	SectorXL uint64 `json:"sector_xl"`
	CRC      model.Check
	OffsetXL uint32 `json:"offset_xl"`
	Type     string `json:"type"`

	Header *PVHeader `json:"pv_header"`

	// Struct holds label_header's fields with absolute byte ranges.
	Struct model.Structure `json:"structure"`
}

// PVHeader is the decoded pv_header and its extension.
type PVHeader struct {
	UUID            string     `json:"uuid"` // bare 32 characters as stored
	DeviceSize      uint64     `json:"device_size"`
	DataAreas       []DiskLocn `json:"data_areas"`
	MetadataAreas   []DiskLocn `json:"metadata_areas"`
	HasExtension    bool       `json:"has_extension"`
	ExtVersion      uint32     `json:"ext_version"`
	ExtFlags        uint32     `json:"ext_flags"`
	BootloaderAreas []DiskLocn `json:"bootloader_areas"`

	Struct model.Structure `json:"structure"`
}

// InUse reports the extension's "PV belongs to a VG" flag.
func (h *PVHeader) InUse() bool { return h.ExtVersion >= 2 && h.ExtFlags&1 != 0 }

// labelCandidate is one of sectors 0..3 that looks like a label.
type labelCandidate struct {
	sector int
	strong bool // starts with LABELONE
	valid  bool // strong, sector_xl matches, CRC matches, type matches
	label  *Label
	err    error
}

// ReadLabel looks for the label in sectors 0..3 of a PV that starts at
// absolute offset base of its input; r reads PV-relative offsets and size
// is the number of readable PV bytes.
//
// It returns the label LVM would use. Where LVM would use none but a
// damaged label is still decodable (a bad CRC, a wrong sector number, a
// weak label), that label is returned with the problems that describe it,
// so that a damaged PV can still be read. ErrNoLabel means nothing looked
// like a label at all.
func ReadLabel(r io.ReaderAt, size, base int64) (*Label, []Problem, error) {
	n := int64(labelScanSectors * model.SectorSize)
	if size < n {
		n = size - size%model.SectorSize
	}
	if n <= 0 {
		return nil, nil, ErrNoLabel
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, 0); err != nil {
		return nil, nil, fmt.Errorf("reading label sectors at byte %d: %w", base, err)
	}
	var cands []labelCandidate
	for s := 0; int64(s+1)*model.SectorSize <= n; s++ {
		sec := buf[s*model.SectorSize : (s+1)*model.SectorSize]
		strong := bytes.Equal(sec[:8], labelID)
		if !strong && !bytes.Equal(sec[24:32], labelType) {
			continue
		}
		lb, err := decodeLabelSector(sec, s, base+int64(s)*model.SectorSize)
		c := labelCandidate{sector: s, strong: strong, label: lb, err: err}
		c.valid = strong && err == nil && lb.CRC.OK && lb.SectorXL == uint64(s) && lb.Type == string(labelType)
		cands = append(cands, c)
	}
	var probs []Problem
	var chosen *labelCandidate
	for i := range cands {
		if cands[i].valid {
			if chosen == nil {
				chosen = &cands[i]
			} else {
				probs = append(probs, Problem{Severity: SevWarn, Off: base + int64(cands[i].sector)*model.SectorSize,
					Structure: "label_header", Msg: fmt.Sprintf("additional valid label in sector %d (LVM ignores it)", cands[i].sector)})
			}
		}
	}
	if chosen == nil {
		// Forensic fallback: the best damaged candidate, strong ones first.
		for _, strong := range []bool{true, false} {
			for i := range cands {
				if cands[i].strong == strong && cands[i].label != nil && cands[i].err == nil && chosen == nil {
					chosen = &cands[i]
				}
			}
		}
	}
	for i := range cands {
		c := &cands[i]
		off := base + int64(c.sector)*model.SectorSize
		if c.err != nil {
			probs = append(probs, problemFrom(SevError, "", off, c.err))
			continue
		}
		if c.valid {
			continue
		}
		used := c == chosen
		sev := SevWarn
		verb := "LVM would ignore this label"
		if used {
			sev = SevError
			verb = "LVM would ignore this label; it is used here because no valid label was found"
		}
		lb := c.label
		if !c.strong {
			probs = append(probs, Problem{Severity: SevWarn, Off: off, Structure: "label_header", Field: "id",
				Msg: fmt.Sprintf("weak label in sector %d: %q at offset 24 without LABELONE; LVM accepts it without checks", c.sector, labelType)})
			continue
		}
		if !lb.CRC.OK {
			probs = append(probs, Problem{Severity: sev, Off: off + 16, Structure: "label_header", Field: "crc_xl",
				Stored: lb.CRC.Stored, Computed: lb.CRC.Computed, Msg: "label checksum mismatch: " + verb})
		}
		if lb.SectorXL != uint64(c.sector) {
			probs = append(probs, Problem{Severity: sev, Off: off + 8, Structure: "label_header", Field: "sector_xl",
				Stored: fmt.Sprint(lb.SectorXL), Computed: fmt.Sprint(c.sector), Msg: "label records another sector than the one it is in (copied label?): " + verb})
		}
		if lb.Type != string(labelType) {
			probs = append(probs, Problem{Severity: sev, Off: off + 24, Structure: "label_header", Field: "type",
				Stored: fmt.Sprintf("%q", lb.Type), Computed: fmt.Sprintf("%q", labelType), Msg: "unknown label type: " + verb})
		}
	}
	if chosen == nil {
		if len(probs) > 0 {
			return nil, probs, fmt.Errorf("label at byte %d: %w", base, ErrNoLabel)
		}
		return nil, nil, ErrNoLabel
	}
	chosen.label.Weak = !chosen.strong
	return chosen.label, probs, nil
}

// decodeLabelSector decodes one 512-byte label sector found at absolute
// offset abs. It fails only when the pv_header cannot be decoded.
func decodeLabelSector(sec []byte, s int, abs int64) (*Label, error) {
	f := newFieldBuf("label_header", sec[:labelHeaderSize], abs)
	lb := &Label{Sector: s}
	f.text("id", 0, 8)
	lb.SectorXL = f.u64("sector_xl", 8)
	stored := f.hex32("crc_xl", 16)
	computed := CRC(InitialCRC, sec[20:])
	lb.CRC = *f.check(stored, computed)
	lb.OffsetXL = f.u32("offset_xl", 20)
	lb.Type = f.text("type", 24, 8)
	lb.Struct = *f.st
	if lb.OffsetXL < labelHeaderSize || lb.OffsetXL > model.SectorSize-pvHeaderFixed {
		return lb, &FormatError{Structure: "label_header", Field: "offset_xl", Off: abs + 20,
			Msg: fmt.Sprintf("pv_header offset %d outside the label sector (32..%d)", lb.OffsetXL, model.SectorSize-pvHeaderFixed)}
	}
	h, err := decodePVHeader(sec, int(lb.OffsetXL), abs)
	lb.Header = h
	return lb, err
}

// decodePVHeader decodes the pv_header starting at byte off of the label
// sector sec (found at absolute offset abs).
func decodePVHeader(sec []byte, off int, abs int64) (*PVHeader, error) {
	f := newFieldBuf("pv_header", sec[off:], abs+int64(off))
	h := &PVHeader{}
	h.UUID = string(sec[off : off+32])
	f.add("pv_uuid", 0, 32, model.DashedUUID(h.UUID))
	h.DeviceSize = f.u64("device_size", 32)
	p := 40
	var err error
	list := func(name string) []DiskLocn {
		var out []DiskLocn
		for i := 0; ; i++ {
			if off+p+diskLocnSize > len(sec) {
				if err == nil {
					err = &FormatError{Structure: "pv_header", Field: name, Off: abs + int64(off+p),
						Msg: "area list runs past the end of the label sector without a terminator (LVM: disk areas overflow label)"}
				}
				return out
			}
			o := binary.LittleEndian.Uint64(sec[off+p:])
			sz := binary.LittleEndian.Uint64(sec[off+p+8:])
			if o == 0 {
				f.add(fmt.Sprintf("%s[%d].offset", name, i), p, 8, "0 (end of list)")
				f.add(fmt.Sprintf("%s[%d].size", name, i), p+8, 8, fmt.Sprint(sz))
				p += diskLocnSize
				return out
			}
			f.u64(fmt.Sprintf("%s[%d].offset", name, i), p)
			f.u64(fmt.Sprintf("%s[%d].size", name, i), p+8)
			out = append(out, DiskLocn{Offset: o, Size: sz})
			p += diskLocnSize
		}
	}
	h.DataAreas = list("data_area")
	if err == nil {
		h.MetadataAreas = list("metadata_area")
	}
	if err == nil && off+p+8 <= len(sec) {
		h.ExtVersion = f.u32("ext.version", p)
		h.ExtFlags = binary.LittleEndian.Uint32(sec[off+p+4:])
		f.add("ext.flags", p+4, 4, extFlagsText(h.ExtFlags))
		p += 8
		if h.ExtVersion > 0 {
			h.HasExtension = true
			h.BootloaderAreas = list("ext.bootloader_area")
		}
	}
	f.st.Len = p
	h.Struct = *f.st
	return h, err
}

func extFlagsText(v uint32) string {
	s := fmt.Sprintf("%#x", v)
	if v&1 != 0 {
		s += " (in use)"
	}
	return s
}
