package thin

import "fmt"

// Superblock field values the reader relies on.
const (
	superblockMagic   = 27022010 // 0x019C52BA
	metadataBlockSect = 8        // metadata_block_size in sectors (4096 bytes)
	// maxDataBlockSectors bounds data_block_size so that byte offsets
	// cannot overflow (1 GiB blocks).
	maxDataBlockSectors = 1 << 21
)

// SpaceMapRoot is the head of a space map root (spec 6.5).
type SpaceMapRoot struct {
	NrBlocks     uint64 `json:"nr_blocks"`
	NrAllocated  uint64 `json:"nr_allocated"`
	BitmapRoot   uint64 `json:"bitmap_root"`
	RefCountRoot uint64 `json:"ref_count_root"`
}

// Superblock is block 0 of the thin pool metadata (spec 6.2).
type Superblock struct {
	Flags             uint32       `json:"flags"`
	Version           uint32       `json:"version"`
	Time              uint32       `json:"time"`
	TransactionID     uint64       `json:"transaction_id"`
	HeldRoot          uint64       `json:"held_root"`
	DataSpaceMap      SpaceMapRoot `json:"data_space_map"`
	MetadataSpaceMap  SpaceMapRoot `json:"metadata_space_map"`
	DataMappingRoot   uint64       `json:"data_mapping_root"`
	DeviceDetailsRoot uint64       `json:"device_details_root"`
	DataBlockSize     uint32       `json:"data_block_size_sectors"`
	MetadataBlockSize uint32       `json:"metadata_block_size_sectors"`
	MetadataNrBlocks  uint64       `json:"metadata_nr_blocks"`
	CompatFlags       uint32       `json:"compat_flags"`
	CompatROFlags     uint32       `json:"compat_ro_flags"`
	IncompatFlags     uint32       `json:"incompat_flags"`
}

// NeedsCheck reports flag bit 0: the kernel asked for a metadata check.
func (sb *Superblock) NeedsCheck() bool { return sb.Flags&1 != 0 }

func parseSpaceMapRoot(b []byte, off int) SpaceMapRoot {
	return SpaceMapRoot{NrBlocks: le64(b, off), NrAllocated: le64(b, off+8),
		BitmapRoot: le64(b, off+16), RefCountRoot: le64(b, off+24)}
}

// ParseSuperblock decodes and validates the superblock in b (metadata
// block 0, at least BlockSize bytes): checksum, magic, block number,
// metadata block size, data block size, incompatible features, and that
// the tree roots lie inside the metadata device.
func ParseSuperblock(b []byte) (*Superblock, error) {
	bad := func(field, problem string, err error) error {
		return &MetadataError{Block: 0, Structure: "superblock", Field: field, Problem: problem, Err: err}
	}
	if len(b) < BlockSize {
		return nil, bad("", fmt.Sprintf("%d bytes, a block is %d", len(b), BlockSize), ErrCorrupt)
	}
	// Magic first: a wrong magic says "not thin metadata" more usefully
	// than a checksum error.
	if m := le64(b, 32); m != superblockMagic {
		return nil, bad("magic", fmt.Sprintf("%#x, want %#x", m, superblockMagic), ErrMagic)
	}
	if stored, want, ok := checksumOK(b, saltSuperblock); !ok {
		return nil, bad("csum", fmt.Sprintf("stored %#08x, computed %#08x", stored, want), ErrChecksum)
	}
	if n := le64(b, 8); n != 0 {
		return nil, bad("blocknr", fmt.Sprintf("%d, the superblock is block 0", n), ErrCorrupt)
	}
	sb := &Superblock{
		Flags:             le32(b, 4),
		Version:           le32(b, 40),
		Time:              le32(b, 44),
		TransactionID:     le64(b, 48),
		HeldRoot:          le64(b, 56),
		DataSpaceMap:      parseSpaceMapRoot(b, 64),
		MetadataSpaceMap:  parseSpaceMapRoot(b, 192),
		DataMappingRoot:   le64(b, 320),
		DeviceDetailsRoot: le64(b, 328),
		DataBlockSize:     le32(b, 336),
		MetadataBlockSize: le32(b, 340),
		MetadataNrBlocks:  le64(b, 344),
		CompatFlags:       le32(b, 352),
		CompatROFlags:     le32(b, 356),
		IncompatFlags:     le32(b, 360),
	}
	if sb.Version != 1 && sb.Version != 2 {
		return nil, bad("version", fmt.Sprintf("%d, only versions 1 and 2 are known", sb.Version), ErrUnsupported)
	}
	if sb.MetadataBlockSize != metadataBlockSect {
		return nil, bad("metadata_block_size", fmt.Sprintf("%d sectors, only %d (4096 bytes) is supported", sb.MetadataBlockSize, metadataBlockSect), ErrUnsupported)
	}
	if sb.DataBlockSize == 0 || sb.DataBlockSize > maxDataBlockSectors {
		return nil, bad("data_block_size", fmt.Sprintf("%d sectors, want 1..%d", sb.DataBlockSize, maxDataBlockSectors), ErrCorrupt)
	}
	if sb.IncompatFlags != 0 {
		return nil, bad("incompat_flags", fmt.Sprintf("%#x: unknown incompatible features", sb.IncompatFlags), ErrUnsupported)
	}
	if sb.MetadataNrBlocks < 2 {
		return nil, bad("metadata_nr_blocks", fmt.Sprintf("%d, too small to hold a superblock and a tree", sb.MetadataNrBlocks), ErrCorrupt)
	}
	for _, r := range []struct {
		field string
		v     uint64
	}{{"data_mapping_root", sb.DataMappingRoot}, {"device_details_root", sb.DeviceDetailsRoot}} {
		if r.v == 0 || r.v >= sb.MetadataNrBlocks {
			return nil, bad(r.field, fmt.Sprintf("block %d outside 1..%d", r.v, sb.MetadataNrBlocks-1), ErrRange)
		}
	}
	return sb, nil
}
