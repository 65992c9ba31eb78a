package luks

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// Structures is the header's on-disk structures with every field named
// and its byte range in the LUKS device (add the device's offset for an
// image), for the hex view. LUKS1: the phdr, the key-slot table and each
// active slot's key material. LUKS2: every binary header copy read (the
// csum field carrying the checksum check), its JSON area (the text as
// one field) and each key slot's area.
func (h *Header) Structures() []model.Structure {
	if h == nil {
		return nil
	}
	if h.Version == 1 {
		return h.structures1()
	}
	var out []model.Structure
	for _, c := range h.Copies {
		if len(c.bin) < luks2BinSize {
			continue
		}
		out = append(out, c.binStructure())
		if c.jsonArea > 0 {
			out = append(out, c.jsonStructure())
		}
	}
	for _, ks := range h.Keyslots {
		if ks.AreaSize > 0 && ks.AreaOffset > 0 && ks.AreaOffset+ks.AreaSize <= h.DeviceSize && ks.AreaSize <= 1<<30 {
			out = append(out, areaStructure(fmt.Sprintf("luks2_keyslot_area[%d]", ks.Index), &ks))
		}
	}
	return out
}

func padText(b []byte) string {
	if n := nonZero(b); n > 0 {
		return fmt.Sprintf("%d non-zero bytes", n)
	}
	return "zero"
}

func (h *Header) structures1() []model.Structure {
	if len(h.raw1) < luks1HdrSize {
		return nil
	}
	b := h.raw1
	be := binary.BigEndian
	f := blockdev.NewFieldBuf("luks1_phdr", b[:luks1SlotOff], 0, be)
	f.Raw("magic", 0, 6).Value = hex.EncodeToString(b[:6]) + ` ("LUKS\xba\xbe")`
	f.U16("version", 6)
	f.Add("cipher-name", 8, 32, fmt.Sprintf("%q", h.CipherName))
	f.Add("cipher-mode", 40, 32, fmt.Sprintf("%q", h.CipherMode))
	f.Add("hash-spec", 72, 32, fmt.Sprintf("%q", h.HashSpec))
	f.Add("payload-offset", 104, 4, fmt.Sprintf("%d sectors (%d bytes)", be.Uint32(b[104:]), h.PayloadOffset))
	f.Add("key-bytes", 108, 4, fmt.Sprintf("%d (%d bits)", be.Uint32(b[108:]), uint64(be.Uint32(b[108:]))*8))
	f.Raw("mk-digest", 112, 20)
	f.Raw("mk-digest-salt", 132, 32)
	f.U32("mk-digest-iter", 164)
	f.Add("uuid", 168, 40, fmt.Sprintf("%q", h.UUID))
	st := []model.Structure{f.St}

	t := blockdev.NewFieldBuf("luks1_keyslots", b[luks1SlotOff:luks1HdrSize], luks1SlotOff, be)
	for i := range luks1Slots {
		o := luks1SlotSize * i
		ks := &h.Keyslots[i]
		name := fmt.Sprintf("key_slot[%d].", i)
		state := "disabled"
		switch ks.ActiveField {
		case luks1Active:
			state = "enabled"
		case luks1Disabled:
		default:
			state = "neither enabled nor disabled: not used"
		}
		t.Add(name+"active", o, 4, fmt.Sprintf("%#08x (%s)", ks.ActiveField, state))
		t.U32(name+"iterations", o+4)
		t.Raw(name+"salt", o+8, 32)
		t.Add(name+"key_material_offset", o+40, 4, fmt.Sprintf("%d sectors (%d bytes)", be.Uint32(b[luks1SlotOff+o+40:]), ks.AreaOffset))
		t.U32(name+"stripes", o+44)
	}
	st = append(st, t.St)
	for _, ks := range h.Keyslots {
		if ks.State == "active" && ks.Stripes >= 1 && ks.Stripes <= maxStripes && ks.KeyBytes <= maxKeyBytes &&
			ks.AreaOffset >= luks1HdrSize && ks.AreaOffset+ks.AreaSize <= h.DeviceSize {
			st = append(st, areaStructure(fmt.Sprintf("luks1_key_material[%d]", ks.Index), &ks))
		}
	}
	return st
}

