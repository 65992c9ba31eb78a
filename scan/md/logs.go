package md

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// BitmapMagic is the write-intent bitmap's magic ("bitm").
const BitmapMagic = 0x6D746962

// Bounds on what is read of the structures that do not move data.
const (
	bitmapHeaderLen = 256
	maxBitmapBytes  = 1 << 20 // one bit per chunk: 8 Mi chunks
	maxBadBlockLog  = 64 << 10
)

// Bitmap is a member's write-intent bitmap (md-raid.md §7.1): which
// regions may be out of sync. It never changes where data is.
type Bitmap struct {
	Offset        int64  `json:"offset"` // byte in the member
	Version       uint32 `json:"version"`
	UUIDText      string `json:"uuid"`
	Events        uint64 `json:"events"`
	EventsCleared uint64 `json:"events_cleared"`
	SyncSize      int64  `json:"sync_size"` // bytes covered
	Stale         bool   `json:"stale"`
	ChunkSize     int64  `json:"chunk_size"` // bytes covered by one bit
	Chunks        int64  `json:"chunks"`
	// Dirty counts the chunks whose bit is set: regions where copies may
	// differ or parity may be stale.
	Dirty int64 `json:"dirty"`
	// Counted is false when the bits were not all read (more than the
	// bound, or past the member's end): Dirty counts those read.
	Counted bool `json:"counted"`

	raw []byte
}

// ReadBitmap reads the write-intent bitmap of the member whose superblock
// is sb, read through r (size bytes). It returns nil, nil without one.
func ReadBitmap(r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64, sb *Superblock) (*Bitmap, error) {
	if sb == nil || !sb.Bitmap {
		return nil, nil
	}
	off := sb.Offset + int64(sb.BitmapOffset)*sectorBytes
	if sb.Version != "0.90" {
		off = sb.SuperOffset + int64(sb.BitmapOffset)*sectorBytes
	}
	fail := func(field string, at int64, msg string, a ...any) error {
		return &FormatError{Structure: "md_bitmap", Field: field, Off: at, Msg: fmt.Sprintf(msg, a...), Err: ErrInvalid}
	}
	if off < 0 || off > size-bitmapHeaderLen {
		return nil, &FormatError{Structure: "md_bitmap", Off: off, Msg: fmt.Sprintf("the bitmap's header at byte %d lies outside the member (%d bytes)", off, size), Err: ErrTruncated}
	}
	h := make([]byte, bitmapHeaderLen)
	if err := readFull(r, h, off); err != nil {
		return nil, fmt.Errorf("md bitmap at byte %d: %w", off, err)
	}
	le := binary.LittleEndian
	if m := le.Uint32(h); m != BitmapMagic {
		return nil, &FormatError{Structure: "md_bitmap", Field: "magic", Off: off, Msg: "no bitmap magic",
			Stored: fmt.Sprintf("%#x", m), Computed: fmt.Sprintf("%#x", uint32(BitmapMagic)), Err: ErrInvalid}
	}
	b := &Bitmap{Offset: off, Version: le.Uint32(h[4:]), Events: le.Uint64(h[24:]), EventsCleared: le.Uint64(h[32:]),
		Stale: le.Uint32(h[48:])&2 != 0, ChunkSize: int64(le.Uint32(h[52:])), raw: h}
	var u [16]byte
	copy(u[:], h[8:24])
	b.UUIDText = UUIDText1(u)
	ss := le.Uint64(h[40:])
	if ss > math.MaxInt64/sectorBytes {
		return b, fail("sync_size", off+40, "%d sectors is too large", ss)
	}
	b.SyncSize = int64(ss) * sectorBytes
	if b.ChunkSize < sectorBytes || b.ChunkSize&(b.ChunkSize-1) != 0 {
		return b, fail("chunksize", off+52, "%d is not a power of two of at least 512 bytes", b.ChunkSize)
	}
	b.Chunks = (b.SyncSize + b.ChunkSize - 1) / b.ChunkSize
	n := (b.Chunks + 7) / 8
	avail := min(n, maxBitmapBytes, max(0, size-off-bitmapHeaderLen))
	bitsBuf := make([]byte, avail)
	if err := readFull(r, bitsBuf, off+bitmapHeaderLen); err != nil {
		return b, fmt.Errorf("md bitmap bits at byte %d: %w", off+bitmapHeaderLen, err)
	}
	for i, x := range bitsBuf {
		if last := int64(i) == n-1 && b.Chunks%8 != 0; last {
			x &= byte(1<<(b.Chunks%8) - 1) // padding bits are set
		}
		b.Dirty += int64(bits.OnesCount8(x))
	}
	b.Counted = avail == n
	return b, nil
}

