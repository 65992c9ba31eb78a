package lvfacts

import (
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// Role is how other LVs of the VG use an LV: as the data or metadata of a
// pool, an image of a raid or mirror, a cache origin, a COW store...
// An LV has at most one user in valid metadata; Role records the first.
type Role struct {
	User string // the LV that uses it ("" when none)
	Kind RoleKind
}

// RoleKind names a Role.
type RoleKind int

// Roles an LV can have in another LV.
const (
	RoleNone            RoleKind = iota
	RoleThinData                 // _tdata of a thin pool
	RoleThinMeta                 // _tmeta of a thin pool
	RoleCacheData                // _cdata of a cache pool
	RoleCacheMeta                // _cmeta of a cache pool
	RoleCachePool                // the cache pool of a cached LV
	RoleCacheVol                 // the cachevol of a cache or writecache LV
	RoleCacheOrigin              // _corig / _wcorig
	RoleRAIDImage                // _rimage_N
	RoleRAIDMeta                 // _rmeta_N
	RoleMirrorImage              // _mimage_N
	RoleMirrorLog                // _mlog
	RoleSnapshotOrigin           // origin of an old-style snapshot
	RoleCOW                      // COW store of an old-style snapshot (shown as the snapshot)
	RoleVDOData                  // _vdata of a VDO pool
	RoleIntegrityOrigin          // _iorig of an integrity LV
	RoleIntegrityMeta            // _imeta of an integrity LV
	RolePoolSpare                // lvolN_pmspare: the pool metadata spare
)

// RoleOf finds how lv is used by the other LVs of vg.
func RoleOf(vg *model.VG, lv *model.LV) Role {
	for _, u := range indexOf(vg).users[lv.Name] {
		if u.lv == lv {
			continue
		}
		k := u.kind
		if k == RoleCachePool && !hasKind(lv, model.KindCachePool) {
			k = RoleCacheVol
		}
		return Role{User: u.lv.Name, Kind: k}
	}
	if !lv.Visible() && strings.HasSuffix(lv.Name, "_pmspare") && len(lv.Segments) > 0 {
		return Role{Kind: RolePoolSpare}
	}
	return Role{}
}

func hasKind(lv *model.LV, k model.SegmentKind) bool {
	for _, s := range lv.Segments {
		if s.Kind() == k {
			return true
		}
	}
	return false
}

// LVAttr is the 10-character lv_attr of lvs for lv, with the characters
// that depend on the kernel's state, which no disk image records, left
// as '-':
//
//	1 volume type    from the metadata: C cache, m/M mirror, o/O origin, g integrity,
//	                 r/R raid, s/S snapshot, p pvmove, v virtual, i mirror or raid image,
//	                 l mirror log, V thin volume, t thin pool, T thin pool data,
//	                 d/D VDO pool and its data, e raid or pool metadata or pool spare
//	2 permissions    w writeable, r read-only (from the metadata; "R", read-only
//	                 activation, is a kernel state and never shown)
//	3 allocation     a c i l n; capitalised when locked (pvmove)
//	4 fixed minor    m
//	5 state          always '-' except I: an invalid (invalidated) old-style
//	                 snapshot, which its COW store's header records; whether an
//	                 LV is active or suspended cannot be known offline
//	6 open           always '-': whether a device is open cannot be known offline
//	7 target type    C cache, m mirror, r raid, s snapshot, t thin, u unknown,
//	                 v virtual, V VDO, g integrity
//	8 zero           z: a thin pool that zeroes new blocks, and its thin LVs
//	9 health         p partial (a PV it needs is missing), w writemostly raid1
//	                 image; '-' says only that neither holds: the kernel's view
//	                 (refresh needed, mismatches, pool out of space) is unknown
//	10 skip          k activation skip
//
// partial says whether a PV the LV needs is missing (see Partial).
func LVAttr(vg *model.VG, lv *model.LV, partial bool) string {
	return lvAttr(vg, lv, RoleOf(vg, lv), partial, false)
}

func lvAttr(vg *model.VG, lv *model.LV, role Role, partial, invalid bool) string {
	a := []byte("----------")
	a[0] = volumeType(vg, lv, role)
	switch {
	case lv.HasStatus("WRITE"):
		a[1] = 'w'
	case lv.HasStatus("READ"):
		a[1] = 'r'
	}
	a[2] = allocChar(lv.AllocationPolicy, "inherit")
	if lv.HasStatus("LOCKED") || lv.HasStatus("PVMOVE") {
		a[2] -= 'a' - 'A'
	}
	if lv.Minor != nil || lv.HasStatus("FIXED_MINOR") {
		a[3] = 'm'
	}
	if invalid {
		a[4] = 'I'
	}
	a[6] = targetType(vg, lv, role)
	if zeroes(vg, lv) {
		a[7] = 'z'
	}
	switch {
	case partial:
		a[8] = 'p'
	case lv.HasStatus("WRITEMOSTLY"):
		a[8] = 'w'
	}
	if lv.HasStatus("ACTIVATION_SKIP") {
		a[9] = 'k'
	}
	return string(a)
}

func allocChar(policy, empty string) byte {
	if policy == "" {
		policy = empty
	}
	switch policy {
	case "anywhere":
		return 'a'
	case "contiguous":
		return 'c'
	case "cling", "cling_by_tags":
		return 'l'
	case "normal":
		return 'n'
	case "inherit":
		return 'i'
	}
	return 'i'
}

func volumeType(vg *model.VG, lv *model.LV, role Role) byte {
	if lv.HasStatus("PVMOVE") {
		return 'p'
	}
	if lv.HasStatus("CONVERTING") {
		return 'c'
	}
	switch role.Kind {
	case RoleThinData:
		return 'T'
	case RoleThinMeta, RoleCacheMeta, RoleRAIDMeta, RolePoolSpare, RoleIntegrityMeta:
		return 'e'
	case RoleCacheData, RoleCacheVol:
		return 'C'
	case RoleRAIDImage, RoleMirrorImage:
		return 'i'
	case RoleMirrorLog:
		return 'l'
	case RoleVDOData:
		return 'D'
	case RoleCOW:
		if merging(vg, lv.Name) {
			return 'S'
		}
		return 's'
	case RoleCacheOrigin:
		return 'o'
	case RoleSnapshotOrigin:
		if merging(vg, lv.Name) {
			return 'O'
		}
		return 'o'
	}
	if lv.HasStatus("CACHE_VOL") {
		return 'C'
	}
	if len(lv.Segments) == 0 {
		return '-'
	}
	switch lv.Segments[0].Kind() {
	case model.KindCache, model.KindCachePool, model.KindWritecache:
		return 'C'
	case model.KindThinPool:
		return 't'
	case model.KindThin:
		return 'V'
	case model.KindRAID:
		if lv.HasStatus("NOTSYNCED") {
			return 'R'
		}
		return 'r'
	case model.KindMirror:
		if lv.HasStatus("NOTSYNCED") {
			return 'M'
		}
		return 'm'
	case model.KindVDOPool:
		return 'd'
	case model.KindVDO, model.KindZero, model.KindError:
		return 'v'
	case model.KindIntegrity:
		return 'g'
	case model.KindSnapshot:
		return 's'
	}
	return '-'
}

// merging reports whether an old-style snapshot merges into or from name.
func merging(vg *model.VG, name string) bool { return indexOf(vg).merging[name] }

func targetType(vg *model.VG, lv *model.LV, role Role) byte {
	switch role.Kind {
	case RoleCOW, RoleSnapshotOrigin:
		return 's'
	}
	if len(lv.Segments) > 0 {
		switch lv.Segments[0].Kind() {
		case model.KindCache, model.KindCachePool, model.KindWritecache:
			return 'C'
		case model.KindThinPool, model.KindThin:
			return 't'
		case model.KindRAID:
			return 'r'
		case model.KindMirror:
			return 'm'
		case model.KindSnapshot:
			return 's'
		case model.KindVDO, model.KindVDOPool:
			return 'V'
		case model.KindIntegrity:
			return 'g'
		case model.KindZero, model.KindError:
			return 'v'
		case model.KindUnknown:
			return 'u'
		}
	}
	switch role.Kind {
	case RoleRAIDImage, RoleRAIDMeta:
		return 'r'
	case RoleMirrorImage, RoleMirrorLog:
		return 'm'
	case RoleCacheOrigin, RoleCacheVol:
		return 'C'
	case RoleIntegrityOrigin, RoleIntegrityMeta:
		return 'g'
	}
	if lv.HasStatus("CACHE_VOL") {
		return 'C'
	}
	return '-'
}

// zeroes reports whether lv is a thin pool that zeroes newly provisioned
// blocks, or a thin LV of one.
func zeroes(vg *model.VG, lv *model.LV) bool {
	for _, s := range lv.Segments {
		if s.ThinPool != nil {
			return s.ThinPool.ZeroNewBlocks != nil && *s.ThinPool.ZeroNewBlocks != 0
		}
		if s.Thin != nil {
			if p := vg.LV(s.Thin.ThinPool); p != nil && p != lv {
				for _, ps := range p.Segments {
					if ps.ThinPool != nil {
						return ps.ThinPool.ZeroNewBlocks != nil && *ps.ThinPool.ZeroNewBlocks != 0
					}
				}
			}
			return false
		}
	}
	return false
}

// Partial reports whether lv needs a PV that is missing: one of its own
// extents, or of an LV it is built from (images, pool data and metadata,
// origins, the origin of the snapshot it presents), lies on a PV for which
// present returns false or which the metadata marks MISSING. present nil
// counts every PV as present unless marked MISSING.
func Partial(vg *model.VG, lv *model.LV, present func(pvUUID string) bool) bool {
	return partial(vg, lv, present, map[string]bool{})
}

func partial(vg *model.VG, lv *model.LV, present func(string) bool, seen map[string]bool) bool {
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
			if sub := vg.LV(n); sub != nil && partial(vg, sub, present, seen) {
				return true
			}
		}
	}
	// A COW store presents its snapshot, which reads the origin too.
	if role := RoleOf(vg, lv); role.Kind == RoleCOW {
		if snap := vg.LV(role.User); snap != nil && partial(vg, snap, present, seen) {
			return true
		}
	}
	return false
}

