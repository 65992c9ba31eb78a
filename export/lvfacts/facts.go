// Package lvfacts computes what lvminspect shows about a logical volume
// beyond the words of its metadata, the way LVM's lvs shows it: the
// lv_attr string, the type, the size the LV presents, its origin, pool and
// sub-LVs, and where a disk image can tell, how full it is: an old-style
// snapshot's COW store (from its exception table), a thin pool's data and
// metadata space and transaction ids, a thin LV's mapped blocks, a cache's
// mode, policy and blocks in use.
//
// Cheap gives what the metadata alone says; Of adds the facts that need
// reading pool metadata or exception stores, read through the resolver
// once and cached for as long as the resolver lives. Both front ends (the
// scan/lvs commands and the inspector) use them, so they say the same.
//
// lvs reads some of its characters and percentages from the running
// kernel; lvminspect reads disks. What the kernel alone knows (whether an
// LV is active, suspended or open, raid sync state and mismatches, the
// kernel's in-memory view of a pool) is never guessed: the attr
// characters are '-' (see LVAttr) and the numbers are absent. Numbers read
// from disk are the state at rest, as the kernel last wrote it.
package lvfacts

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/lvminspect/lvminspect/export/cache"
	"github.com/lvminspect/lvminspect/export/cow"
	_ "github.com/lvminspect/lvminspect/export/segtypes" // every segment type's opener, for the sub-LVs read
	"github.com/lvminspect/lvminspect/export/thin"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
)

// Facts is what lvminspect shows about one LV of one VG generation. Values
// returned by Of are shared: treat them as read-only.
type Facts struct {
	// Attr is the lvs-style 10-character attribute string, e.g.
	// "owi-a-s---" in lvs is "owi---s---" here: the state (5th) and open
	// (6th) characters are '-' because only the kernel knows them; see
	// LVAttr for every character.
	Attr string `json:"attr"`
	// Type is what the LV is, as lvs names its segment type: linear,
	// striped, raid1, raid5, mirror, thin, thin-pool, cache, cache-pool,
	// writecache, vdo... and "snapshot" for an old-style snapshot (whose
	// own segments, the COW store, lvs calls linear). Segments of
	// different types are joined with "+".
	Type string `json:"type"`
	// Size is the size the LV presents to its user in bytes: an
	// old-style snapshot presents its origin's size (lvs's LSize shows
	// its COW store's size instead; that is LVSize).
	Size int64 `json:"size"`
	// LVSize is extents × extent size, lvs's LSize.
	LVSize int64 `json:"lv_size"`
	// Hidden is set for LVs lvs lists only with -a, in [brackets].
	Hidden bool `json:"hidden"`
	// Role is how another LV uses this one.
	Role      string `json:"role,omitempty"`    // e.g. "thin pool data", "raid image"
	UsedBy    string `json:"used_by,omitempty"` // the LV using it
	Origin    string `json:"origin,omitempty"`  // snapshot origin, thin snapshot origin (or external origin), cache/writecache origin sub-LV
	Pool      string `json:"pool,omitempty"`    // thin pool, cache pool or cachevol, VDO pool
	DataLV    string `json:"data_lv,omitempty"` // thin pool _tdata, cache pool _cdata, VDO pool _vdata
	MetaLV    string `json:"meta_lv,omitempty"` // thin pool _tmeta, cache pool _cmeta
	MirrorLog string `json:"mirror_log,omitempty"`
	// Snapshots lists the old-style and thin snapshots of an origin.
	Snapshots []string `json:"snapshots,omitempty"`
	// Partial is set when a PV the LV needs is missing.
	Partial bool `json:"partial"`

	// DataPercent and MetaPercent are lvs's Data% and Meta% where a disk
	// can tell: a snapshot's COW store use, a thin pool's data and
	// metadata space maps, a thin LV's mapped blocks over its size, a
	// cache's blocks in use. nil when not known offline.
	DataPercent *float64 `json:"data_percent,omitempty"`
	MetaPercent *float64 `json:"metadata_percent,omitempty"`

	Snapshot *Snapshot `json:"snapshot,omitempty"`
	ThinPool *ThinPool `json:"thin_pool,omitempty"`
	Thin     *Thin     `json:"thin,omitempty"`
	Cache    *Cache    `json:"cache,omitempty"`

	// Problems say plainly what could not be read.
	Problems []string `json:"problems,omitempty"`
}

