package thin

import (
	"fmt"
	"math"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

func init() { volume.Register(model.KindThin, Open) }

// pool is an opened thin pool: its VG metadata and its kernel metadata.
type pool struct {
	name   string
	params *model.ThinPoolParams
	meta   *Metadata
}

// openPool finds the thin pool LV name in the resolver's VG, opens its
// metadata sub-LV and validates the superblock against the VG metadata
// (data block size = chunk_size; a data block size whose byte offsets fit).
func openPool(r *volume.Resolver, name string) (*pool, error) {
	lv := r.VG.LV(name)
	if lv == nil {
		return nil, fmt.Errorf("thin pool %q: no such LV in VG %s: %w", name, r.VG.Name, model.ErrMapping)
	}
	if len(lv.Segments) != 1 || lv.Segments[0].Kind() != model.KindThinPool || lv.Segments[0].ThinPool == nil {
		return nil, fmt.Errorf("thin pool %s: not a single thin-pool segment with metadata and pool keys: %w", name, model.ErrMapping)
	}
	p := &pool{name: name, params: lv.Segments[0].ThinPool}
	if p.params.Metadata == "" || p.params.Pool == "" {
		return nil, fmt.Errorf("thin pool %s: the segment names no metadata or no pool (data) LV: %w", name, model.ErrMapping)
	}
	src, err := r.Open(p.params.Metadata)
	if err != nil {
		return nil, fmt.Errorf("thin pool %s: metadata LV %s: %w", name, p.params.Metadata, err)
	}
	if p.meta, err = OpenMetadata(src, src.Size()); err != nil {
		return nil, fmt.Errorf("thin pool %s: metadata LV %s: %w", name, p.params.Metadata, err)
	}
	sb := p.meta.sb
	if cs := p.params.ChunkSize; cs != 0 && cs != uint64(sb.DataBlockSize) {
		return nil, fmt.Errorf("thin pool %s: metadata LV %s: %w", name, p.params.Metadata,
			&MetadataError{Block: 0, Structure: "superblock", Field: "data_block_size",
				Problem: fmt.Sprintf("%d sectors, but the VG metadata gives the pool chunk_size = %d", sb.DataBlockSize, cs), Err: ErrCorrupt})
	}
	if sb.DataSpaceMap.NrBlocks > uint64(math.MaxInt64/(int64(sb.DataBlockSize)*model.SectorSize)) {
		return nil, fmt.Errorf("thin pool %s: metadata LV %s: %w", name, p.params.Metadata,
			&MetadataError{Block: 0, Structure: "superblock", Field: "data_space_map_root.nr_blocks",
				Problem: fmt.Sprintf("%d data blocks of %d sectors overflow a byte offset", sb.DataSpaceMap.NrBlocks, sb.DataBlockSize), Err: ErrCorrupt})
	}
	return p, nil
}

// Open is the volume opener for thin segments: segment idx of lv becomes a
// *Source. It reads the pool's metadata, walks the device's whole mapping
// tree once (validating every node), and opens the pool's data LV and the
// external origin, if any, through the resolver.
//
// The thin device is addressed by LV offset: byte o of the segment is byte
// start_extent*extent_size + o of the device (LVM writes thin LVs as one
// segment, where both are the same).
func Open(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	seg := lv.Segments[idx]
	tp := seg.Thin
	if tp == nil || tp.ThinPool == "" {
		return nil, &model.UnsupportedError{LV: lv.Name, Segment: idx, Type: seg.Type, Reason: "thin segment without a thin_pool key"}
	}
	eb := r.VG.ExtentBytes()
	if eb <= 0 || seg.StartExtent > uint64(math.MaxInt64/eb) || seg.ExtentCount > uint64(math.MaxInt64/eb)-seg.StartExtent {
		return nil, fmt.Errorf("lv %s: %s: extents %d+%d overflow a byte offset: %w", lv.Name, model.SegmentName(idx), seg.StartExtent, seg.ExtentCount, model.ErrMapping)
	}
	p, err := openPool(r, tp.ThinPool)
	if err != nil {
		return nil, fmt.Errorf("lv %s: %w", lv.Name, err)
	}
	s := &Source{lv: lv.Name, base: int64(seg.StartExtent) * eb, size: int64(seg.ExtentCount) * eb,
		bsize: int64(p.meta.sb.DataBlockSize) * model.SectorSize, dataLV: p.params.Pool}
	vEnd := ceilDiv(s.base+s.size, s.bsize)
	if s.m, s.stats, s.damage, err = p.meta.loadDevice(tp.DeviceID, vEnd); err != nil {
		return nil, fmt.Errorf("lv %s: thin pool %s, device %d: %w", lv.Name, p.name, tp.DeviceID, err)
	}
	if s.data, err = r.Open(p.params.Pool); err != nil {
		return nil, fmt.Errorf("lv %s: thin pool %s: data LV %s: %w", lv.Name, p.name, p.params.Pool, err)
	}
	if tp.ExternalOrigin != "" {
		s.extLV = tp.ExternalOrigin
		if s.ext, err = r.Open(tp.ExternalOrigin); err != nil {
			return nil, fmt.Errorf("lv %s: external origin %s: %w", lv.Name, tp.ExternalOrigin, err)
		}
	}
	return s, nil
}