// areaStructure is a key slot's key material area: the material, then
// what the area holds beyond it.
func areaStructure(name string, ks *Keyslot) model.Structure {
	n := min(ks.MaterialBytes(), ks.AreaSize)
	s := model.Structure{Name: name, Off: ks.AreaOffset, Len: int(ks.AreaSize)}
	s.Fields = append(s.Fields, model.Field{Name: "key_material", Off: ks.AreaOffset, Len: int(n),
		Value: fmt.Sprintf("%d stripes of %d bytes, AF-split, encrypted with %s", ks.Stripes, ks.KeyBytes, ks.Cipher)})
	if ks.AreaSize > n {
		s.Fields = append(s.Fields, model.Field{Name: "unused", Off: ks.AreaOffset + n, Len: int(ks.AreaSize - n), Value: "not part of the key material"})
	}
	return s
}

func (c *Copy) binStructure() model.Structure {
	b := c.bin
	be := binary.BigEndian
	f := blockdev.NewFieldBuf(structName("header", c.Offset), b, c.Offset, be)
	mg := f.Raw("magic", 0, 6)
	switch string(b[:6]) {
	case string(magic1):
		mg.Value += ` ("LUKS\xba\xbe", primary)`
	case string(magic2):
		mg.Value += ` ("SKUL\xba\xbe", secondary)`
	default:
		mg.Value += " (not a LUKS2 magic)"
	}
	f.U16("version", 6)
	f.Add("hdr_size", l2HdrSize, 8, fmt.Sprintf("%d bytes (binary header and JSON area)", be.Uint64(b[l2HdrSize:])))
	f.U64("seqid", l2SeqID)
	label, _ := cString(b[l2Label : l2Label+48])
	f.Add("label", l2Label, 48, fmt.Sprintf("%q", label))
	f.Add("csum_alg", l2CsumAlg, 32, fmt.Sprintf("%q", c.CsumAlg))
	f.Raw("salt", l2Salt, 64)
	f.Add("uuid", l2UUID, 40, fmt.Sprintf("%q", c.UUID))
	sub, _ := cString(b[l2Subsystem : l2Subsystem+48])
	f.Add("subsystem", l2Subsystem, 48, fmt.Sprintf("%q", sub))
	f.U64("hdr_offset", l2HdrOffset)
	f.Add("padding", l2Pad1, l2Csum-l2Pad1, padText(b[l2Pad1:l2Csum]))
	cs := f.Raw("csum", l2Csum, l2CsumLen)
	if c.CsumComputed != "" {
		cs.Check = &model.Check{OK: c.CsumStored == c.CsumComputed, Stored: c.CsumStored, Computed: c.CsumComputed}
	}
	f.Add("padding2", l2Pad2, luks2BinSize-l2Pad2, padText(b[l2Pad2:]))
	return f.St
}

func (c *Copy) jsonStructure() model.Structure {
	off := c.Offset + luks2BinSize
	s := model.Structure{Name: structName("json", c.Offset), Off: off, Len: c.jsonArea}
	n := len(c.jsonText)
	s.Fields = append(s.Fields, model.Field{Name: "json", Off: off, Len: n, Value: string(c.jsonText)})
	if n < c.jsonArea {
		v := "zero"
		if c.jsonPad > 0 {
			v = fmt.Sprintf("%d non-zero bytes", c.jsonPad)
		}
		s.Fields = append(s.Fields, model.Field{Name: "padding", Off: off + int64(n), Len: c.jsonArea - n, Value: "NUL, then " + v})
	}
	return s
}
