// Package record builds the provenance record written beside an exported
// image: which inputs, which VG generation, where every byte came from,
// the checksum status of the metadata used, and what later generations
// did to the extents of an LV recovered from an old one.
package record

import (
	"errors"
	"fmt"
	"sort"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// Build is New with a history scanned here when the generation needs one.
//
// Deprecated: use New with the history already scanned (or export/job,
// which scans it at most once).
func Build(res *scan.Result, vg *scan.VG, lv *model.LV, src export.Source, r *export.Result, version string) *export.Provenance {
	var h *history.History
	if NeedsHistory(vg) {
		h = history.Scan(res, history.Options{})
	}
	return New(res, vg, lv, h, src, r, version)
}

// New assembles the provenance record of an export of lv from vg (the
// generation used), found on the inputs of res, made by the given tool
// version. h is the metadata history of res, used for the extents later
// generations reused; it may be nil when vg is the newest committed
// generation (NeedsHistory false): nothing can have reused its extents.
// New never scans the history itself.
func New(res *scan.Result, vg *scan.VG, lv *model.LV, h *history.History, src export.Source, r *export.Result, version string) *export.Provenance {
	p := &export.Provenance{Tool: "lvminspect", ToolVersion: version, VG: export.NameUUID{Name: vg.Meta.Name, UUID: vg.Meta.UUID},
		LV: export.NameUUID{Name: lv.Name, UUID: lv.UUID}, Seqno: vg.Meta.Seqno}
	reused, err := ReusedExtents(vg, lv, h)
	if err != nil {
		p.Notes = append(p.Notes, err.Error())
	}
	p.ReusedExtents = reused
	p.Inputs = Inputs(res)
	paths := map[string]string{}
	for _, vp := range vg.PVs {
		if vp.PV == nil {
			continue
		}
		paths[vp.Meta.UUID] = vp.PV.Path
		pv := vp.PV
		p.Checksums = append(p.Checksums, export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d label_header", pv.Path, uint64(pv.Offset)),
			OK: pv.Label.CRC.OK, Stored: pv.Label.CRC.Stored, Computed: pv.Label.CRC.Computed})
		for _, m := range pv.MDAs {
			if m.Header != nil {
				c := m.Header.Checksum
				p.Checksums = append(p.Checksums, export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d mda%d_header", pv.Path, uint64(pv.Offset), m.Index),
					OK: c.OK, Stored: c.Stored, Computed: c.Computed})
			}
		}
	}
	if s := vg.Source; s != nil && s.TextCopy != nil && s.PV != nil {
		st := export.ChecksumStatus{Structure: fmt.Sprintf("%s@%d metadata text seqno %d", s.PV.Path, uint64(s.Off), vg.Meta.Seqno),
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
	var devs []*scan.Node
	for _, vp := range vg.PVs {
		if vp.PV != nil && vp.PV.Device != nil {
			devs = append(devs, vp.PV.Device)
		}
	}
	p.Device = DeviceChain(res, devs...)
	notes, _ := ChainNotes(res, p.Device, false)
	p.Notes = append(p.Notes, notes...)
	p.RebuiltRanges = append(p.RebuiltRanges, lvRebuilt(vg, p.ExtentMap)...)
	sort.SliceStable(p.RebuiltRanges, func(i, j int) bool { return p.RebuiltRanges[i].Start < p.RebuiltRanges[j].Start })
	return p
}

// layerNotes records what the raid and mirror segments of the LV report.
func layerNotes(p *export.Provenance, vg *scan.VG, lv *model.LV) {
	notes, rebuilt := Layers(vg, lv)
	p.Notes = append(p.Notes, notes...)
	p.RebuiltRanges = append(p.RebuiltRanges, rebuilt...)
}

// Layers opens the raid and mirror segments of lv and returns what they
// report: their notes (superblocks, sync state, images treated as
// missing and why), and the LV ranges rebuilt from parity or read from
// another leg or copy, with the reason. No LV data is read.
func Layers(vg *scan.VG, lv *model.LV) (notes []string, rebuilt []export.MissingRange) {
	r := volume.ForScan(vg)
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
			notes = append(notes, fmt.Sprintf("%s: %s", format.Segment(i), n))
		}
		base := int64(s.StartExtent) * eb
		ranges, err := a.Redundant(0, a.Size())
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: rebuilt ranges unknown: %v", format.Segment(i), err))
			continue
		}
		for _, rg := range ranges {
			rebuilt = append(rebuilt, export.MissingRange{Start: base + rg.Off, Length: rg.Len, Reason: rg.Reason})
		}
	}
	return notes, rebuilt
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

