package history

import (
	"fmt"
	"sort"

	"github.com/lvminspect/lvminspect/model"
)

// Reused is a range of an LV's extents, in an old generation, whose
// physical extents a later generation gave to another LV: the bytes there
// may have been overwritten since.
type Reused struct {
	StartExtent uint64 `json:"start_extent"` // first logical extent, in the LV
	ExtentCount uint64 `json:"extent_count"`
	ByLV        string `json:"by_lv"` // the LV the later generation gave them to
	Seqno       uint64 `json:"seqno"` // the first generation that did
}

// ReusedExtents returns, for LV lvName of generation seqno of the VG with
// UUID vgUUID (either form), the ranges of its logical extents whose
// physical extents a later generation among gens (seqno greater, same VG
// UUID, parsed) gave to another LV, each attributed to the first such
// generation; sorted by StartExtent. It is empty when nothing was reused,
// and nil when the generation or the LV is not found: FindReusedExtents
// says why.
func ReusedExtents(gens []*Generation, vgUUID string, seqno uint64, lvName string) []Reused {
	r, _ := FindReusedExtents(gens, vgUUID, seqno, lvName)
	return r
}

// FindReusedExtents is ReusedExtents with an error for a missing
// generation or LV.
//
// How extents are followed: a linear or striped segment maps its PV areas
// directly (a striped area's physical extent p holds stripe pieces of the
// segment's logical extents p*stripes .. p*stripes+stripes-1); segments
// over sub-LVs (mirror legs, raid images) are followed into the sub-LVs,
// a sub-LV extent standing for extent_count/area_length extents of the
// parent (exact for mirrors and raid1, a close cover for parity raid).
// Thin and VDO volumes have no fixed extents in the LVM metadata and
// report nothing. Generations that are no longer in any metadata area
// cannot be consulted; the newest one normally is.
func FindReusedExtents(gens []*Generation, vgUUID string, seqno uint64, lvName string) ([]Reused, error) {
	key := model.BareUUID(vgUUID)
	var old *Generation
	var later []*Generation
	for _, g := range gens {
		if g.Key() != key || !g.Parses() {
			continue
		}
		switch {
		case g.Seqno == seqno && (old == nil || g.Verified && !old.Verified):
			old = g
		case g.Seqno > seqno:
			later = append(later, g)
		}
	}
	if old == nil {
		return nil, &GenerationError{VG: vgUUID, Seqno: seqno, Msg: "no parsed generation", Err: ErrNoGeneration}
	}
	oldVG := old.Model()
	if oldVG == nil {
		return nil, &GenerationError{VG: vgUUID, Seqno: seqno, Msg: "its text can no longer be read", Err: ErrNoGeneration}
	}
	lv := oldVG.LV(lvName)
	if lv == nil {
		return nil, fmt.Errorf("VG %s seqno %d has no LV %q: %w", old.VGName, seqno, lvName, ErrNoGeneration)
	}
	sort.SliceStable(later, func(i, j int) bool { return later[i].Seqno < later[j].Seqno })
	maps := lvExtentMaps(oldVG, lv, 0)
	mine := map[string]bool{}
	for _, l := range subLVs(oldVG, lv, 0) {
		mine[model.BareUUID(l.UUID)] = true
	}
	// remaining: the PE ranges of each map not yet attributed.
	type piece struct {
		m      extMap
		lo, hi uint64 // PE range still unattributed
	}
	var rest []piece
	for _, m := range maps {
		rest = append(rest, piece{m, m.pe, m.pe + m.count})
	}
	out := []Reused{}
	for _, g := range later {
		gvg := g.Model()
		if gvg == nil {
			continue
		}
		owners := peOwners(gvg, mine)
		var next []piece
		for _, p := range rest {
			pending := []piece{p}
			for _, o := range owners[p.m.pv] {
				var keep []piece
				for _, q := range pending {
					lo, hi := max(q.lo, o.lo), min(q.hi, o.hi)
					if lo >= hi {
						keep = append(keep, q)
						continue
					}
					le := q.m.le + (lo-q.m.pe)*q.m.factor
					n := (hi - lo) * q.m.factor
					out = append(out, Reused{StartExtent: le, ExtentCount: n, ByLV: o.lv, Seqno: g.Seqno})
					if q.lo < lo {
						keep = append(keep, piece{q.m, q.lo, lo})
					}
					if hi < q.hi {
						keep = append(keep, piece{q.m, hi, q.hi})
					}
				}
				pending = keep
			}
			next = append(next, pending...)
		}
		rest = next
	}
	// Round-ups of striped and raid areas may reach past the LV's end.
	total := lv.ExtentCount()
	var clipped []Reused
	for _, r := range out {
		if r.StartExtent >= total {
			continue
		}
		r.ExtentCount = min(r.ExtentCount, total-r.StartExtent)
		clipped = append(clipped, r)
	}
	return mergeReused(clipped), nil
}

// extMap ties count physical extents of one PV, from pe, to the LV's
// logical extents from le, factor logical extents per physical one.
type extMap struct {
	pv     string // bare PV UUID
	pe     uint64
	count  uint64
	le     uint64
	factor uint64
}

const maxDepth = 16

