package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

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
		d.kvStyled("state", d.st.Check.Bad.Render("✗ MISSING: no input holds this PV"))
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
	d.section("Export")
	for _, note := range lvExportNotes(n) {
		d.line(note)
	}
	d.line("")
	d.line(d.st.Muted.Render("e: export · x: hex view of the LV's bytes"))
}

// lvExportNotes says whether the LV can be exported from the inputs and
// what its layers reported: images treated as missing and rebuilt from
// parity or another leg, superblock and sync findings.
func lvExportNotes(n *node) []string {
	if n.exportNotes != nil {
		return n.exportNotes
	}
	r := volume.FromScan(n.vg.vg)
	notes := []string{}
	if _, err := r.OpenLV(n.lv); err != nil {
		notes = append(notes, "✗ cannot export: "+err.Error())
	} else {
		notes = append(notes, "✓ can be exported")
	}
	for i, s := range n.lv.Segments {
		if s.Kind() != model.KindRAID && s.Kind() != model.KindMirror {
			continue
		}
		a, err := raid.OpenSegment(r, n.lv, i)
		if err != nil {
			continue
		}
		for _, note := range a.Notes() {
			notes = append(notes, fmt.Sprintf("seg %d: %s", i, note))
		}
	}
	n.exportNotes = notes
	return notes
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
