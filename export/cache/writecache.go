package cache

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/cow"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// WritecacheMagic is the dm-writecache superblock magic.
const WritecacheMagic = 0x23489321

const (
	wcSuperSize = 64
	wcEntrySize = 16
	freeSeq     = math.MaxUint64
	// wcReadEntries is how many entries are read at once.
	wcReadEntries = 4096
)

// WCSuperblock is the dm-writecache superblock.
type WCSuperblock struct {
	Magic     uint32 `json:"magic"`
	Version   uint32 `json:"version"`
	BlockSize uint32 `json:"block_size_bytes"`
	NBlocks   uint64 `json:"n_blocks"`
	SeqCount  uint64 `json:"seq_count"`
}

// WCEntry is a committed writecache entry: cache block Index holds the
// origin bytes from sector Sector on, written at sequence number Seq.
type WCEntry struct {
	Index  uint64 `json:"index"`
	Sector uint64 `json:"original_sector"`
	Seq    uint64 `json:"seq_count"`
}

// WCMetadata is a decoded writecache.
type WCMetadata struct {
	Superblock WCSuperblock `json:"superblock"`
	// DataOffset is where block 0 starts, in bytes from the start of the
	// layout (start_sector).
	DataOffset int64 `json:"data_offset"`
	// Entries are the committed entries that win (newest per origin
	// block), sorted by Sector: the blocks not yet written back.
	Entries []WCEntry `json:"entries"`
	// Superseded counts committed entries hidden by a newer one for the
	// same origin block; Uncommitted counts entries written after the
	// last commit (discarded by the kernel, ignored here); Free counts
	// free entries.
	Superseded  int `json:"superseded"`
	Uncommitted int `json:"uncommitted"`
	Free        int `json:"free"`
}

// WCParams describe the cachevol ReadWritecache decodes.
type WCParams struct {
	LV          string // the cachevol, for messages
	Size        int64  // bytes of the cachevol from the layout start
	OriginBytes int64  // origin size: entries must lie within it
	// BlockSize is writecache_block_size from the LVM metadata in bytes
	// (0 if unknown).
	BlockSize uint64
}