// Snapshot describes an old-style (COW) snapshot.
type Snapshot struct {
	Origin     string `json:"origin"`
	OriginSize int64  `json:"origin_size"` // bytes: the size the snapshot presents
	COW        string `json:"cow_store"`   // the COW store LV (listed under the snapshot's name)
	COWSize    int64  `json:"cow_size"`    // bytes
	// COWUsed is the bytes of the COW store in use: its header, metadata
	// areas and copied chunks, as the kernel counts them for Data%.
	COWUsed    int64 `json:"cow_used"`
	ChunkSize  int64 `json:"chunk_size"` // bytes
	Exceptions int   `json:"exceptions"` // chunks copied
	Full       bool  `json:"full"`       // no room left: the next copy invalidates it
	Invalid    bool  `json:"invalid"`    // the kernel invalidated it (overflowed)
	Merging    bool  `json:"merging"`
	Read       bool  `json:"read"` // the exception store was read (COWUsed etc. known)
}

// ThinPool describes a thin pool from its metadata.
type ThinPool struct {
	ChunkSize int64 `json:"chunk_size"` // bytes, from the VG metadata
	// From the pool's superblock (Read false when it could not be read).
	Read      bool   `json:"read"`
	DataUsed  uint64 `json:"data_used_blocks"`
	DataTotal uint64 `json:"data_total_blocks"`
	DataBlock int64  `json:"data_block_size"` // bytes
	// MetaUsed counts the metadata blocks the space map allocates;
	// MetaReserved the blocks the kernel holds back for its own use (a
	// tenth of the metadata device, at most 4096 blocks), which the
	// kernel, and so lvs's Meta%, count as used.
	MetaUsed     uint64 `json:"metadata_used_blocks"`
	MetaReserved uint64 `json:"metadata_reserved_blocks"`
	MetaTotal    uint64 `json:"metadata_total_blocks"`
	MetaBlock    int64  `json:"metadata_block_size"` // bytes (4096)
	// TransactionID is the pool superblock's; MetadataTransactionID the
	// VG metadata's transaction_id. They differ after an interrupted
	// pool operation.
	TransactionID         uint64 `json:"transaction_id"`
	MetadataTransactionID uint64 `json:"metadata_transaction_id"`
	NeedsCheck            bool   `json:"needs_check"`
	ThinLVs               int    `json:"thin_lvs"`
	Zero                  bool   `json:"zero_new_blocks"`
	Discards              string `json:"discards,omitempty"`
}

// Thin describes a thin LV.
type Thin struct {
	DeviceID uint64 `json:"device_id"`
	// Mapped counts the pool blocks provisioned to it (Read false when the
	// pool metadata could not be read).
	Read      bool   `json:"read"`
	Mapped    uint64 `json:"mapped_blocks"`
	BlockSize int64  `json:"block_size"` // bytes
}

// Cache describes a dm-cache or dm-writecache LV, or a cache pool.
type Cache struct {
	Kind     string `json:"kind"`             // "cache", "writecache" or "cache-pool"
	Mode     string `json:"mode,omitempty"`   // writethrough, writeback, passthrough (dm-cache)
	Policy   string `json:"policy,omitempty"` // e.g. smq (dm-cache)
	CacheVol bool   `json:"cachevol"`         // the cache is a cachevol, not a cache pool
	// ChunkSize is the cache block size in bytes (dm-cache chunk_size,
	// writecache block size).
	ChunkSize int64 `json:"chunk_size"`
	// From the cache metadata (Read false when it could not be read).
	Read   bool   `json:"read"`
	Blocks uint64 `json:"blocks"` // cache blocks
	Used   uint64 `json:"used"`   // blocks holding data
	Dirty  uint64 `json:"dirty"`  // dm-cache: dirty blocks; writecache: blocks not yet written back
	// PolicyOnDisk is the policy the cache superblock names, when it
	// differs from Policy.
	PolicyOnDisk string `json:"policy_on_disk,omitempty"`
}

