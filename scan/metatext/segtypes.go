package metatext

import "github.com/lvminspect/lvminspect/model"

// snapshot reads an old-style snapshot segment.
func (b *builder) snapshot(s sec, seg *model.Segment) {
	p := &model.SnapshotParams{
		ChunkSize:    s.u64v("chunk_size", true),
		Origin:       b.lvRef(s, "origin", true),
		CowStore:     b.lvRef(s, "cow_store", false),
		MergingStore: b.lvRef(s, "merging_store", false),
	}
	if p.CowStore == "" && p.MergingStore == "" {
		b.fail(s.n, "snapshot has neither cow_store nor merging_store")
	}
	seg.Snapshot = p
}

// thinPool reads a thin-pool segment; its subsections are messages.
func (b *builder) thinPool(s sec, seg *model.Segment) {
	p := &model.ThinPoolParams{
		Metadata:      b.lvRef(s, "metadata", true),
		Pool:          b.lvRef(s, "pool", true),
		TransactionID: s.u64v("transaction_id", true),
		ChunkSize:     s.u64v("chunk_size", false),
		Discards:      s.str("discards", false),
		ZeroNewBlocks: s.i64p("zero_new_blocks"),
		CropMetadata:  s.i64p("crop_metadata"),
	}
	for _, c := range s.subsections() {
		if !b.segmentBudget(c) {
			break
		}
		ms := sec{b, c}
		m := model.ThinMessage{Name: c.Name(), Raw: b.params(c)}
		if c.Get("create") != nil {
			m.Create = b.lvRef(ms, "create", false)
		}
		m.Delete = ms.i64p("delete")
		if c.Get("create") == nil && c.Get("delete") == nil {
			b.fail(c, "thin pool message has neither create nor delete")
		}
		p.Messages = append(p.Messages, m)
	}
	seg.ThinPool = p
}

// thin reads a thin volume segment.
func (b *builder) thin(s sec, seg *model.Segment) {
	seg.Thin = &model.ThinParams{
		ThinPool:       b.lvRef(s, "thin_pool", true),
		TransactionID:  s.u64v("transaction_id", true),
		DeviceID:       s.u64v("device_id", true),
		Origin:         b.lvRef(s, "origin", false),
		ExternalOrigin: b.lvRef(s, "external_origin", false),
		MergingOrigin:  b.lvRef(s, "merge", false),
	}
}

// policySettings reads the optional policy_settings subsection.
func (b *builder) policySettings(s sec) []model.Param {
	if c := s.section("policy_settings", false); c != nil {
		return b.params(c)
	}
	return nil
}

// cachePool reads a cache-pool segment.
func (b *builder) cachePool(s sec, seg *model.Segment) {
	seg.CachePool = &model.CachePoolParams{
		Data:           b.lvRef(s, "data", true),
		Metadata:       b.lvRef(s, "metadata", true),
		MetadataFormat: s.u64v("metadata_format", false),
		ChunkSize:      s.u64v("chunk_size", false),
		CacheMode:      s.str("cache_mode", false),
		Policy:         s.str("policy", false),
		PolicySettings: b.policySettings(s),
	}
}

// cache reads a cache segment (with a cache pool or a cachevol).
func (b *builder) cache(s sec, seg *model.Segment) {
	seg.Cache = &model.CacheParams{
		CachePool:      b.lvRef(s, "cache_pool", true),
		Origin:         b.lvRef(s, "origin", true),
		Cleaner:        s.i64p("cleaner"),
		MetadataFormat: s.u64v("metadata_format", false),
		ChunkSize:      s.u64v("chunk_size", false),
		CacheMode:      s.str("cache_mode", false),
		Policy:         s.str("policy", false),
		PolicySettings: b.policySettings(s),
		MetadataStart:  s.u64v("metadata_start", false),
		MetadataLen:    s.u64v("metadata_len", false),
		DataStart:      s.u64v("data_start", false),
		DataLen:        s.u64v("data_len", false),
		MetadataID:     s.str("metadata_id", false),
		DataID:         s.str("data_id", false),
	}
}

var writecacheMain = withCommon("writecache", "origin", "writecache_block_size")

// writecache reads a writecache segment; tunables go to Settings.
func (b *builder) writecache(s sec, seg *model.Segment) {
	seg.Writecache = &model.WritecacheParams{
		Writecache: b.lvRef(s, "writecache", true),
		Origin:     b.lvRef(s, "origin", true),
		BlockSize:  s.u64v("writecache_block_size", false),
		Settings:   b.paramsExcept(s.n, writecacheMain),
	}
}

var integrityMain = withCommon("origin", "data_sectors", "mode", "tag_size", "block_size", "internal_hash", "meta_dev")

// integrity reads an integrity segment; tunables go to Settings.
func (b *builder) integrity(s sec, seg *model.Segment) {
	seg.Integrity = &model.IntegrityParams{
		Origin:       b.lvRef(s, "origin", true),
		DataSectors:  s.u64v("data_sectors", false),
		Mode:         s.str("mode", false),
		TagSize:      s.u64v("tag_size", false),
		BlockSize:    s.u64v("block_size", false),
		InternalHash: s.str("internal_hash", false),
		MetaDev:      b.lvRef(s, "meta_dev", false),
		Settings:     b.paramsExcept(s.n, integrityMain),
	}
}

var vdoPoolMain = withCommon("data", "header_size", "virtual_extents")

// vdoPool reads a vdo-pool segment; tunables go to Settings.
func (b *builder) vdoPool(s sec, seg *model.Segment) {
	seg.VDOPool = &model.VDOPoolParams{
		Data:           b.lvRef(s, "data", true),
		HeaderSize:     s.u64v("header_size", false),
		VirtualExtents: s.u64v("virtual_extents", false),
		Settings:       b.paramsExcept(s.n, vdoPoolMain),
	}
}
