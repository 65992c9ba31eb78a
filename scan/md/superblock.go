package md

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// On-disk constants (md-raid.md §2-4).
const (
	Magic = 0xA92B4EFC

	sbReadSize  = 4096 // bytes read at every candidate location
	sb1Fixed    = 256  // fixed part of a 1.x superblock
	MaxDev      = 1920 // largest max_dev whose roles table fits in 4 KiB
	sb090Size   = 4096
	sb090Disks  = 27 // descriptors in a 0.90 superblock
	sb090Align  = 65536
	sectorBytes = 512
)

// 1.x feature_map bits (md-raid.md §3.4).
const (
	FeatureBitmap        = 0x1
	FeatureRecovery      = 0x2
	FeatureReshape       = 0x4
	FeatureBadBlocks     = 0x8
	FeatureReplacement   = 0x10
	FeatureReshapeBack   = 0x20
	FeatureNewOffset     = 0x40
	FeatureBitmapRecover = 0x80
	FeatureCluster       = 0x100
	FeatureJournal       = 0x200
	FeaturePPL           = 0x400
	FeatureMultiPPL      = 0x800
	FeatureRaid0Layout   = 0x1000
	featureKnown         = 0x1FFF
)

// Roles of a member (negative values are not array positions).
const (
	RoleSpare    = -1 // 1.x 0xFFFF; 0.90 descriptor without the active bit
	RoleFaulty   = -2 // 1.x 0xFFFE; 0.90 faulty bit
	RoleJournal  = -3 // 1.x 0xFFFD; 0.90 journal bit
	RoleReserved = -4 // 1.x 0xFF00..0xFFFC
	RoleUnknown  = -5 // the device number is outside the roles table
)

// 0.90 descriptor state bits (md-raid.md §4.3).
const (
	DiskFaulty      = 1 << 0
	DiskActive      = 1 << 1
	DiskSync        = 1 << 2
	DiskRemoved     = 1 << 3
	DiskWriteMostly = 1 << 9
	DiskFailfast    = 1 << 10
	DiskJournal     = 1 << 18
)

// Disk is a 0.90 device descriptor.
type Disk struct {
	Number   uint32 `json:"number"`
	Major    uint32 `json:"major"`
	Minor    uint32 `json:"minor"`
	RaidDisk uint32 `json:"raid_disk"`
	State    uint32 `json:"state"`
}

// Role is the role the descriptor gives (md-raid.md §4.3, §5.3).
func (d Disk) Role() int {
	switch {
	case d.State&DiskFaulty != 0:
		return RoleFaulty
	case d.State&DiskJournal != 0:
		return RoleJournal
	case d.State&DiskActive != 0 && d.State&DiskSync != 0:
		return int(d.RaidDisk)
	}
	return RoleSpare
}

// Reshape holds the fields of a reshape in progress (md-raid.md §6.8).
type Reshape struct {
	Position   uint64 `json:"position"` // array sectors done
	NewLevel   int32  `json:"new_level"`
	DeltaDisks int32  `json:"delta_disks"`
	NewLayout  uint32 `json:"new_layout"`
	NewChunk   int64  `json:"new_chunk"`            // bytes
	NewOffset  int32  `json:"new_offset,omitempty"` // sectors, with FeatureNewOffset
	Backwards  bool   `json:"backwards,omitempty"`
}

// BadBlockLog is the 1.x bad-block log's place (md-raid.md §7.2).
type BadBlockLog struct {
	Offset     int32  `json:"offset"` // sectors from the superblock
	Size       uint16 `json:"size"`   // sectors; 0 = no log
	Shift      uint8  `json:"shift"`
	HasEntries bool   `json:"has_entries"` // feature bit 3
}

