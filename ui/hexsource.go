package ui

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// hexTarget is what the hex view opens for a node: a source ready to
// read (an input, a PV), or an LV to open first (make builds its source
// once it is open).
type hexTarget struct {
	src  *hexSource
	off  int64
	vg   *scan.VG
	lv   *model.LV
	make func(export.Source) *hexSource
	name string
	// file is a container's file to open first (one other than the
	// input's own); in the input whose container it is.
	file *containerFile
	in   *scan.InputResult
}

// hexTarget returns the hex view's target for a node, or an error saying
// why the node has no bytes to show.
func targetOf(n *node) (hexTarget, error) {
	ready := func(src *hexSource, off int64) (hexTarget, error) { return hexTarget{src: src, off: off}, nil }
	switch n.kind {
	case kInput, kContainer, kContainerFile:
		if n.in.File == nil {
			return ready(inputSource(n.in), 0)
		}
		f := n.file
		if f == nil || f.first {
			return ready(fileSource(n.in, f, n.in.File.Device(), n.in.File.Size), firstOffset(f))
		}
		return hexTarget{file: f, in: n.in, off: firstOffset(f), name: f.name}, nil
	case kHolds, kPartTable:
		return ready(inputSource(n.in), 0)
	case kPartition:
		return ready(inputSource(n.in), n.part.Start)
	case kPV, kLabel:
		return ready(pvSource(n.pv), n.pv.Label.Struct.Off)
	case kPVHeader:
		return ready(pvSource(n.pv), n.pv.Label.Header.Struct.Off)
	case kMDA, kMDAHeader:
		return ready(pvSource(n.pv), n.mda.AbsOff)
	case kCopy:
		if n.cp.TextCopy == nil {
			return ready(pvSource(n.pv), n.mda.AbsOff)
		}
		return ready(pvSource(n.pv), n.cp.Off)
	case kVGPV:
		if n.vgpv.PV == nil {
			return hexTarget{}, fmt.Errorf("PV %s is missing: no input holds it", n.vgpv.Meta.UUID)
		}
		return ready(pvSource(n.vgpv.PV), n.vgpv.PV.Offset+int64(n.vgpv.Meta.PEStart)*model.SectorSize)
	case kLV:
		return lvTarget(n.vg.vg, n.lv, 0), nil
	case kSegment:
		return lvTarget(n.vg.vg, n.lv, int64(n.segment().StartExtent)*n.vg.vg.Meta.ExtentBytes()), nil
	case kArea:
		return areaTarget(n)
	case kMD:
		if n.in == nil {
			return hexTarget{}, fmt.Errorf("md array %s was not read: its members are rows of their own", n.name)
		}
		return ready(inputSource(n.in), 0)
	case kMDMember, kMDSuper, kMDBitmap:
		return memberTarget(n)
	case kLUKS:
		if n.in != nil {
			return ready(inputSource(n.in), 0) // the decrypted bytes
		}
		return luksTarget(n)
	case kLUKSSlot, kLUKSHeader:
		return luksTarget(n)
	}
	return hexTarget{}, fmt.Errorf("%s has no bytes of its own: select a structure, a PV or an LV", n.name)
}

func inputSource(in *scan.InputResult) *hexSource {
	var fs []model.Field
	if t := in.Partitions; t != nil {
		for _, s := range t.Fields {
			fs = append(fs, s.Fields...)
		}
	}
	for _, pv := range in.PVs {
		fs = append(fs, pvFields(pv)...)
	}
	// An md member's superblock and bitmap: the input's own, and its
	// partitions' (their offsets are from the partition's start).
	fs = append(fs, mdFields(in.Node, 0)...)
	for _, p := range in.PartNodes {
		fs = append(fs, mdFields(p, p.Offset)...)
	}
	// A LUKS header: the input's own, and its partitions'.
	fs = append(fs, luksFields(in.Node, 0)...)
	for _, p := range in.PartNodes {
		fs = append(fs, luksFields(p, p.Offset)...)
	}
	if isLVInput(in) {
		src := &hexSource{title: "LV " + in.Path, unit: "LV", r: in.ReaderAt(), start: 0, end: in.Size, fields: tidyFields(fs)}
		if d, ok := in.Device().(interface{ Source() export.Source }); ok {
			src.lv = d.Source() // what is missing is shown as such
		}
		return src
	}
	title, unit := filepath.Base(in.Path), "input"
	if in.File != nil {
		title += " (" + containerName(in.Node.Kind) + " virtual disk)"
	}
	if in.Node != nil && in.Node.Kind == scan.KindMD {
		title, unit = in.Path+" ("+in.Node.ID+")", "array"
	}
	if in.Node != nil && in.Node.Kind == scan.KindLUKS {
		title, unit = in.Path+" ("+in.Node.ID+", decrypted)", "volume"
	}
	return &hexSource{title: title, unit: unit, r: in.ReaderAt(), start: 0, end: in.Size, fields: tidyFields(fs)}
}

// memberTarget is an md member device's bytes, read through the device
// (a partition's from its start, as the superblock's offsets count),
// with its superblock and bitmap named, at the row's structure.
func memberTarget(n *node) (hexTarget, error) {
	d := n.dev
	if d == nil || d.MD == nil || d.Device() == nil {
		return hexTarget{}, fmt.Errorf("%s: the member's device is not in the graph", n.name)
	}
	off := d.MD.Offset
	if n.kind == kMDBitmap {
		if st, ok := mdStructure(d, "md_bitmap"); ok {
			off = st.Off
		}
	}
	title := "md member " + d.ID
	if n.arr != nil {
		title += " of " + n.arr.ID
	}
	title += " (" + d.Label + ")"
	src := &hexSource{title: title, unit: "member", r: d.Device(), start: 0, end: d.Size, fields: tidyFields(mdFields(d, 0))}
	return hexTarget{src: src, off: off}, nil
}