// Structure is the bitmap header's fields, for the hex view.
func (b *Bitmap) Structure() model.Structure {
	if b == nil || len(b.raw) < bitmapHeaderLen {
		return model.Structure{}
	}
	f := blockdev.NewFieldBuf("md_bitmap", b.raw, b.Offset, binary.LittleEndian)
	f.Hex32("magic", 0)
	f.U32("version", 4)
	f.Add("uuid", 8, 16, b.UUIDText)
	f.U64("events", 24)
	f.U64("events_cleared", 32)
	f.U64("sync_size", 40).Value += " sectors"
	f.Hex32("state", 48)
	f.U32("chunksize", 52).Value += " bytes per bit"
	f.U32("daemon_sleep", 56)
	f.U32("write_behind", 60)
	f.U32("sectors_reserved", 64)
	f.U32("nodes", 68)
	f.Text("cluster_name", 72, 64)
	return f.St
}

// BadBlock is one bad-block log entry: member bytes [Start, Start+Len)
// that could not be read or written (absolute in the member, not from the
// data offset).
type BadBlock struct {
	Start int64 `json:"start"`
	Len   int64 `json:"length"`
}

// ReadBadBlocks reads the 1.x bad-block log of the member whose
// superblock is sb (md-raid.md §7.2). It returns nil, nil when the log
// holds no entries (feature bit 3 clear) or there is none.
func ReadBadBlocks(r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64, sb *Superblock) ([]BadBlock, error) {
	if sb == nil || sb.Version == "0.90" || sb.BadBlocks.Size == 0 || !sb.BadBlocks.HasEntries {
		return nil, nil
	}
	off := sb.SuperOffset + int64(sb.BadBlocks.Offset)*sectorBytes
	n := min(int64(sb.BadBlocks.Size)*sectorBytes, maxBadBlockLog)
	if off < 0 || off > size-n {
		return nil, &FormatError{Structure: "md_bad_block_log", Off: off,
			Msg: fmt.Sprintf("%d bytes at byte %d lie outside the member (%d bytes)", n, off, size), Err: ErrTruncated}
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, off); err != nil {
		return nil, fmt.Errorf("md bad-block log at byte %d: %w", off, err)
	}
	shift := uint(sb.BadBlocks.Shift)
	if shift > 30 {
		return nil, &FormatError{Structure: "md_superblock_" + sb.Version, Field: "bblog_shift", Off: sb.Offset,
			Msg: fmt.Sprintf("shift %d is absurd", shift), Err: ErrInvalid}
	}
	var out []BadBlock
	for i := 0; i+8 <= len(buf); i += 8 {
		e := binary.LittleEndian.Uint64(buf[i:])
		if e == math.MaxUint64 {
			break
		}
		if e == 0 {
			continue
		}
		start, length := (e>>10)<<shift, (e&0x3ff)<<shift
		if start > uint64(math.MaxInt64/sectorBytes)-length {
			return out, &FormatError{Structure: "md_bad_block_log", Off: off + int64(i),
				Msg: fmt.Sprintf("entry %#x lies beyond any member", e), Err: ErrInvalid}
		}
		out = append(out, BadBlock{Start: int64(start) * sectorBytes, Len: int64(length) * sectorBytes})
	}
	return out, nil
}
