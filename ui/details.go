package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// detailsBuilder collects the lines of the details pane.
type detailsBuilder struct {
	st    *Styles
	width int
	lines []string
}

func (d *detailsBuilder) section(title string) {
	if len(d.lines) > 0 {
		d.lines = append(d.lines, "")
	}
	d.lines = append(d.lines, wrapText(d.st.Details.Section.Render(title), d.width)...)
}

// keyWidth is the width of the key column of the details pane.
const keyWidth = 15

// kv adds "key  value", wrapping a long value under itself.
func (d *detailsBuilder) kv(k string, v any) {
	val := fmt.Sprint(v)
	vw := d.width - keyWidth
	if vw < 12 {
		d.lines = append(d.lines, wrapText(d.st.Details.Key.Render(k)+" "+val, d.width)...)
		return
	}
	for i, l := range wrapText(val, vw) {
		key := strings.Repeat(" ", keyWidth)
		if i == 0 {
			key = d.st.Details.Key.Render(fmt.Sprintf("%-*s", keyWidth-1, k)) + " "
		}
		d.lines = append(d.lines, key+l)
	}
}

// line adds a line, wrapped to the pane.
func (d *detailsBuilder) line(s string) {
	if s == "" {
		d.lines = append(d.lines, "")
		return
	}
	d.lines = append(d.lines, wrapText(s, d.width)...)
}

func (d *detailsBuilder) check(k string, c model.Check) {
	if c.OK {
		d.kv(k, d.st.Check.Good.Render("✓ ok")+" "+c.Stored)
		return
	}
	d.kv(k, d.st.Check.Bad.Render("✗ BAD")+fmt.Sprintf(" stored %s, computed %s", c.Stored, c.Computed))
}

func (d *detailsBuilder) problems(ps []scan.Problem) {
	if len(ps) == 0 {
		return
	}
	d.section(fmt.Sprintf("Problems (%d)", len(ps)))
	for _, p := range ps {
		st := d.st.Status.Warn
		glyph := "!"
		if p.Severity == scan.SevError {
			st, glyph = d.st.Status.Err, "✗"
		} else if p.Severity == scan.SevInfo {
			st, glyph = d.st.Muted, "i"
		}
		d.line(st.Render(glyph + " " + p.String()))
	}
}

