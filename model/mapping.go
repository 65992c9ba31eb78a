package model

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Piece is a contiguous run of LV bytes that lives contiguously on one PV.
type Piece struct {
	LVOffset int64  `json:"lv_offset"` // bytes from the start of the LV
	Length   int64  `json:"length"`
	PVUUID   string `json:"pv_uuid"`   // dashed form, as in the metadata
	PVLabel  string `json:"pv_label"`  // pvN of the generation used
	PVOffset int64  `json:"pv_offset"` // bytes from the start of the PV
	// PVDevice is the device the metadata last saw the PV as (its device
	// key, a hint only), for messages about a PV no input holds.
	PVDevice string `json:"pv_device,omitempty"`
}

// PVRef names the piece's PV as messages do (see PVRef).
func (p Piece) PVRef() string { return PVRef(p.PVLabel, p.PVUUID, p.PVDevice) }

// UnsupportedError says that an LV (or a segment of it) uses a layout the
// mapping cannot express as plain PV pieces.
type UnsupportedError struct {
	LV      string
	Segment int // index into LV.Segments, -1 when the LV as a whole
	Type    string
	Reason  string
}

// Error names the segment from 1, as the metadata text does:
// "lv x: segment 1 (cache-pool): ...".
func (e *UnsupportedError) Error() string {
	if e.Segment < 0 {
		return fmt.Sprintf("lv %s: %s", e.LV, e.Reason)
	}
	return fmt.Sprintf("lv %s: %s (%s): %s", e.LV, SegmentName(e.Segment), e.Type, e.Reason)
}

// SegmentName names a segment from its 0-based index in LV.Segments as
// the metadata text numbers them, from 1: SegmentName(0) is "segment 1".
// It is the one rule for every message (format.Segment for the front
// ends).
func SegmentName(i int) string { return "segment " + strconv.Itoa(i+1) }

// ErrMapping is wrapped by errors about metadata that cannot be mapped
// (references to unknown PVs or LVs, areas outside their volume, cycles).
var ErrMapping = errors.New("cannot map")

const maxMapDepth = 16

// MapRange maps bytes [off, off+length) of the LV onto PV pieces. It
// handles linear and striped segments, recursing through LV areas. Pieces
// are returned in LV order and adjacent pieces on the same PV are merged.
func (vg *VG) MapRange(lv *LV, off, length int64) ([]Piece, error) {
	if vg.ExtentSize == 0 {
		return nil, fmt.Errorf("vg %s: extent_size is 0: %w", vg.Name, ErrMapping)
	}
	if !vg.LVSizeFits(lv) {
		return nil, fmt.Errorf("lv %s: %d extents of %d bytes make more than 2^63 bytes: %w", lv.Name, lv.ExtentCount(), vg.ExtentBytes(), ErrMapping)
	}
	size := vg.LVSize(lv)
	if off < 0 || length < 0 || off > size || length > size-off {
		return nil, fmt.Errorf("lv %s: range %d+%d outside the LV (%d bytes): %w", lv.Name, off, length, size, ErrMapping)
	}
	var out []Piece
	err := vg.mapInto(lv, off, length, off, 0, &out)
	return out, err
}

// LVSize is the LV's size in bytes from its segments, at most
// math.MaxInt64: metadata may claim more (2^64 - 1 extents), which
// LVSizeFits tells and MapRange refuses.
func (vg *VG) LVSize(lv *LV) int64 {
	n, ok := mulFits(lv.ExtentCount(), vg.ExtentBytes())
	if !ok {
		return math.MaxInt64
	}
	return n
}

// LVSizeFits reports whether the LV's extents make at most math.MaxInt64
// bytes (LVSize is then exact).
func (vg *VG) LVSizeFits(lv *LV) bool {
	_, ok := mulFits(lv.ExtentCount(), vg.ExtentBytes())
	return ok
}

