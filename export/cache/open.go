package cache

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/cow"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

func init() {
	volume.Register(model.KindCache, openCacheSegment)
	volume.Register(model.KindWritecache, openWritecacheSegment)
}

// Cache modes.
const (
	ModeWritethrough = "writethrough"
	ModeWriteback    = "writeback"
	ModePassthrough  = "passthrough"
)

// Cache is an opened dm-cache segment.
type Cache struct {
	LV     string
	Origin string // the origin sub-LV (_corig)
	Pool   string // the cache pool or cachevol LV
	// CacheVol is set when Pool is a cachevol (metadata and data in one
	// LV) rather than a cache pool with _cmeta and _cdata sub-LVs.
	CacheVol   bool
	MetadataLV string // LV holding the metadata (the _cmeta or the cachevol)
	DataLV     string // LV holding the cache blocks (the _cdata or the cachevol)
	Mode       string
	Metadata   *Metadata
	// Applied counts the cache blocks copied over the origin.
	Applied int
	Notes   []string
	// View is the cached LV as the kernel shows it (origin size).
	View export.Source
}

type segInfo struct {
	r   *volume.Resolver
	lv  *model.LV
	idx int
	seg *model.Segment
}

func (s *segInfo) errf(field string, err error, format string, args ...any) error {
	t := ""
	if s.seg != nil {
		t = s.seg.Type
	}
	return &LVError{LV: s.lv.Name, Segment: s.idx, Type: t, Field: field, Reason: fmt.Sprintf(format, args...), Err: err}
}

// bytes returns the segment's offset and length in bytes.
func (s *segInfo) bytes() (int64, int64, error) {
	eb := s.r.VG.ExtentBytes()
	if eb <= 0 || s.seg.ExtentCount > uint64(math.MaxInt64/eb) || s.seg.StartExtent > uint64(math.MaxInt64/eb)-s.seg.ExtentCount {
		return 0, 0, s.errf("extent_count", ErrLVM, "%d extents from %d cannot be mapped", s.seg.ExtentCount, s.seg.StartExtent)
	}
	return int64(s.seg.StartExtent) * eb, int64(s.seg.ExtentCount) * eb, nil
}

// layers resolves a cache segment's origin LV and its cache LV (named by
// the key cacheKey, a cacheWhat), which must exist and differ from each
// other and from the cached LV.
func (s *segInfo) layers(originName, cacheName, cacheKey, cacheWhat string) (origin, cache *model.LV, err error) {
	origin, cache = s.r.VG.LV(originName), s.r.VG.LV(cacheName)
	switch {
	case origin == nil:
		return nil, nil, s.errf("origin", ErrLVM, "no LV named %q", originName)
	case cache == nil:
		return nil, nil, s.errf(cacheKey, ErrLVM, "no LV named %q", cacheName)
	case origin == s.lv || cache == s.lv || origin == cache:
		return nil, nil, s.errf(cacheKey, ErrLVM, "LV %s, its origin %s and its %s %s must differ", s.lv.Name, originName, cacheWhat, cacheName)
	}
	return origin, cache, nil
}

func newSegInfo(r *volume.Resolver, lv *model.LV, idx int) (*segInfo, error) {
	s := &segInfo{r: r, lv: lv, idx: idx}
	if idx < 0 || idx >= len(lv.Segments) {
		return nil, s.errf("segment", ErrLVM, "no %s", model.SegmentName(idx))
	}
	s.seg = lv.Segments[idx]
	return s, nil
}

// window returns bytes [off, off+n) of src, or an LVError.
func (s *segInfo) window(src export.Source, name string, off, n int64, field string) (export.Source, error) {
	w, err := cow.NewWindow(src, off, n)
	if err != nil {
		return nil, s.errf(field, ErrLVM, "%s: %v", name, err)
	}
	return w, nil
}