// partialSet says for every LV that is the first of its name in vg
// whether it is partial (see Partial): whether an LV whose own extents
// lie on a PV that is missing can be reached from it through the LVs its
// segments refer to (and, for a COW store, its snapshot). It does the
// work of one Partial call per LV in one pass over the references.
func partialSet(vg *model.VG, present func(string) bool) map[*model.LV]bool {
	out := make(map[*model.LV]bool, len(vg.LVs))
	users := map[*model.LV][]*model.LV{} // who refers to each LV
	var queue []*model.LV
	for _, lv := range vg.LVs {
		if lv == nil || vg.LV(lv.Name) != lv {
			continue // a later LV of a name already seen: not a node
		}
		out[lv] = false
		direct := false
		for _, s := range lv.Segments {
			for _, as := range [][]model.Area{s.Areas, s.MetaAreas} {
				for _, a := range as {
					if !a.IsPV() {
						continue
					}
					pv := vg.PVByLabel(a.PV)
					if pv == nil || pv.HasStatus("MISSING") || present != nil && !present(pv.UUID) {
						direct = true
					}
				}
			}
			for _, n := range s.ReferencedLVs() {
				if sub := vg.LV(n); sub != nil && sub != lv {
					users[sub] = append(users[sub], lv)
				}
			}
		}
		if role := RoleOf(vg, lv); role.Kind == RoleCOW {
			if snap := vg.LV(role.User); snap != nil && snap != lv {
				users[snap] = append(users[snap], lv)
			}
		}
		if direct {
			queue = append(queue, lv)
		}
	}
	for _, lv := range queue {
		out[lv] = true
	}
	for len(queue) > 0 {
		lv := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, u := range users[lv] {
			if !out[u] {
				out[u] = true
				queue = append(queue, u)
			}
		}
	}
	return out
}