// detailsLines describes a node: what it is, its decoded values and the
// problems found in it, with the keys that open more views.
func detailsLines(st *Styles, n *node, width int) []string {
	d := &detailsBuilder{st: st, width: max(width, 20)}
	if n == nil {
		d.line("nothing selected")
		return d.lines
	}
	switch n.kind {
	case kInput:
		in := n.in
		d.section("Input " + in.Path)
		kind := "image file"
		if in.IsDevice {
			kind = "block device"
		}
		d.kv("kind", kind)
		d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(in.Size), in.Size))
		d.kv("PVs found", len(in.PVs))
		if in.Partitions != nil {
			d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
		} else {
			d.kv("partitions", "no partition table")
		}
		d.line("")
		d.line(st.Muted.Render("x: hex view of the whole input, read on demand"))
		d.problems(in.Problems)
	case kPartTable:
		t := n.table
		d.section(strings.ToUpper(t.Kind) + " partition table")
		d.kv("sector size", t.SectorSize)
		if t.DiskGUID != "" {
			d.kv("disk GUID", t.DiskGUID)
		}
		d.kv("partitions", len(t.Partitions))
		if len(t.Problems) > 0 {
			d.section(fmt.Sprintf("Problems (%d)", len(t.Problems)))
			for _, p := range t.Problems {
				d.line(st.Status.Warn.Render("! " + p))
			}
		}
	case kPartition:
		p := n.part
		d.section(fmt.Sprintf("Partition %d", p.Index))
		d.kv("start", offText(p.Start))
		d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(p.Size), p.Size))
		d.kv("type", joinNonEmpty(" ", p.Type, p.TypeName))
		if p.Name != "" {
			d.kv("name", p.Name)
		}
		if p.UUID != "" {
			d.kv("GUID", p.UUID)
		}
		if p.Extended {
			d.kv("extended", "yes (container of logical partitions)")
		}
	case kPV:
		pvDetails(d, n.pv)
	case kLabel:
		lb := n.pv.Label
		d.section(fmt.Sprintf("Label in sector %d", lb.Sector))
		if lb.Weak {
			d.line(st.Status.Warn.Render("! weak label: no LABELONE, accepted by its type alone"))
		}
		fieldsDetails(d, lb.Struct)
		d.line("")
		d.line(st.Muted.Render("x: hex view with every field named"))
	case kPVHeader:
		h := n.pv.Label.Header
		d.section("pv_header")
		d.kv("pv_uuid", model.DashedUUID(h.UUID))
		d.kv("device_size", fmt.Sprintf("%d (%s)", h.DeviceSize, sizeText(int64(h.DeviceSize))))
		for i, a := range h.DataAreas {
			d.kv(fmt.Sprintf("data area %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
		}
		for i, a := range h.MetadataAreas {
			d.kv(fmt.Sprintf("mda %d", i+1), fmt.Sprintf("offset %d size %s", a.Offset, sizeText(int64(a.Size))))
		}
		if h.HasExtension {
			d.kv("extension", fmt.Sprintf("version %d flags %#x", h.ExtVersion, h.ExtFlags))
			for i, a := range h.BootloaderAreas {
				d.kv(fmt.Sprintf("bootloader %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
			}
		}
		d.line("")
		d.line(st.Muted.Render("x: hex view with every field named"))
	case kMDA:
		mdaDetails(d, n.mda)
	case kMDAHeader:
		mdaDetails(d, n.mda)
	case kCopy:
		copyDetails(d, n.cp)
	case kVG:
		vgDetails(d, n.vg)
	case kVGPVs:
		d.section("Physical volumes of VG " + n.vg.vg.Meta.Name)
		for _, p := range n.vg.vg.PVs {
			state := st.Check.Good.Render("present")
			if p.Missing {
				state = st.Check.Bad.Render("MISSING")
			} else if p.Stale {
				state = st.Check.Warn.Render("stale")
			}
			d.line(fmt.Sprintf("%s %s %s", p.Meta.Label, p.Meta.UUID, state))
		}
	case kVGPV:
		vgpvDetails(d, n.vg, n.vgpv)
	case kLV:
		lvDetails(d, n)
	case kSegment, kArea:
		segDetails(d, n)
	}
	return d.lines
}

func fieldsDetails(d *detailsBuilder, s model.Structure) {
	d.section(fmt.Sprintf("%s: %d bytes at %s", s.Name, s.Len, offText(s.Off)))
	for _, f := range s.Fields {
		v := f.Value
		if f.Check != nil {
			if f.Check.OK {
				v += " " + d.st.Check.Good.Render("✓")
			} else {
				v += " " + d.st.Check.Bad.Render("✗ computed "+f.Check.Computed)
			}
		}
		d.kv(f.Name, v)
	}
}

func pvDetails(d *detailsBuilder, pv *scan.PV) {
	d.section("Physical volume " + pv.UUID())
	d.kv("input", pv.Path)
	d.kv("offset", offText(pv.Offset))
	if pv.Partition > 0 {
		d.kv("partition", pv.Partition)
	}
	d.kv("readable", fmt.Sprintf("%s (%d bytes)", sizeText(pv.Size), pv.Size))
	d.kv("device_size", fmt.Sprintf("%s (%d bytes)", sizeText(int64(pv.Label.Header.DeviceSize)), pv.Label.Header.DeviceSize))
	d.kv("label sector", pv.Label.Sector)
	d.check("label crc", pv.Label.CRC)
	d.kv("metadata areas", len(pv.MDAs))
	for _, m := range pv.MDAs {
		if c := m.Committed; c != nil && c.VG != nil {
			d.kv(fmt.Sprintf("mda%d holds", m.Index), fmt.Sprintf("VG %s seqno %d", c.VG.Name, c.VG.Seqno))
		}
	}
	d.line("")
	d.line(d.st.Muted.Render("x: hex view of the whole PV, read on demand"))
	d.problems(pv.Problems)
}

func mdaDetails(d *detailsBuilder, m *scan.MDA) {
	d.section(fmt.Sprintf("Metadata area %d", m.Index))
	d.kv("at", offText(m.AbsOff))
	d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(int64(m.Locn.Size)), m.Locn.Size))
	if h := m.Header; h != nil {
		d.check("header crc", h.Checksum)
		magic := d.st.Check.Good.Render("✓")
		if !h.MagicOK {
			magic = d.st.Check.Bad.Render("✗ bad magic")
		}
		d.kv("magic", magic)
		d.kv("version", h.Version)
		d.kv("start", h.Start)
		d.kv("size (header)", h.Size)
		for i, s := range h.Slots {
			v := "empty"
			if !s.Empty() {
				v = fmt.Sprintf("offset %d size %d crc %#08x", s.Offset, s.Size, s.Checksum)
				if s.Ignored() {
					v += " IGNORED"
				}
			}
			d.kv(fmt.Sprintf("raw_locn[%d]", i), v)
		}
	} else {
		d.line(d.st.Check.Bad.Render("✗ the header could not be decoded"))
	}
	d.line("")
	d.line(d.st.Muted.Render("x: hex view of the header; select a copy and m for its text"))
	d.problems(m.Problems)
}

