package cache

import (
	"fmt"
	"io"
	"sort"
)

// Mapping flags (low 16 bits of a mapping array value).
const (
	MappingValid = 1 << 0
	MappingDirty = 1 << 1 // metadata format 1 only
)

// Mapping says that cache block Cache holds origin block Origin.
type Mapping struct {
	Cache  uint64 `json:"cache_block"`
	Origin uint64 `json:"origin_block"`
	Dirty  bool   `json:"dirty"`
}

// Metadata is a decoded dm-cache metadata device.
type Metadata struct {
	Superblock *Superblock `json:"superblock"`
	// Mappings are the valid mappings, sorted by origin block.
	Mappings []Mapping `json:"mappings"`
	// Dirty counts the valid mappings whose block is dirty.
	Dirty int `json:"dirty"`
	// Notes are remarks worth showing (unclean shutdown...).
	Notes []string `json:"notes,omitempty"`
}

// MetadataParams describe the device ReadMetadata decodes.
type MetadataParams struct {
	LV          string // LV holding the metadata, for messages
	Size        int64  // metadata bytes
	OriginBytes int64  // origin size: mappings must lie within it
	DataBytes   int64  // bytes of the cache data device
	// BlockSectors is chunk_size from the LVM metadata (0 if unknown).
	BlockSectors uint64
}

// ReadMetadata reads and checks a dm-cache metadata device through r.
func ReadMetadata(r io.ReaderAt, p MetadataParams) (*Metadata, error) {
	m := &metaDev{lv: p.LV, r: r, blocks: uint64(max(0, p.Size) / BlockSize)}
	sbBuf, err := m.read(0, "superblock", saltSuperblock, 8)
	if err != nil {
		return nil, err
	}
	sb := decodeSuperblock(sbBuf)
	md := &Metadata{Superblock: sb}
	bad := func(field string, err error, format string, args ...any) error {
		return m.errf(0, "superblock", field, err, format, args...)
	}
	switch {
	case sb.Magic != Magic:
		return nil, bad("magic", ErrMagic, "0x%X is not the dm-cache magic 0x%X", sb.Magic, uint64(Magic))
	case sb.Version != 1 && sb.Version != 2:
		return nil, bad("version", ErrUnsupported, "metadata format %d (1 and 2 are known)", sb.Version)
	case sb.NeedsCheck():
		return nil, bad("flags", ErrUntrusted, "the kernel flagged the metadata as needing a check (needs_check): run cache_check/cache_repair on a copy, or export the origin sub-LV alone")
	case sb.Incompat != 0:
		return nil, bad("incompat_flags", ErrUnsupported, "incompatible feature flags 0x%X are set", sb.Incompat)
	case sb.MetadataBlockSize != BlockSize/512:
		return nil, bad("metadata_block_size", ErrCorrupt, "%d sectors, want %d", sb.MetadataBlockSize, BlockSize/512)
	case sb.DataBlockSize == 0:
		return nil, bad("data_block_size", ErrCorrupt, "0 sectors")
	}
	bs := int64(sb.DataBlockSize) * 512
	if p.BlockSectors != 0 && p.BlockSectors != uint64(sb.DataBlockSize) {
		md.Notes = append(md.Notes, fmt.Sprintf("the superblock's data_block_size (%d sectors) overrides the LVM chunk_size (%d sectors)", sb.DataBlockSize, p.BlockSectors))
	}
	if int64(sb.CacheBlocks) > p.DataBytes/bs {
		return nil, bad("cache_blocks", ErrRange, "%d blocks of %d bytes do not fit the %d-byte cache data device", sb.CacheBlocks, bs, p.DataBytes)
	}
	originBlocks := uint64((max(0, p.OriginBytes) + bs - 1) / bs)
	if !sb.CleanShutdown() {
		md.Notes = append(md.Notes, "the cache was not shut down cleanly: the mappings are those of the last metadata commit")
	}
	n := uint64(sb.CacheBlocks)
	var dirty []uint64 // bitset words, version 2
	if sb.Version == 2 {
		words := (n + 63) / 64
		err := m.walkArray("dirty bitset", sb.DirtyRoot, words, func(e, v, _ uint64) error {
			if e < words {
				dirty = append(dirty, v)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	seen := map[uint64]uint64{} // origin block -> cache block
	err = m.walkArray("mapping array", sb.MappingRoot, n, func(c, v, blk uint64) error {
		flags, ob := v&0xFFFF, v>>16
		if flags&MappingValid == 0 {
			return nil
		}
		st := fmt.Sprintf("mapping of cache block %d", c)
		if c >= n {
			return m.errf(blk, st, "flags", ErrCorrupt, "cache block %d is valid but beyond cache_blocks %d", c, n)
		}
		if ob >= originBlocks {
			return m.errf(blk, st, "origin_block", ErrRange, "origin block %d is beyond the origin's %d blocks", ob, originBlocks)
		}
		if prev, dup := seen[ob]; dup {
			return m.errf(blk, st, "origin_block", ErrCorrupt, "origin block %d is also cached by cache block %d", ob, prev)
		}
		seen[ob] = c
		mp := Mapping{Cache: c, Origin: ob}
		if sb.Version == 1 {
			mp.Dirty = flags&MappingDirty != 0
		} else {
			mp.Dirty = dirty[c/64]&(1<<(c%64)) != 0
		}
		if mp.Dirty {
			md.Dirty++
		}
		md.Mappings = append(md.Mappings, mp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(md.Mappings, func(i, j int) bool { return md.Mappings[i].Origin < md.Mappings[j].Origin })
	return md, nil
}

// BlockBytes is the cache block size in bytes.
func (md *Metadata) BlockBytes() int64 { return int64(md.Superblock.DataBlockSize) * 512 }