// Cheap computes the facts the metadata alone gives (no I/O): attr, type,
// sizes, origin, pool, sub-LVs, partial (from r.PVs: the PVs present).
func Cheap(r *volume.Resolver, lv *model.LV) *Facts {
	if r == nil || r.VG == nil || lv == nil {
		return &Facts{Attr: "----------", Problems: []string{"no LV"}}
	}
	vg := r.VG
	role := RoleOf(vg, lv)
	f := &Facts{LVSize: vg.LVSize(lv), Hidden: !vg.Shown(lv), UsedBy: role.User, Role: role.Kind.String()}
	f.Size = f.LVSize
	f.Partial = entryFor(r).partial(r, lv)
	f.Type = lvType(lv)
	for _, s := range lv.Segments {
		switch {
		case s.ThinPool != nil:
			f.DataLV, f.MetaLV = s.ThinPool.Pool, s.ThinPool.Metadata
			f.ThinPool = &ThinPool{ChunkSize: int64(s.ThinPool.ChunkSize) * model.SectorSize,
				MetadataTransactionID: s.ThinPool.TransactionID, Zero: zeroes(vg, lv), Discards: s.ThinPool.Discards}
			f.ThinPool.ThinLVs = indexOf(vg).thinLVs[lv.Name]
		case s.Thin != nil:
			f.Pool = s.Thin.ThinPool
			f.Origin = s.Thin.Origin
			if f.Origin == "" {
				f.Origin = s.Thin.ExternalOrigin
			}
			f.Thin = &Thin{DeviceID: s.Thin.DeviceID}
		case s.CachePool != nil:
			f.DataLV, f.MetaLV = s.CachePool.Data, s.CachePool.Metadata
			f.Cache = &Cache{Kind: "cache-pool", Mode: s.CachePool.CacheMode, Policy: s.CachePool.Policy,
				ChunkSize: int64(s.CachePool.ChunkSize) * model.SectorSize}
		case s.Cache != nil:
			f.Pool, f.Origin = s.Cache.CachePool, s.Cache.Origin
			c := &Cache{Kind: "cache", Mode: s.Cache.CacheMode, Policy: s.Cache.Policy, ChunkSize: int64(s.Cache.ChunkSize) * model.SectorSize}
			if p := vg.LV(s.Cache.CachePool); p != nil {
				for _, ps := range p.Segments {
					if cp := ps.CachePool; cp != nil {
						if cp.CacheMode != "" {
							c.Mode = cp.CacheMode
						}
						if cp.Policy != "" {
							c.Policy = cp.Policy
						}
						if cp.ChunkSize != 0 {
							c.ChunkSize = int64(cp.ChunkSize) * model.SectorSize
						}
					}
				}
				c.CacheVol = !hasKind(p, model.KindCachePool)
			}
			f.Cache = c
		case s.Writecache != nil:
			f.Pool, f.Origin = s.Writecache.Writecache, s.Writecache.Origin
			f.Cache = &Cache{Kind: "writecache", CacheVol: true, ChunkSize: int64(s.Writecache.BlockSize)}
		case s.VDO != nil:
			f.Pool = s.VDO.VDOPool
		case s.VDOPool != nil:
			f.DataLV = s.VDOPool.Data
		case s.Integrity != nil:
			f.Origin = s.Integrity.Origin
		case s.Mirror != nil && s.Mirror.MirrorLog != "":
			f.MirrorLog = s.Mirror.MirrorLog
		}
	}
	if role.Kind == RoleCOW {
		if segs := snapSegs(vg.LV(role.User)); len(segs) > 0 {
			p := segs[0].Snapshot
			f.Type = "snapshot"
			f.Origin = p.Origin
			f.Snapshot = &Snapshot{Origin: p.Origin, COW: lv.Name, COWSize: f.LVSize,
				ChunkSize: int64(p.ChunkSize) * model.SectorSize, Merging: p.MergingStore != ""}
			if o := vg.LV(p.Origin); o != nil {
				f.Snapshot.OriginSize = vg.LVSize(o)
				f.Size = f.Snapshot.OriginSize
			}
		}
	}
	f.Snapshots = snapshotsOf(vg, lv.Name)
	f.Attr = lvAttr(vg, lv, role, f.Partial, false)
	return f
}

