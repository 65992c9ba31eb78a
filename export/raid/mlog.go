package raid

import (
	"encoding/binary"
	"fmt"
)

// MirrorLogMagic is the magic of the kernel's disk dirty log ("MiRr" as a
// little-endian number, spec §3).
const MirrorLogMagic = 0x4D695272

// MirrorLogBitsetOffset is where the clean bitset starts in the log.
const MirrorLogBitsetOffset = 1024

// MirrorLog is the decoded disk log of a legacy mirror.
type MirrorLog struct {
	Version uint32 `json:"version"`
	Regions uint64 `json:"nr_regions"`
	clean   []byte // one bit per region, 1 = in sync
}

// MirrorLogError says why bytes are not a usable mirror disk log.
type MirrorLogError struct {
	Field  string
	Offset int
	Reason string
}

func (e *MirrorLogError) Error() string {
	return fmt.Sprintf("mirror disk log: %s (byte %d): %s", e.Field, e.Offset, e.Reason)
}

// ParseMirrorLog decodes a mirror disk log: the header and a clean bitset
// of nr_regions bits at byte 1024, which must lie within b.
func ParseMirrorLog(b []byte) (*MirrorLog, error) {
	if len(b) < MirrorLogBitsetOffset {
		return nil, &MirrorLogError{Field: "length", Reason: fmt.Sprintf("%d bytes, need at least %d", len(b), MirrorLogBitsetOffset)}
	}
	le := binary.LittleEndian
	if m := le.Uint32(b); m != MirrorLogMagic {
		return nil, &MirrorLogError{Field: "magic", Reason: fmt.Sprintf("0x%08X, want 0x%08X", m, MirrorLogMagic)}
	}
	l := &MirrorLog{Version: le.Uint32(b[4:]), Regions: le.Uint64(b[8:])}
	if l.Version != 1 && l.Version != 2 {
		return nil, &MirrorLogError{Field: "version", Offset: 4, Reason: fmt.Sprintf("%d, want 1 or 2", l.Version)}
	}
	avail := uint64(len(b)-MirrorLogBitsetOffset) * 8
	if l.Regions > avail {
		return nil, &MirrorLogError{Field: "nr_regions", Offset: 8,
			Reason: fmt.Sprintf("%d regions, but only %d bits of bitset follow", l.Regions, avail)}
	}
	nb := (l.Regions + 7) / 8
	l.clean = append([]byte(nil), b[MirrorLogBitsetOffset:MirrorLogBitsetOffset+int(nb)]...)
	return l, nil
}

// Clean reports whether region j is marked in sync. Regions beyond
// nr_regions are not.
func (l *MirrorLog) Clean(j uint64) bool {
	if j >= l.Regions {
		return false
	}
	return l.clean[j/8]&(1<<(j%8)) != 0
}

// CleanCount is the number of regions marked in sync.
func (l *MirrorLog) CleanCount() uint64 {
	var n uint64
	for j := uint64(0); j < l.Regions; j++ {
		if l.Clean(j) {
			n++
		}
	}
	return n
}
