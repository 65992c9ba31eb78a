package lvfacts

import (
	"sort"

	"github.com/lvminspect/lvminspect/model"
)

// What the facts of one LV need to know about the other LVs of its VG
// (who uses it and how, its snapshots, a pool's thin LVs), indexed once
// per VG generation: the facts of every LV of a VG of n LVs cost O(n),
// not O(n²).

// indexKey is the model.Derived key of a VG's index.
type indexKey struct{}

// vgIndex is a VG's index for the facts.
type vgIndex struct {
	// users lists, for each LV name, the first two LVs (in LV order)
	// whose segments use an LV of that name, with the role of the first
	// segment that does.
	users map[string][]use
	// snapshots lists, for each origin name, its old-style snapshots
	// (by their COW store's name) and thin snapshots, sorted.
	snapshots map[string][]string
	// thinLVs counts the thin LVs of each pool name.
	thinLVs map[string]int
	// merging holds the names an old-style snapshot merges into or from.
	merging map[string]bool
}

type use struct {
	lv   *model.LV
	kind RoleKind
}

func indexOf(vg *model.VG) *vgIndex {
	return model.Derived(vg, indexKey{}, buildIndex)
}

func buildIndex(vg *model.VG) *vgIndex {
	ix := &vgIndex{users: map[string][]use{}, snapshots: map[string][]string{}, thinLVs: map[string]int{}, merging: map[string]bool{}}
	for _, o := range vg.LVs {
		if o == nil {
			continue
		}
		add := func(name string, k RoleKind) {
			us := ix.users[name]
			if len(us) >= 2 || len(us) > 0 && us[len(us)-1].lv == o {
				return
			}
			ix.users[name] = append(us, use{o, k})
		}
		thinOf := map[string]bool{}
		for _, s := range o.Segments {
			rolesIn(s, add)
			switch {
			case s.Snapshot != nil:
				p := s.Snapshot
				if p.MergingStore != "" {
					ix.merging[p.MergingStore] = true
					ix.merging[p.Origin] = true
				}
				n := p.CowStore
				if n == "" {
					n = p.MergingStore
				}
				ix.snapshots[p.Origin] = append(ix.snapshots[p.Origin], n)
			case s.Thin != nil:
				t := s.Thin
				ix.snapshots[t.Origin] = append(ix.snapshots[t.Origin], o.Name)
				if t.ExternalOrigin != t.Origin {
					ix.snapshots[t.ExternalOrigin] = append(ix.snapshots[t.ExternalOrigin], o.Name)
				}
			}
			if s.Thin != nil && !thinOf[s.Thin.ThinPool] {
				thinOf[s.Thin.ThinPool] = true
				ix.thinLVs[s.Thin.ThinPool]++
			}
		}
	}
	for _, l := range ix.snapshots {
		sort.Strings(l)
	}
	return ix
}

// rolesIn calls add with every LV name segment s uses and its role, in
// the order roleIn tests them (the first role of a name is the one
// roleIn gives it).
func rolesIn(s *model.Segment, add func(string, RoleKind)) {
	if p := s.ThinPool; p != nil {
		add(p.Pool, RoleThinData)
		add(p.Metadata, RoleThinMeta)
	}
	if p := s.CachePool; p != nil {
		add(p.Data, RoleCacheData)
		add(p.Metadata, RoleCacheMeta)
	}
	if p := s.Cache; p != nil {
		add(p.CachePool, RoleCachePool)
		add(p.Origin, RoleCacheOrigin)
	}
	if p := s.Writecache; p != nil {
		add(p.Writecache, RoleCacheVol)
		add(p.Origin, RoleCacheOrigin)
	}
	if p := s.Snapshot; p != nil {
		add(p.CowStore, RoleCOW)
		add(p.MergingStore, RoleCOW)
		add(p.Origin, RoleSnapshotOrigin)
	}
	if p := s.VDOPool; p != nil {
		add(p.Data, RoleVDOData)
	}
	if p := s.Integrity; p != nil {
		add(p.Origin, RoleIntegrityOrigin)
		add(p.MetaDev, RoleIntegrityMeta)
	}
	switch s.Kind() {
	case model.KindRAID:
		for _, a := range s.MetaAreas {
			add(a.LV, RoleRAIDMeta)
		}
		for _, a := range s.Areas {
			add(a.LV, RoleRAIDImage)
		}
	case model.KindMirror:
		if s.Mirror != nil {
			add(s.Mirror.MirrorLog, RoleMirrorLog)
		}
		for _, a := range s.Areas {
			add(a.LV, RoleMirrorImage)
		}
	}
}