// sectors converts a sector count from the metadata to bytes.
func (s *segInfo) sectors(v uint64, field string) (int64, error) {
	if v > math.MaxInt64/512 {
		return 0, s.errf(field, ErrLVM, "%d sectors is too large", v)
	}
	return int64(v) * 512, nil
}

// OpenCache reads the cache metadata of segment idx of lv (type cache)
// and builds the cached view.
func OpenCache(r *volume.Resolver, lv *model.LV, idx int) (*Cache, error) {
	s, err := newSegInfo(r, lv, idx)
	if err != nil {
		return nil, err
	}
	cp := s.seg.Cache
	if cp == nil {
		return nil, s.errf("type", ErrLVM, "not a cache segment")
	}
	c := &Cache{LV: lv.Name, Origin: cp.Origin, Pool: cp.CachePool}
	_, pool, err := s.layers(cp.Origin, cp.CachePool, "cache_pool", "cache")
	if err != nil {
		return nil, err
	}
	mode, chunk, format := cp.CacheMode, cp.ChunkSize, cp.MetadataFormat
	var metaSrc, dataSrc export.Source
	if pp := poolParams(pool); pp != nil {
		if pp.CacheMode != "" {
			mode = pp.CacheMode
		}
		if pp.ChunkSize != 0 {
			chunk = pp.ChunkSize
		}
		if pp.MetadataFormat != 0 {
			format = pp.MetadataFormat
		}
		c.MetadataLV, c.DataLV = pp.Metadata, pp.Data
		if metaSrc, err = r.Open(pp.Metadata); err != nil {
			return nil, err
		}
		if dataSrc, err = r.Open(pp.Data); err != nil {
			return nil, err
		}
	} else {
		c.CacheVol, c.MetadataLV, c.DataLV = true, pool.Name, pool.Name
		if cp.MetadataLen == 0 || cp.DataLen == 0 {
			return nil, s.errf("metadata_len", ErrLVM, "%s is neither a cache pool nor a cachevol with metadata_len and data_len", pool.Name)
		}
		cv, err := r.Open(pool.Name)
		if err != nil {
			return nil, err
		}
		var off [4]int64
		for i, v := range []uint64{cp.MetadataStart, cp.MetadataLen, cp.DataStart, cp.DataLen} {
			if off[i], err = s.sectors(v, "metadata_start"); err != nil {
				return nil, err
			}
		}
		if metaSrc, err = s.window(cv, pool.Name, off[0], off[1], "metadata_len"); err != nil {
			return nil, err
		}
		if dataSrc, err = s.window(cv, pool.Name, off[2], off[3], "data_len"); err != nil {
			return nil, err
		}
	}
	osrc, err := r.Open(cp.Origin)
	if err != nil {
		return nil, err
	}
	switch mode {
	case "":
		mode = ModeWritethrough
		c.Notes = append(c.Notes, "the metadata names no cache mode: LVM's default, writethrough, is assumed")
	case ModeWritethrough, ModeWriteback, ModePassthrough:
	default:
		return nil, s.errf("cache_mode", ErrUnsupported, "cache mode %q is not known", mode)
	}
	c.Mode = mode
	if chunk == 0 {
		c.Notes = append(c.Notes, "the metadata gives no chunk_size: the superblock's data_block_size is used")
	}
	md, err := ReadMetadata(cow.SourceReader(metaSrc), MetadataParams{LV: c.MetadataLV, Size: metaSrc.Size(),
		OriginBytes: osrc.Size(), DataBytes: dataSrc.Size(), BlockSectors: chunk})
	if err != nil {
		hint := "the origin sub-LV " + cp.Origin + " can be exported alone, without the blocks only the cache holds"
		if mode == ModeWritethrough || mode == ModePassthrough {
			hint = "in " + mode + " mode the origin sub-LV " + cp.Origin + " holds the data: export it instead"
		}
		return nil, withHint(err, hint)
	}
	c.Metadata = md
	c.Notes = append(c.Notes, md.Notes...)
	if format != 0 && format != uint64(md.Superblock.Version) {
		c.Notes = append(c.Notes, fmt.Sprintf("LVM records metadata_format %d, the superblock says %d: the superblock is used", format, md.Superblock.Version))
	}
	if mode == ModePassthrough {
		if md.Dirty > 0 {
			return nil, s.errf("cache_mode", ErrUntrusted, "passthrough mode, but %d cache blocks are dirty: the origin is stale and the cache may not be read in this mode", md.Dirty)
		}
		c.Notes = append(c.Notes, "passthrough mode: the cache may be stale, the origin is read alone")
		c.View = osrc
	} else {
		ext, notes, err := extents(md, osrc.Size(), dataSrc, mode)
		if err != nil {
			return nil, err
		}
		c.Notes = append(c.Notes, notes...)
		c.Applied = len(ext)
		ov, err := cow.NewOverlay(osrc, dataSrc, ext)
		if err != nil {
			return nil, s.errf("mappings", ErrCorrupt, "%v", err)
		}
		ov.SetTopNote(fmt.Sprintf("cached block held only in cache data %s (%s mode)", c.DataLV, mode))
		c.View = ov
	}
	return c, nil
}