// NeedsHistory reports whether the extents of vg's LVs may have been
// reused by a later generation, so that ReusedExtents needs the metadata
// history: false when vg is the newest committed generation (its
// Fallback is empty), true for an older generation (time travel) or a
// fallback from a damaged newest copy.
func NeedsHistory(vg *scan.VG) bool { return vg.Fallback != "" }

// ErrNoHistory is returned by ReusedExtents for an old generation when no
// history was given.
var ErrNoHistory = errors.New("extents reused by later generations not checked: the metadata history was not scanned")

// ReusedExtents lists the LV's extent ranges that later generations gave
// to other LVs, from h: empty (never nil) for an LV of the newest
// generation, without looking at h, and for an old LV whose extents
// nothing reused. For an old generation with h nil it returns an empty
// list and ErrNoHistory.
func ReusedExtents(vg *scan.VG, lv *model.LV, h *history.History) ([]export.ReusedExtent, error) {
	out := []export.ReusedExtent{}
	if !NeedsHistory(vg) {
		return out, nil
	}
	if h == nil {
		return out, ErrNoHistory
	}
	for _, r := range history.ReusedExtents(h.Generations, vg.Meta.UUID, vg.Meta.Seqno, lv.Name) {
		out = append(out, export.ReusedExtent{StartExtent: r.StartExtent, ExtentCount: r.ExtentCount, ByLV: r.ByLV, Seqno: r.Seqno})
	}
	return out, nil
}

// DeviceChain is the chain of devices from the inputs to the devices ns,
// each device after the ones it is made from, ns last: what each is
// (kind, path, offset in its parent, size), for the provenance record.
func DeviceChain(res *scan.Result, ns ...*scan.Node) []export.ChainDevice {
	byID := map[string]*scan.Node{}
	for _, d := range res.Devices() {
		byID[d.ID] = d
	}
	var chain []export.ChainDevice
	seen := map[string]bool{}
	var walk func(d *scan.Node)
	walk = func(d *scan.Node) {
		if d == nil || seen[d.ID] || len(chain) > 64 {
			return
		}
		seen[d.ID] = true
		for _, p := range d.Parents {
			walk(byID[p])
		}
		c := export.ChainDevice{ID: d.ID, Kind: d.Kind, Path: d.Path, Offset: d.Offset, Size: d.Size,
			Parents: d.Parents, VG: d.VG, LV: d.LV}
		if h := d.LUKS; h != nil && d.Kind == scan.KindLUKS {
			c.LUKS = &export.ChainLUKS{UUID: h.UUID, Version: h.Version, Cipher: h.Cipher, KeySize: h.KeyBytes * 8,
				SectorSize: h.SectorSize, PayloadOffset: h.PayloadOffset, OpenedBySlot: -1}
			if k := d.Unlock; k != nil {
				c.LUKS.OpenedBySlot, c.LUKS.KDF = k.Slot, k.KDF
			}
		}
		if a := d.Array; a != nil {
			c.MD = &export.ChainMD{UUID: a.UUID, Level: a.Level, Layout: a.Layout, Metadata: a.Metadata,
				Degraded: a.Degraded, MissingRoles: append([]int{}, a.MissingRoles...)}
		}
		chain = append(chain, c)
	}
	for _, n := range ns {
		walk(n)
	}
	return chain
}

