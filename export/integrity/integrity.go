// Package integrity exports LVs with a dm-integrity layer ("integrity"
// segments, which LVM places under raid images). With a separate
// metadata device (meta_dev, the _imeta sub-LV, which LVM always uses)
// the data device (origin, _iorig) holds the data 1:1: LV sector o is
// origin sector o for o < data_sectors. Without one, data and checksums
// are interleaved in a layout the specification does not give: such
// segments are refused with the reason.
//
// Journal mode ("J", LVM's default) records writes in the journal on the
// metadata device first; after a crash the newest writes may exist only
// there until the kernel replays them. The journal format is not
// specified, so it is not replayed: Integrity.Notes says so. A device
// that was deactivated cleanly has an empty journal.
//
// The checksums (tags) on the metadata device are not verified.
//
// The layout is described in docs/format/segment-mapping.md, section 9.
package integrity

import (
	"errors"
	"fmt"
	"math"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/cow"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

func init() { volume.Register(model.KindIntegrity, openSegment) }

// ErrLayout is wrapped when an integrity segment cannot be exported:
// inconsistent metadata, or a layout that is not specified.
var ErrLayout = errors.New("integrity segment cannot be mapped")

// Error says why an integrity segment cannot be exported.
type Error struct {
	LV      string
	Segment int
	Field   string
	Reason  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("lv %s: %s (integrity): %s: %s", e.LV, model.SegmentName(e.Segment), e.Field, e.Reason)
}

// Unwrap returns ErrLayout.
func (e *Error) Unwrap() error { return ErrLayout }

// Integrity is an opened integrity segment.
type Integrity struct {
	LV      string
	Origin  string // the data device (_iorig)
	MetaDev string // the metadata device (_imeta)
	Mode    string // "J" journal, "B" bitmap, "D" direct, "" unknown
	// Data is the segment's data, read from the origin.
	Data  export.Source
	Notes []string
}

// Open opens segment idx of lv, of type integrity.
func Open(r *volume.Resolver, lv *model.LV, idx int) (*Integrity, error) {
	fail := func(field, format string, args ...any) error {
		return &Error{LV: lv.Name, Segment: idx, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if idx < 0 || idx >= len(lv.Segments) || lv.Segments[idx].Integrity == nil {
		return nil, fail("type", "not an integrity segment")
	}
	seg := lv.Segments[idx]
	p := seg.Integrity
	if p.MetaDev == "" {
		return nil, fail("meta_dev", "without a separate metadata device dm-integrity interleaves data and checksums on one device; that layout is not specified, so the data cannot be located")
	}
	origin := r.VG.LV(p.Origin)
	switch {
	case origin == nil:
		return nil, fail("origin", "no LV named %q", p.Origin)
	case r.VG.LV(p.MetaDev) == nil:
		return nil, fail("meta_dev", "no LV named %q", p.MetaDev)
	case origin == lv || p.MetaDev == lv.Name || p.MetaDev == p.Origin:
		return nil, fail("origin", "LV %s, its data device %s and its metadata device %s must differ", lv.Name, p.Origin, p.MetaDev)
	}
	eb := r.VG.ExtentBytes()
	if eb <= 0 || seg.ExtentCount > uint64(math.MaxInt64/eb) || seg.StartExtent > uint64(math.MaxInt64/eb)-seg.ExtentCount {
		return nil, fail("extent_count", "%d extents from %d cannot be mapped", seg.ExtentCount, seg.StartExtent)
	}
	off, n := int64(seg.StartExtent)*eb, int64(seg.ExtentCount)*eb
	if p.DataSectors != 0 && (p.DataSectors > math.MaxInt64/512 || int64(p.DataSectors)*512 < off+n) {
		return nil, fail("data_sectors", "%d sectors do not cover the segment's bytes [%d, %d)", p.DataSectors, off, off+n)
	}
	src, err := r.Open(p.Origin)
	if err != nil {
		return nil, err
	}
	w, err := cow.NewWindow(src, off, n)
	if err != nil {
		return nil, fail("origin", "data device %s: %v", p.Origin, err)
	}
	in := &Integrity{LV: lv.Name, Origin: p.Origin, MetaDev: p.MetaDev, Mode: p.Mode, Data: w}
	if p.Mode == "J" || p.Mode == "" {
		in.Notes = append(in.Notes, "journal mode: writes not yet replayed from the journal on "+p.MetaDev+" (after a crash) are not applied; the journal format is not specified")
	}
	return in, nil
}

func openSegment(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	in, err := Open(r, lv, idx)
	if err != nil {
		return nil, err
	}
	return in.Data, nil
}
