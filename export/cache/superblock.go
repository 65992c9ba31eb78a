package cache

import (
	"bytes"
	"encoding/binary"
)

// Magic is the dm-cache superblock magic.
const Magic = 0x18C403

// Superblock flags.
const (
	FlagCleanShutdown = 1 << 0
	FlagNeedsCheck    = 1 << 1
)

// Superblock is metadata block 0 of a dm-cache metadata device.
type Superblock struct {
	Flags             uint32    `json:"flags"`
	UUID              [16]byte  `json:"uuid"`
	Magic             uint64    `json:"magic"`
	Version           uint32    `json:"version"`
	PolicyName        string    `json:"policy_name"`
	PolicyHintSize    uint32    `json:"policy_hint_size"`
	MappingRoot       uint64    `json:"mapping_root"`
	HintRoot          uint64    `json:"hint_root"`
	DiscardRoot       uint64    `json:"discard_root"`
	DiscardBlockSize  uint64    `json:"discard_block_size"`
	DiscardNrBlocks   uint64    `json:"discard_nr_blocks"`
	DataBlockSize     uint32    `json:"data_block_size_sectors"`
	MetadataBlockSize uint32    `json:"metadata_block_size_sectors"`
	CacheBlocks       uint32    `json:"cache_blocks"`
	Compat            uint32    `json:"compat_flags"`
	CompatRO          uint32    `json:"compat_ro_flags"`
	Incompat          uint32    `json:"incompat_flags"`
	ReadHits          uint32    `json:"read_hits"`
	ReadMisses        uint32    `json:"read_misses"`
	WriteHits         uint32    `json:"write_hits"`
	WriteMisses       uint32    `json:"write_misses"`
	PolicyVersion     [3]uint32 `json:"policy_version"`
	DirtyRoot         uint64    `json:"dirty_root"` // version 2 only
}

// CleanShutdown reports the clean shutdown flag.
func (sb *Superblock) CleanShutdown() bool { return sb.Flags&FlagCleanShutdown != 0 }

// NeedsCheck reports the needs_check flag.
func (sb *Superblock) NeedsCheck() bool { return sb.Flags&FlagNeedsCheck != 0 }

// decodeSuperblock decodes a checked superblock block.
func decodeSuperblock(b []byte) *Superblock {
	le := binary.LittleEndian
	sb := &Superblock{
		Flags:             le.Uint32(b[4:]),
		Magic:             le.Uint64(b[32:]),
		Version:           le.Uint32(b[40:]),
		PolicyName:        string(bytes.TrimRight(b[44:60], "\x00")),
		PolicyHintSize:    le.Uint32(b[60:]),
		MappingRoot:       le.Uint64(b[192:]),
		HintRoot:          le.Uint64(b[200:]),
		DiscardRoot:       le.Uint64(b[208:]),
		DiscardBlockSize:  le.Uint64(b[216:]),
		DiscardNrBlocks:   le.Uint64(b[224:]),
		DataBlockSize:     le.Uint32(b[232:]),
		MetadataBlockSize: le.Uint32(b[236:]),
		CacheBlocks:       le.Uint32(b[240:]),
		Compat:            le.Uint32(b[244:]),
		CompatRO:          le.Uint32(b[248:]),
		Incompat:          le.Uint32(b[252:]),
		ReadHits:          le.Uint32(b[256:]),
		ReadMisses:        le.Uint32(b[260:]),
		WriteHits:         le.Uint32(b[264:]),
		WriteMisses:       le.Uint32(b[268:]),
		DirtyRoot:         le.Uint64(b[284:]),
	}
	copy(sb.UUID[:], b[16:32])
	for i := range sb.PolicyVersion {
		sb.PolicyVersion[i] = le.Uint32(b[272+4*i:])
	}
	return sb
}
