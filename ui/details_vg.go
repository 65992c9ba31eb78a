package ui

import (
	"fmt"

	"github.com/charmbracelet/lipgloss"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// defaultOptions are the export options the details' verdict is for: the
// export command without flags.
var defaultOptions = job.Options{}

func vgDetails(d *detailsBuilder, v *vgView) {
	vg := v.vg
	m := vg.Meta
	if v.travelling() {
		d.para(d.st.App.Travel, fmt.Sprintf("⏪ AS IT WAS at seqno %d (%s); the current metadata is seqno %d",
			v.asOf.Seqno, format.Time(v.asOf.Created), v.current.Meta.Seqno))
		d.para(d.st.App.Travel, "   c: back to the current metadata")
	}
	d.section("Volume group " + m.Name)
	d.kv("uuid", m.UUID)
	d.kv("attr", vgAttr(m))
	d.kv("seqno", m.Seqno)
	u := extentUse(m)
	eb := m.ExtentBytes()
	d.kv("size", fmt.Sprintf("%s (%s)", format.SizeExact(int64(u.total)*eb), format.Count(int(u.total), "extent", "extents")))
	d.kv("free", fmt.Sprintf("%s (%s)", format.SizeExact(int64(u.total-min(u.used, u.total))*eb), format.Count(int(u.total-min(u.used, u.total)), "extent", "extents")))
	d.kv("extent size", fmt.Sprintf("%s (%d sectors)", format.Size(eb), m.ExtentSize))
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
	pvs := safe(fmt.Sprint(len(vg.PVs)))
	if missing > 0 {
		pvs += " " + paint(d.st.Check.Bad, fmt.Sprintf("(%d MISSING)", missing))
	}
	d.kv("PVs", pvs)
	d.kv("written", format.Time(m.CreationTime))
	d.kv("by", joinNonEmpty(" ", m.CreationHost, m.GeneratedBy))
	d.kv("description", m.Description)
	if vg.Source != nil && vg.Source.TextCopy != nil {
		d.kv("from", fmt.Sprintf("%s at %s", vg.Source.PV.Path, format.Offset(uint64(vg.Source.Off))))
	}
	if vg.Fallback != "" {
		d.para(d.st.Status.Warn, "! "+vg.Fallback)
	}
	if len(m.Anomalies) > 0 {
		d.section("Anomalies")
		for _, a := range m.Anomalies {
			d.line("! " + a)
		}
	}
	d.hint("m: metadata text · v: history of the metadata")
	d.problems(vg.Problems)
}

// pvExtent is a range of a PV's extents an LV uses.
type pvExtent struct {
	lv         string
	start, end uint64 // [start, end)
}

// vgExtents is how a VG's PVs are used: the ranges per PV label, sorted.
type vgExtents struct {
	total, used uint64
	byPV        map[string][]pvExtent
}

// extentUse adds up the extents the LVs of vg take on each PV. An area on
// a PV takes its segment's extents divided among the stripes.
func extentUse(vg *model.VG) vgExtents {
	u := vgExtents{byPV: map[string][]pvExtent{}}
	for _, pv := range vg.PVs {
		u.total += pv.PECount
	}
	for _, lv := range vg.LVs {
		for _, s := range lv.Segments {
			per := s.ExtentCount
			if s.Kind() == model.KindStriped && s.StripeCount > 0 {
				per = s.ExtentCount / s.StripeCount
			}
			for _, a := range s.Areas {
				if a.IsPV() {
					u.byPV[a.PV] = append(u.byPV[a.PV], pvExtent{lv.Name, a.Start, a.Start + per})
					u.used += per
				}
			}
		}
	}
	for _, r := range u.byPV {
		sort.Slice(r, func(i, j int) bool { return r[i].start < r[j].start })
	}
	return u
}

// freeRanges are the extents of a PV of pe extents that no range uses.
func freeRanges(used []pvExtent, pe uint64) [][2]uint64 {
	var out [][2]uint64
	next := uint64(0)
	for _, r := range used {
		if r.start > next {
			out = append(out, [2]uint64{next, min(r.start, pe)})
		}
		next = max(next, r.end)
	}
	if next < pe {
		out = append(out, [2]uint64{next, pe})
	}
	return out
}

func vgpvDetails(d *detailsBuilder, v *vgView, p *scan.VGPV) {
	m := p.Meta
	d.section("PV " + m.Label + " of VG " + v.vg.Meta.Name)
	d.kv("uuid", m.UUID)
	switch {
	case p.Missing:
		d.kv("state", paint(d.st.Check.Bad, "✗ MISSING: no input holds this PV"))
	case p.Stale:
		d.kv("state", paint(d.st.Check.Warn, fmt.Sprintf("! stale: its metadata is seqno %d", p.Seqno)))
	default:
		d.kv("state", paint(d.st.Check.Good, "✓ present"))
	}
	if p.PV != nil {
		d.kv("found in", fmt.Sprintf("%s at %s", p.PV.Path, format.Offset(uint64(p.PV.Offset))))
	}
	d.kv("device", m.Device)
	d.kv("dev_size", fmt.Sprintf("%s (%d sectors)", format.SizeExact(int64(m.DevSize)*model.SectorSize), m.DevSize))
	d.kv("pe_start", fmt.Sprintf("%d sectors (%s)", m.PEStart, format.Offset(m.PEStart*model.SectorSize)))
	eb := v.vg.Meta.ExtentBytes()
	d.kv("pe_count", fmt.Sprintf("%d (%s)", m.PECount, format.Size(int64(m.PECount)*eb)))
	d.kv("status", listText(m.Status))
	if len(m.Tags) > 0 {
		d.kv("tags", listText(m.Tags))
	}
	used := extentUse(v.vg.Meta).byPV[m.Label]
	free := freeRanges(used, m.PECount)
	var nfree uint64
	for _, f := range free {
		nfree += f[1] - f[0]
	}
	d.kv("free", fmt.Sprintf("%s (%s)", format.Size(int64(nfree)*eb), format.Count(int(nfree), "extent", "extents")))
	if len(used) > 0 {
		d.section("Extents in use")
		for _, u := range used {
			d.line(fmt.Sprintf("PE %5d–%-5d %s", u.start, u.end-1, u.lv))
		}
	}
	if len(free) > 0 {
		d.section("Free extents")
		for _, f := range free {
			d.line(fmt.Sprintf("PE %5d–%-5d %s", f[0], f[1]-1, format.Count(int(f[1]-f[0]), "extent", "extents")))
		}
	}
}

func lvDetails(d *detailsBuilder, n *node) {
	v, lv := n.vg, n.lv
	vg := v.vg.Meta
	if n.removed {
		d.para(d.st.App.Travel, "⏪ this LV no longer exists in the current metadata")
		if r := v.asOf.Reused[lv.Name]; r != "" {
			d.para(d.st.App.Travel, "   reused extents: "+r)
		}
	}
	title := "Logical volume " + vg.Name + "/" + lv.Name
	if n.hidden {
		title += " (hidden)"
	}
	d.section(title)
	d.kv("uuid", lv.UUID)
	if dev := n.dev; dev != nil {
		d.kv("device", dev.ID)
		holds := "nothing recognised"
		if dev.Content != nil {
			holds = dev.Content.Name
		}
		if v.travelling() {
			holds += " (as the current metadata maps it)"
		}
		d.kv("holds", holds)
	}
	f := d.s.facts(v.vg, lv)
	if f == nil {
		// What the metadata alone says, until the disks were read.
		f = n.cheap
		if f == nil {
			f = cheapFacts(d.s.resolver(v.vg), lv)
		}
	}
	factsSummary(d, vg, lv, f)
	if v.travelling() && (f.Snapshot != nil || f.ThinPool != nil || f.Thin != nil || f.Cache != nil) {
		d.para(d.st.Muted, "(a past generation: how full it was is not shown, the disks hold today's data)")
	}
	d.section("Export")
	if vd, _ := d.s.verdictCached(v.vg, lv, defaultOptions); vd != nil {
		for _, l := range vd.Lines() {
			d.para(verdictStyle(d.st, l), l)
		}
	} else {
		d.line(d.s.waiting("checking what an export would read…"))
	}
	factsSections(d, f)
	d.section("Metadata")
	d.kv("segments", len(lv.Segments))
	d.kv("status", listText(lv.Status))
	if len(lv.Flags) > 0 {
		d.kv("flags", listText(lv.Flags))
	}
	if len(lv.Tags) > 0 {
		d.kv("tags", listText(lv.Tags))
	}
	d.kv("created", joinNonEmpty(" on ", format.Time(lv.CreationTime), lv.CreationHost))
	d.section("Mapping")
	for i, s := range lv.Segments {
		d.line(fmt.Sprintf("%s  LE %d–%d  %s", format.Segment(i), s.StartExtent, s.StartExtent+s.ExtentCount-1, segSummary(s)))
	}
	d.hint("e: export · x: hex view of the LV's bytes")
}

// verdictStyle is the style of one line of job.Verdict.Lines, by its first
// glyph.
func verdictStyle(st *Styles, l string) lipgloss.Style {
	switch {
	case strings.HasPrefix(l, "✓"):
		return st.Check.Good
	case strings.HasPrefix(l, "✗"):
		return st.Check.Bad
	case strings.HasPrefix(l, "!"):
		return st.Check.Warn
	}
	return lipgloss.NewStyle()
}

// segSummary is a segment in one line: its type, stripes and areas.
func segSummary(s *model.Segment) string {
	var areas []string
	for _, a := range s.Areas {
		areas = append(areas, areaName2(a))
	}
	out := format.SegType(s)
	if s.StripeCount > 1 && s.Kind() == model.KindStriped {
		out += fmt.Sprintf(" ×%d", s.StripeCount)
		if s.StripeSize > 0 {
			out += fmt.Sprintf(" (%s stripes)", format.Size(int64(s.StripeSize)*model.SectorSize))
		}
	}
	if len(areas) > 0 {
		out += " → " + strings.Join(areas, ", ")
	}
	return out
}

// deviceWord says what a segment's areas are: stripes of striped and
// raid0 segments, legs of a mirror or raid1, images of the other raid
// levels.
func deviceWord(s *model.Segment) string {
	switch s.Kind() {
	case model.KindStriped:
		return "stripes"
	case model.KindMirror:
		return "legs"
	case model.KindRAID:
		if s.RAID != nil {
			switch s.RAID.Level {
			case "raid0", "raid0_meta":
				return "stripes"
			case "raid1":
				return "legs (images)"
			}
		}
		return "images"
	}
	return "areas"
}

func segDetails(d *detailsBuilder, n *node) {
	s := n.segment()
	vg := n.vg.vg.Meta
	eb := vg.ExtentBytes()
	d.section(fmt.Sprintf("%s of %s/%s", strings.ToUpper(format.Segment(n.seg)[:1])+format.Segment(n.seg)[1:], vg.Name, n.lv.Name))
	d.kv("type", format.SegType(s))
	if format.SegType(s) != s.Type {
		d.kv("written as", fmt.Sprintf("%q with stripe_count %d", s.Type, s.StripeCount))
	}
	d.kv("extents", fmt.Sprintf("LE %d–%d (%d)", s.StartExtent, s.StartExtent+s.ExtentCount-1, s.ExtentCount))
	d.kv("LV bytes", fmt.Sprintf("%s–%s", format.Offset(s.StartExtent*uint64(eb)), format.Offset((s.StartExtent+s.ExtentCount)*uint64(eb))))
	if s.StripeCount > 0 {
		d.kv(deviceWord(s), s.StripeCount)
	}
	if s.StripeSize > 0 {
		d.kv("stripe size", format.Size(int64(s.StripeSize)*model.SectorSize))
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
	if n.kind == kArea {
		d.hint("x: hex view of this area's first extent on its PV")
	} else {
		d.hint("x: hex view of the LV at this segment")
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
		off := pv.PEStart*model.SectorSize + a.Start*uint64(vg.ExtentBytes())
		line += " at PV byte " + format.Offset(off)
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