func copyDetails(d *detailsBuilder, c *scan.Copy) {
	what := "Committed"
	if c.Slot == 1 {
		what = "Precommitted"
	}
	d.section(what + " metadata (raw_locn[" + fmt.Sprint(c.Slot) + "])")
	if c.TextCopy == nil {
		d.line(d.st.Check.Bad.Render("✗ the text could not be read"))
		return
	}
	d.kv("at", offText(c.Off))
	d.kv("size", fmt.Sprintf("%d bytes", c.Size))
	if c.Wrapped {
		d.kv("wrapped", fmt.Sprintf("yes, %d bytes continue at the area start", c.WrapSize))
	}
	d.check("text crc", model.Check{OK: c.CRCOK, Stored: fmt.Sprintf("%#08x", c.Stored), Computed: fmt.Sprintf("%#08x", c.Computed)})
	if c.Ignored {
		d.kv("flags", "IGNORED (possibly stale)")
	}
	if c.VG != nil {
		d.kv("VG", c.VG.Name)
		d.kv("seqno", c.VG.Seqno)
		d.kv("written", timeText(c.VG.CreationTime))
		d.kv("by", c.VG.CreationHost)
		d.kv("description", c.VG.Description)
	}
	if c.ParseErr != nil {
		d.line(d.st.Check.Bad.Render("✗ does not parse: " + c.ParseErr.Error()))
	}
	d.line("")
	d.line(d.st.Muted.Render("m: metadata text · x: hex view of the text"))
}

func vgDetails(d *detailsBuilder, v *vgView) {
	vg := v.vg
	m := vg.Meta
	if v.travelling() {
		d.line(d.st.App.Travel.Render(fmt.Sprintf("⏪ AS IT WAS at seqno %d (%s); the current metadata is seqno %d",
			v.asOf.Seqno, timeText(v.asOf.Created), v.current.Meta.Seqno)))
		d.line(d.st.App.Travel.Render("   c: back to the current metadata"))
	}
	d.section("Volume group " + m.Name)
	d.kv("uuid", m.UUID)
	d.kv("seqno", m.Seqno)
	d.kv("extent size", fmt.Sprintf("%s (%d sectors)", sizeText(m.ExtentBytes()), m.ExtentSize))
	d.kv("status", listText(m.Status))
	if len(m.Flags) > 0 {
		d.kv("flags", listText(m.Flags))
	}
	if len(m.Tags) > 0 {
		d.kv("tags", listText(m.Tags))
	}
	var shown, hidden int
	for _, s := range v.shown() {
		if s {
			shown++
		} else {
			hidden++
		}
	}
	d.kv("LVs", fmt.Sprintf("%d (+%d hidden)", shown, hidden))
	missing := 0
	for _, p := range vg.PVs {
		if p.Missing {
			missing++
		}
	}
	pvs := fmt.Sprint(len(vg.PVs))
	if missing > 0 {
		pvs += d.st.Check.Bad.Render(fmt.Sprintf(" (%d MISSING)", missing))
	}
	d.kv("PVs", pvs)
	d.kv("written", timeText(m.CreationTime))
	d.kv("by", joinNonEmpty(" ", m.CreationHost, m.GeneratedBy))
	d.kv("description", m.Description)
	if vg.Source != nil && vg.Source.TextCopy != nil {
		d.kv("from", fmt.Sprintf("%s at %s", vg.Source.PV.Path, offText(vg.Source.Off)))
	}
	if vg.Fallback != "" {
		d.line(d.st.Status.Warn.Render("! " + vg.Fallback))
	}
	if len(m.Anomalies) > 0 {
		d.section("Anomalies")
		for _, a := range m.Anomalies {
			d.line("! " + a)
		}
	}
	d.line("")
	d.line(d.st.Muted.Render("m: metadata text · v: history of the metadata"))
	d.problems(vg.Problems)
}

