package cow

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

func init() {
	volume.Register(model.KindSnapshot, openSegment)
	volume.Register(model.KindZero, openZero)
	volume.RegisterRedirect(redirect)
}

// openZero opens a "zero" segment: it reads as zeros.
func openZero(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	n, err := segBytes(r, lv, idx)
	if err != nil {
		return nil, err
	}
	return Zero(n), nil
}

func segBytes(r *volume.Resolver, lv *model.LV, idx int) (int64, error) {
	if idx < 0 || idx >= len(lv.Segments) {
		return 0, &SnapshotError{LV: lv.Name, Segment: idx, Field: "segment", Reason: "no such segment", Err: ErrMetadata}
	}
	eb := r.VG.ExtentBytes()
	s := lv.Segments[idx]
	if eb <= 0 || s.ExtentCount > uint64(math.MaxInt64/eb) || s.StartExtent > uint64(math.MaxInt64/eb)-s.ExtentCount {
		return 0, &SnapshotError{LV: lv.Name, Segment: idx, Field: "extent_count", Reason: fmt.Sprintf("%d extents from %d cannot be mapped", s.ExtentCount, s.StartExtent), Err: ErrMetadata}
	}
	return int64(s.ExtentCount) * eb, nil
}

// Snapshot is an opened old-style snapshot.
type Snapshot struct {
	LV     string // the snapshotN LV
	Origin string
	COW    string // the COW store LV (cow_store or merging_store)
	// Merging is set when the snapshot is being merged into its origin.
	Merging bool
	Store   *Store
	// View is the snapshot as its user sees it (origin size).
	View *Overlay
}

// OpenSnapshot reads the exception store of the snapshot LV snap (the
// hidden snapshotN LV whose segment idx has type snapshot) and builds its
// view. An invalidated snapshot gives the Snapshot without a View and an
// error wrapping ErrInvalidated.
func OpenSnapshot(r *volume.Resolver, snap *model.LV, idx int) (*Snapshot, error) {
	fail := func(field, format string, args ...any) error {
		return &SnapshotError{LV: snap.Name, Segment: idx, Field: field, Reason: fmt.Sprintf(format, args...), Err: ErrMetadata}
	}
	if idx < 0 || idx >= len(snap.Segments) || snap.Segments[idx].Snapshot == nil {
		return nil, fail("type", "%s is not a snapshot segment", model.SegmentName(idx))
	}
	p := snap.Segments[idx].Snapshot
	s := &Snapshot{LV: snap.Name, Origin: p.Origin, COW: p.CowStore}
	if p.MergingStore != "" {
		if p.CowStore != "" && p.CowStore != p.MergingStore {
			return nil, fail("merging_store", "names %q while cow_store names %q", p.MergingStore, p.CowStore)
		}
		s.COW, s.Merging = p.MergingStore, true
	}
	origin, cowLV := r.VG.LV(p.Origin), r.VG.LV(s.COW)
	switch {
	case s.COW == "":
		return nil, fail("cow_store", "the segment names no COW store")
	case origin == nil:
		return nil, fail("origin", "no LV named %q", p.Origin)
	case cowLV == nil:
		return nil, fail("cow_store", "no LV named %q", s.COW)
	case origin == cowLV || origin == snap || cowLV == snap:
		return nil, fail("cow_store", "origin %q, COW store %q and snapshot %q must be three different LVs", p.Origin, s.COW, snap.Name)
	}
	// Both are read as they are on disk: the origin's own data (its
	// "-real" device) and the raw store.
	osrc, err := r.OpenRaw(origin)
	if err != nil {
		return nil, err
	}
	csrc, err := r.OpenRaw(cowLV)
	if err != nil {
		return nil, err
	}
	st, err := ReadStore(SourceReader(csrc), StoreParams{LV: s.COW, Size: csrc.Size(), OriginSize: osrc.Size(), ChunkSectors: p.ChunkSize})
	s.Store = st
	if err != nil {
		return s, err
	}
	if s.View, err = NewOverlay(osrc, csrc, st.Extents(osrc.Size())); err != nil {
		return nil, &StoreError{LV: s.COW, Area: HeaderArea, Field: "exceptions", Reason: err.Error(), Err: ErrCorrupt}
	}
	s.View.SetTopNote(fmt.Sprintf("snapshot chunk held in COW store %s", s.COW))
	return s, nil
}

// openSegment opens a snapshot segment as the snapshot view.
func openSegment(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	n, err := segBytes(r, lv, idx)
	if err != nil {
		return nil, err
	}
	s, err := OpenSnapshot(r, lv, idx)
	if err != nil {
		return nil, err
	}
	off := int64(lv.Segments[idx].StartExtent) * r.VG.ExtentBytes()
	w, err := NewWindow(s.View, off, n)
	if err != nil {
		return nil, &SnapshotError{LV: lv.Name, Segment: idx, Field: "extent_count",
			Reason: fmt.Sprintf("the segment does not fit the origin %s: %v", s.Origin, err), Err: ErrMetadata}
	}
	return w, nil
}

// SnapshotFor finds the snapshot LV presented under lv's name: the one
// whose COW store (or merging store) is lv, or, for an origin, the one
// being merged into it. It returns nil when there is none.
func SnapshotFor(vg *model.VG, lv *model.LV) (*model.LV, error) {
	var found *model.LV
	for _, s := range model.Derived(vg, presentedKey{}, presentedBy)[lv.Name] {
		if s == lv {
			continue
		}
		if found != nil {
			return nil, &SnapshotError{LV: lv.Name, Segment: -1, Field: "cow_store",
				Reason: fmt.Sprintf("both %s and %s use it as COW store or merge into it", found.Name, s.Name), Err: ErrMetadata}
		}
		found = s
	}
	return found, nil
}

// presentedKey is the model.Derived key of presentedBy.
type presentedKey struct{}

// presentedBy lists, for each LV name, the first three LVs (in LV order)
// with a snapshot segment that presents the LV of that name as the
// snapshot (its COW or merging store) or the merged view (its origin,
// while merging): enough for SnapshotFor to find the one other than the
// LV itself or two that conflict, once per VG instead of a scan of every
// LV for every LV.
func presentedBy(vg *model.VG) map[string][]*model.LV {
	out := map[string][]*model.LV{}
	for _, s := range vg.LVs {
		if s == nil {
			continue
		}
		add := func(name string) {
			l := out[name]
			if len(l) < 3 && !slices.Contains(l, s) {
				out[name] = append(l, s)
			}
		}
		for _, seg := range s.Segments {
			if p := seg.Snapshot; p != nil {
				add(p.CowStore)
				add(p.MergingStore)
				if p.MergingStore != "" {
					add(p.Origin)
				}
			}
		}
	}
	return out
}

// redirect presents a COW store LV as its snapshot, and an origin as the
// merged view while a merge is in progress.
func redirect(r *volume.Resolver, lv *model.LV) (export.Source, bool, error) {
	snap, err := SnapshotFor(r.VG, lv)
	if err != nil {
		return nil, true, err
	}
	if snap == nil {
		return nil, false, nil
	}
	src, err := r.OpenLV(snap)
	if err == nil && src == nil {
		err = errors.New("snapshot opened as nothing")
	}
	return src, true, err
}