func snapSegs(snap *model.LV) []*model.Segment {
	if snap == nil {
		return nil
	}
	var out []*model.Segment
	for _, s := range snap.Segments {
		if s.Snapshot != nil {
			out = append(out, s)
		}
	}
	return out
}

// snapshotsOf lists the snapshots of origin name: old-style ones by the
// name lvs shows (their COW store) and thin ones.
func snapshotsOf(vg *model.VG, name string) []string {
	return append([]string(nil), indexOf(vg).snapshots[name]...)
}

func present(r *volume.Resolver) func(string) bool {
	bare := make(map[string]bool, len(r.PVs))
	for k := range r.PVs {
		bare[model.BareUUID(k)] = true
	}
	return func(uuid string) bool { return bare[model.BareUUID(uuid)] }
}

// lvType names the LV's segment types as lvs does, joined with "+" when
// they differ.
func lvType(lv *model.LV) string {
	var out []string
	for _, s := range lv.Segments {
		t := format.SegType(s)
		if len(out) == 0 || out[len(out)-1] != t {
			dup := false
			for _, o := range out {
				dup = dup || o == t
			}
			if !dup {
				out = append(out, t)
			}
		}
	}
	return strings.Join(out, "+")
}

// String names a role for people.
func (k RoleKind) String() string {
	switch k {
	case RoleThinData:
		return "thin pool data"
	case RoleThinMeta:
		return "thin pool metadata"
	case RoleCacheData:
		return "cache pool data"
	case RoleCacheMeta:
		return "cache pool metadata"
	case RoleCachePool:
		return "cache pool"
	case RoleCacheVol:
		return "cachevol"
	case RoleCacheOrigin:
		return "cache origin"
	case RoleRAIDImage:
		return "raid image"
	case RoleRAIDMeta:
		return "raid metadata"
	case RoleMirrorImage:
		return "mirror image"
	case RoleMirrorLog:
		return "mirror log"
	case RoleSnapshotOrigin:
		return "snapshot origin"
	case RoleCOW:
		return "snapshot COW store"
	case RoleVDOData:
		return "VDO pool data"
	case RoleIntegrityOrigin:
		return "integrity origin"
	case RoleIntegrityMeta:
		return "integrity metadata"
	case RolePoolSpare:
		return "pool metadata spare"
	}
	return ""
}

// entry caches the facts of one resolver's LVs.
type entry struct {
	mu    sync.Mutex
	facts map[string]*Facts
	pools map[string]*poolRead

	partialOnce sync.Once
	partials    map[*model.LV]bool // see partialSet
}

// partial is Partial(r.VG, lv, present(r)), from the set of the VG's
// partial LVs computed once for the resolver.
func (e *entry) partial(r *volume.Resolver, lv *model.LV) bool {
	e.partialOnce.Do(func() { e.partials = partialSet(r.VG, present(r)) })
	if p, ok := e.partials[lv]; ok {
		return p
	}
	return Partial(r.VG, lv, present(r))
}

type poolRead struct {
	info *thin.Pool
	err  error
}

var (
	cacheMu sync.Mutex
	caches  = map[weak.Pointer[volume.Resolver]]*entry{}
)

// entryFor returns the cache of r; it goes when r is collected.
func entryFor(r *volume.Resolver) *entry {
	wp := weak.Make(r)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	e := caches[wp]
	if e == nil {
		e = &entry{facts: map[string]*Facts{}, pools: map[string]*poolRead{}}
		caches[wp] = e
		runtime.AddCleanup(r, func(wp weak.Pointer[volume.Resolver]) {
			cacheMu.Lock()
			delete(caches, wp)
			cacheMu.Unlock()
		}, wp)
	}
	return e
}