// VGAttr is the 6-character vg_attr of vgs: permissions (w/r), resizeable
// (z), exported (x), partial (p: a PV the metadata marks MISSING; use
// VGAttrPartial when the scan knows which PVs are absent), allocation
// policy (c, l, n, a) and clustered or shared (c: clvmd, s: lvmlockd).
func VGAttr(vg *model.VG) string {
	missing := false
	for _, pv := range vg.PVs {
		if pv.HasStatus("MISSING") {
			missing = true
		}
	}
	return VGAttrPartial(vg, missing)
}

// VGAttrPartial is VGAttr with the partial character set from partial (or
// a PV marked MISSING).
func VGAttrPartial(vg *model.VG, partial bool) string {
	a := []byte("------")
	has := func(w string) bool {
		for _, l := range [][]string{vg.Status, vg.Flags} {
			for _, s := range l {
				if s == w {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("WRITE"):
		a[0] = 'w'
	case has("READ"):
		a[0] = 'r'
	}
	if has("RESIZEABLE") {
		a[1] = 'z'
	}
	if has("EXPORTED") {
		a[2] = 'x'
	}
	for _, pv := range vg.PVs {
		if pv.HasStatus("MISSING") {
			partial = true
		}
	}
	if partial {
		a[3] = 'p'
	}
	a[4] = allocChar(vg.AllocationPolicy, "normal")
	switch {
	case has("CLUSTERED"):
		a[5] = 'c'
	case vg.LockType != "" && vg.LockType != "none":
		a[5] = 's'
	}
	return string(a)
}

// PVAttr is the 3-character pv_attr of pvs: a allocatable (u: in a VG but
// not allocatable; '-' outside any VG), x exported (its VG is exported),
// m missing. vg and pv are nil for a PV that belongs to no VG.
func PVAttr(vg *model.VG, pv *model.PV, missing bool) string {
	a := []byte("---")
	if vg == nil || pv == nil {
		if missing {
			a[2] = 'm'
		}
		return string(a)
	}
	if pv.HasStatus("ALLOCATABLE") {
		a[0] = 'a'
	} else {
		a[0] = 'u'
	}
	for _, l := range [][]string{vg.Status, vg.Flags} {
		for _, s := range l {
			if s == "EXPORTED" {
				a[1] = 'x'
			}
		}
	}
	if missing || pv.HasStatus("MISSING") {
		a[2] = 'm'
	}
	return string(a)
}