// Superblock is one decoded md superblock of a member. Sizes and offsets
// are bytes of the member unless a name says sectors.
type Superblock struct {
	Version   string `json:"version"` // "0.90", "1.0", "1.1", "1.2"
	Offset    int64  `json:"offset"`  // byte of the superblock in the member
	Length    int    `json:"length"`  // bytes of the structure
	BigEndian bool   `json:"big_endian,omitempty"`

	Major      uint32 `json:"major_version"`
	Minor      uint32 `json:"minor_version"` // 0.90: 90 or 91; 1.x: from the place
	Patch      uint32 `json:"patch_version"`
	FeatureMap uint32 `json:"feature_map"`

	UUID        [16]byte  `json:"-"`    // 1.x: set_uuid; 0.90: the UUID words in memory order
	UUIDText    string    `json:"uuid"` // as mdadm prints it
	Name        string    `json:"name,omitempty"`
	CTime       time.Time `json:"-"`     // creation time
	UTime       time.Time `json:"-"`     // last update
	CTimeUnix   int64     `json:"ctime"` // seconds since 1970 (a crafted 1.x time may lie past year 9999)
	UTimeUnix   int64     `json:"utime"`
	Level       int32     `json:"level"`
	LevelName   string    `json:"level_name"`
	Layout      uint32    `json:"layout"`
	LayoutName  string    `json:"layout_name"`
	LayoutError string    `json:"layout_error,omitempty"` // why the layout is not usable
	ChunkSize   int64     `json:"chunk_size"`             // bytes
	RaidDisks   uint32    `json:"raid_disks"`
	Size        int64     `json:"size"`        // bytes of each member the array uses
	DataOffset  int64     `json:"data_offset"` // bytes
	DataSize    int64     `json:"data_size"`   // bytes
	SuperOffset int64     `json:"super_offset"`

	RecoveryOffset uint64   `json:"recovery_offset,omitempty"` // sectors (journal_tail on a journal device)
	DevNumber      uint32   `json:"dev_number"`
	Role           int      `json:"role"` // from this superblock's own table
	DevUUID        [16]byte `json:"-"`
	DevUUIDText    string   `json:"device_uuid,omitempty"`
	DevFlags       uint8    `json:"devflags,omitempty"`
	CorrectedReads uint32   `json:"corrected_reads,omitempty"`

	Events       uint64 `json:"events"`
	ResyncOffset uint64 `json:"resync_offset"` // 1.x resync_offset; 0.90 recovery_cp
	Clean        bool   `json:"clean"`
	State        uint32 `json:"state,omitempty"` // 0.90 state word

	MaxDev   uint32   `json:"max_dev,omitempty"`
	DevRoles []uint16 `json:"dev_roles,omitempty"` // 1.x

	// 0.90 only.
	Disks        []Disk `json:"disks,omitempty"` // all 27 descriptors
	ThisDisk     Disk   `json:"this_disk"`
	NrDisks      uint32 `json:"nr_disks,omitempty"`
	ActiveDisks  uint32 `json:"active_disks,omitempty"`
	WorkingDisks uint32 `json:"working_disks,omitempty"`
	FailedDisks  uint32 `json:"failed_disks,omitempty"`
	SpareDisks   uint32 `json:"spare_disks,omitempty"`
	MDMinor      uint32 `json:"md_minor,omitempty"`
	CPEvents     uint64 `json:"cp_events,omitempty"`

	Bitmap       bool        `json:"bitmap"`
	BitmapOffset int32       `json:"bitmap_offset,omitempty"` // sectors from the superblock
	BadBlocks    BadBlockLog `json:"bad_block_log"`
	PPL          bool        `json:"ppl,omitempty"`
	PPLOffset    int16       `json:"ppl_offset,omitempty"` // sectors from the superblock
	PPLSize      uint16      `json:"ppl_size,omitempty"`   // sectors
	Journal      bool        `json:"journal,omitempty"`
	Reshape      *Reshape    `json:"reshape,omitempty"`

	CsumStored     uint32 `json:"checksum_stored"`
	CsumComputed   uint32 `json:"checksum_computed"`
	ChecksumOK     bool   `json:"checksum_ok"`
	ChecksumFolded bool   `json:"checksum_folded,omitempty"` // 0.90: matches only in folded form

	// Warnings lists oddities that do not make the superblock invalid.
	Warnings []string `json:"warnings,omitempty"`
	// Err is nil for a valid superblock; otherwise why it must not be
	// used (a *FormatError).
	Err error `json:"-"`
	// Others holds the other candidates Probe found on the member (an
	// older superblock, a damaged one).
	Others []*Superblock `json:"-"`

	raw    []byte
	order  binary.ByteOrder
	roleOK bool // DevRoles read
}

