package model

import "strings"

// Segment is one segment of an LV. Type is the segment type exactly as the
// metadata writes it (with any "+FLAG" suffix); BaseType is the part before
// the first "+" and TypeFlags the words after it.
type Segment struct {
	StartExtent uint64   `json:"start_extent"`
	ExtentCount uint64   `json:"extent_count"`
	Type        string   `json:"type"`
	BaseType    string   `json:"base_type"`
	TypeFlags   []string `json:"type_flags,omitempty"`
	Tags        []string `json:"tags,omitempty"`

	// StripeCount is stripe_count for striped and raid0 types, and
	// device_count (or stripe_count) for the other raid types, mirror_count
	// for mirrors.
	StripeCount uint64 `json:"stripe_count"`
	StripeSize  uint64 `json:"stripe_size_sectors"` // sectors, 0 where none

	// Areas are the data areas in order: stripes of striped/linear, legs of
	// mirror, data images of raid (rimage LVs), raid0_lvs.
	Areas []Area `json:"areas"`
	// MetaAreas are raid metadata sub-LVs (rmeta), parallel to Areas: entry
	// i belongs to Areas[i]; an empty LV name means that image has none.
	MetaAreas []Area `json:"meta_areas,omitempty"`

	Mirror     *MirrorParams     `json:"mirror,omitempty"`
	RAID       *RAIDParams       `json:"raid,omitempty"`
	Snapshot   *SnapshotParams   `json:"snapshot,omitempty"`
	ThinPool   *ThinPoolParams   `json:"thin_pool,omitempty"`
	Thin       *ThinParams       `json:"thin,omitempty"`
	CachePool  *CachePoolParams  `json:"cache_pool,omitempty"`
	Cache      *CacheParams      `json:"cache,omitempty"`
	Writecache *WritecacheParams `json:"writecache,omitempty"`
	Integrity  *IntegrityParams  `json:"integrity,omitempty"`
	VDOPool    *VDOPoolParams    `json:"vdo_pool,omitempty"`
	VDO        *VDOParams        `json:"vdo,omitempty"`

	// Params holds every key of the segment section in file order, as
	// parsed, so that nothing is dropped (also keys of types or versions
	// this program does not know).
	Params []Param `json:"params"`
}

// Param is one key of a metadata section kept verbatim.
type Param struct {
	Key   string `json:"key"`
	Value any    `json:"value"` // int64, float64, string, []any, or []Param for a subsection
}

// Area is one entry of an area list: either a PV area (PV set, Start is
// the first PE) or an LV area (LV set, Start is the first LE).
type Area struct {
	PV    string `json:"pv,omitempty"` // local label pvN as written
	LV    string `json:"lv,omitempty"`
	Start uint64 `json:"start_extent"`
}

// IsPV reports whether the area refers to a physical volume.
func (a Area) IsPV() bool { return a.PV != "" }

// SegmentKind groups segment types by how they map data.
type SegmentKind int

// Kinds of segments.
const (
	KindUnknown SegmentKind = iota
	KindStriped             // striped and linear
	KindMirror
	KindRAID
	KindSnapshot
	KindThinPool
	KindThin
	KindCachePool
	KindCache
	KindWritecache
	KindIntegrity
	KindVDOPool
	KindVDO
	KindZero
	KindError
	KindFree
)

var kindNames = [...]string{"unknown", "striped", "mirror", "raid", "snapshot", "thin-pool", "thin",
	"cache-pool", "cache", "writecache", "integrity", "vdo-pool", "vdo", "zero", "error", "free"}

