package vmdk

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// fieldBuf builds a structure's fields; its integers are little-endian.
type fieldBuf struct{ blockdev.FieldBuf }

// sectors shows a count or offset in sectors with its bytes.
func (f *fieldBuf) sectors(name string, off int) {
	v := binary.LittleEndian.Uint64(f.B[off:])
	s := fmt.Sprint(v)
	switch {
	case v == GDAtEnd:
		s = "0xffffffffffffffff (at the end: see the footer)"
	case v > 0 && v <= maxSectors:
		s = fmt.Sprintf("%d (byte %d)", v, v*sectorSize)
	}
	f.Add(name, off, 8, s)
}

// char shows a line-ending byte and checks it against want.
func (f *fieldBuf) char(name string, off int, want byte) {
	c := f.B[off]
	fl := f.Add(name, off, 1, fmt.Sprintf("%q", c))
	fl.Check = &model.Check{OK: c == want, Stored: fmt.Sprintf("%#02x", c), Computed: fmt.Sprintf("%#02x", want)}
}

func flagNames(v uint32) string {
	var s []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{flagNewlineTest, "valid newline test"}, {flagRedundant, "redundant grain table"}, {flagZeroGrain, "zeroed-grain entries"},
		{flagCompressed, "compressed grains"}, {flagMarkers, "markers"}} {
		if v&b.bit != 0 {
			s = append(s, b.name)
			v &^= b.bit
		}
	}
	if v != 0 {
		s = append(s, fmt.Sprintf("unknown %#x", v))
	}
	return strings.Join(s, ", ")
}

func headerFields(name string, b []byte, base int64) model.Structure {
	f := &fieldBuf{*blockdev.NewFieldBuf(name, b, base, binary.LittleEndian)}
	f.St.Len = headerSize
	h := decodeHeader(b)
	m := f.Add("magicNumber", 0, 4, fmt.Sprintf("%#08x (%q)", h.Magic, b[:4]))
	m.Check = &model.Check{OK: h.Magic == Magic, Stored: fmt.Sprintf("%#08x", h.Magic), Computed: fmt.Sprintf("%#08x", Magic)}
	f.U32("version", 4)
	f.Add("flags", 8, 4, fmt.Sprintf("%#08x (%s)", h.Flags, flagNames(h.Flags)))
	f.sectors("capacity", 12)
	f.sectors("grainSize", 20)
	f.sectors("descriptorOffset", 28)
	f.sectors("descriptorSize", 36)
	f.U32("numGTEsPerGT", 44)
	f.sectors("rgdOffset", 48)
	f.sectors("gdOffset", 56)
	f.sectors("overHead", 64)
	f.Add("uncleanShutdown", 72, 1, fmt.Sprint(b[72]))
	f.char("singleEndLineChar", 73, '\n')
	f.char("nonEndLineChar", 74, ' ')
	f.char("doubleEndLineChar1", 75, '\r')
	f.char("doubleEndLineChar2", 76, '\n')
	alg := "none"
	switch h.CompressAlgorithm {
	case compressNone:
	case compressDeflate:
		alg = "deflate"
	default:
		alg = "unknown"
	}
	f.Add("compressAlgorithm", 77, 2, fmt.Sprintf("%d (%s)", h.CompressAlgorithm, alg))
	f.Add("pad", 79, headerSize-79, "")
	return f.St
}

// gdFieldsMax is the number of grain directory entries shown as fields.
const gdFieldsMax = 1024

func (sp *sparse) gdFields(name string, off int64) model.Structure {
	n := sp.gts
	st := model.Structure{Name: name, Off: off, Len: int(4 * n)}
	b := make([]byte, 4*min(n, gdFieldsMax))
	err := sp.f.readFull(b, off)
	for i := range int64(len(b) / 4) {
		v := ""
		if err != nil {
			v = err.Error()
		} else if e := binary.LittleEndian.Uint32(b[4*i:]); e == 0 {
			v = "0 (no grain table)"
		} else {
			v = fmt.Sprintf("sector %d (byte %d)", e, int64(e)*sectorSize)
		}
		st.Fields = append(st.Fields, model.Field{Name: fmt.Sprintf("grain table %d", i), Off: off + 4*i, Len: 4, Value: v})
	}
	return st
}

// descFields shows each line of the descriptor that says something; the
// parentCID of a child is checked against its parent's CID.
func (im *Image) descFields(name string) model.Structure {
	d := im.desc
	st := model.Structure{Name: name, Off: d.off, Len: len(d.text)}
	p, _ := im.parent.(*Image)
	for _, e := range d.entries {
		fl := model.Field{Name: e.key, Off: d.off + int64(e.off), Len: e.n, Value: e.value}
		if e.ext >= 0 {
			x := d.extents[e.ext]
			fl.Name = fmt.Sprintf("extent %d", e.ext+1)
			fl.Value = fmt.Sprintf("%s, %d sectors at byte %d of the disk", e.value, x.Sectors, x.start)
		}
		if strings.EqualFold(e.key, "parentCID") && p != nil && p.desc.hasCID && d.hasParentCID {
			fl.Check = &model.Check{OK: p.desc.cid == d.parentCID, Stored: fmt.Sprintf("%08x", d.parentCID), Computed: fmt.Sprintf("%08x", p.desc.cid)}
		}
		st.Fields = append(st.Fields, fl)
	}
	return st
}

func (sp *sparse) structures(prefix string) []model.Structure {
	out := []model.Structure{headerFields(prefix+"VMDK sparse extent header", sp.raw, 0)}
	out = append(out, sp.gdFields(fmt.Sprintf("%sVMDK grain directory (%s, in use)", prefix, sp.gdWhich), sp.gdOff))
	if sp.rgdOff != 0 {
		other := "redundant"
		if sp.gdWhich == "redundant" {
			other = "primary"
		}
		out = append(out, sp.gdFields(fmt.Sprintf("%sVMDK grain directory (%s)", prefix, other), sp.rgdOff))
	}
	if sp.footerRaw != nil {
		out = append(out, headerFields(prefix+"VMDK footer", sp.footerRaw, sp.footerOff))
	}
	return out
}

// Fields returns the image's structures with every field's absolute byte
// range in its file and its decoded value: the sparse extent header, the
// descriptor line by line, the grain directories (their first entries)
// and a stream-optimized extent's footer. The structures of a file other
// than the one opened are named after it ("disk-s002.vmdk: ...").
func (im *Image) Fields() []model.Structure {
	var out []model.Structure
	if im.mainSp != nil {
		out = append(out, im.mainSp.structures("")[0])
		if !im.desc.synthetic {
			out = append(out, im.descFields("VMDK embedded descriptor"))
		}
		out = append(out, im.mainSp.structures("")[1:]...)
	} else {
		out = append(out, im.descFields("VMDK descriptor"))
	}
	seen := map[*sparse]bool{im.mainSp: true}
	for _, x := range im.extents {
		if x.sp == nil || seen[x.sp] {
			continue
		}
		seen[x.sp] = true
		out = append(out, x.sp.structures(filepath.Base(x.sp.f.name)+": ")...)
	}
	return out
}