// Valid reports whether the superblock passed every check.
func (sb *Superblock) Valid() bool { return sb != nil && sb.Err == nil }

// Metadata is the metadata version as mdadm names it.
func (sb *Superblock) Metadata() string { return sb.Version }

// UnknownFeatures is the feature_map bits not in md-raid.md §3.4.
func (sb *Superblock) UnknownFeatures() uint32 { return sb.FeatureMap &^ featureKnown }

// Reshaping reports a reshape in progress (1.x bit 2, 0.90 minor 91).
func (sb *Superblock) Reshaping() bool { return sb.Reshape != nil }

// Probe finds the md superblock of a member of size bytes read through r.
// Every location of md-raid.md §2.1 is checked; of the valid superblocks
// the one with the latest creation time is returned (as mdadm does), the
// others in its Others. Without a valid one, the first damaged candidate
// is returned with its error (a *FormatError: a checksum mismatch wraps
// ErrBadChecksum), so that it can still be shown; ErrNoSuperblock means
// no location holds the md magic.
func Probe(r io.ReaderAt, size int64) (*Superblock, error) {
	cands, err := ProbeAll(r, size)
	if len(cands) == 0 {
		if err == nil {
			err = ErrNoSuperblock
		}
		return nil, err
	}
	best := -1
	for i, c := range cands {
		if c.Valid() && (best < 0 || c.CTime.After(cands[best].CTime)) {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	sb := cands[best]
	for i, c := range cands {
		if i != best {
			sb.Others = append(sb.Others, c)
		}
	}
	return sb, sb.Err
}

// ProbeAll returns every candidate that holds the md magic, in the order
// 1.1, 1.2, 1.0, 0.90, each with its Err. The error is a read error, if
// one happened.
func ProbeAll(r io.ReaderAt, size int64) ([]*Superblock, error) {
	var out []*Superblock
	var rerr error
	try := func(off int64, minor string) {
		if off < 0 || off > size-sb1Fixed {
			return
		}
		n := min(int64(sbReadSize), size-off)
		buf := make([]byte, n)
		if err := readFull(r, buf, off); err != nil {
			if rerr == nil {
				rerr = fmt.Errorf("md: reading %d bytes at byte %d: %w", n, off, err)
			}
			return
		}
		if sb := decode1(buf, off, minor, size); sb != nil {
			out = append(out, sb)
		}
	}
	try(0, "1")
	try(8*sectorBytes, "2")
	if n := size / sectorBytes; n >= 16 {
		sec := (n - 16) - (n-16)%8
		if sec != 0 && sec != 8 {
			try(sec*sectorBytes, "0")
		}
	}
	if off := size - size%sb090Align - sb090Align; off >= 0 && size >= off+sb090Size {
		buf := make([]byte, sb090Size)
		if err := readFull(r, buf, off); err != nil {
			if rerr == nil {
				rerr = fmt.Errorf("md: reading %d bytes at byte %d: %w", sb090Size, off, err)
			}
		} else if sb := decode090(buf, off, size); sb != nil {
			out = append(out, sb)
		}
	}
	return out, rerr
}

// Decode decodes the superblock of the given version ("0.90", "1.0",
// "1.1", "1.2") in b, found at byte off of a member of size bytes. It
// returns nil when b does not start with the md magic of that version.
func Decode(b []byte, off int64, version string, size int64) *Superblock {
	switch version {
	case "0.90":
		if len(b) < sb090Size {
			return nil
		}
		return decode090(b, off, size)
	case "1.0", "1.1", "1.2":
		if len(b) < sb1Fixed {
			return nil
		}
		return decode1(b, off, version[2:], size)
	}
	return nil
}

func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// checksum1 is md-raid.md §3.3 over b (its csum field taken as zero).
func checksum1(b []byte) uint32 {
	var sum uint64
	i := 0
	for ; i+4 <= len(b); i += 4 {
		if i == 216 {
			continue
		}
		sum += uint64(binary.LittleEndian.Uint32(b[i:]))
	}
	if i+2 <= len(b) {
		sum += uint64(binary.LittleEndian.Uint16(b[i:]))
	}
	return uint32(sum&0xFFFFFFFF) + uint32(sum>>32)
}

// checksum090 is md-raid.md §4.4 over the 4096 bytes of b.
func checksum090(b []byte, order binary.ByteOrder) uint32 {
	var sum uint64
	for i := 0; i+4 <= sb090Size; i += 4 {
		if i == 152 {
			continue
		}
		sum += uint64(order.Uint32(b[i:]))
	}
	return uint32(sum&0xFFFFFFFF) + uint32(sum>>32)
}

func fold16(x uint32) uint32 {
	x = x&0xFFFF + x>>16
	return x&0xFFFF + x>>16
}

func mdTime(v uint64) time.Time {
	sec := int64(v & (1<<40 - 1))
	usec := int64(v >> 40)
	if usec >= 1000000 {
		usec = 0
	}
	return time.Unix(sec, usec*1000).UTC()
}

// UUIDText1 is how mdadm prints 16 raw UUID bytes: four groups of 8 hex
// digits, bytes in on-disk order (md-raid.md §3.6).
func UUIDText1(u [16]byte) string {
	return fmt.Sprintf("%x:%x:%x:%x", u[0:4], u[4:8], u[8:12], u[12:16])
}

// bytesOf converts sectors (or KiB with unit 1024) to bytes; ok is false
// when the result does not fit in an int64.
func bytesOf(v uint64, unit uint64) (int64, bool) {
	if v > math.MaxInt64/unit {
		return 0, false
	}
	return int64(v * unit), true
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func (sb *Superblock) fail(field string, fieldOff int, sentinel error, msg string, stored, computed string) {
	if sb.Err != nil {
		return
	}
	sb.Err = &FormatError{Structure: "md_superblock_" + sb.Version, Field: field, Off: sb.Offset + int64(fieldOff), Msg: msg,
		Stored: stored, Computed: computed, Err: sentinel}
}

func (sb *Superblock) warn(format string, a ...any) {
	sb.Warnings = append(sb.Warnings, fmt.Sprintf(format, a...))
}

// decode1 decodes a 1.x superblock at byte off (minor "0", "1" or "2").
func decode1(b []byte, off int64, minor string, size int64) *Superblock {
	le := binary.LittleEndian
	if len(b) < sb1Fixed || le.Uint32(b) != Magic || le.Uint32(b[4:]) != 1 {
		return nil
	}
	sb := &Superblock{Version: "1." + minor, Offset: off, order: le, Major: 1}
	sb.Minor = uint32(minor[0] - '0')
	sb.FeatureMap = le.Uint32(b[8:])
	copy(sb.UUID[:], b[16:32])
	sb.UUIDText = UUIDText1(sb.UUID)
	sb.Name = cString(b[32:64])
	sb.CTime = mdTime(le.Uint64(b[64:]))
	sb.Level = int32(le.Uint32(b[72:]))
	sb.Layout = le.Uint32(b[76:])
	size1 := le.Uint64(b[80:])
	chunk := le.Uint32(b[88:])
	sb.ChunkSize = int64(chunk) * sectorBytes
	sb.RaidDisks = le.Uint32(b[92:])
	sb.Bitmap = sb.FeatureMap&FeatureBitmap != 0
	if sb.Bitmap {
		sb.BitmapOffset = int32(le.Uint32(b[96:]))
	}
	sb.PPL = sb.FeatureMap&(FeaturePPL|FeatureMultiPPL) != 0
	if sb.PPL {
		sb.PPLOffset = int16(le.Uint16(b[96:]))
		sb.PPLSize = le.Uint16(b[98:])
	}
	if sb.FeatureMap&FeatureReshape != 0 {
		sb.Reshape = &Reshape{
			NewLevel:   int32(le.Uint32(b[100:])),
			Position:   le.Uint64(b[104:]),
			DeltaDisks: int32(le.Uint32(b[112:])),
			NewLayout:  le.Uint32(b[116:]),
			NewChunk:   int64(le.Uint32(b[120:])) * sectorBytes,
			Backwards:  sb.FeatureMap&FeatureReshapeBack != 0,
		}
		if sb.FeatureMap&FeatureNewOffset != 0 {
			sb.Reshape.NewOffset = int32(le.Uint32(b[124:]))
		}
	}
	dataOff := le.Uint64(b[128:])
	dataSize := le.Uint64(b[136:])
	superOff := le.Uint64(b[144:])
	sb.RecoveryOffset = le.Uint64(b[152:])
	sb.DevNumber = le.Uint32(b[160:])
	sb.CorrectedReads = le.Uint32(b[164:])
	copy(sb.DevUUID[:], b[168:184])
	sb.DevUUIDText = UUIDText1(sb.DevUUID)
	sb.DevFlags = b[184]
	sb.BadBlocks = BadBlockLog{Shift: b[185], Size: le.Uint16(b[186:]), Offset: int32(le.Uint32(b[188:])),
		HasEntries: sb.FeatureMap&FeatureBadBlocks != 0}
	sb.UTime = mdTime(le.Uint64(b[192:]))
	sb.CTimeUnix, sb.UTimeUnix = sb.CTime.Unix(), sb.UTime.Unix()
	sb.Events = le.Uint64(b[200:])
	sb.ResyncOffset = le.Uint64(b[208:])
	sb.Clean = sb.ResyncOffset == math.MaxUint64
	sb.CsumStored = le.Uint32(b[216:])
	sb.MaxDev = le.Uint32(b[220:])
	sb.Journal = sb.FeatureMap&FeatureJournal != 0
	sb.LevelName = LevelName(sb.Level)
	sb.LayoutName, sb.LayoutError = LayoutName(sb.Level, sb.Layout, sb.FeatureMap, sb.RaidDisks)
	sb.Role = RoleUnknown

	var ok bool
	if sb.Size, ok = bytesOf(size1, sectorBytes); !ok {
		sb.fail("size", 80, ErrInvalid, fmt.Sprintf("%d sectors is out of range", size1), "", "")
	}
	if sb.DataOffset, ok = bytesOf(dataOff, sectorBytes); !ok {
		sb.fail("data_offset", 128, ErrInvalid, fmt.Sprintf("%d sectors is out of range", dataOff), "", "")
	}
	if sb.DataSize, ok = bytesOf(dataSize, sectorBytes); !ok {
		sb.fail("data_size", 136, ErrInvalid, fmt.Sprintf("%d sectors is out of range", dataSize), "", "")
	}
	if sb.SuperOffset, ok = bytesOf(superOff, sectorBytes); !ok {
		sb.SuperOffset = -1
	}

	// The roles table and the checksum over it.
	sb.Length = sb1Fixed
	if sb.MaxDev > MaxDev || int(sb1Fixed+2*sb.MaxDev) > len(b) {
		sb.fail("max_dev", 220, ErrInvalid, fmt.Sprintf("roles table of %d entries does not fit in the %d bytes read (at most %d)", sb.MaxDev, len(b), MaxDev), "", "")
		sb.raw = b[:sb1Fixed]
		sb.CsumComputed = checksum1(sb.raw)
	} else {
		sb.Length = int(sb1Fixed + 2*sb.MaxDev)
		sb.raw = b[:sb.Length]
		sb.DevRoles = make([]uint16, sb.MaxDev)
		for i := range sb.DevRoles {
			sb.DevRoles[i] = le.Uint16(b[sb1Fixed+2*i:])
		}
		sb.roleOK = true
		sb.CsumComputed = checksum1(sb.raw)
		sb.ChecksumOK = sb.CsumComputed == sb.CsumStored
		if !sb.ChecksumOK {
			sb.fail("sb_csum", 216, ErrBadChecksum, "checksum mismatch",
				fmt.Sprintf("%#08x", sb.CsumStored), fmt.Sprintf("%#08x", sb.CsumComputed))
		}
	}
	if sb.roleOK && sb.DevNumber < sb.MaxDev {
		sb.Role = Role1(sb.DevRoles[sb.DevNumber])
	}
	sec := uint64(off / sectorBytes)
	if superOff != sec {
		sb.fail("super_offset", 144, ErrInvalid, "the superblock is not where it says it is",
			fmt.Sprint(superOff), fmt.Sprint(sec))
	}
	if sb.DevNumber >= sb.MaxDev {
		sb.fail("dev_number", 160, ErrInvalid, fmt.Sprintf("device number %d is outside the roles table of %d entries", sb.DevNumber, sb.MaxDev), "", "")
	}
	if minor == "0" {
		if dataOff > superOff || dataSize > superOff-dataOff {
			sb.fail("data_size", 136, ErrInvalid, fmt.Sprintf("data area %d+%d sectors overlaps the superblock at sector %d", dataOff, dataSize, superOff), "", "")
		}
	} else if dataOff <= superOff {
		sb.fail("data_offset", 128, ErrInvalid, fmt.Sprintf("data area at sector %d is not after the superblock at sector %d", dataOff, superOff), "", "")
	}
	if sb.RaidDisks > MaxDev {
		sb.fail("raid_disks", 92, ErrInvalid, fmt.Sprintf("%d roles is more than md allows (%d)", sb.RaidDisks, MaxDev), "", "")
	}
	if u := sb.UnknownFeatures(); u != 0 {
		sb.warn("unknown feature_map bits %#x", u)
	}
	if sb.FeatureMap&FeatureRaid0Layout != 0 && sb.Level != 0 {
		sb.warn("feature bit 12 (raid0 layout) on level %d: the kernel refuses this", sb.Level)
	}
	if sb.Err == nil && dataOff <= math.MaxUint64-dataSize {
		if end := dataOff + dataSize; end > uint64(size/sectorBytes) {
			sb.warn("member truncated: its data area ends at sector %d, the member has %d", end, size/sectorBytes)
		}
	}
	return sb
}

// Role1 is the role a 1.x dev_roles entry gives.
func Role1(v uint16) int {
	switch {
	case v < 0xFF00:
		return int(v)
	case v == 0xFFFF:
		return RoleSpare
	case v == 0xFFFE:
		return RoleFaulty
	case v == 0xFFFD:
		return RoleJournal
	}
	return RoleReserved
}

// decode090 decodes a 0.90 superblock at byte off (4096 bytes in b).
func decode090(b []byte, off int64, size int64) *Superblock {
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(b) == Magic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(b) == Magic:
		order = binary.BigEndian
	default:
		return nil
	}
	w := func(i int) uint32 { return order.Uint32(b[4*i:]) }
	if w(1) != 0 {
		return nil
	}
	sb := &Superblock{Version: "0.90", Offset: off, Length: sb090Size, order: order, raw: b[:sb090Size]}
	sb.BigEndian = order == binary.BigEndian
	sb.Major, sb.Minor, sb.Patch = w(1), w(2), w(3)
	for i, wi := range []int{5, 13, 14, 15} {
		// memory order: the words as stored
		copy(sb.UUID[4*i:], b[4*wi:4*wi+4])
	}
	sb.UUIDText = fmt.Sprintf("%08x:%08x:%08x:%08x", w(5), w(13), w(14), w(15))
	sb.CTime = time.Unix(int64(w(6)), 0).UTC()
	sb.Level = int32(w(7))
	sizeKiB := w(8)
	sb.Size = int64(sizeKiB) * 1024
	sb.NrDisks = w(9)
	sb.RaidDisks = w(10)
	sb.MDMinor = w(11)
	sb.UTime = time.Unix(int64(w(32)), 0).UTC()
	sb.CTimeUnix, sb.UTimeUnix = sb.CTime.Unix(), sb.UTime.Unix()
	sb.State = w(33)
	sb.ActiveDisks, sb.WorkingDisks, sb.FailedDisks, sb.SpareDisks = w(34), w(35), w(36), w(37)
	sb.CsumStored = w(38)
	sb.Events = order.Uint64(b[156:])
	sb.CPEvents = order.Uint64(b[164:])
	sb.ResyncOffset = uint64(w(43))
	sb.Layout = w(64)
	sb.ChunkSize = int64(w(65))
	sb.Clean = sb.State&1 != 0
	sb.Bitmap = sb.State&(1<<8) != 0
	if sb.Bitmap {
		sb.BitmapOffset = 8 // 4096 bytes after the superblock
	}
	if sb.Minor == 91 {
		sb.Reshape = &Reshape{
			Position:   order.Uint64(b[176:]),
			NewLevel:   int32(w(46)),
			DeltaDisks: int32(w(47)),
			NewLayout:  w(48),
			NewChunk:   int64(w(49)),
		}
	}
	sb.Disks = make([]Disk, sb090Disks)
	for i := range sb.Disks {
		sb.Disks[i] = disk090(b[512+128*i:], order)
	}
	sb.ThisDisk = disk090(b[3968:], order)
	sb.DevNumber = sb.ThisDisk.Number
	sb.Role = sb.ThisDisk.Role()
	if sb.ThisDisk.Number < sb090Disks {
		sb.Role = sb.Disks[sb.ThisDisk.Number].Role()
	}
	if sb.ThisDisk.State&DiskWriteMostly != 0 {
		sb.DevFlags |= 1
	}
	sb.DataOffset = 0
	sb.DataSize = off
	sb.SuperOffset = off
	sb.LevelName = LevelName(sb.Level)
	sb.LayoutName, sb.LayoutError = LayoutName(sb.Level, sb.Layout, 0, sb.RaidDisks)
	if sb.Level == 0 || sb.Level == -1 {
		sb.LayoutName, sb.LayoutError = "", ""
	}

	sb.CsumComputed = checksum090(b, order)
	sb.ChecksumOK = sb.CsumComputed == sb.CsumStored
	if !sb.ChecksumOK && fold16(sb.CsumComputed) == fold16(sb.CsumStored) {
		sb.ChecksumOK = true
		sb.ChecksumFolded = true
		sb.warn("checksum matches only in folded form")
	}
	if !sb.ChecksumOK {
		sb.fail("sb_csum", 152, ErrBadChecksum, "checksum mismatch",
			fmt.Sprintf("%#08x", sb.CsumStored), fmt.Sprintf("%#08x", sb.CsumComputed))
	}
	if sb.Minor != 90 && sb.Minor != 91 {
		sb.fail("minor_version", 8, ErrInvalid, fmt.Sprintf("minor version %d (90 or 91 expected)", sb.Minor), "", "")
	}
	if sb.RaidDisks == 0 || sb.RaidDisks > sb090Disks {
		sb.fail("raid_disks", 40, ErrInvalid, fmt.Sprintf("%d roles (1 to %d expected)", sb.RaidDisks, sb090Disks), "", "")
	}
	if sb.NrDisks > sb090Disks {
		sb.fail("nr_disks", 36, ErrInvalid, fmt.Sprintf("%d descriptors (at most %d)", sb.NrDisks, sb090Disks), "", "")
	}
	if sb.ThisDisk.Number >= sb090Disks {
		sb.fail("this_disk.number", 3968, ErrInvalid, fmt.Sprintf("descriptor %d (at most %d)", sb.ThisDisk.Number, sb090Disks-1), "", "")
	}
	if sb.Level != 0 && sb.Level != -1 && sb.Size > off {
		sb.fail("size", 32, ErrInvalid, fmt.Sprintf("%d KiB per member do not fit in front of the superblock at byte %d", sizeKiB, off), "", "")
	}
	if sb.BigEndian {
		sb.warn("written by a big-endian host")
	}
	return sb
}

func disk090(b []byte, order binary.ByteOrder) Disk {
	return Disk{Number: order.Uint32(b), Major: order.Uint32(b[4:]), Minor: order.Uint32(b[8:]),
		RaidDisk: order.Uint32(b[12:]), State: order.Uint32(b[16:])}
}