// Of computes every fact about lv of r's VG generation: Cheap's, plus
// what reading the disks gives (a snapshot's exception store, a thin
// pool's superblock and mapping trees, a cache's metadata). The reads
// happen on the first call for an LV and are cached as long as r lives;
// Of is safe for concurrent use. Nothing it cannot read is fatal: it goes
// to Problems and the numbers stay unknown.
func Of(r *volume.Resolver, lv *model.LV) *Facts {
	if r == nil || r.VG == nil || lv == nil {
		return Cheap(r, lv)
	}
	e := entryFor(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.of(r, lv, true)
}

// of computes and caches lv's facts; follow allows reading a cache pool's
// numbers through the LV it caches (one level: malformed metadata may
// make LVs use each other in a loop).
func (e *entry) of(r *volume.Resolver, lv *model.LV, follow bool) *Facts {
	if f := e.facts[lv.Name]; f != nil && r.VG.LV(lv.Name) == lv {
		return f
	}
	f := Cheap(r, lv)
	if follow && f.Cache != nil && f.Cache.Kind == "cache-pool" && f.UsedBy != "" {
		// A cache pool's blocks are read through the LV it caches.
		if u := r.VG.LV(f.UsedBy); u != nil && u != lv {
			if uf := e.of(r, u, false); uf.Cache != nil && uf.Cache.Read {
				c := *uf.Cache
				c.Kind = "cache-pool"
				f.Cache = &c
				f.DataPercent = uf.DataPercent
			}
		}
	}
	switch {
	case f.Snapshot != nil:
		readSnapshot(r, lv, f)
	case f.ThinPool != nil:
		readPool(r, e, lv.Name, f)
	case f.Thin != nil:
		readThin(r, e, lv, f)
	case f.Cache != nil && f.Cache.Kind != "cache-pool":
		readCache(r, lv, f)
	}
	e.facts[lv.Name] = f
	return f
}

func pct(num, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	p := 100 * num / den
	return &p
}

func readSnapshot(r *volume.Resolver, lv *model.LV, f *Facts) {
	snap := r.VG.LV(f.UsedBy)
	idx := -1
	if snap != nil {
		for i, s := range snap.Segments {
			if s.Snapshot != nil {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		f.Problems = append(f.Problems, "the snapshot segment naming this COW store was not found")
		return
	}
	s, err := cow.OpenSnapshot(r, snap, idx)
	if s != nil && s.Store != nil {
		st := s.Store
		sn := f.Snapshot
		sn.Read = true
		sn.Exceptions = len(st.Exceptions)
		sn.Full = st.Full
		if st.ChunkBytes > 0 {
			sn.ChunkSize = st.ChunkBytes
		}
		sn.Invalid = st.Header.Valid == 0 && st.ChunkBytes > 0
		// The kernel counts the header chunk, every metadata area and
		// every copied chunk.
		used := int64(1+st.Areas+len(st.Exceptions)) * st.ChunkBytes
		if st.ChunkBytes == 0 {
			used = 0
		}
		sn.COWUsed = min(used, sn.COWSize)
		if sn.Invalid {
			f.DataPercent = pct(100, 100)
		} else {
			f.DataPercent = pct(float64(sn.COWUsed), float64(sn.COWSize))
		}
		f.Attr = lvAttr(r.VG, lv, RoleOf(r.VG, lv), f.Partial, sn.Invalid)
	}
	if err != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("exception store of %s: %v", lv.Name, err))
	}
}

func poolInfo(r *volume.Resolver, e *entry, name string) (*thin.Pool, error) {
	if p := e.pools[name]; p != nil {
		return p.info, p.err
	}
	info, err := thin.PoolInfo(r, name)
	e.pools[name] = &poolRead{info, err}
	return info, err
}

func readPool(r *volume.Resolver, e *entry, name string, f *Facts) {
	info, err := poolInfo(r, e, name)
	if info != nil {
		for _, p := range info.Problems {
			f.Problems = append(f.Problems, p.Message)
		}
	} else if err != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("thin pool metadata: %v", err))
	}
	if info == nil || info.Superblock == nil {
		return
	}
	sb := info.Superblock
	tp := f.ThinPool
	tp.Read = true
	tp.DataUsed, tp.DataTotal = sb.DataSpaceMap.NrAllocated, sb.DataSpaceMap.NrBlocks
	tp.MetaUsed, tp.MetaTotal = sb.MetadataSpaceMap.NrAllocated, sb.MetadataSpaceMap.NrBlocks
	tp.DataBlock = int64(sb.DataBlockSize) * model.SectorSize
	tp.MetaBlock = int64(sb.MetadataBlockSize) * model.SectorSize
	tp.TransactionID = sb.TransactionID
	tp.NeedsCheck = sb.NeedsCheck()
	f.DataPercent = pct(float64(tp.DataUsed), float64(tp.DataTotal))
	tp.MetaReserved = min(tp.MetaTotal/10, 4096)
	f.MetaPercent = pct(float64(min(tp.MetaUsed+tp.MetaReserved, tp.MetaTotal)), float64(tp.MetaTotal))
}

