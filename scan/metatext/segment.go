package metatext

import (
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// Keys every segment type may carry.
var commonSegKeys = []string{"start_extent", "extent_count", "type", "tags", "reshape_count", "data_copies"}

// segment reads one segment section of an LV (whatever its name).
func (b *builder) segment(n *Node) *model.Segment {
	s := sec{b, n}
	seg := &model.Segment{
		StartExtent: s.u64v("start_extent", true),
		ExtentCount: s.u64v("extent_count", true),
		Tags:        s.words("tags", false),
		Params:      b.params(n),
	}
	if n.Get("type") == nil {
		b.note(n, "no segment type; assuming \"striped\" as very old LVM did")
		seg.Type = "striped"
	} else {
		seg.Type = s.str("type", true)
	}
	seg.BaseType, seg.TypeFlags = model.SplitType(seg.Type)
	if seg.ExtentCount == 0 && n.Get("extent_count") != nil {
		b.note(n, "extent_count is 0")
	}
	kind := model.KindOf(seg.BaseType)
	if known, ok := segKeys[kind]; ok {
		for c := range n.Children() {
			if !(kind == model.KindThinPool && c.Section()) && !b.known(c, known) {
				b.note(c, "unknown key %q for segment type %s", clip(c.Name()), clip(seg.BaseType))
			}
		}
	}
	switch kind {
	case model.KindStriped:
		b.striped(s, seg)
	case model.KindMirror:
		b.mirror(s, seg)
	case model.KindRAID:
		b.raid(s, seg)
	case model.KindSnapshot:
		b.snapshot(s, seg)
	case model.KindThinPool:
		b.thinPool(s, seg)
	case model.KindThin:
		b.thin(s, seg)
	case model.KindCachePool:
		b.cachePool(s, seg)
	case model.KindCache:
		b.cache(s, seg)
	case model.KindWritecache:
		b.writecache(s, seg)
	case model.KindIntegrity:
		b.integrity(s, seg)
	case model.KindVDOPool:
		b.vdoPool(s, seg)
	case model.KindVDO:
		seg.VDO = &model.VDOParams{VDOPool: b.lvRef(s, "vdo_pool", true), VDOOffset: s.u64v("vdo_offset", false)}
	case model.KindZero, model.KindError, model.KindFree:
	default:
		b.note(n, "unknown segment type %q (kept, shown as unsupported)", clip(seg.BaseType))
	}
	if l := layeredData(seg); l != "" && len(seg.Areas) == 0 {
		seg.Areas = []model.Area{{LV: l}}
	}
	return seg
}

// layeredData names the sub-LV that holds a layered segment's data, which
// LVM treats as the segment's one area (lvs lists it as the device): the
// thin pool's _tdata, the cache pool's _cdata, the cached LV's origin,
// the integrity origin, the VDO pool's data.
func layeredData(seg *model.Segment) string {
	switch {
	case seg.ThinPool != nil:
		return seg.ThinPool.Pool
	case seg.CachePool != nil:
		return seg.CachePool.Data
	case seg.Cache != nil:
		return seg.Cache.Origin
	case seg.Writecache != nil:
		return seg.Writecache.Origin
	case seg.Integrity != nil:
		return seg.Integrity.Origin
	case seg.VDOPool != nil:
		return seg.VDOPool.Data
	}
	return ""
}

// segKeys lists the keys known for each kind, common keys included.
// Kinds absent from the map (vdo-pool, whose tunables vary, and unknown
// types) are not checked.
var segKeys = map[model.SegmentKind]map[string]bool{
	model.KindStriped: withCommon("stripe_count", "stripe_size", "stripes"),
	model.KindMirror:  withCommon("mirror_count", "mirrors", "mirror_log", "region_size", "extents_moved"),
	model.KindRAID: withCommon("device_count", "stripe_count", "region_size", "stripe_size", "writebehind",
		"min_recovery_rate", "max_recovery_rate", "data_offset", "raids", "raid0_lvs"),
	model.KindSnapshot: withCommon("chunk_size", "origin", "cow_store", "merging_store"),
	model.KindThinPool: withCommon("metadata", "pool", "transaction_id", "chunk_size", "discards",
		"zero_new_blocks", "crop_metadata"),
	model.KindThin:      withCommon("thin_pool", "transaction_id", "device_id", "origin", "merge", "external_origin"),
	model.KindCachePool: withCommon(cachePoolKeys...),
	model.KindCache: withCommon(append([]string{"cache_pool", "origin", "cleaner", "metadata_start", "metadata_len",
		"data_start", "data_len", "metadata_id", "data_id"}, cachePoolKeys...)...),
	model.KindWritecache: withCommon(append([]string{"writecache", "origin", "writecache_block_size"}, writecacheTunables...)...),
	model.KindIntegrity:  withCommon(append([]string{"origin", "data_sectors", "mode", "tag_size", "block_size", "internal_hash", "meta_dev"}, integrityTunables...)...),
	model.KindVDO:        withCommon("vdo_pool", "vdo_offset"),
	model.KindZero:       withCommon(),
	model.KindError:      withCommon(),
	model.KindFree:       withCommon(),
}

var (
	cachePoolKeys      = []string{"data", "metadata", "metadata_format", "chunk_size", "cache_mode", "policy", "policy_settings"}
	writecacheTunables = []string{"high_watermark", "low_watermark", "writeback_jobs", "autocommit_blocks",
		"autocommit_time", "fua", "nofua", "cleaner", "max_age", "metadata_only", "pause_writeback",
		"writecache_setting_key", "writecache_setting_val"}
	integrityTunables = []string{"recalculate", "journal_sectors", "interleave_sectors", "buffer_sectors",
		"journal_watermark", "commit_time", "bitmap_flush_interval", "sectors_per_bit", "allow_discards"}
)

func withCommon(keys ...string) map[string]bool {
	return set(append(keys, commonSegKeys...)...)
}

// resolve turns an area name into an area: a PV label first, then an LV
// name, as LVM does. Unknown names are a problem; they are kept as LVs.
func (b *builder) resolve(n *Node, name string, start uint64) model.Area {
	if b.pvs[name] != nil {
		return model.Area{PV: name, Start: start}
	}
	if !b.lvNames[name] {
		b.fail(n, "area refers to unknown volume %q", clip(name))
	}
	return model.Area{LV: name, Start: start}
}

// lvRef reads a key naming another LV of the VG.
func (b *builder) lvRef(s sec, key string, required bool) string {
	name := s.str(key, required)
	if name != "" && !b.lvNames[name] {
		b.fail(s.get(key), "%s refers to unknown LV %q", key, clip(name))
	}
	return name
}

// areaPairs reads an area list of (name, start) pairs.
func (b *builder) areaPairs(s sec, key string, required bool) []model.Area {
	n := s.value(key, required)
	if n == nil {
		return nil
	}
	v := n.Value()
	if v.Kind != Array {
		b.fail(n, "expected an area list, found %s %s", v.Kind, brief(v))
		return nil
	}
	if v.Len()%2 != 0 {
		b.fail(n, "area list has an odd number (%d) of elements", v.Len())
	}
	b.tooLong(n, v)
	areas := make([]model.Area, 0, min(v.Len(), MaxArrayItems)/2)
	var name Value
	for i, it := range v.All() {
		if i == MaxArrayItems {
			break
		}
		if i%2 == 0 {
			name = it
			continue
		}
		start := it
		if name.Kind != String || start.Kind != Int {
			b.fail(n, "area %d: expected a name and a number, found %s and %s", i/2, brief(name), brief(start))
			continue
		}
		if start.Int < 0 || start.Overflow {
			b.fail(n, "area %d: invalid start extent %s", i/2, brief(start))
			continue
		}
		areas = append(areas, b.resolve(n, name.Str, uint64(start.Int)))
	}
	return areas
}

// names reads an array of volume names (raids, raid0_lvs).
func (b *builder) names(s sec, key string, required bool) []string {
	n := s.value(key, required)
	if n == nil {
		return nil
	}
	v := n.Value()
	if v.Kind != Array {
		b.fail(n, "expected a list of names, found %s %s", v.Kind, brief(v))
		return nil
	}
	b.tooLong(n, v)
	out := make([]string, 0, min(v.Len(), MaxArrayItems))
	for i, it := range v.All() {
		if i == MaxArrayItems {
			break
		}
		if it.Kind != String {
			b.fail(n, "element %d: expected a name, found %s", i, brief(it))
			continue
		}
		out = append(out, it.Str)
	}
	return out
}

// striped reads a striped or linear segment.
func (b *builder) striped(s sec, seg *model.Segment) {
	seg.StripeCount = s.u64v("stripe_count", true)
	seg.StripeSize = s.u64v("stripe_size", seg.StripeCount > 1)
	seg.Areas = b.areaPairs(s, "stripes", true)
	b.checkAreaCount(s, "stripe_count", seg.StripeCount, len(seg.Areas))
	if seg.StripeCount > 1 && seg.ExtentCount%seg.StripeCount != 0 {
		b.note(s.n, "extent_count %d is not a multiple of stripe_count %d", seg.ExtentCount, seg.StripeCount)
	}
}

// checkAreaCount compares a declared count with the areas found.
func (b *builder) checkAreaCount(s sec, key string, count uint64, areas int) {
	if c := s.get(key); c != nil && c.Kind() == Int && count != uint64(areas) {
		b.fail(c, "%s is %d but %d areas are listed", key, count, areas)
	}
}

// mirror reads a mirror segment (also pvmove).
func (b *builder) mirror(s sec, seg *model.Segment) {
	m := &model.MirrorParams{
		MirrorCount:  s.u64v("mirror_count", true),
		MirrorLog:    b.lvRef(s, "mirror_log", false),
		ExtentsMoved: s.u64p("extents_moved"),
	}
	m.RegionSize = s.u64v("region_size", m.MirrorLog != "")
	seg.Mirror = m
	seg.StripeCount = m.MirrorCount
	seg.Areas = b.areaPairs(s, "mirrors", true)
	b.checkAreaCount(s, "mirror_count", m.MirrorCount, len(seg.Areas))
}

// raid reads raid0, raid0_meta, raid1, raid4, raid5*, raid6*, raid10*.
func (b *builder) raid(s sec, seg *model.Segment) {
	level, layout := RAIDLevelLayout(seg.BaseType)
	r := &model.RAIDParams{
		Level:           level,
		Layout:          layout,
		RegionSize:      s.u64v("region_size", false),
		DataCopies:      s.u64v("data_copies", false),
		DataOffset:      s.u64p("data_offset"),
		ReshapeCount:    s.u64v("reshape_count", false),
		WriteBehind:     s.u64v("writebehind", false),
		MinRecoveryRate: s.u64v("min_recovery_rate", false),
		MaxRecoveryRate: s.u64v("max_recovery_rate", false),
	}
	if level == "raid10" && s.n.Get("data_copies") == nil {
		r.DataCopies = 2 // LVM's default
	}
	seg.RAID = r
	seg.StripeSize = s.u64v("stripe_size", false)

	countKey := "device_count"
	if seg.BaseType == "raid0" || seg.BaseType == "raid0_meta" {
		countKey = "stripe_count"
	}
	dc, sc := s.n.Get("device_count"), s.n.Get("stripe_count")
	if dc != nil && sc != nil {
		b.note(s.n, "both device_count and stripe_count are present; using %s", countKey)
	} else if dc != nil {
		countKey = "device_count"
	} else if sc != nil {
		countKey = "stripe_count"
	}
	r.DeviceCount = s.u64v(countKey, true)
	seg.StripeCount = r.DeviceCount

	if seg.BaseType == "raid0" {
		for _, name := range b.names(s, "raid0_lvs", true) {
			seg.Areas = append(seg.Areas, b.resolve(s.n, name, 0))
		}
	} else {
		seg.Areas, seg.MetaAreas = b.raidImages(s)
	}
	b.checkAreaCount(s, countKey, r.DeviceCount, len(seg.Areas))
}

// raidImages reads `raids`: an entry containing "_rmeta_" is a metadata
// LV followed by its data LV; another entry is a data LV without one.
// MetaAreas is parallel to the data areas, with an empty LV where an
// image has no metadata LV, and nil when no image has one.
func (b *builder) raidImages(s sec) (data, meta []model.Area) {
	list := b.names(s, "raids", true)
	anyMeta := false
	for i := 0; i < len(list); i++ {
		name := list[i]
		var m model.Area
		if strings.Contains(name, "_rmeta_") {
			if i+1 == len(list) {
				b.fail(s.get("raids"), "metadata LV %q is not followed by its data LV", clip(name))
				break
			}
			m = b.resolve(s.n, name, 0)
			anyMeta = true
			i++
			name = list[i]
			if strings.Contains(name, "_rmeta_") {
				b.note(s.get("raids"), "data LV %q of metadata LV %q looks like a metadata LV", clip(name), clip(list[i-1]))
			}
		}
		data = append(data, b.resolve(s.n, name, 0))
		meta = append(meta, m)
	}
	if !anyMeta {
		meta = nil
	}
	return data, meta
}

// RAIDLevelLayout splits a raid segment type into the RAID level and the
// layout: "raid5" is raid5 with layout "ls" (left symmetric), "raid6" is
// raid6 "zr", "raid10" and "raid10_near" are raid10 "near", "raid5_n" is
// raid5 "n", "raid6_n_6" is raid6 "n_6", "raid0_meta" is raid0. raid0,
// raid1 and raid4 have no layout name.
func RAIDLevelLayout(base string) (level, layout string) {
	switch base {
	case "raid0", "raid0_meta":
		return "raid0", ""
	case "raid5":
		return "raid5", "ls"
	case "raid6":
		return "raid6", "zr"
	case "raid10":
		return "raid10", "near"
	}
	if i := strings.IndexByte(base, '_'); i > 0 {
		return base[:i], base[i+1:]
	}
	return base, ""
}
