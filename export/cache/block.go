package cache

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// BlockSize is the size of a dm-cache metadata block.
const BlockSize = 4096

// Checksum salts (docs/format/segment-mapping.md, 6.1).
const (
	saltSuperblock = 9031977
	saltNode       = 121107
	saltArray      = 595846735
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the stored form of a block's checksum: the raw CRC-32C of
// bytes 4..4095 (no final inversion) XOR salt.
func checksum(b []byte, salt uint32) uint32 {
	return crc32.Checksum(b[4:], castagnoli) ^ 0xFFFFFFFF ^ salt
}

// metaDev reads 4096-byte metadata blocks.
type metaDev struct {
	lv     string
	r      io.ReaderAt
	blocks uint64
}

func (m *metaDev) errf(block uint64, structure, field string, err error, format string, args ...any) error {
	return &MetadataError{LV: m.lv, Offset: int64(block) * BlockSize, Structure: structure, Field: field,
		Reason: fmt.Sprintf(format, args...), Err: err}
}

// read reads block b and checks its checksum against salt and, at
// blockOff, its own block number.
func (m *metaDev) read(b uint64, structure string, salt uint32, blockOff int) ([]byte, error) {
	if b >= m.blocks {
		return nil, m.errf(b, structure, "blocknr", ErrRange, "block %d is beyond the metadata device's %d blocks", b, m.blocks)
	}
	buf := make([]byte, BlockSize)
	if _, err := m.r.ReadAt(buf, int64(b)*BlockSize); err != nil {
		return nil, m.errf(b, structure, "", ErrRead, "%v", err)
	}
	if got, want := binary.LittleEndian.Uint32(buf), checksum(buf, salt); got != want {
		return nil, m.errf(b, structure, "csum", ErrChecksum, "stored 0x%08X, computed 0x%08X", got, want)
	}
	if n := binary.LittleEndian.Uint64(buf[blockOff:]); n != b {
		return nil, m.errf(b, structure, "blocknr", ErrCorrupt, "the block says it is block %d", n)
	}
	return buf, nil
}
