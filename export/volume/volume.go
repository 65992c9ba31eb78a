// Package volume opens any logical volume of a VG as an export.Source:
// linear and striped segments through the model's PV mapping, and every
// other segment type through the opener registered for its kind (raid,
// mirror, thin, snapshot, cache...). Sub-LVs are opened recursively, so a
// thin pool on raid1 or a cache origin on raid5 compose.
//
// Openers register themselves with Register from their package's init;
// import github.com/lvminspect/lvminspect/export/segtypes to get all of
// them.
package volume

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/model"
)

// Opener builds the Source of one segment of lv (seg = lv.Segments[idx]).
// The Source covers the segment only: seg.ExtentCount extents.
type Opener func(r *Resolver, lv *model.LV, idx int) (export.Source, error)

var (
	regMu    sync.RWMutex
	registry = map[model.SegmentKind]Opener{}
)

// Register installs the opener for a segment kind.
func Register(kind model.SegmentKind, o Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[kind] = o
}

func opener(kind model.SegmentKind) Opener {
	regMu.RLock()
	defer regMu.RUnlock()
	return registry[kind]
}

// Resolver opens LVs of one VG generation over a set of PV readers.
type Resolver struct {
	VG  *model.VG
	PVs map[string]export.PVReader // by dashed PV UUID, as in the metadata

	mu      sync.Mutex
	opening []string // cycle guard: the LVs being opened
}

// New returns a Resolver for vg; pvs holds the PVs present.
func New(vg *model.VG, pvs map[string]export.PVReader) *Resolver {
	return &Resolver{VG: vg, PVs: pvs}
}

// ErrCycle is wrapped when LVs refer to each other in a loop.
var ErrCycle = errors.New("LV references form a cycle")

const maxDepth = 16

// Open opens an LV by name.
func (r *Resolver) Open(name string) (export.Source, error) {
	lv := r.VG.LV(name)
	if lv == nil {
		return nil, fmt.Errorf("vg %s: no LV named %q: %w", r.VG.Name, name, model.ErrMapping)
	}
	return r.OpenLV(lv)
}

// Redirect presents an LV as something other than its own segments, the
// way LVM presents it: the old-style snapshot package shows the COW store
// LV (base_snap) as the snapshot view, and the origin of a merging
// snapshot as the merged view. It reports ok=false for LVs it leaves
// alone. It may open other LVs with OpenLV and the LV itself with OpenRaw.
type Redirect func(r *Resolver, lv *model.LV) (src export.Source, ok bool, err error)

var redirects []Redirect // guarded by regMu

// RegisterRedirect installs a Redirect; OpenLV asks every Redirect, in
// registration order, before it opens the LV's own segments.
func RegisterRedirect(f Redirect) {
	regMu.Lock()
	defer regMu.Unlock()
	redirects = append(redirects, f)
}

// OpenLV opens an LV of the resolver's VG as its user sees it (after any
// Redirect).
func (r *Resolver) OpenLV(lv *model.LV) (export.Source, error) { return r.open(lv, true) }

// OpenRaw opens an LV from its own segments, skipping the Redirects: for
// the COW store of an old-style snapshot, the raw exception store.
func (r *Resolver) OpenRaw(lv *model.LV) (export.Source, error) { return r.open(lv, false) }

func (r *Resolver) open(lv *model.LV, redirect bool) (export.Source, error) {
	if lv.Invalid != "" {
		return nil, fmt.Errorf("lv %s: its metadata is invalid (%s): %w", lv.Name, lv.Invalid, model.ErrMapping)
	}
	key := lv.Name
	if !redirect {
		key = "\x00raw " + lv.Name // a raw open may run inside the LV's own redirect
	}
	r.mu.Lock()
	if slices.Contains(r.opening, key) || len(r.opening) >= maxDepth {
		r.mu.Unlock()
		return nil, fmt.Errorf("lv %s: %w", lv.Name, ErrCycle)
	}
	r.opening = append(r.opening, key)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if i := slices.Index(r.opening, key); i >= 0 {
			r.opening = slices.Delete(r.opening, i, i+1)
		}
		r.mu.Unlock()
	}()
	if redirect {
		regMu.RLock()
		rs := redirects
		regMu.RUnlock()
		for _, f := range rs {
			if src, ok, err := f(r, lv); ok {
				return src, err
			}
		}
	}
	if len(lv.Segments) == 0 {
		return nil, &model.UnsupportedError{LV: lv.Name, Segment: -1, Type: "", Reason: "the LV has no segments"}
	}
	if !r.VG.LVSizeFits(lv) {
		return nil, fmt.Errorf("lv %s: %d extents of %d bytes make more than 2^63 bytes: %w", lv.Name, lv.ExtentCount(), r.VG.ExtentBytes(), model.ErrMapping)
	}
	size := r.VG.LVSize(lv)
	if sets, ok, err := r.VG.Layout(lv); err != nil {
		return nil, err
	} else if ok {
		// Striped over PVs: mapped chunk by chunk as it is read.
		vg := r.VG
		return export.NewStripedSource(size, sets, r.PVs, func() ([]model.Piece, error) { return vg.MapRange(lv, 0, size) }), nil
	}
	if allStriped(r.VG, lv, map[string]bool{}) {
		pieces, err := r.VG.MapRange(lv, 0, size)
		if err != nil {
			return nil, err
		}
		return export.NewPieceSource(size, pieces, r.PVs), nil
	}
	eb := r.VG.ExtentBytes()
	c := &Concat{size: size}
	for i, s := range lv.Segments {
		var src export.Source
		var err error
		off, n := int64(s.StartExtent)*eb, int64(s.ExtentCount)*eb
		if s.Kind() == model.KindStriped && allStripedSeg(r.VG, s, map[string]bool{lv.Name: true}) {
			var pieces []model.Piece
			pieces, err = r.VG.MapRange(lv, off, n)
			for k := range pieces {
				pieces[k].LVOffset -= off
			}
			if err == nil {
				src = export.NewPieceSource(n, pieces, r.PVs)
			}
		} else if s.Kind() == model.KindThinPool && s.ThinPool != nil {
			// A thin pool's own device reads its data sub-LV, as the
			// kernel's pool device does.
			src, err = r.Open(s.ThinPool.Pool)
		} else if o := opener(s.Kind()); o != nil {
			src, err = o(r, lv, i)
		} else {
			err = &model.UnsupportedError{LV: lv.Name, Segment: i, Type: s.Type, Reason: unsupportedReason(s)}
		}
		if err != nil {
			return nil, err
		}
		if src.Size() != n {
			return nil, fmt.Errorf("lv %s: %s (%s) reads as %d bytes, its extents are %d bytes: %w", lv.Name, model.SegmentName(i), s.Type, src.Size(), n, model.ErrMapping)
		}
		c.parts = append(c.parts, part{off: off, src: src})
	}
	sort.Slice(c.parts, func(i, j int) bool { return c.parts[i].off < c.parts[j].off })
	return c, nil
}

