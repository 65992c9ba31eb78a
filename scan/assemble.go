package scan

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/lvminspect/lvminspect/model"
)

// VG is a volume group assembled from the PVs of all inputs.
type VG struct {
	Meta *model.VG // the metadata generation in use

	Source  *Copy   // the copy Meta was parsed from
	Sources []*Copy // every committed copy identical to Source (same seqno and checksum)
	// Fallback says why Meta is not the newest committed copy (empty when
	// it is).
	Fallback string

	PVs      []*VGPV
	Problems []Problem
}

// VGPV ties a PV entry of the metadata to the PV found on an input.
type VGPV struct {
	Meta    *model.PV
	PV      *PV // nil when missing
	Missing bool
	// Seqno of the newest usable committed copy on this PV's areas, 0 when
	// it has none (no areas, ignored areas).
	Seqno uint64
	Stale bool // its areas hold an older generation than the VG's
	// Others are the other PVs found with its UUID (a cloned disk,
	// multipath, a raw snapshot): never read.
	Others []*PV
	// Conflict, when set, says that the others differ from PV and no
	// Options.PVs choice says which one is the PV: the LVs on it are not
	// exported (export/job's verdict) until one is chosen.
	Conflict string
}

// PVFor returns the found PV for a metadata PV label (pvN), or nil.
func (vg *VG) PVFor(label string) *VGPV {
	for _, p := range vg.PVs {
		if p.Meta.Label == label {
			return p
		}
	}
	return nil
}

// Readers maps dashed PV UUIDs to the PVs present.
func (vg *VG) Readers() map[string]*PV {
	out := map[string]*PV{}
	for _, p := range vg.PVs {
		if p.PV != nil {
			out[p.Meta.UUID] = p.PV
		}
	}
	return out
}

// assemble groups committed copies by VG UUID and picks the newest.
func assemble(res *Result, opt Options) {
	skip := resolveDuplicates(res, opt)
	byUUID := map[string][]*Copy{}
	var order []string
	add := func(c *Copy) {
		u := model.BareUUID(c.VG.UUID)
		if _, ok := byUUID[u]; !ok {
			order = append(order, u)
		}
		byUUID[u] = append(byUUID[u], c)
	}
	for _, pv := range res.PVs {
		if skip[pv] {
			continue // another PV of its UUID is read
		}
		for _, m := range pv.MDAs {
			if m.Committed.Usable() {
				add(m.Committed)
			}
		}
	}
	seen := pvIndex(res)
	for _, u := range order {
		res.VGs = append(res.VGs, buildVG(res, byUUID[u], seen))
	}
	res.VGs = append(res.VGs, fallbackVGs(res)...)
	sort.SliceStable(res.VGs, func(i, j int) bool { return res.VGs[i].Meta.Name < res.VGs[j].Meta.Name })
}

