package model

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// A VG's lookups by name (LV, LVByUUID, PVByLabel, PVByUUID, Shown) use an
// index built on the first lookup and kept as long as the VG lives, so
// that a front end asking about every LV of a VG of n LVs does O(n) work,
// not O(n²). The index is rebuilt when the VG's LVs or PVs slice changes
// (another length or backing array); a VG whose LVs, PVs or segments are
// edited in place must not be looked up until the edits are done, or the
// edits must replace the slices.

// vgIndex is what the lookups of one VG need.
type vgIndex struct {
	lvs, pvs sliceID

	lvByName  map[string]*LV // first LV of each name, in LV order
	lvByUUID  map[string]*LV // by bare UUID
	pvByLabel map[string]*PV
	pvByUUID  map[string]*PV // by bare UUID
	// cowName holds the names an old-style snapshot segment names as its
	// COW store or merging store (shown as the snapshot).
	cowName map[string]bool

	mu      sync.Mutex
	derived map[any]any // Derived values of other packages, by key
}

// sliceID identifies a slice by its backing array and length.
type sliceID struct {
	data     unsafe.Pointer
	len, cap int
}

func idOf[T any](s []T) sliceID {
	return sliceID{data: unsafe.Pointer(unsafe.SliceData(s)), len: len(s), cap: cap(s)}
}

var (
	indexMu sync.Mutex
	indexes = map[weak.Pointer[VG]]*vgIndex{}
)

// lastIndex is the index used last and the address of its VG: a front
// end asks about the LVs of one VG after another, and this answers
// without the weak pointer and the map. (What an index holds depends only
// on the LVs and PVs slices, which are compared too, so a VG allocated
// where a freed one was cannot get an index that is not its own.)
var lastIndex atomic.Pointer[lastEntry]

type lastEntry struct {
	vg uintptr
	ix *vgIndex
}

// index returns vg's index, building it when there is none or the VG's
// slices changed since.
func (vg *VG) index() *vgIndex {
	lvs, pvs := idOf(vg.LVs), idOf(vg.PVs)
	if l := lastIndex.Load(); l != nil && l.vg == uintptr(unsafe.Pointer(vg)) && l.ix.lvs == lvs && l.ix.pvs == pvs {
		return l.ix
	}
	ix := vg.lookupIndex(lvs, pvs)
	lastIndex.Store(&lastEntry{vg: uintptr(unsafe.Pointer(vg)), ix: ix})
	return ix
}

// lookupIndex finds or builds vg's index in the table.
func (vg *VG) lookupIndex(lvs, pvs sliceID) *vgIndex {
	wp := weak.Make(vg)
	indexMu.Lock()
	ix, known := indexes[wp]
	indexMu.Unlock()
	if ix != nil && ix.lvs == lvs && ix.pvs == pvs {
		return ix
	}
	ix = buildIndex(vg)
	indexMu.Lock()
	indexes[wp] = ix
	indexMu.Unlock()
	if !known {
		runtime.AddCleanup(vg, func(wp weak.Pointer[VG]) {
			indexMu.Lock()
			delete(indexes, wp)
			indexMu.Unlock()
		}, wp)
	}
	return ix
}

func buildIndex(vg *VG) *vgIndex {
	ix := &vgIndex{lvs: idOf(vg.LVs), pvs: idOf(vg.PVs),
		lvByName: make(map[string]*LV, len(vg.LVs)), lvByUUID: make(map[string]*LV, len(vg.LVs)),
		pvByLabel: make(map[string]*PV, len(vg.PVs)), pvByUUID: make(map[string]*PV, len(vg.PVs)),
		cowName: map[string]bool{}}
	for _, lv := range vg.LVs {
		if lv == nil {
			continue
		}
		if _, ok := ix.lvByName[lv.Name]; !ok {
			ix.lvByName[lv.Name] = lv
		}
		if u := BareUUID(lv.UUID); ix.lvByUUID[u] == nil {
			ix.lvByUUID[u] = lv
		}
		for _, s := range lv.Segments {
			if p := s.Snapshot; p != nil {
				ix.cowName[p.CowStore] = true
				ix.cowName[p.MergingStore] = true
			}
		}
	}
	delete(ix.cowName, "")
	for _, pv := range vg.PVs {
		if pv == nil {
			continue
		}
		if _, ok := ix.pvByLabel[pv.Label]; !ok {
			ix.pvByLabel[pv.Label] = pv
		}
		if u := BareUUID(pv.UUID); ix.pvByUUID[u] == nil {
			ix.pvByUUID[u] = pv
		}
	}
	return ix
}

// Derived returns what build computes from vg, computed on the first call
// with key for vg and kept with vg's index (rebuilt, like it, when the
// VG's LVs or PVs slice changes). Other packages use it for their own
// per-VG indexes; key is a value of a type of their own. The value must
// not refer to vg itself, or vg is never freed. Concurrent first calls
// may each build; one value wins.
func Derived[T any](vg *VG, key any, build func(*VG) T) T {
	ix := vg.index()
	ix.mu.Lock()
	v, ok := ix.derived[key]
	ix.mu.Unlock()
	if ok {
		return v.(T)
	}
	t := build(vg)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if v, ok := ix.derived[key]; ok {
		return v.(T)
	}
	if ix.derived == nil {
		ix.derived = map[any]any{}
	}
	ix.derived[key] = t
	return t
}