func vgpvDetails(d *detailsBuilder, v *vgView, p *scan.VGPV) {
	m := p.Meta
	d.section("PV " + m.Label + " of VG " + v.vg.Meta.Name)
	d.kv("uuid", m.UUID)
	if p.Missing {
		d.kv("state", d.st.Check.Bad.Render("✗ MISSING: no input holds this PV"))
	} else {
		state := d.st.Check.Good.Render("✓ present")
		if p.Stale {
			state = d.st.Check.Warn.Render(fmt.Sprintf("! stale: its metadata is seqno %d", p.Seqno))
		}
		d.kv("state", state)
		d.kv("found in", fmt.Sprintf("%s at %s", p.PV.Path, offText(p.PV.Offset)))
	}
	d.kv("device", m.Device)
	d.kv("dev_size", fmt.Sprintf("%s (%d sectors)", sizeText(int64(m.DevSize)*model.SectorSize), m.DevSize))
	d.kv("pe_start", fmt.Sprintf("%d sectors (%s)", m.PEStart, offText(int64(m.PEStart)*model.SectorSize)))
	d.kv("pe_count", m.PECount)
	d.kv("status", listText(m.Status))
	// Which LVs use this PV, with their extent ranges.
	type use struct {
		lv         string
		start, end uint64
	}
	var uses []use
	for _, lv := range v.vg.Meta.LVs {
		for _, s := range lv.Segments {
			per := s.ExtentCount
			if s.Kind() == model.KindStriped && s.StripeCount > 0 {
				per = s.ExtentCount / s.StripeCount
			}
			for _, a := range s.Areas {
				if a.PV == m.Label {
					uses = append(uses, use{lv.Name, a.Start, a.Start + per})
				}
			}
		}
	}
	if len(uses) > 0 {
		d.section("Extents in use")
		for _, u := range uses {
			d.line(fmt.Sprintf("PE %5d–%-5d %s", u.start, u.end-1, u.lv))
		}
	}
}

func lvDetails(d *detailsBuilder, n *node) {
	v, lv := n.vg, n.lv
	vg := v.vg.Meta
	if n.removed {
		d.line(d.st.App.Travel.Render("⏪ this LV no longer exists in the current metadata"))
		if r := v.asOf.Reused[lv.Name]; r != "" {
			d.line(d.st.App.Travel.Render("   reused extents: " + r))
		}
	}
	title := "Logical volume " + vg.Name + "/" + lv.Name
	if n.hidden {
		title += " (hidden)"
	}
	d.section(title)
	d.kv("uuid", lv.UUID)
	size := vg.LVSize(lv)
	d.kv("size", fmt.Sprintf("%s (%d bytes, %d extents)", sizeText(size), size, lv.ExtentCount()))
	d.kv("type", lvTypes(lv))
	d.kv("segments", len(lv.Segments))
	d.kv("status", listText(lv.Status))
	if len(lv.Flags) > 0 {
		d.kv("flags", listText(lv.Flags))
	}
	if len(lv.Tags) > 0 {
		d.kv("tags", listText(lv.Tags))
	}
	d.kv("created", joinNonEmpty(" on ", timeText(lv.CreationTime), lv.CreationHost))
	d.section("Mapping")
	for i, s := range lv.Segments {
		d.line(fmt.Sprintf("seg %d  LE %d–%d  %s", i, s.StartExtent, s.StartExtent+s.ExtentCount-1, segSummary(s)))
	}
	d.line("")
	d.line(d.st.Muted.Render("e: export · x: hex view of the LV's bytes"))
}