// Inputs are the inputs given, as the provenance record lists them: the
// path as given and the size of the file (of a container: the file's,
// not the disk's inside).
func Inputs(res *scan.Result) []export.Input {
	var out []export.Input
	for _, in := range res.Given() {
		size := in.Size
		if in.File != nil {
			size = in.File.Size
		}
		e := export.Input{Path: in.Path, Size: size}
		for _, f := range in.Files {
			if f != in.Path {
				e.Files = append(e.Files, f)
			}
		}
		out = append(out, e)
	}
	return out
}

// Evidence lists the files the inputs given were read from: each path
// given, and every other file a container opened for it (segments,
// extents, parents, backing files). An export never writes to them.
func Evidence(res *scan.Result) []string {
	var out []string
	for _, in := range res.Given() {
		out = append(out, in.Path)
		out = append(out, in.Files...)
	}
	return out
}

// redundantSource is a device's source that can say which of its ranges
// are read from another copy or rebuilt from parity (an md array).
type redundantSource interface {
	Redundant(off, n int64) ([]export.Range, error)
}

// sourceOf is the export source behind a device of the graph, if it has
// one (md arrays and LVs are export sources as devices).
func sourceOf(n *scan.Node) (redundantSource, bool) {
	d, ok := n.Device().(interface{ Source() export.Source })
	if !ok {
		return nil, false
	}
	r, ok := d.Source().(redundantSource)
	return r, ok
}

// ChainNotes says what the md arrays of a device chain did for the
// export: each degraded array, its missing roles and the array ranges
// read from another copy or rebuilt from parity. With exported, the last
// device of the chain is the one exported: when it is an array its
// ranges are returned as rebuilt ranges of the image.
func ChainNotes(res *scan.Result, chain []export.ChainDevice, exported bool) (notes []string, rebuilt []export.MissingRange) {
	for i, c := range chain {
		if c.Kind != scan.KindMD {
			continue
		}
		n := res.DeviceByID(c.ID)
		if n == nil || n.Array == nil || n.Device() == nil {
			continue
		}
		a := n.Array
		for _, p := range n.Problems {
			if p.Severity != scan.SevInfo || a.Degraded {
				notes = append(notes, fmt.Sprintf("%s: %s", c.ID, p.Msg))
			}
		}
		src, ok := sourceOf(n)
		if !ok {
			continue
		}
		ranges, err := src.Redundant(0, n.Size)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: rebuilt ranges unknown: %v", c.ID, err))
			continue
		}
		var total int64
		for _, r := range ranges {
			total += r.Len
			if exported && i == len(chain)-1 {
				rebuilt = append(rebuilt, export.MissingRange{Start: r.Off, Length: r.Len, Reason: r.Reason})
			}
		}
		if len(ranges) > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d bytes of the array in %d ranges are read from another copy or rebuilt from parity", c.ID, total, len(ranges)))
		}
	}
	return notes, rebuilt
}

// lvRebuilt maps the ranges the md arrays holding the VG's PVs read from
// another copy or rebuilt from parity onto the LV, through its extent map
// (the LV's own pieces; ranges of sub-LVs are in the notes only).
func lvRebuilt(vg *scan.VG, em []export.ExtentMapEntry) []export.MissingRange {
	var out []export.MissingRange
	for _, vp := range vg.PVs {
		pv := vp.PV
		if pv == nil {
			continue
		}
		n := pv.Device
		if n == nil && pv.Input != nil {
			n = pv.Input.Node
		}
		if n == nil || n.Kind != scan.KindMD || n.Device() == nil {
			continue
		}
		src, ok := sourceOf(n)
		if !ok {
			continue
		}
		ranges, err := src.Redundant(pv.Offset, min(pv.Size, n.Size-pv.Offset))
		if err != nil || len(ranges) == 0 {
			continue
		}
		uuid := pv.UUID()
		for _, e := range em {
			if e.SubLV != "" || e.PVUUID != uuid {
				continue
			}
			for _, r := range ranges {
				a, b := max(r.Off-pv.Offset, e.PVOffset), min(r.End()-pv.Offset, e.PVOffset+e.Length)
				if a < b {
					out = append(out, export.MissingRange{Start: e.LVOffset + a - e.PVOffset, Length: b - a,
						Reason: n.ID + ": " + r.Reason})
				}
			}
		}
	}
	return out
}
