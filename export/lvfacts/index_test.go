package lvfacts

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// The index answers as a scan of every LV for every LV did (kept here as
// the reference): checkIndex compares them on a VG.

func roleOfRef(vg *model.VG, lv *model.LV) Role {
	for _, o := range vg.LVs {
		if o == lv {
			continue
		}
		for _, s := range o.Segments {
			if k := roleIn(s, lv.Name); k != RoleNone {
				if k == RoleCachePool && !hasKind(lv, model.KindCachePool) {
					k = RoleCacheVol
				}
				return Role{User: o.Name, Kind: k}
			}
		}
	}
	if !lv.Visible() && strings.HasSuffix(lv.Name, "_pmspare") && len(lv.Segments) > 0 {
		return Role{Kind: RolePoolSpare}
	}
	return Role{}
}

func roleIn(s *model.Segment, name string) RoleKind {
	inAreas := func(areas []model.Area) bool {
		for _, a := range areas {
			if a.LV == name {
				return true
			}
		}
		return false
	}
	switch {
	case s.ThinPool != nil && s.ThinPool.Pool == name:
		return RoleThinData
	case s.ThinPool != nil && s.ThinPool.Metadata == name:
		return RoleThinMeta
	case s.CachePool != nil && s.CachePool.Data == name:
		return RoleCacheData
	case s.CachePool != nil && s.CachePool.Metadata == name:
		return RoleCacheMeta
	case s.Cache != nil && s.Cache.CachePool == name:
		return RoleCachePool
	case s.Cache != nil && s.Cache.Origin == name:
		return RoleCacheOrigin
	case s.Writecache != nil && s.Writecache.Writecache == name:
		return RoleCacheVol
	case s.Writecache != nil && s.Writecache.Origin == name:
		return RoleCacheOrigin
	case s.Snapshot != nil && (s.Snapshot.CowStore == name || s.Snapshot.MergingStore == name):
		return RoleCOW
	case s.Snapshot != nil && s.Snapshot.Origin == name:
		return RoleSnapshotOrigin
	case s.VDOPool != nil && s.VDOPool.Data == name:
		return RoleVDOData
	case s.Integrity != nil && s.Integrity.Origin == name:
		return RoleIntegrityOrigin
	case s.Integrity != nil && s.Integrity.MetaDev == name:
		return RoleIntegrityMeta
	case s.Kind() == model.KindRAID && inAreas(s.MetaAreas):
		return RoleRAIDMeta
	case s.Kind() == model.KindRAID && inAreas(s.Areas):
		return RoleRAIDImage
	case s.Kind() == model.KindMirror && s.Mirror != nil && s.Mirror.MirrorLog == name:
		return RoleMirrorLog
	case s.Kind() == model.KindMirror && inAreas(s.Areas):
		return RoleMirrorImage
	}
	return RoleNone
}

func snapshotsOfRef(vg *model.VG, name string) []string {
	var out []string
	for _, o := range vg.LVs {
		for _, s := range o.Segments {
			switch {
			case s.Snapshot != nil && s.Snapshot.Origin == name:
				n := s.Snapshot.CowStore
				if n == "" {
					n = s.Snapshot.MergingStore
				}
				out = append(out, n)
			case s.Thin != nil && (s.Thin.Origin == name || s.Thin.ExternalOrigin == name):
				out = append(out, o.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func thinLVsRef(vg *model.VG, pool string) int {
	n := 0
	for _, l := range vg.LVs {
		for _, s := range l.Segments {
			if s.Thin != nil && s.Thin.ThinPool == pool {
				n++
				break
			}
		}
	}
	return n
}

func mergingRef(vg *model.VG, name string) bool {
	for _, o := range vg.LVs {
		for _, s := range o.Segments {
			if p := s.Snapshot; p != nil && p.MergingStore != "" && (p.MergingStore == name || p.Origin == name) {
				return true
			}
		}
	}
	return false
}

func partialRef(vg *model.VG, lv *model.LV, present func(string) bool, seen map[string]bool) bool {
	if seen[lv.Name] {
		return false
	}
	seen[lv.Name] = true
	for _, s := range lv.Segments {
		for _, a := range append(append([]model.Area(nil), s.Areas...), s.MetaAreas...) {
			if !a.IsPV() {
				continue
			}
			pv := vg.PVByLabel(a.PV)
			if pv == nil || pv.HasStatus("MISSING") || present != nil && !present(pv.UUID) {
				return true
			}
		}
		for _, n := range s.ReferencedLVs() {
			if sub := vg.LV(n); sub != nil && partialRef(vg, sub, present, seen) {
				return true
			}
		}
	}
	if role := roleOfRef(vg, lv); role.Kind == RoleCOW {
		if snap := vg.LV(role.User); snap != nil && partialRef(vg, snap, present, seen) {
			return true
		}
	}
	return false
}

// checkIndex compares what the index says about every LV of the
// resolver's VG with the reference scans.
func checkIndex(t *testing.T, r *volume.Resolver) {
	t.Helper()
	vg := r.VG
	for _, lv := range vg.LVs {
		if got, want := RoleOf(vg, lv), roleOfRef(vg, lv); got != want {
			t.Errorf("%s: RoleOf %+v, want %+v", lv.Name, got, want)
		}
		if got, want := snapshotsOf(vg, lv.Name), snapshotsOfRef(vg, lv.Name); !slices.Equal(got, want) {
			t.Errorf("%s: snapshots %q, want %q", lv.Name, got, want)
		}
		if got, want := indexOf(vg).thinLVs[lv.Name], thinLVsRef(vg, lv.Name); got != want {
			t.Errorf("%s: thin LVs %d, want %d", lv.Name, got, want)
		}
		if got, want := merging(vg, lv.Name), mergingRef(vg, lv.Name); got != want {
			t.Errorf("%s: merging %v, want %v", lv.Name, got, want)
		}
		if got, want := Cheap(r, lv).Partial, partialRef(vg, lv, present(r), map[string]bool{}); got != want {
			t.Errorf("%s: partial %v, want %v", lv.Name, got, want)
		}
		if got, want := Partial(vg, lv, nil), partialRef(vg, lv, nil, map[string]bool{}); got != want {
			t.Errorf("%s: Partial(nil) %v, want %v", lv.Name, got, want)
		}
	}
}

// TestIndexFixtures: on every fixture VG (with its withheld PVs missing
// too), the index answers as the reference scans.
func TestIndexFixtures(t *testing.T) {
	for _, dir := range dirs(t) {
		for _, withhold := range []bool{false, true} {
			for _, vg := range scanDir(t, dir, withhold) {
				checkIndex(t, volume.FromScan(vg))
			}
		}
	}
}