// fileSource is a file of a container: its bytes, with the fields of the
// container's structures that are in it.
func fileSource(in *scan.InputResult, f *containerFile, r io.ReaderAt, size int64) *hexSource {
	var fs []model.Field
	name := filepath.Base(in.Path)
	if f != nil {
		name = f.name
		for _, st := range f.structs {
			fs = append(fs, st.Fields...)
		}
	}
	return &hexSource{title: name + " (" + containerName(in.Node.Kind) + " container file)", unit: "file", r: r, start: 0, end: size,
		fields: tidyFields(fs)}
}

// firstOffset is where the first structure of a file is.
func firstOffset(f *containerFile) int64 {
	if f == nil || len(f.structs) == 0 {
		return 0
	}
	off := f.structs[0].Off
	for _, st := range f.structs {
		off = min(off, st.Off)
	}
	return max(off, 0)
}

func pvSource(pv *scan.PV) *hexSource {
	title := fmt.Sprintf("PV %s on %s", shortUUID(pv.UUID()), filepath.Base(pv.Path))
	return &hexSource{title: title, unit: "input", r: pv.Input.ReaderAt(), start: pv.Offset, end: pv.Offset + pv.Size,
		fields: tidyFields(pvFields(pv))}
}

// pvFields lists the named fields of every structure of a PV, plus one
// field per metadata text region, with its checksum.
func pvFields(pv *scan.PV) []model.Field {
	var fs []model.Field
	fs = append(fs, pv.Label.Struct.Fields...)
	if pv.Label.Header != nil {
		fs = append(fs, pv.Label.Header.Struct.Fields...)
	}
	for _, m := range pv.MDAs {
		if m.Header != nil {
			fs = append(fs, m.Header.Struct.Fields...)
		}
		for _, c := range []*scan.Copy{m.Committed, m.Precommitted} {
			if c == nil || c.TextCopy == nil || c.Size == 0 {
				continue
			}
			val := fmt.Sprintf("%d bytes", c.Size)
			if c.VG != nil {
				val = fmt.Sprintf("VG %s seqno %d, %d bytes", c.VG.Name, c.VG.Seqno, c.Size)
			}
			chk := &model.Check{OK: c.CRCOK, Stored: fmt.Sprintf("%#08x", c.Stored), Computed: fmt.Sprintf("%#08x", c.Computed)}
			name := fmt.Sprintf("mda%d text (raw_locn[%d])", m.Index, c.Slot)
			first := c.Size - c.WrapSize
			fs = append(fs, model.Field{Name: name, Off: c.Off, Len: int(first), Value: val, Check: chk})
			if c.Wrapped && c.WrapSize > 0 {
				fs = append(fs, model.Field{Name: name + " wrapped part", Off: m.AbsOff + 512, Len: int(c.WrapSize), Value: val, Check: chk})
			}
		}
	}
	return fs
}

// tidyFields sorts fields and drops empty ones and ones that overlap an
// earlier field, so that every byte belongs to at most one.
func tidyFields(fs []model.Field) []model.Field {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Off < fs[j].Off })
	out := fs[:0]
	var end int64 = -1
	for _, f := range fs {
		if f.Len <= 0 || f.Off < end {
			continue
		}
		out = append(out, f)
		end = f.Off + int64(f.Len)
	}
	return out
}

// lvTarget is an LV's bytes through the export resolver, so the hex view
// shows exactly what an export would write.
func lvTarget(vg *scan.VG, lv *model.LV, off int64) hexTarget {
	m := vg.Meta
	eb := m.ExtentBytes()
	var fs []model.Field
	for i, s := range lv.Segments {
		fs = append(fs, model.Field{Name: format.Segment(i), Off: int64(s.StartExtent) * eb,
			Len: int(min(int64(s.ExtentCount)*eb, 1<<40)), Value: segSummary(s)})
	}
	fs = tidyFields(fs)
	title := "LV " + m.Name + "/" + lv.Name
	return hexTarget{vg: vg, lv: lv, off: off, name: title, make: func(src export.Source) *hexSource {
		return &hexSource{title: title, unit: "LV", lv: src, start: 0, end: src.Size(), fields: fs, regions: true}
	}}
}

func areaTarget(n *node) (hexTarget, error) {
	a, ok := n.areaRef()
	if !ok {
		return hexTarget{}, fmt.Errorf("no such area")
	}
	vg := n.vg.vg
	if !a.IsPV() {
		sub := vg.Meta.LV(a.LV)
		if sub == nil {
			return hexTarget{}, fmt.Errorf("LV %s is not in the metadata", a.LV)
		}
		return lvTarget(vg, sub, int64(a.Start)*vg.Meta.ExtentBytes()), nil
	}
	p := vg.PVFor(a.PV)
	if p == nil || p.PV == nil {
		return hexTarget{}, fmt.Errorf("PV %s is missing: no input holds it", a.PV)
	}
	off := p.PV.Offset + int64(p.Meta.PEStart)*model.SectorSize + int64(a.Start)*vg.Meta.ExtentBytes()
	return hexTarget{src: pvSource(p.PV), off: off}, nil
}