// mulFits is n × unit when it fits an int64 (unit >= 0).
func mulFits(n uint64, unit int64) (int64, bool) {
	if unit < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(n, uint64(unit))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// SegmentAt returns the index of the segment covering LV byte off, or -1.
func (vg *VG) SegmentAt(lv *LV, off int64) int {
	eb := vg.ExtentBytes()
	for i, s := range lv.Segments {
		if off >= int64(s.StartExtent)*eb && off < int64(s.StartExtent+s.ExtentCount)*eb {
			return i
		}
	}
	return -1
}

// disjoint reports whether segs are sorted by start extent and none
// overlaps the next.
func disjoint(segs []*Segment) bool {
	var end uint64
	for k, s := range segs {
		if k > 0 && s.StartExtent < end {
			return false
		}
		end = s.StartExtent + s.ExtentCount
	}
	return true
}

func (vg *VG) mapInto(lv *LV, off, length, outOff int64, depth int, out *[]Piece) error {
	if depth > maxMapDepth {
		return fmt.Errorf("lv %s: LV references nest deeper than %d (a cycle?): %w", lv.Name, maxMapDepth, ErrMapping)
	}
	eb := vg.ExtentBytes()
	i, ordered := -1, disjoint(lv.Segments)
	for length > 0 {
		// In sorted segments that do not overlap, the one after the last
		// holds the next byte when any does: no search per segment of a
		// long LV.
		if j := i + 1; ordered && i >= 0 && j < len(lv.Segments) && lv.Segments[j].ExtentCount > 0 && int64(lv.Segments[j].StartExtent)*eb == off {
			i = j
		} else {
			i = vg.SegmentAt(lv, off)
		}
		if i < 0 {
			return fmt.Errorf("lv %s: no segment covers byte %d: %w", lv.Name, off, ErrMapping)
		}
		s := lv.Segments[i]
		if s.Kind() != KindStriped {
			return &UnsupportedError{LV: lv.Name, Segment: i, Type: s.Type, Reason: "not a linear or striped segment"}
		}
		segStart := int64(s.StartExtent) * eb
		segEnd := int64(s.StartExtent+s.ExtentCount) * eb
		n := min(length, segEnd-off)
		if err := vg.mapStriped(lv, i, s, off-segStart, n, outOff, depth, out); err != nil {
			return err
		}
		off += n
		outOff += n
		length -= n
	}
	return nil
}

// mapStriped maps n bytes at segment offset o of a striped segment.
func (vg *VG) mapStriped(lv *LV, idx int, s *Segment, o, n, outOff int64, depth int, out *[]Piece) error {
	sc := int64(s.StripeCount)
	if sc <= 0 || int64(len(s.Areas)) != sc {
		return fmt.Errorf("lv %s: %s: stripe_count %d but %d areas: %w", lv.Name, SegmentName(idx), s.StripeCount, len(s.Areas), ErrMapping)
	}
	if s.ExtentCount%uint64(sc) != 0 {
		return fmt.Errorf("lv %s: %s: extent_count %d not a multiple of stripe_count %d: %w", lv.Name, SegmentName(idx), s.ExtentCount, sc, ErrMapping)
	}
	areaLen := int64(s.ExtentCount/uint64(sc)) * vg.ExtentBytes()
	chunk := int64(s.StripeSize) * SectorSize
	if sc > 1 && chunk <= 0 {
		return fmt.Errorf("lv %s: %s: striped with stripe_size 0: %w", lv.Name, SegmentName(idx), ErrMapping)
	}
	for n > 0 {
		var ai int
		var ao, run int64
		if sc == 1 {
			ai, ao, run = 0, o, n
		} else {
			k := o / chunk
			w := o % chunk
			ai = int(k % sc)
			ao = (k/sc)*chunk + w
			run = min(n, chunk-w)
		}
		if ao+run > areaLen {
			return fmt.Errorf("lv %s: %s: offset %d beyond its area: %w", lv.Name, SegmentName(idx), ao, ErrMapping)
		}
		if err := vg.mapArea(lv, idx, s.Areas[ai], ao, run, outOff, depth, out); err != nil {
			return err
		}
		o += run
		outOff += run
		n -= run
	}
	return nil
}

// mapArea maps n bytes at offset ao inside an area.
func (vg *VG) mapArea(lv *LV, idx int, a Area, ao, n, outOff int64, depth int, out *[]Piece) error {
	eb := vg.ExtentBytes()
	if a.IsPV() {
		pv := vg.PVByLabel(a.PV)
		if pv == nil {
			return fmt.Errorf("lv %s: %s: unknown PV %q: %w", lv.Name, SegmentName(idx), a.PV, ErrMapping)
		}
		pe := int64(a.Start) + (ao+n-1)/eb
		if uint64(pe) >= pv.PECount {
			return fmt.Errorf("lv %s: %s: PE %d beyond %s's %d extents: %w", lv.Name, SegmentName(idx), pe, a.PV, pv.PECount, ErrMapping)
		}
		start, ok1 := mulFits(pv.PEStart, SectorSize)
		area, ok2 := mulFits(a.Start, eb)
		pvOff := start + area + ao
		if !ok1 || !ok2 || area > math.MaxInt64-start || ao > math.MaxInt64-start-area || n > math.MaxInt64-pvOff {
			return fmt.Errorf("lv %s: %s: PE %d of %s lies beyond byte 2^63: %w", lv.Name, SegmentName(idx), a.Start, a.PV, ErrMapping)
		}
		appendPiece(out, Piece{LVOffset: outOff, Length: n, PVUUID: pv.UUID, PVLabel: pv.Label, PVOffset: pvOff, PVDevice: pv.Device})
		return nil
	}
	sub := vg.LV(a.LV)
	if sub == nil {
		return fmt.Errorf("lv %s: %s: unknown LV %q: %w", lv.Name, SegmentName(idx), a.LV, ErrMapping)
	}
	subOff := int64(a.Start)*eb + ao
	if subOff+n > vg.LVSize(sub) {
		return fmt.Errorf("lv %s: %s: area beyond the end of LV %s: %w", lv.Name, SegmentName(idx), sub.Name, ErrMapping)
	}
	return vg.mapInto(sub, subOff, n, outOff, depth+1, out)
}

func appendPiece(out *[]Piece, p Piece) {
	if k := len(*out); k > 0 {
		last := &(*out)[k-1]
		if last.PVUUID == p.PVUUID && last.LVOffset+last.Length == p.LVOffset && last.PVOffset+last.Length == p.PVOffset {
			last.Length += p.Length
			return
		}
	}
	*out = append(*out, p)
}

// StripeSet is LV bytes [LVOffset, LVOffset+Length) laid out in chunks of
// Chunk bytes over Areas in turn, as a striped segment lays them out:
// chunk c (counted from LVOffset) lies on area c mod len(Areas), at Chunk
// × (c div len(Areas)) bytes into it. An area is a Piece whose PVOffset
// is where it starts on its PV and whose Length is its size (LVOffset is
// unused). A linear segment is a set of one area, its Chunk its Length.
type StripeSet struct {
	LVOffset, Length, Chunk int64
	Areas                   []Piece
}

// Layout describes lv as stripe sets, one per segment, with MapRange's
// checks, when every segment is striped over PV areas, in order, with no
// gap or overlap, and each area a whole number of chunks: the mapping of
// any byte is then arithmetic, and an LV of 2^40 chunks costs its
// segments, not its chunks. ok is false for other LVs (LV areas, unusual
// layouts), which MapRange maps.
func (vg *VG) Layout(lv *LV) (sets []StripeSet, ok bool, err error) {
	if vg.ExtentSize == 0 {
		return nil, false, fmt.Errorf("vg %s: extent_size is 0: %w", vg.Name, ErrMapping)
	}
	if !vg.LVSizeFits(lv) {
		return nil, false, fmt.Errorf("lv %s: %d extents of %d bytes make more than 2^63 bytes: %w", lv.Name, lv.ExtentCount(), vg.ExtentBytes(), ErrMapping)
	}
	eb := vg.ExtentBytes()
	var next uint64
	for i, s := range lv.Segments {
		if s.Kind() != KindStriped || s.StartExtent != next || s.ExtentCount == 0 {
			return nil, false, nil
		}
		next = s.StartExtent + s.ExtentCount
		sc := int64(s.StripeCount)
		if sc <= 0 || int64(len(s.Areas)) != sc {
			return nil, false, fmt.Errorf("lv %s: %s: stripe_count %d but %d areas: %w", lv.Name, SegmentName(i), s.StripeCount, len(s.Areas), ErrMapping)
		}
		if s.ExtentCount%uint64(sc) != 0 {
			return nil, false, fmt.Errorf("lv %s: %s: extent_count %d not a multiple of stripe_count %d: %w", lv.Name, SegmentName(i), s.ExtentCount, sc, ErrMapping)
		}
		areaExt := s.ExtentCount / uint64(sc)
		areaLen := int64(areaExt) * eb
		set := StripeSet{LVOffset: int64(s.StartExtent) * eb, Length: int64(s.ExtentCount) * eb, Chunk: areaLen}
		if sc > 1 {
			set.Chunk = int64(s.StripeSize) * SectorSize
			if set.Chunk <= 0 {
				return nil, false, fmt.Errorf("lv %s: %s: striped with stripe_size 0: %w", lv.Name, SegmentName(i), ErrMapping)
			}
			if areaLen%set.Chunk != 0 {
				return nil, false, nil
			}
		}
		for _, a := range s.Areas {
			if !a.IsPV() {
				return nil, false, nil
			}
			pv := vg.PVByLabel(a.PV)
			if pv == nil {
				return nil, false, fmt.Errorf("lv %s: %s: unknown PV %q: %w", lv.Name, SegmentName(i), a.PV, ErrMapping)
			}
			if end, carry := bits.Add64(a.Start, areaExt, 0); carry != 0 || end > pv.PECount {
				return nil, false, fmt.Errorf("lv %s: %s: PE %d beyond %s's %d extents: %w", lv.Name, SegmentName(i), a.Start+areaExt-1, a.PV, pv.PECount, ErrMapping)
			}
			start, ok1 := mulFits(pv.PEStart, SectorSize)
			off, ok2 := mulFits(a.Start, eb)
			if !ok1 || !ok2 || off > math.MaxInt64-start || areaLen > math.MaxInt64-start-off {
				return nil, false, fmt.Errorf("lv %s: %s: PE %d of %s lies beyond byte 2^63: %w", lv.Name, SegmentName(i), a.Start, a.PV, ErrMapping)
			}
			set.Areas = append(set.Areas, Piece{Length: areaLen, PVUUID: pv.UUID, PVLabel: pv.Label, PVOffset: start + off, PVDevice: pv.Device})
		}
		sets = append(sets, set)
	}
	if int64(next)*eb != vg.LVSize(lv) || len(sets) == 0 {
		return nil, false, nil
	}
	return sets, true, nil
}

// ChunkAt maps byte off of the set (from LVOffset) to its area, the PV
// offset of that byte and how many bytes from it on lie in the same chunk.
func (s *StripeSet) ChunkAt(off int64) (area int, pvOff, run int64) {
	if len(s.Areas) == 1 {
		return 0, s.Areas[0].PVOffset + off, s.Length - off
	}
	sc := int64(len(s.Areas))
	c, w := off/s.Chunk, off%s.Chunk
	area = int(c % sc)
	return area, s.Areas[area].PVOffset + (c/sc)*s.Chunk + w, s.Chunk - w
}