func readThin(r *volume.Resolver, e *entry, lv *model.LV, f *Facts) {
	info, err := poolInfo(r, e, f.Pool)
	if info == nil || info.Superblock == nil {
		if err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("thin pool %s metadata: %v", f.Pool, err))
		}
		return
	}
	for _, d := range info.Devices {
		if d.ID != f.Thin.DeviceID {
			continue
		}
		if !d.InMappingTree {
			f.Problems = append(f.Problems, fmt.Sprintf("thin pool %s does not map device %d", f.Pool, d.ID))
			return
		}
		if d.Err != "" {
			f.Problems = append(f.Problems, fmt.Sprintf("thin device %d: %s", d.ID, d.Err))
			return
		}
		f.Thin.Read = true
		f.Thin.Mapped = d.Mapped
		f.Thin.BlockSize = int64(info.Superblock.DataBlockSize) * model.SectorSize
		f.DataPercent = pct(float64(d.Mapped)*float64(f.Thin.BlockSize), float64(f.LVSize))
		return
	}
	f.Problems = append(f.Problems, fmt.Sprintf("thin pool %s holds no device %d", f.Pool, f.Thin.DeviceID))
}

func readCache(r *volume.Resolver, lv *model.LV, f *Facts) {
	for i, s := range lv.Segments {
		switch {
		case s.Cache != nil:
			c, err := cache.OpenCache(r, lv, i)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Sprintf("cache metadata: %v", err))
			}
			if c == nil || c.Metadata == nil || c.Metadata.Superblock == nil {
				return
			}
			fc := f.Cache
			md := c.Metadata
			fc.Read = true
			if c.Mode != "" {
				fc.Mode = c.Mode
			}
			fc.CacheVol = c.CacheVol
			fc.Blocks = uint64(md.Superblock.CacheBlocks)
			fc.Used = uint64(len(md.Mappings))
			fc.Dirty = uint64(max(0, md.Dirty))
			if bb := md.BlockBytes(); bb > 0 {
				fc.ChunkSize = bb
			}
			if p := md.Superblock.PolicyName; p != "" && p != fc.Policy {
				if fc.Policy == "" {
					fc.Policy = p
				} else {
					fc.PolicyOnDisk = p
				}
			}
			f.DataPercent = pct(float64(fc.Used), float64(fc.Blocks))
			return
		case s.Writecache != nil:
			w, err := cache.OpenWritecache(r, lv, i)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Sprintf("writecache: %v", err))
			}
			if w == nil || w.Metadata == nil {
				return
			}
			md := w.Metadata
			fc := f.Cache
			fc.Read = true
			fc.Blocks = md.Superblock.NBlocks
			fc.ChunkSize = int64(md.Superblock.BlockSize)
			fc.Dirty = uint64(len(md.Entries))
			if free := uint64(max(0, md.Free)); free <= fc.Blocks {
				fc.Used = fc.Blocks - free
			}
			f.DataPercent = pct(float64(fc.Used), float64(fc.Blocks))
			return
		}
	}
}
