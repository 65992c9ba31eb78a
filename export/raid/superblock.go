package raid

import (
	"encoding/binary"
	"fmt"
)

// SuperblockMagic is the dm-raid superblock magic "DmRd" (spec §4.2).
const SuperblockMagic = 0x64526D44

// SuperblockSize is the number of bytes ParseSuperblock decodes.
const SuperblockSize = 148

// MaxSuperblockDevices is the largest image count a superblock can
// describe (the failure bitmaps cover images 0..255).
const MaxSuperblockDevices = 256

// allOnes marks "complete" or "none" in 64-bit progress fields.
const allOnes = ^uint64(0)

// Superblock is the dm-raid superblock at sector 0 of an rmeta sub-LV.
type Superblock struct {
	Magic              uint32 `json:"magic"`
	CompatFeatures     uint32 `json:"compat_features"`
	NumDevices         uint32 `json:"num_devices"`
	ArrayPosition      uint32 `json:"array_position"`
	Events             uint64 `json:"events"`
	FailedDevices      uint64 `json:"failed_devices"`
	DiskRecoveryOffset uint64 `json:"disk_recovery_offset"`
	ArrayResyncOffset  uint64 `json:"array_resync_offset"`
	Level              uint32 `json:"level"`
	Layout             uint32 `json:"layout"`
	StripeSectors      uint32 `json:"stripe_sectors"`

	// The fields below are valid only when Extended() is true.
	Flags                 uint32    `json:"flags"`
	ReshapePosition       uint64    `json:"reshape_position"`
	NewLevel              uint32    `json:"new_level"`
	NewLayout             uint32    `json:"new_layout"`
	NewStripeSectors      uint32    `json:"new_stripe_sectors"`
	DeltaDisks            int32     `json:"delta_disks"`
	ArraySectors          uint64    `json:"array_sectors"`
	DataOffset            uint64    `json:"data_offset"`
	NewDataOffset         uint64    `json:"new_data_offset"`
	Sectors               uint64    `json:"sectors"`
	ExtendedFailedDevices [3]uint64 `json:"extended_failed_devices"`
	IncompatFeatures      uint32    `json:"incompat_features"`
}

// SuperblockError says why bytes are not a usable dm-raid superblock.
type SuperblockError struct {
	Field  string // superblock field at fault
	Offset int    // its byte offset in the superblock
	Reason string
}

func (e *SuperblockError) Error() string {
	return fmt.Sprintf("dm-raid superblock: %s (byte %d): %s", e.Field, e.Offset, e.Reason)
}

// ParseSuperblock decodes a dm-raid superblock from the first bytes of an
// rmeta sub-LV. It checks the magic, the image count and position and the
// incompatible feature flags.
func ParseSuperblock(b []byte) (*Superblock, error) {
	if len(b) < SuperblockSize {
		return nil, &SuperblockError{Field: "length", Offset: 0, Reason: fmt.Sprintf("%d bytes, need %d", len(b), SuperblockSize)}
	}
	le := binary.LittleEndian
	sb := &Superblock{
		Magic:              le.Uint32(b[0:]),
		CompatFeatures:     le.Uint32(b[4:]),
		NumDevices:         le.Uint32(b[8:]),
		ArrayPosition:      le.Uint32(b[12:]),
		Events:             le.Uint64(b[16:]),
		FailedDevices:      le.Uint64(b[24:]),
		DiskRecoveryOffset: le.Uint64(b[32:]),
		ArrayResyncOffset:  le.Uint64(b[40:]),
		Level:              le.Uint32(b[48:]),
		Layout:             le.Uint32(b[52:]),
		StripeSectors:      le.Uint32(b[56:]),
		Flags:              le.Uint32(b[60:]),
		ReshapePosition:    le.Uint64(b[64:]),
		NewLevel:           le.Uint32(b[72:]),
		NewLayout:          le.Uint32(b[76:]),
		NewStripeSectors:   le.Uint32(b[80:]),
		DeltaDisks:         int32(le.Uint32(b[84:])),
		ArraySectors:       le.Uint64(b[88:]),
		DataOffset:         le.Uint64(b[96:]),
		NewDataOffset:      le.Uint64(b[104:]),
		Sectors:            le.Uint64(b[112:]),
		IncompatFeatures:   le.Uint32(b[144:]),
	}
	for i := range sb.ExtendedFailedDevices {
		sb.ExtendedFailedDevices[i] = le.Uint64(b[120+8*i:])
	}
	if sb.Magic != SuperblockMagic {
		return nil, &SuperblockError{Field: "magic", Offset: 0, Reason: fmt.Sprintf("0x%08X, want 0x%08X (\"DmRd\")", sb.Magic, SuperblockMagic)}
	}
	if sb.NumDevices == 0 || sb.NumDevices > MaxSuperblockDevices {
		return nil, &SuperblockError{Field: "num_devices", Offset: 8, Reason: fmt.Sprintf("%d, want 1..%d", sb.NumDevices, MaxSuperblockDevices)}
	}
	if sb.ArrayPosition >= sb.NumDevices {
		return nil, &SuperblockError{Field: "array_position", Offset: 12, Reason: fmt.Sprintf("%d is not below num_devices %d", sb.ArrayPosition, sb.NumDevices)}
	}
	if sb.IncompatFeatures != 0 {
		return nil, &SuperblockError{Field: "incompat_features", Offset: 144, Reason: fmt.Sprintf("0x%X: unknown incompatible features", sb.IncompatFeatures)}
	}
	return sb, nil
}

// Extended reports whether the fields from byte 60 on are valid
// (compat_features bit 0).
func (sb *Superblock) Extended() bool { return sb.CompatFeatures&1 != 0 }

// Failed reports whether the superblock marks image i as failed.
func (sb *Superblock) Failed(i int) bool {
	switch {
	case i < 0 || i >= MaxSuperblockDevices:
		return false
	case i < 64:
		return sb.FailedDevices&(1<<uint(i)) != 0
	case !sb.Extended():
		return false
	}
	return sb.ExtendedFailedDevices[i/64-1]&(1<<uint(i%64)) != 0
}

// Recovering reports whether this image is being rebuilt; its data is
// valid only below DiskRecoveryOffset sectors.
func (sb *Superblock) Recovering() bool { return sb.DiskRecoveryOffset != allOnes }

// Resyncing reports whether the array's initial synchronisation is
// incomplete; copies and parity from ArrayResyncOffset sectors on may be
// inconsistent.
func (sb *Superblock) Resyncing() bool { return sb.ArrayResyncOffset != allOnes }

// ReshapeActive reports whether a reshape is running (flags bit 0).
func (sb *Superblock) ReshapeActive() bool { return sb.Extended() && sb.Flags&1 != 0 }
