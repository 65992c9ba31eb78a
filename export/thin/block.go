package thin

import (
	"encoding/binary"
	"hash/crc32"
)

// BlockSize is the size of a thin metadata block in bytes.
const BlockSize = 4096

// Checksum salts of the metadata block types (spec 6.1).
const (
	saltSuperblock = 160774
	saltNode       = 121107
	saltBitmap     = 240779
	saltIndex      = 160478
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// blockChecksum computes the checksum a block of the given type must store
// in its first four bytes: the raw CRC-32C of bytes 4..4095 (initial value
// all ones, no final inversion) XOR the block type's salt.
func blockChecksum(b []byte, salt uint32) uint32 {
	return crc32.Checksum(b[4:BlockSize], castagnoli) ^ 0xFFFFFFFF ^ salt
}

// checksumOK reports whether the block's stored checksum is right.
func checksumOK(b []byte, salt uint32) (stored, want uint32, ok bool) {
	stored = binary.LittleEndian.Uint32(b[0:4])
	want = blockChecksum(b, salt)
	return stored, want, stored == want
}

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off : off+4]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off : off+8]) }
