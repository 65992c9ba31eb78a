package vhd

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// fieldBuf builds a structure's fields; its integers are big-endian.
type fieldBuf struct{ blockdev.FieldBuf }

func newFieldBuf(name string, b []byte, base int64) *fieldBuf {
	return &fieldBuf{*blockdev.NewFieldBuf(name, b, base, binary.BigEndian)}
}

// u64 adds the 64-bit integer at off, in decimal; all ones is none.
func (f *fieldBuf) u64(name string, off int) {
	v := binary.BigEndian.Uint64(f.B[off:])
	if v == ^uint64(0) {
		f.Add(name, off, 8, "0xffffffffffffffff (none)")
		return
	}
	f.Add(name, off, 8, fmt.Sprint(v))
}

func (f *fieldBuf) uuid(name string, off int) {
	var u [16]byte
	copy(u[:], f.B[off:])
	f.Add(name, off, 16, uuidString(u))
}

func (f *fieldBuf) check(stored, computed uint32) {
	f.St.Fields[len(f.St.Fields)-1].Check = blockdev.Check32(stored, computed)
}

func footerFields(name string, b []byte, base int64) model.Structure {
	f := newFieldBuf(name, b, base)
	f.Text("Cookie", 0, 8)
	f.Hex32("Features", 8)
	v := binary.BigEndian.Uint32(b[12:])
	f.Add("File Format Version", 12, 4, fmt.Sprintf("%d.%d", v>>16, v&0xffff))
	f.u64("Data Offset", 16)
	ts := binary.BigEndian.Uint32(b[24:])
	f.Add("Time Stamp", 24, 4, fmt.Sprintf("%d (%s)", ts, vhdEpoch.Add(time.Duration(ts)*time.Second).Format(time.RFC3339)))
	f.Text("Creator Application", 28, 4)
	cv := binary.BigEndian.Uint32(b[32:])
	f.Add("Creator Version", 32, 4, fmt.Sprintf("%d.%d", cv>>16, cv&0xffff))
	f.Text("Creator Host OS", 36, 4)
	f.u64("Original Size", 40)
	f.u64("Current Size", 48)
	f.U16("Disk Geometry: Cylinders", 56)
	f.U8("Disk Geometry: Heads", 58)
	f.U8("Disk Geometry: Sectors per track", 59)
	t := binary.BigEndian.Uint32(b[60:])
	f.Add("Disk Type", 60, 4, fmt.Sprintf("%d (%s)", t, subformat(t)))
	f.Hex32("Checksum", 64)
	f.check(binary.BigEndian.Uint32(b[64:]), checksum(b, 64))
	f.uuid("Unique Id", 68)
	f.U8("Saved State", 84)
	f.Add("Reserved", 85, 427, "")
	return f.St
}

func (im *Image) dynFields() model.Structure {
	b := im.dynRaw
	f := newFieldBuf("VHD dynamic disk header", b, im.dynOff)
	f.Text("Cookie", 0, 8)
	f.u64("Data Offset", 8)
	f.u64("Table Offset", 16)
	v := binary.BigEndian.Uint32(b[24:])
	f.Add("Header Version", 24, 4, fmt.Sprintf("%d.%d", v>>16, v&0xffff))
	f.U32("Max Table Entries", 28)
	f.U32("Block Size", 32)
	f.Hex32("Checksum", 36)
	f.check(binary.BigEndian.Uint32(b[36:]), checksum(b, 36))
	f.uuid("Parent Unique ID", 40)
	f.U32("Parent Time Stamp", 56)
	f.U32("Reserved", 60)
	f.Add("Parent Unicode Name", 64, 512, fmt.Sprintf("%q", utf16String(b[64:576], true)))
	li := 0
	for i := range 8 {
		o := 576 + 24*i
		code := binary.BigEndian.Uint32(b[o:])
		p := fmt.Sprintf("Parent Locator %d: ", i+1)
		if code == 0 {
			f.Add(p+"(unused)", o, 24, "")
			continue
		}
		f.Text(p+"Platform Code", o, 4)
		f.U32(p+"Platform Data Space", o+4)
		f.U32(p+"Platform Data Length", o+8)
		f.U32(p+"Reserved", o+12)
		off := binary.BigEndian.Uint64(b[o+16:])
		val := fmt.Sprint(off)
		if li < len(im.dyn.Locators) && im.dyn.Locators[li].Path != "" {
			val += fmt.Sprintf(" (%q)", im.dyn.Locators[li].Path)
		}
		li++
		f.Add(p+"Platform Data Offset", o+16, 8, val)
	}
	f.Add("Reserved", 768, 256, "")
	return f.St
}

// batFieldsMax is the number of BAT entries shown as fields.
const batFieldsMax = 1024

func (im *Image) batFields() model.Structure {
	base := int64(im.dyn.TableOffset)
	n := im.entries
	st := model.Structure{Name: "VHD block allocation table", Off: base, Len: int(4 * n)}
	for i := int64(0); i < n && i < batFieldsMax; i++ {
		e, err := im.batEntry(i)
		v := fmt.Sprintf("sector %d (byte %d)", e, int64(e)*sectorSize)
		switch {
		case err != nil:
			v = err.Error()
		case e == batUnused:
			v = "0xffffffff (not allocated)"
		}
		st.Fields = append(st.Fields, model.Field{Name: fmt.Sprintf("Block %d", i), Off: base + 4*i, Len: 4, Value: v})
	}
	return st
}

// Fields returns the image's structures with every field's absolute byte
// range in the file and its decoded value: the footer (and its copy at
// offset 0), the dynamic disk header with its parent locators, and the
// first entries of the BAT.
func (im *Image) Fields() []model.Structure {
	var out []model.Structure
	if im.copyRaw != nil {
		out = append(out, footerFields("VHD footer copy", im.copyRaw, 0))
	}
	if im.dynRaw != nil {
		out = append(out, im.dynFields())
		out = append(out, im.batFields())
	}
	if im.endRaw != nil {
		out = append(out, footerFields("VHD footer", im.endRaw, im.fileSize-footerSize))
	}
	return out
}