// poolParams returns the cache-pool parameters of pool, or nil when pool
// is not a cache pool (a cachevol).
func poolParams(pool *model.LV) *model.CachePoolParams {
	for _, s := range pool.Segments {
		if s.Kind() == model.KindCachePool && s.CachePool != nil {
			return s.CachePool
		}
	}
	return nil
}

// extents turns the valid mappings into overlay extents. In writethrough
// mode a clean block whose cache copy is unreadable (missing PV) is read
// from the origin, which holds the same data.
func extents(md *Metadata, originSize int64, data export.Source, mode string) ([]cow.Extent, []string, error) {
	bs := md.BlockBytes()
	var missing []export.Run
	if mode == ModeWritethrough {
		var err error
		if missing, err = missingRuns(data); err != nil {
			return nil, nil, err
		}
	}
	var notes []string
	skipped := 0
	out := make([]cow.Extent, 0, len(md.Mappings))
	for _, mp := range md.Mappings {
		off := int64(mp.Origin) * bs
		e := cow.Extent{Off: off, Len: min(bs, originSize-off), SrcOff: int64(mp.Cache) * bs}
		if !mp.Dirty && overlaps(missing, e.SrcOff, e.Len) {
			skipped++
			continue
		}
		out = append(out, e)
	}
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d clean cache blocks are unreadable and were read from the origin (writethrough: same data)", skipped))
	}
	return out, notes, nil
}

// missingRuns lists the RunMissing runs of src (work that grows with its
// runs, not its size: export.EachRun).
func missingRuns(src export.Source) ([]export.Run, error) {
	var out []export.Run
	err := export.EachRun(context.Background(), src, func(r export.Run) {
		if r.Kind == export.RunMissing {
			out = append(out, r)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// overlaps reports whether [off, off+n) meets one of the sorted runs.
func overlaps(runs []export.Run, off, n int64) bool {
	i := sort.Search(len(runs), func(i int) bool { return runs[i].End() > off })
	return i < len(runs) && runs[i].Off < off+n
}

// openCacheSegment is the volume opener of cache segments.
func openCacheSegment(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	c, err := OpenCache(r, lv, idx)
	if err != nil {
		return nil, err
	}
	return segmentView(r, lv, idx, c.View, c.Origin)
}

// segmentView is the part of a cached view that segment idx of lv covers.
func segmentView(r *volume.Resolver, lv *model.LV, idx int, view export.Source, origin string) (export.Source, error) {
	s, err := newSegInfo(r, lv, idx)
	if err != nil {
		return nil, err
	}
	off, n, err := s.bytes()
	if err != nil {
		return nil, err
	}
	return s.window(view, origin, off, n, "origin")
}