func (k SegmentKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kind classifies the segment by its base type.
func (s *Segment) Kind() SegmentKind { return KindOf(s.BaseType) }

// KindOf classifies a base segment type name.
func KindOf(base string) SegmentKind {
	switch {
	case base == "striped" || base == "linear":
		return KindStriped
	case base == "mirror":
		return KindMirror
	case strings.HasPrefix(base, "raid"):
		return KindRAID
	case base == "snapshot":
		return KindSnapshot
	case base == "thin-pool":
		return KindThinPool
	case base == "thin":
		return KindThin
	case base == "cache-pool":
		return KindCachePool
	case base == "cache":
		return KindCache
	case base == "writecache":
		return KindWritecache
	case base == "integrity":
		return KindIntegrity
	case base == "vdo-pool":
		return KindVDOPool
	case base == "vdo":
		return KindVDO
	case base == "zero":
		return KindZero
	case base == "error":
		return KindError
	case base == "free":
		return KindFree
	}
	return KindUnknown
}

// SplitType splits "cache+CACHE_USES_CACHEVOL" into its base type and flags.
func SplitType(t string) (base string, flags []string) {
	parts := strings.Split(t, "+")
	base = parts[0]
	for _, f := range parts[1:] {
		if f != "" {
			flags = append(flags, f)
		}
	}
	return base, flags
}

// MirrorParams are the keys of a mirror segment.
type MirrorParams struct {
	MirrorCount  uint64  `json:"mirror_count"`
	MirrorLog    string  `json:"mirror_log,omitempty"` // LV of the disk log; empty = core log
	RegionSize   uint64  `json:"region_size_sectors"`
	ExtentsMoved *uint64 `json:"extents_moved,omitempty"` // pvmove only
}

// RAIDParams are the keys of the raid segment types.
type RAIDParams struct {
	Level           string  `json:"level"` // raid0, raid1, raid4, raid5, raid6, raid10
	Layout          string  `json:"layout"`
	DeviceCount     uint64  `json:"device_count"`
	RegionSize      uint64  `json:"region_size_sectors"`
	DataCopies      uint64  `json:"data_copies,omitempty"`
	DataOffset      *uint64 `json:"data_offset_sectors,omitempty"`
	ReshapeCount    uint64  `json:"reshape_count,omitempty"`
	WriteBehind     uint64  `json:"writebehind,omitempty"`
	MinRecoveryRate uint64  `json:"min_recovery_rate,omitempty"`
	MaxRecoveryRate uint64  `json:"max_recovery_rate,omitempty"`
}

// SnapshotParams are the keys of an old-style snapshot segment.
type SnapshotParams struct {
	ChunkSize    uint64 `json:"chunk_size_sectors"`
	Origin       string `json:"origin"`
	CowStore     string `json:"cow_store,omitempty"`
	MergingStore string `json:"merging_store,omitempty"`
}

// ThinPoolParams are the keys of a thin-pool segment.
type ThinPoolParams struct {
	Metadata      string        `json:"metadata"`
	Pool          string        `json:"pool"`
	TransactionID uint64        `json:"transaction_id"`
	ChunkSize     uint64        `json:"chunk_size_sectors"`
	Discards      string        `json:"discards,omitempty"`
	ZeroNewBlocks *int64        `json:"zero_new_blocks,omitempty"`
	CropMetadata  *int64        `json:"crop_metadata,omitempty"`
	Messages      []ThinMessage `json:"messages,omitempty"`
}

// ThinMessage is a messageN subsection of a thin pool.
type ThinMessage struct {
	Name   string  `json:"name"`
	Create string  `json:"create,omitempty"`
	Delete *int64  `json:"delete,omitempty"`
	Raw    []Param `json:"raw,omitempty"`
}

// ThinParams are the keys of a thin segment.
type ThinParams struct {
	ThinPool       string `json:"thin_pool"`
	TransactionID  uint64 `json:"transaction_id"`
	DeviceID       uint64 `json:"device_id"`
	Origin         string `json:"origin,omitempty"`
	ExternalOrigin string `json:"external_origin,omitempty"`
	MergingOrigin  string `json:"merge,omitempty"`
}

// CachePoolParams are the keys of a cache-pool segment.
type CachePoolParams struct {
	Data           string  `json:"data"`
	Metadata       string  `json:"metadata"`
	MetadataFormat uint64  `json:"metadata_format,omitempty"`
	ChunkSize      uint64  `json:"chunk_size_sectors"`
	CacheMode      string  `json:"cache_mode,omitempty"`
	Policy         string  `json:"policy,omitempty"`
	PolicySettings []Param `json:"policy_settings,omitempty"`
}

// CacheParams are the keys of a cache segment (cache pool or cachevol).
type CacheParams struct {
	CachePool      string  `json:"cache_pool"`
	Origin         string  `json:"origin"`
	Cleaner        *int64  `json:"cleaner,omitempty"`
	MetadataFormat uint64  `json:"metadata_format,omitempty"`
	ChunkSize      uint64  `json:"chunk_size_sectors,omitempty"`
	CacheMode      string  `json:"cache_mode,omitempty"`
	Policy         string  `json:"policy,omitempty"`
	PolicySettings []Param `json:"policy_settings,omitempty"`
	MetadataStart  uint64  `json:"metadata_start_sectors,omitempty"`
	MetadataLen    uint64  `json:"metadata_len_sectors,omitempty"`
	DataStart      uint64  `json:"data_start_sectors,omitempty"`
	DataLen        uint64  `json:"data_len_sectors,omitempty"`
	MetadataID     string  `json:"metadata_id,omitempty"`
	DataID         string  `json:"data_id,omitempty"`
}

// WritecacheParams are the keys of a writecache segment.
type WritecacheParams struct {
	Writecache string  `json:"writecache"`
	Origin     string  `json:"origin"`
	BlockSize  uint64  `json:"writecache_block_size_bytes"`
	Settings   []Param `json:"settings,omitempty"` // tunables verbatim
}

// IntegrityParams are the keys of an integrity segment.
type IntegrityParams struct {
	Origin       string  `json:"origin"`
	DataSectors  uint64  `json:"data_sectors"`
	Mode         string  `json:"mode,omitempty"`
	TagSize      uint64  `json:"tag_size_bytes,omitempty"`
	BlockSize    uint64  `json:"block_size_bytes,omitempty"`
	InternalHash string  `json:"internal_hash,omitempty"`
	MetaDev      string  `json:"meta_dev,omitempty"`
	Settings     []Param `json:"settings,omitempty"`
}

// VDOPoolParams are the keys of a vdo-pool segment.
type VDOPoolParams struct {
	Data           string  `json:"data"`
	HeaderSize     uint64  `json:"header_size_sectors"`
	VirtualExtents uint64  `json:"virtual_extents"`
	Settings       []Param `json:"settings,omitempty"`
}

// VDOParams are the keys of a vdo segment.
type VDOParams struct {
	VDOPool   string `json:"vdo_pool"`
	VDOOffset uint64 `json:"vdo_offset_extents"`
}

// Param looks up the first key in the segment's verbatim parameters.
func (s *Segment) Param(key string) (any, bool) {
	for _, p := range s.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// ReferencedLVs lists the names of all LVs the segment refers to, in the
// order they appear (areas, meta areas, then type-specific references).
func (s *Segment) ReferencedLVs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, a := range s.Areas {
		add(a.LV)
	}
	for _, a := range s.MetaAreas {
		add(a.LV)
	}
	if m := s.Mirror; m != nil {
		add(m.MirrorLog)
	}
	if p := s.Snapshot; p != nil {
		add(p.Origin)
		add(p.CowStore)
		add(p.MergingStore)
	}
	if p := s.ThinPool; p != nil {
		add(p.Metadata)
		add(p.Pool)
	}
	if p := s.Thin; p != nil {
		add(p.ThinPool)
		add(p.Origin)
		add(p.ExternalOrigin)
	}
	if p := s.CachePool; p != nil {
		add(p.Data)
		add(p.Metadata)
	}
	if p := s.Cache; p != nil {
		add(p.CachePool)
		add(p.Origin)
	}
	if p := s.Writecache; p != nil {
		add(p.Writecache)
		add(p.Origin)
	}
	if p := s.Integrity; p != nil {
		add(p.Origin)
		add(p.MetaDev)
	}
	if p := s.VDOPool; p != nil {
		add(p.Data)
	}
	if p := s.VDO; p != nil {
		add(p.VDOPool)
	}
	return out
}