func buildVG(res *Result, copies []*Copy, pvByUUID map[string]*PV) *VG {
	// Prefer areas that are not ignored: an ignored area is stale by design.
	best := copies[0]
	for _, c := range copies[1:] {
		if better(c, best) {
			best = c
		}
	}
	vg := &VG{Meta: best.VG, Source: best}
	for _, c := range copies {
		if c.VG.Seqno == best.VG.Seqno && c.Computed == best.Computed {
			vg.Sources = append(vg.Sources, c)
		} else if c.VG.Seqno == best.VG.Seqno && !c.Ignored {
			vg.Problems = append(vg.Problems, Problem{Severity: SevError, Path: c.PV.Path, Off: c.Off, Structure: "metadata text",
				Stored: fmt.Sprintf("%#08x", c.Computed), Computed: fmt.Sprintf("%#08x", best.Computed),
				Msg: fmt.Sprintf("VG %s seqno %d: this copy differs from the one at %s offset %d (split brain or corruption)", best.VG.Name, c.VG.Seqno, best.PV.Path, best.Off)})
		}
	}
	if best.Ignored {
		vg.Problems = append(vg.Problems, Problem{Severity: SevWarn, Path: best.PV.Path, Off: best.Off, Structure: "metadata text",
			Msg: "only ignored metadata areas hold this VG: the text may be stale"})
	}
	bestSeq := map[string]uint64{}
	for _, c := range copies {
		u := c.PV.Label.Header.UUID
		if c.Ignored {
			continue
		}
		if c.VG.Seqno > bestSeq[u] {
			bestSeq[u] = c.VG.Seqno
		}
	}
	for _, lv := range vg.Meta.LVs {
		if lv.Invalid != "" {
			vg.Problems = append(vg.Problems, Problem{Severity: SevError, Path: best.PV.Path, Off: best.Off, Structure: "metadata text",
				Msg: fmt.Sprintf("VG %s seqno %d: the metadata of LV %s is invalid (%s): it is shown but not exported; an earlier generation may describe it (lvminspect history, export --seqno N)",
					vg.Meta.Name, vg.Meta.Seqno, lv.Name, lv.Invalid)})
		}
	}
	for _, mp := range vg.Meta.PVs {
		p := &VGPV{Meta: mp}
		u := model.BareUUID(mp.UUID)
		p.PV = pvByUUID[u]
		p.Missing = p.PV == nil
		if d := res.dups[u]; d != nil && p.PV != nil {
			p.Others, p.Conflict = d.others, d.conflict
		}
		p.Seqno = bestSeq[u]
		if p.Seqno != 0 && p.Seqno < vg.Meta.Seqno {
			p.Stale = true
			vg.Problems = append(vg.Problems, Problem{Severity: SevWarn, Path: p.PV.Path, Off: p.PV.Offset, Structure: "metadata area",
				Msg: fmt.Sprintf("PV %s is stale: its metadata is seqno %d, the VG's is %d (it missed updates)", mp.UUID, p.Seqno, vg.Meta.Seqno)})
		}
		if p.Missing {
			vg.Problems = append(vg.Problems, Problem{Severity: SevError, Msg: fmt.Sprintf("VG %s: PV %s is missing: no input holds it",
				vg.Meta.Name, mp.Ref())})
		} else {
			checkPVExtents(vg, p)
		}
		vg.PVs = append(vg.PVs, p)
	}
	return vg
}

// better orders candidate copies: not ignored first, then higher seqno.
func better(a, b *Copy) bool {
	if a.Ignored != b.Ignored {
		return !a.Ignored
	}
	return a.VG.Seqno > b.VG.Seqno
}

// checkPVExtents reports extents that lie beyond the readable input
// (computed exactly: pe_start and pe_count may claim far more than 2^64
// bytes).
func checkPVExtents(vg *VG, p *VGPV) {
	eb := vg.Meta.ExtentBytes()
	if eb <= 0 {
		return
	}
	start := new(big.Int).Mul(new(big.Int).SetUint64(p.Meta.PEStart), big.NewInt(model.SectorSize))
	end := new(big.Int).Mul(new(big.Int).SetUint64(p.Meta.PECount), big.NewInt(eb))
	end.Add(end, start)
	size := big.NewInt(p.PV.Size)
	if end.Cmp(size) <= 0 {
		return
	}
	first := new(big.Int)
	if size.Cmp(start) > 0 {
		first.Quo(new(big.Int).Sub(size, start), big.NewInt(eb))
	}
	vg.Problems = append(vg.Problems, Problem{Severity: SevError, Path: p.PV.Path, Off: p.PV.Offset + p.PV.Size,
		Msg: fmt.Sprintf("PV %s: extents %s..%d lie beyond the end of the input (%d bytes readable, %s needed)",
			p.Meta.UUID, first, p.Meta.PECount-1, p.PV.Size, end)})
}

// AllProblems lists every problem of the scan: inputs, PVs, areas, VGs.
func (res *Result) AllProblems() []Problem {
	var out []Problem
	inputs := map[*Node]bool{}
	for _, in := range res.Inputs {
		out = append(out, in.Problems...)
		inputs[in.Node] = true
	}
	for _, n := range append(append([]*Node(nil), res.MDNodes...), res.LUKSNodes...) {
		if !inputs[n] { // an array that could not be read, a LUKS volume left locked
			out = append(out, n.Problems...)
		}
	}
	for _, pv := range res.PVs {
		out = append(out, pv.Problems...)
		for _, m := range pv.MDAs {
			out = append(out, m.Problems...)
		}
	}
	out = append(out, res.Problems...)
	for _, vg := range res.VGs {
		out = append(out, vg.Problems...)
	}
	return out
}