// lvExtentMaps follows an LV's segments down to its physical extents.
func lvExtentMaps(vg *model.VG, lv *model.LV, depth int) []extMap {
	if depth > maxDepth {
		return nil
	}
	var out []extMap
	for _, s := range lv.Segments {
		n := uint64(len(s.Areas))
		if n == 0 || s.ExtentCount == 0 {
			continue
		}
		alen, factor := areaLen(s)
		for _, a := range s.Areas {
			if a.IsPV() {
				pv := vg.PVByLabel(a.PV)
				if pv == nil {
					continue
				}
				out = append(out, extMap{pv: model.BareUUID(pv.UUID), pe: a.Start, count: alen, le: s.StartExtent, factor: factor})
				continue
			}
			sub := vg.LV(a.LV)
			if sub == nil {
				continue
			}
			for _, m := range lvExtentMaps(vg, sub, depth+1) {
				// Keep the part of the sub-LV's map inside [a.Start, a.Start+alen).
				lo, hi := max(m.le, a.Start), min(m.le+m.count*m.factor, a.Start+alen)
				if lo >= hi || m.factor == 0 {
					continue
				}
				first := (lo - m.le) / m.factor
				last := (hi - m.le + m.factor - 1) / m.factor
				base := max(m.le+first*m.factor, a.Start) // a misaligned start covers from the area's start
				out = append(out, extMap{pv: m.pv, pe: m.pe + first, count: last - first,
					le: s.StartExtent + (base-a.Start)*factor, factor: m.factor * factor})
			}
		}
	}
	return out
}

// areaLen returns how many extents each area of a segment covers and how
// many of the segment's logical extents one area extent stands for.
func areaLen(s *model.Segment) (alen, factor uint64) {
	n := uint64(len(s.Areas))
	if n == 0 || s.ExtentCount == 0 {
		return 0, 1
	}
	switch s.Kind() {
	case model.KindStriped:
		sc := s.StripeCount
		if sc == 0 {
			sc = n
		}
		if s.ExtentCount%sc == 0 {
			return s.ExtentCount / sc, sc
		}
		return s.ExtentCount/sc + 1, sc
	case model.KindMirror:
		return s.ExtentCount, 1
	}
	// raid and others: each area as long as the data it carries.
	alen = (s.ExtentCount + n - 1) / n
	if s.RAID != nil && s.RAID.Level == "raid1" {
		return s.ExtentCount, 1
	}
	if s.RAID != nil {
		if data := dataImages(s); data > 0 {
			alen = (s.ExtentCount + data - 1) / data
		}
	}
	return alen, max(1, (s.ExtentCount+alen-1)/alen)
}

// dataImages is the number of images carrying data (not parity) of a raid
// segment, 0 when unknown.
func dataImages(s *model.Segment) uint64 {
	n := uint64(len(s.Areas))
	switch s.RAID.Level {
	case "raid0":
		return n
	case "raid4", "raid5":
		return n - 1
	case "raid6":
		if n > 2 {
			return n - 2
		}
	case "raid10":
		copies := max(s.RAID.DataCopies, 2)
		return n / copies
	}
	return 0
}

// subLVs lists an LV and every LV it uses through its areas.
func subLVs(vg *model.VG, lv *model.LV, depth int) []*model.LV {
	out := []*model.LV{lv}
	if depth > maxDepth {
		return out
	}
	for _, s := range lv.Segments {
		for _, a := range append(append([]model.Area{}, s.Areas...), s.MetaAreas...) {
			if !a.IsPV() && a.LV != "" {
				if sub := vg.LV(a.LV); sub != nil {
					out = append(out, subLVs(vg, sub, depth+1)...)
				}
			}
		}
	}
	return out
}

// owned is a PE range one LV holds.
type owned struct {
	lo, hi uint64
	lv     string
}

// peOwners maps bare PV UUIDs to the PE ranges the LVs of vg hold directly,
// leaving out the LVs whose bare UUIDs are in skip.
func peOwners(vg *model.VG, skip map[string]bool) map[string][]owned {
	out := map[string][]owned{}
	for _, lv := range vg.LVs {
		if skip[model.BareUUID(lv.UUID)] {
			continue
		}
		for _, s := range lv.Segments {
			alen, _ := areaLen(s)
			for _, a := range s.Areas {
				if !a.IsPV() {
					continue
				}
				if pv := vg.PVByLabel(a.PV); pv != nil {
					u := model.BareUUID(pv.UUID)
					out[u] = append(out[u], owned{a.Start, a.Start + alen, lv.Name})
				}
			}
		}
	}
	return out
}

// mergeReused gives every logical extent to the first generation that
// reused it (stripes of one extent may be reused several times), sorts the
// ranges and joins adjacent ones of the same LV and generation.
func mergeReused(in []Reused) []Reused {
	sort.SliceStable(in, func(i, j int) bool { return in[i].Seqno < in[j].Seqno })
	var painted []Reused
	for _, r := range in {
		pieces := []Reused{r}
		for _, p := range painted {
			var keep []Reused
			for _, q := range pieces {
				lo, hi := max(q.StartExtent, p.StartExtent), min(q.StartExtent+q.ExtentCount, p.StartExtent+p.ExtentCount)
				if lo >= hi {
					keep = append(keep, q)
					continue
				}
				if q.StartExtent < lo {
					keep = append(keep, Reused{q.StartExtent, lo - q.StartExtent, q.ByLV, q.Seqno})
				}
				if end := q.StartExtent + q.ExtentCount; hi < end {
					keep = append(keep, Reused{hi, end - hi, q.ByLV, q.Seqno})
				}
			}
			pieces = keep
		}
		painted = append(painted, pieces...)
	}
	sort.Slice(painted, func(i, j int) bool { return painted[i].StartExtent < painted[j].StartExtent })
	out := []Reused{}
	for _, r := range painted {
		if k := len(out); k > 0 {
			l := &out[k-1]
			if l.ByLV == r.ByLV && l.Seqno == r.Seqno && l.StartExtent+l.ExtentCount == r.StartExtent {
				l.ExtentCount += r.ExtentCount
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
