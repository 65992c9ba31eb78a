package raid

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// Array is the Source of one mirror or raid segment as this package
// builds it, with what it learnt about the array.
type Array interface {
	export.Source
	// Notes are remarks: superblock findings, sync state, logs, images
	// treated as missing and why.
	Notes() []string
	// Superblocks returns each image's dm-raid superblock (nil where
	// none was read).
	Superblocks() []*Superblock
	// Images lists the image or leg sub-LVs in order.
	Images() []string
	// Redundant lists the ranges of segment bytes [off, off+n) that are
	// not read from their primary place: rebuilt from parity, or read
	// from another mirror leg or raid10 copy, with the reason (for the
	// export report).
	Redundant(off, n int64) ([]export.Range, error)
}

// OpenSegment opens segment idx of lv, which must be a mirror or raid
// segment, as an Array (a *Legs, *Copies or *Parity).
func OpenSegment(r *volume.Resolver, lv *model.LV, idx int) (Array, error) {
	if idx < 0 || idx >= len(lv.Segments) {
		return nil, fmt.Errorf("lv %s: no %s: %w", lv.Name, model.SegmentName(idx), model.ErrMapping)
	}
	var src export.Source
	var err error
	switch k := lv.Segments[idx].Kind(); k {
	case model.KindMirror:
		src, err = openMirror(r, lv, idx)
	case model.KindRAID:
		src, err = openRAID(r, lv, idx)
	default:
		return nil, fmt.Errorf("lv %s: %s is %s, not mirror or raid: %w", lv.Name, model.SegmentName(idx), lv.Segments[idx].Type, model.ErrMapping)
	}
	if err != nil {
		return nil, err
	}
	return src.(Array), nil
}

// LegDiff is a range of LV bytes where the legs do not all hold the same
// bytes.
type LegDiff struct {
	Off int64 `json:"start"`
	Len int64 `json:"length"`
	// Reference is the leg compared against (the first leg present);
	// Differ lists the legs whose bytes differ from it.
	Reference string   `json:"reference"`
	Differ    []string `json:"differ"`
}

// LegReport is the result of comparing the legs of a mirror or raid1 LV.
type LegReport struct {
	LV       string    `json:"lv"`
	Compared int64     `json:"compared_bytes"` // LV bytes present on at least two legs
	Diffs    []LegDiff `json:"diffs"`
	// Unchecked lists LV ranges present on fewer than two legs.
	Unchecked []export.Range `json:"unchecked,omitempty"`
}

// verifyWindow is how many bytes of each leg are compared at a time.
const verifyWindow = 1 << 20

// VerifyLegs compares all legs over the whole segment, sector by sector,
// reading every leg that is physically present whatever its sync state
// (differences in regions a log marks out of sync are expected). Offsets
// in the report are segment bytes.
func (l *Legs) VerifyLegs(ctx context.Context) (*LegReport, error) {
	rep := &LegReport{LV: l.lv}
	bufs := make([][]byte, len(l.imgs))
	for i := range bufs {
		bufs[i] = make([]byte, verifyWindow)
	}
	for off := int64(0); off < l.size; off += verifyWindow {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(l.size, off+verifyWindow)
		sp, err := newSpanOf(l.imgs, off, end, true)
		if err != nil {
			return nil, err
		}
		for a := off; a < end; {
			mask, b := sp.mask(a, end)
			var present []int
			for i := range l.imgs {
				if mask&(1<<uint(i)) == 0 {
					present = append(present, i)
				}
			}
			if len(present) < 2 {
				rep.Unchecked = appendRange(rep.Unchecked, export.Range{Off: a, Len: b - a,
					Reason: fmt.Sprintf("present on %d leg(s) only", len(present))})
				a = b
				continue
			}
			for _, i := range present {
				if err := sp.read(i, bufs[i][a-off:b-off], a, false); err != nil {
					return nil, fmt.Errorf("%s %s: %w", l.kind, l.lv, err)
				}
			}
			rep.Compared += b - a
			l.compare(rep, bufs, present, off, a, b)
			a = b
		}
	}
	return rep, nil
}

// compare records the sectors of [a, b) where the present legs differ.
func (l *Legs) compare(rep *LegReport, bufs [][]byte, present []int, off, a, b int64) {
	ref := present[0]
	for s := a; s < b; {
		e := min(b, (s/model.SectorSize+1)*model.SectorSize)
		var differ []string
		for _, i := range present[1:] {
			if !bytes.Equal(bufs[ref][s-off:e-off], bufs[i][s-off:e-off]) {
				differ = append(differ, l.imgs[i].name)
			}
		}
		if len(differ) > 0 {
			d := LegDiff{Off: s, Len: e - s, Reference: l.imgs[ref].name, Differ: differ}
			if k := len(rep.Diffs); k > 0 && rep.Diffs[k-1].Off+rep.Diffs[k-1].Len == s &&
				rep.Diffs[k-1].Reference == d.Reference && slices.Equal(rep.Diffs[k-1].Differ, differ) {
				rep.Diffs[k-1].Len += e - s
			} else {
				rep.Diffs = append(rep.Diffs, d)
			}
		}
		s = e
	}
}

func appendRange(list []export.Range, r export.Range) []export.Range {
	if k := len(list); k > 0 && list[k-1].End() == r.Off && list[k-1].Reason == r.Reason {
		list[k-1].Len += r.Len
		return list
	}
	return append(list, r)
}

// VerifyLegs compares the legs of every mirror and raid1 segment of lv
// (the capability behind a --verify-legs flag). Offsets are LV bytes.
func VerifyLegs(ctx context.Context, r *volume.Resolver, lv *model.LV) (*LegReport, error) {
	rep := &LegReport{LV: lv.Name}
	eb := r.VG.ExtentBytes()
	found := false
	for i, s := range lv.Segments {
		if s.Kind() != model.KindMirror && !(s.Kind() == model.KindRAID && s.RAID != nil && s.RAID.Level == "raid1") {
			continue
		}
		a, err := OpenSegment(r, lv, i)
		if err != nil {
			return nil, err
		}
		legs, ok := a.(*Legs)
		if !ok {
			continue
		}
		found = true
		sr, err := legs.VerifyLegs(ctx)
		if err != nil {
			return nil, err
		}
		base := int64(s.StartExtent) * eb
		rep.Compared += sr.Compared
		for _, d := range sr.Diffs {
			d.Off += base
			rep.Diffs = append(rep.Diffs, d)
		}
		for _, u := range sr.Unchecked {
			u.Off += base
			rep.Unchecked = appendRange(rep.Unchecked, u)
		}
	}
	if !found {
		return nil, fmt.Errorf("lv %s has no mirror or raid1 segment whose legs could be compared", lv.Name)
	}
	return rep, nil
}