// ReadWritecache reads and checks a dm-writecache layout through r
// (offset 0 = the superblock).
func ReadWritecache(r io.ReaderAt, p WCParams) (*WCMetadata, error) {
	bad := func(off int64, st, field string, err error, format string, args ...any) error {
		return &MetadataError{LV: p.LV, Offset: off, Structure: st, Field: field, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	if p.Size < wcSuperSize {
		return nil, bad(0, "superblock", "", ErrRange, "the cachevol holds %d bytes, less than a superblock", p.Size)
	}
	var b [wcSuperSize]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return nil, bad(0, "superblock", "", ErrRead, "%v", err)
	}
	le := binary.LittleEndian
	sb := WCSuperblock{Magic: le.Uint32(b[0:]), Version: le.Uint32(b[4:]), BlockSize: le.Uint32(b[8:]),
		NBlocks: le.Uint64(b[16:]), SeqCount: le.Uint64(b[24:])}
	w := uint64(sb.BlockSize)
	switch {
	case sb.Magic != WritecacheMagic:
		return nil, bad(0, "superblock", "magic", ErrMagic, "0x%08X is not the dm-writecache magic 0x%08X", sb.Magic, uint32(WritecacheMagic))
	case sb.Version != 1:
		return nil, bad(4, "superblock", "version", ErrUnsupported, "version %d (only 1 is known)", sb.Version)
	case w < 512 || w > 1<<16 || w&(w-1) != 0:
		return nil, bad(8, "superblock", "block_size", ErrCorrupt, "%d bytes is not a power of two from 512 to 65536", w)
	case p.BlockSize != 0 && p.BlockSize != w:
		return nil, bad(8, "superblock", "block_size", ErrCorrupt, "%d bytes, but LVM's writecache_block_size is %d", w, p.BlockSize)
	}
	// 64 + 16n rounded up to W, plus n*W, must fit: n*(W+16) < size.
	if sb.NBlocks > uint64(p.Size)/(w+wcEntrySize) {
		return nil, bad(16, "superblock", "n_blocks", ErrRange, "%d blocks of %d bytes do not fit the %d-byte cachevol", sb.NBlocks, w, p.Size)
	}
	n := sb.NBlocks
	md := &WCMetadata{Superblock: sb}
	md.DataOffset = int64((wcSuperSize + wcEntrySize*n + w - 1) / w * w)
	if md.DataOffset > p.Size-int64(n*w) {
		return nil, bad(16, "superblock", "n_blocks", ErrRange, "%d blocks of %d bytes after %d bytes of entries do not fit the %d-byte cachevol", n, w, md.DataOffset, p.Size)
	}
	sectorsPerBlock := w / 512
	originSectors := uint64(max(0, p.OriginBytes)) / 512
	best := map[uint64]WCEntry{} // by original sector
	buf := make([]byte, wcReadEntries*wcEntrySize)
	for i := uint64(0); i < n; {
		k := min(n-i, wcReadEntries)
		at := int64(wcSuperSize + i*wcEntrySize)
		if _, err := r.ReadAt(buf[:k*wcEntrySize], at); err != nil {
			return nil, bad(at, fmt.Sprintf("entries %d-%d", i, i+k-1), "", ErrRead, "%v", err)
		}
		for j := uint64(0); j < k; j++ {
			e := WCEntry{Index: i + j, Sector: le.Uint64(buf[j*wcEntrySize:]), Seq: le.Uint64(buf[j*wcEntrySize+8:])}
			off := at + int64(j*wcEntrySize)
			st := fmt.Sprintf("entry %d", e.Index)
			switch {
			case e.Seq == freeSeq:
				md.Free++
				continue
			case e.Seq >= sb.SeqCount:
				md.Uncommitted++
				continue
			case e.Sector%sectorsPerBlock != 0:
				return nil, bad(off, st, "original_sector", ErrCorrupt, "sector %d is not aligned to the %d-byte block", e.Sector, w)
			case e.Sector >= originSectors || originSectors-e.Sector < sectorsPerBlock:
				return nil, bad(off, st, "original_sector", ErrRange, "sector %d is beyond the origin's %d sectors", e.Sector, originSectors)
			}
			prev, dup := best[e.Sector]
			switch {
			case !dup:
				best[e.Sector] = e
			case prev.Seq == e.Seq:
				return nil, bad(off+8, st, "seq_count", ErrCorrupt, "entries %d and %d hold origin sector %d with the same sequence number %d", prev.Index, e.Index, e.Sector, e.Seq)
			case e.Seq > prev.Seq:
				best[e.Sector] = e
				md.Superseded++
			default:
				md.Superseded++
			}
		}
		i += k
	}
	md.Entries = make([]WCEntry, 0, len(best))
	for _, e := range best {
		md.Entries = append(md.Entries, e)
	}
	sort.Slice(md.Entries, func(i, j int) bool { return md.Entries[i].Sector < md.Entries[j].Sector })
	return md, nil
}

// Extents places the winning entries' blocks over the origin; SrcOff is
// relative to the layout start.
func (md *WCMetadata) Extents() []cow.Extent {
	w := int64(md.Superblock.BlockSize)
	out := make([]cow.Extent, 0, len(md.Entries))
	for _, e := range md.Entries {
		out = append(out, cow.Extent{Off: int64(e.Sector) * 512, Len: w, SrcOff: md.DataOffset + int64(e.Index)*w})
	}
	return out
}

// Writecache is an opened writecache segment.
type Writecache struct {
	LV       string
	Origin   string // the origin sub-LV (_wcorig)
	CacheVol string
	// StartSector is the kernel's start_sector setting: where the layout
	// begins in the cachevol.
	StartSector uint64
	Metadata    *WCMetadata
	// View is the LV as the kernel shows it (origin size).
	View export.Source
}

// OpenWritecache reads the writecache of segment idx of lv (type
// writecache) and builds its view.
func OpenWritecache(r *volume.Resolver, lv *model.LV, idx int) (*Writecache, error) {
	s, err := newSegInfo(r, lv, idx)
	if err != nil {
		return nil, err
	}
	wp := s.seg.Writecache
	if wp == nil {
		return nil, s.errf("type", ErrLVM, "not a writecache segment")
	}
	w := &Writecache{LV: lv.Name, Origin: wp.Origin, CacheVol: wp.Writecache}
	if _, _, err := s.layers(wp.Origin, wp.Writecache, "writecache", "cachevol"); err != nil {
		return nil, err
	}
	if w.StartSector, err = startSector(wp.Settings); err != nil {
		return nil, s.errf("writecache_setting_val", ErrLVM, "%v", err)
	}
	osrc, err := r.Open(wp.Origin)
	if err != nil {
		return nil, err
	}
	csrc, err := r.Open(wp.Writecache)
	if err != nil {
		return nil, err
	}
	start, err := s.sectors(w.StartSector, "start_sector")
	if err != nil {
		return nil, err
	}
	layout, err := s.window(csrc, wp.Writecache, min(start, csrc.Size()), max(0, csrc.Size()-start), "start_sector")
	if err != nil {
		return nil, err
	}
	md, err := ReadWritecache(cow.SourceReader(layout), WCParams{LV: wp.Writecache, Size: layout.Size(), OriginBytes: osrc.Size(), BlockSize: wp.BlockSize})
	if err != nil {
		return nil, withHint(err, "the origin sub-LV "+wp.Origin+" can be exported alone: it lacks the blocks not yet written back")
	}
	w.Metadata = md
	ov, err := cow.NewOverlay(osrc, layout, md.Extents())
	if err != nil {
		return nil, s.errf("entries", ErrCorrupt, "%v", err)
	}
	ov.SetTopNote(fmt.Sprintf("block not yet written back, held only in cachevol %s", wp.Writecache))
	w.View = ov
	return w, nil
}

// startSector finds the start_sector tunable among the writecache
// settings (as writecache_setting_key/val or a plain key); 0 if unset.
func startSector(settings []model.Param) (uint64, error) {
	var v any
	for i, p := range settings {
		if p.Key == "start_sector" {
			v = p.Value
		}
		if p.Key == "writecache_setting_key" && p.Value == "start_sector" {
			for _, q := range settings[i+1:] {
				if q.Key == "writecache_setting_val" {
					v = q.Value
					break
				}
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		if x >= 0 {
			return uint64(x), nil
		}
	case string:
		if n, err := strconv.ParseUint(x, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("start_sector %v is not a sector count", v)
}

// openWritecacheSegment is the volume opener of writecache segments.
func openWritecacheSegment(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	w, err := OpenWritecache(r, lv, idx)
	if err != nil {
		return nil, err
	}
	return segmentView(r, lv, idx, w.View, w.Origin)
}