func segSummary(s *model.Segment) string {
	var areas []string
	for _, a := range s.Areas {
		areas = append(areas, areaName2(a))
	}
	out := segType(s)
	if s.StripeCount > 1 && s.Kind() == model.KindStriped {
		out += fmt.Sprintf(" ×%d", s.StripeCount)
		if s.StripeSize > 0 {
			out += fmt.Sprintf(" (%s stripes)", sizeText(int64(s.StripeSize)*model.SectorSize))
		}
	}
	if len(areas) > 0 {
		out += " → " + strings.Join(areas, ", ")
	}
	return out
}

func segDetails(d *detailsBuilder, n *node) {
	s := n.segment()
	vg := n.vg.vg.Meta
	eb := vg.ExtentBytes()
	d.section(fmt.Sprintf("Segment %d of %s/%s", n.seg, vg.Name, n.lv.Name))
	d.kv("type", segType(s))
	if segType(s) != s.Type {
		d.kv("written as", fmt.Sprintf("%q with stripe_count 1", s.Type))
	}
	d.kv("extents", fmt.Sprintf("LE %d–%d (%d)", s.StartExtent, s.StartExtent+s.ExtentCount-1, s.ExtentCount))
	d.kv("LV bytes", fmt.Sprintf("%s–%s", offText(int64(s.StartExtent)*eb), offText(int64(s.StartExtent+s.ExtentCount)*eb)))
	if s.StripeCount > 0 {
		d.kv("stripes", s.StripeCount)
	}
	if s.StripeSize > 0 {
		d.kv("stripe size", sizeText(int64(s.StripeSize)*model.SectorSize))
	}
	if len(s.Tags) > 0 {
		d.kv("tags", listText(s.Tags))
	}
	d.section("Areas")
	for _, a := range s.Areas {
		d.line(areaLine(vg, n.vg.vg, s, a))
	}
	for _, a := range s.MetaAreas {
		if a.LV != "" || a.PV != "" {
			d.line("meta " + areaLine(vg, n.vg.vg, s, a))
		}
	}
	if len(s.Params) > 0 {
		d.section("Parameters")
		for _, p := range s.Params {
			d.kv(p.Key, paramText(p.Value))
		}
	}
	d.line("")
	if n.kind == kArea {
		d.line(d.st.Muted.Render("x: hex view of this area's first extent on its PV"))
	} else {
		d.line(d.st.Muted.Render("x: hex view of the LV at this segment"))
	}
}

func areaLine(vg *model.VG, svg *scan.VG, s *model.Segment, a model.Area) string {
	if !a.IsPV() {
		return fmt.Sprintf("LV %s from LE %d", a.LV, a.Start)
	}
	per := s.ExtentCount
	if s.Kind() == model.KindStriped && s.StripeCount > 0 {
		per = s.ExtentCount / s.StripeCount
	}
	line := fmt.Sprintf("%s PE %d–%d", a.PV, a.Start, a.Start+per-1)
	if pv := vg.PVByLabel(a.PV); pv != nil {
		off := int64(pv.PEStart)*model.SectorSize + int64(a.Start)*vg.ExtentBytes()
		line += " at PV byte " + offText(off)
		if p := svg.PVFor(a.PV); p != nil && p.Missing {
			line += " (PV MISSING)"
		}
	}
	return line
}

func paramText(v any) string {
	switch x := v.(type) {
	case []model.Param:
		var parts []string
		for _, p := range x {
			parts = append(parts, p.Key+"="+paramText(p.Value))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}
