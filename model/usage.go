package model

import "sort"

// ExtentRun is a run of a PV's physical extents, [Start, End): taken by an
// area of LV's segment Segment (0-based), or free when LV is "".
type ExtentRun struct {
	Start, End uint64
	LV         string
	Segment    int
}

// Len is the number of extents of the run.
func (r ExtentRun) Len() uint64 { return r.End - r.Start }

// AreaExtents is the number of extents one area of s takes: a stripe of a
// striped segment its share, any other area (a mirror leg, a pvmove
// area) the whole segment.
func AreaExtents(s *Segment) uint64 {
	if s.Kind() == KindStriped && len(s.Areas) > 0 {
		return s.ExtentCount / uint64(len(s.Areas))
	}
	return s.ExtentCount
}

// PVUsage lists, for each PV label, the runs of extents the LVs' areas
// take on it, sorted by start (then LV name).
func (vg *VG) PVUsage() map[string][]ExtentRun {
	out := map[string][]ExtentRun{}
	for _, lv := range vg.LVs {
		for i, s := range lv.Segments {
			n := AreaExtents(s)
			for _, a := range append(append([]Area(nil), s.Areas...), s.MetaAreas...) {
				if a.IsPV() && n > 0 {
					out[a.PV] = append(out[a.PV], ExtentRun{Start: a.Start, End: a.Start + n, LV: lv.Name, Segment: i})
				}
			}
		}
	}
	for _, runs := range out {
		sort.Slice(runs, func(i, j int) bool {
			if runs[i].Start != runs[j].Start {
				return runs[i].Start < runs[j].Start
			}
			return runs[i].LV < runs[j].LV
		})
	}
	return out
}

// FreeRuns are the runs of a PV's peCount extents that no run of used
// (sorted by start, as PVUsage gives them) covers.
func FreeRuns(used []ExtentRun, peCount uint64) []ExtentRun {
	var out []ExtentRun
	next := uint64(0)
	for _, r := range used {
		if r.Start > next && next < peCount {
			out = append(out, ExtentRun{Start: next, End: min(r.Start, peCount)})
		}
		next = max(next, r.End)
	}
	if next < peCount {
		out = append(out, ExtentRun{Start: next, End: peCount})
	}
	return out
}

// TotalExtents is the number of extents of every PV of the VG.
func (vg *VG) TotalExtents() uint64 {
	var n uint64
	for _, pv := range vg.PVs {
		n += pv.PECount
	}
	return n
}

// FreeExtents counts the extents of each PV no LV uses, as vgs's VFree
// and pvs's PFree do (overlapping areas, which valid metadata never has,
// count once).
func (vg *VG) FreeExtents() (total uint64, byPV map[string]uint64) {
	use := vg.PVUsage()
	byPV = map[string]uint64{}
	for _, pv := range vg.PVs {
		var n uint64
		for _, r := range FreeRuns(use[pv.Label], pv.PECount) {
			n += r.Len()
		}
		byPV[pv.Label] = n
		total += n
	}
	return total, byPV
}
