package vhdx

import (
	"encoding/binary"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// fieldBuf builds a structure's fields; its integers are little-endian.
type fieldBuf struct{ blockdev.FieldBuf }

func newFieldBuf(name string, b []byte, base int64) *fieldBuf {
	return &fieldBuf{*blockdev.NewFieldBuf(name, b, base, binary.LittleEndian)}
}

func (f *fieldBuf) guid(name string, off int, names map[GUID]string) {
	if off < 0 || off > len(f.B)-16 {
		f.Raw(name, off, 16) // says it lies beyond the bytes read
		return
	}
	g := guidAt(f.B[off:])
	v := g.String()
	if n := names[g]; n != "" {
		v += " (" + n + ")"
	}
	f.Add(name, off, 16, v)
}

// crc adds the CRC-32C field at off, checked over all of f.B.
func (f *fieldBuf) crc(name string, off int) {
	f.Checksum(name, off, crcZeroed(f.B, off))
}

// name marks a structure the replayed log changed.
func (im *Image) structName(name string, off int64, n int) string {
	if im.overlay.touches(off, int64(n)) {
		return name + " (as the log replay leaves it)"
	}
	return name
}

func headerFields(name string, b []byte, base int64) model.Structure {
	f := newFieldBuf(name, b, base)
	f.Text("Signature", 0, 4)
	f.crc("Checksum", 4)
	f.U64("SequenceNumber", 8)
	f.guid("FileWriteGuid", 16, nil)
	f.guid("DataWriteGuid", 32, nil)
	g := guidAt(b[48:])
	v := g.String()
	if g.IsZero() {
		v += " (no log to replay)"
	}
	f.Add("LogGuid", 48, 16, v)
	f.U16("LogVersion", 64)
	f.U16("Version", 66)
	f.U32("LogLength", 68)
	f.U64("LogOffset", 72)
	f.Add("Reserved", 80, headerSize-80, "")
	return f.St
}

func regionTableFields(name string, b []byte, base int64) model.Structure {
	f := newFieldBuf(name, b, base)
	f.Text("Signature", 0, 4)
	f.crc("Checksum", 4)
	f.U32("EntryCount", 8)
	f.U32("Reserved", 12)
	n := min(int(binary.LittleEndian.Uint32(b[8:])), maxRegionEntries)
	for i := range n {
		o := 16 + 32*i
		p := fmt.Sprintf("Entry %d: ", i)
		f.guid(p+"Guid", o, regionNames)
		f.U64(p+"FileOffset", o+16)
		f.U32(p+"Length", o+24)
		fl := binary.LittleEndian.Uint32(b[o+28:])
		f.Add(p+"Required", o+28, 4, fmt.Sprintf("%#08x (required %t)", fl, fl&1 != 0))
	}
	return f.St
}

func (im *Image) metadataFields() []model.Structure {
	base := int64(im.meta.FileOffset)
	f := newFieldBuf(im.structName("VHDX metadata table", base, len(im.metaRaw)), im.metaRaw, base)
	f.Text("Signature", 0, 8)
	f.U16("Reserved", 8)
	f.U16("EntryCount", 10)
	f.Add("Reserved2", 12, 20, "")
	for i, me := range im.metaEntries {
		o := 32 + 32*i
		p := fmt.Sprintf("Entry %d: ", i)
		f.guid(p+"ItemId", o, metadataNames)
		f.U32(p+"Offset", o+16)
		f.U32(p+"Length", o+20)
		f.Add(p+"Flags", o+24, 4, fmt.Sprintf("%#08x (IsUser %t, IsVirtualDisk %t, IsRequired %t)", binary.LittleEndian.Uint32(im.metaRaw[o+24:]), me.IsUser, me.IsVirtualDisk, me.IsRequired))
		f.U32(p+"Reserved2", o+28)
	}
	out := []model.Structure{f.St}
	for _, it := range im.items {
		g := newFieldBuf(im.structName("VHDX metadata item: "+it.entry.Name(), it.off, len(it.raw)), it.raw, it.off)
		b := it.raw
		switch it.entry.ItemID {
		case MetaFileParameters:
			g.U32("BlockSize", 0)
			if len(b) >= 8 {
				fl := binary.LittleEndian.Uint32(b[4:])
				g.Add("Flags", 4, 4, fmt.Sprintf("%#08x (LeaveBlockAllocated %t, HasParent %t)", fl, fl&1 != 0, fl&2 != 0))
			} else {
				g.U32("Flags", 4)
			}
		case MetaVirtualDiskSize:
			g.U64("VirtualDiskSize", 0)
		case MetaPage83Data:
			g.guid("Page83Data", 0, nil)
		case MetaLogicalSectorSize:
			g.U32("LogicalSectorSize", 0)
		case MetaPhysicalSectorSize:
			g.U32("PhysicalSectorSize", 0)
		case MetaParentLocator:
			locatorFields(g, b)
		}
		out = append(out, g.St)
	}
	return out
}

func locatorFields(g *fieldBuf, b []byte) {
	if len(b) < 20 {
		return
	}
	le := binary.LittleEndian
	g.guid("LocatorType", 0, map[GUID]string{ParentLocatorTypeVHDX: "VHDX"})
	g.U16("Reserved", 16)
	g.U16("KeyValueCount", 18)
	n := int(le.Uint16(b[18:]))
	for i := 0; i < n && 20+12*i+12 <= len(b); i++ {
		o := 20 + 12*i
		p := fmt.Sprintf("Entry %d: ", i)
		ko, vo := le.Uint32(b[o:]), le.Uint32(b[o+4:])
		kl, vl := le.Uint16(b[o+8:]), le.Uint16(b[o+10:])
		g.U32(p+"KeyOffset", o)
		g.U32(p+"ValueOffset", o+4)
		g.U16(p+"KeyLength", o+8)
		g.U16(p+"ValueLength", o+10)
		if uint64(ko)+uint64(kl) <= uint64(len(b)) && uint64(vo)+uint64(vl) <= uint64(len(b)) {
			k := utf16String(b[ko : ko+uint32(kl)])
			if kl > 0 {
				g.Add(p+"Key", int(ko), int(kl), fmt.Sprintf("%q", k))
			}
			if vl > 0 {
				g.Add(p+"Value", int(vo), int(vl), fmt.Sprintf("%q", utf16String(b[vo:vo+uint32(vl)])))
			}
		}
	}
}

// batFieldsMax is the number of BAT entries shown as fields.
const batFieldsMax = 1024

func (im *Image) batFields() model.Structure {
	base := int64(im.bat.FileOffset)
	n := im.batEntries
	st := model.Structure{Name: im.structName("VHDX block allocation table", base, int(8*n)), Off: base, Len: int(8 * n)}
	cr := im.chunkRatio
	for i := int64(0); i < n && i < batFieldsMax; i++ {
		e, err := im.batEntry(i)
		var name, v string
		if i%(cr+1) == cr {
			name = fmt.Sprintf("Sector bitmap block %d", i/(cr+1))
			state := "SB_BLOCK_NOT_PRESENT"
			if e&7 == SectorBitmapPresent {
				state = "SB_BLOCK_PRESENT"
			} else if e&7 != SectorBitmapNotPresent {
				state = fmt.Sprintf("reserved state %d", e&7)
			}
			v = state
		} else {
			name = fmt.Sprintf("Payload block %d", i-i/(cr+1))
			v = stateName(e & 7)
		}
		if off, ok := entryOffset(e); ok && off != 0 {
			v += fmt.Sprintf(", at byte %d", off)
		}
		if err != nil {
			v = err.Error()
		}
		st.Fields = append(st.Fields, model.Field{Name: name, Off: base + 8*i, Len: 8, Value: v})
	}
	return st
}

// logDescFieldsMax is the number of descriptors shown for a log entry.
const logDescFieldsMax = 256

func logEntryFields(lf logField) model.Structure {
	f := newFieldBuf(fmt.Sprintf("VHDX log entry (sequence %d)", lf.seq), lf.raw, lf.pos)
	b := lf.raw
	f.Text("Signature", 0, 4)
	// The checksum covers the whole entry, data sectors included: it was
	// checked when the log was replayed.
	f.Hex32("Checksum", 4)
	f.St.Fields[len(f.St.Fields)-1].Check = &model.Check{OK: true, Stored: fmt.Sprintf("%#08x", binary.LittleEndian.Uint32(b[4:])), Computed: fmt.Sprintf("%#08x", binary.LittleEndian.Uint32(b[4:]))}
	f.U32("EntryLength", 8)
	f.U32("Tail", 12)
	f.U64("SequenceNumber", 16)
	f.U32("DescriptorCount", 24)
	f.U32("Reserved", 28)
	f.guid("LogGuid", 32, nil)
	f.U64("FlushedFileOffset", 48)
	f.U64("LastFileOffset", 56)
	n := int(binary.LittleEndian.Uint32(b[24:]))
	for i := 0; i < n && i < logDescFieldsMax && logEntryHdr+logDescSize*(i+1) <= len(b); i++ {
		o := logEntryHdr + logDescSize*i
		p := fmt.Sprintf("Descriptor %d: ", i)
		f.Text(p+"Signature", o, 4)
		if string(b[o:o+4]) == "zero" {
			f.U32(p+"Reserved", o+4)
			f.U64(p+"ZeroLength", o+8)
		} else {
			f.Hex32(p+"TrailingBytes", o+4)
			f.Add(p+"LeadingBytes", o+8, 8, fmt.Sprintf("%#016x", binary.LittleEndian.Uint64(b[o+8:])))
		}
		f.U64(p+"FileOffset", o+16)
		f.U64(p+"SequenceNumber", o+24)
	}
	return f.St
}

// Fields returns the image's structures with every field's absolute byte
// range in the file and its decoded value: the file type identifier,
// both headers and both region tables (with their checksums checked),
// the metadata table and its known items, the first entries of the BAT,
// and the log entries replayed. A structure the log replay changed says
// so in its name: its fields are the replayed bytes.
func (im *Image) Fields() []model.Structure {
	var out []model.Structure
	if im.idRaw != nil {
		f := newFieldBuf("VHDX file type identifier", im.idRaw, 0)
		f.Text("Signature", 0, 8)
		f.Add("Creator", 8, 512, fmt.Sprintf("%q", im.creator))
		out = append(out, f.St)
	}
	for i, c := range im.headers {
		if c != nil && c.raw != nil {
			out = append(out, headerFields(fmt.Sprintf("VHDX header %d", i+1), c.raw, c.off))
		}
	}
	for i, c := range im.tables {
		if c != nil && c.raw != nil {
			out = append(out, regionTableFields(im.structName(fmt.Sprintf("VHDX region table %d", i+1), c.off, regionTableSize), c.raw, c.off))
		}
	}
	for _, lf := range im.logFields {
		out = append(out, logEntryFields(lf))
	}
	if im.metaRaw != nil {
		out = append(out, im.metadataFields()...)
	}
	if im.batEntries > 0 {
		out = append(out, im.batFields())
	}
	return out
}