// Exportable says whether an LV can be exported, and if not, why.
func (r *Resolver) Exportable(lv *model.LV) error {
	_, err := r.OpenLV(lv)
	return err
}

func unsupportedReason(s *model.Segment) string {
	switch s.Kind() {
	case model.KindVDO, model.KindVDOPool:
		return "VDO volumes hold deduplicated, compressed blocks in VDO's own format, which lvminspect does not read; the pool's raw backing store (its _vdata sub-LV) can be exported as it is"
	case model.KindCachePool:
		return "a cache pool holds only cached copies of another LV's blocks: export the cached LV"
	case model.KindError:
		return "an error segment has no data (every read fails)"
	case model.KindUnknown:
		return fmt.Sprintf("segment type %q is not known to lvminspect", s.Type)
	}
	return fmt.Sprintf("exporting %s segments is not supported yet", s.BaseType)
}

// allStriped reports whether the LV and every LV its areas refer to are
// made of striped segments only, so the whole LV maps to PV pieces.
func allStriped(vg *model.VG, lv *model.LV, seen map[string]bool) bool {
	if seen[lv.Name] {
		return false
	}
	seen[lv.Name] = true
	defer delete(seen, lv.Name)
	for _, s := range lv.Segments {
		if s.Kind() != model.KindStriped || !allStripedSeg(vg, s, seen) {
			return false
		}
	}
	return true
}

func allStripedSeg(vg *model.VG, s *model.Segment, seen map[string]bool) bool {
	if s.Kind() != model.KindStriped {
		return false
	}
	for _, a := range s.Areas {
		if a.IsPV() {
			continue
		}
		sub := vg.LV(a.LV)
		if sub == nil || !allStriped(vg, sub, seen) {
			return false
		}
	}
	return true
}

// Concat is a Source made of consecutive parts (one per segment).
type Concat struct {
	size  int64
	parts []part
}

type part struct {
	off int64
	src export.Source
}

// Size is the LV size in bytes.
func (c *Concat) Size() int64 { return c.size }

func (c *Concat) find(off int64) int {
	i := sort.Search(len(c.parts), func(i int) bool { return c.parts[i].off+c.parts[i].src.Size() > off })
	if i < len(c.parts) && c.parts[i].off <= off {
		return i
	}
	return -1
}

// Runs describes [off, off+n) by asking each part.
func (c *Concat) Runs(off, n int64) ([]export.Run, error) {
	var out []export.Run
	for n > 0 {
		i := c.find(off)
		if i < 0 {
			return nil, fmt.Errorf("LV byte %d is outside every segment: %w", off, model.ErrMapping)
		}
		p := c.parts[i]
		l := min(n, p.off+p.src.Size()-off)
		runs, err := p.src.Runs(off-p.off, l)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			r.Off += p.off
			out = append(out, r)
		}
		off += l
		n -= l
	}
	return out, nil
}

// MissingRanges is what export.MissingRanges says of each part, in LV
// order: parts that can say it without their runs (striped PV pieces) do.
func (c *Concat) MissingRanges(ctx context.Context) ([]export.Range, error) {
	var out []export.Range
	for _, p := range c.parts {
		miss, err := export.MissingRanges(ctx, p.src)
		if err != nil {
			return nil, err
		}
		for _, r := range miss {
			r.Off += p.off
			out = export.AppendRange(out, r)
		}
	}
	return out, nil
}

// ReadAt reads across parts.
func (c *Concat) ReadAt(b []byte, off int64) (int, error) {
	done := 0
	for done < len(b) {
		i := c.find(off + int64(done))
		if i < 0 {
			return done, fmt.Errorf("LV byte %d is outside every segment: %w", off+int64(done), model.ErrMapping)
		}
		p := c.parts[i]
		at := off + int64(done) - p.off
		l := min(int64(len(b)-done), p.src.Size()-at)
		n, err := p.src.ReadAt(b[done:done+int(l)], at)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// ConcurrentReads reports whether every part allows concurrent reads.
func (c *Concat) ConcurrentReads() bool {
	for _, p := range c.parts {
		cs, ok := p.src.(export.ConcurrentSource)
		if !ok || !cs.ConcurrentReads() {
			return false
		}
	}
	return true
}
