// Package record builds the provenance record written beside an exported
// image: which inputs, which VG generation, where every byte came from,
// the checksum status of the metadata used, and what later generations
// did to the extents of an LV recovered from an old one.
package record

import (
	"fmt"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// Build assembles the provenance record of an export of lv from vg (the
// generation used), found on the inputs of res, made by the given tool
// version.
func Build(res *scan.Result, vg *scan.VG, lv *model.LV, src export.Source, r *export.Result, version string) *export.Provenance {
	p := &export.Provenance{Tool: "lvminspect", ToolVersion: version, VG: export.NameUUID{Name: vg.Meta.Name, UUID: vg.Meta.UUID},
		LV: export.NameUUID{Name: lv.Name, UUID: lv.UUID}, Seqno: vg.Meta.Seqno, ReusedExtents: reusedExtents(res, vg, lv)}
	for _, in := range res.Inputs {
		p.Inputs = append(p.Inputs, export.Input{Path: in.Path, Size: in.Size})
	}
	paths := map[string]string{}
	for _, vp := range vg.PVs {
		if vp.PV == nil {
			continue
		}
		paths[vp.Meta.UUID] = vp.PV.Path
		pv := vp.PV
		p.Checksums = append(p.Checksums, export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d label_header", pv.Path, pv.Offset),
			OK: pv.Label.CRC.OK, Stored: pv.Label.CRC.Stored, Computed: pv.Label.CRC.Computed})
		for _, m := range pv.MDAs {
			if m.Header != nil {
				c := m.Header.Checksum
				p.Checksums = append(p.Checksums, export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d mda%d_header", pv.Path, pv.Offset, m.Index),
					OK: c.OK, Stored: c.Stored, Computed: c.Computed})
			}
		}
	}
	if s := vg.Source; s != nil && s.TextCopy != nil && s.PV != nil {
		st := export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d metadata text seqno %d", s.PV.Path, s.Off, vg.Meta.Seqno),
			OK: s.CRCOK, Computed: fmt.Sprintf("%#08x", s.Computed)}
		if s.Slot >= 0 {
			st.Stored = fmt.Sprintf("%#08x", s.Stored)
		}
		p.Checksums = append(p.Checksums, st)
	}
	if ps, ok := src.(*export.PieceSource); ok {
		p.ExtentMap = export.ExtentMapFromPieces(ps.Pieces(), paths)
	} else {
		p.ExtentMap = subLVExtentMap(vg.Meta, lv, paths)
	}
	p.FillResult(r)
	layerNotes(p, vg, lv)
	return p
}

// layerNotes records what the raid and mirror segments of the LV report:
// their notes, and the LV ranges rebuilt from parity or read from another
// leg or copy.
func layerNotes(p *export.Provenance, vg *scan.VG, lv *model.LV) {
	r := volume.FromScan(vg)
	eb := vg.Meta.ExtentBytes()
	for i, s := range lv.Segments {
		if s.Kind() != model.KindRAID && s.Kind() != model.KindMirror {
			continue
		}
		a, err := raid.OpenSegment(r, lv, i)
		if err != nil {
			continue
		}
		for _, n := range a.Notes() {
			p.Notes = append(p.Notes, fmt.Sprintf("segment %d: %s", i, n))
		}
		base := int64(s.StartExtent) * eb
		ranges, err := a.Redundant(0, a.Size())
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("segment %d: rebuilt ranges unknown: %v", i, err))
			continue
		}
		for _, rg := range ranges {
			p.RebuiltRanges = append(p.RebuiltRanges, export.MissingRange{Start: base + rg.Off, Length: rg.Len, Reason: rg.Reason})
		}
	}
}

// subLVExtentMap lists where the linear/striped sub-LVs of a layered LV
// (raid images, thin pool data...) lie, in the order they are referenced.
func subLVExtentMap(vg *model.VG, lv *model.LV, paths map[string]string) []export.ExtentMapEntry {
	out := []export.ExtentMapEntry{}
	seen := map[string]bool{}
	var walk func(l *model.LV, depth int)
	walk = func(l *model.LV, depth int) {
		if seen[l.Name] || depth > 16 {
			return
		}
		seen[l.Name] = true
		if pieces, err := vg.MapRange(l, 0, vg.LVSize(l)); err == nil && l != lv {
			for _, e := range export.ExtentMapFromPieces(pieces, paths) {
				e.SubLV = l.Name
				out = append(out, e)
			}
			return
		}
		for _, s := range l.Segments {
			for _, name := range s.ReferencedLVs() {
				if sub := vg.LV(name); sub != nil {
					walk(sub, depth+1)
				}
			}
		}
	}
	walk(lv, 0)
	return out
}

// reusedExtents lists the LV's extent ranges that later generations gave
// to other LVs: empty for an LV of the current generation, and for an old
// LV whose extents nothing reused.
func reusedExtents(res *scan.Result, vg *scan.VG, lv *model.LV) []export.ReusedExtent {
	out := []export.ReusedExtent{}
	h := history.Scan(res, history.Options{})
	for _, r := range history.ReusedExtents(h.Generations, vg.Meta.UUID, vg.Meta.Seqno, lv.Name) {
		out = append(out, export.ReusedExtent{StartExtent: r.StartExtent, ExtentCount: r.ExtentCount, ByLV: r.ByLV, Seqno: r.Seqno})
	}
	return out
}
