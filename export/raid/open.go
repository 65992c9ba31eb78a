package raid

import (
	"fmt"
	"math"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

func init() {
	volume.Register(model.KindMirror, openMirror)
	volume.Register(model.KindRAID, openRAID)
}

// MaxImages is the largest number of raid images or mirror legs a segment
// may have here (LVM allows 64).
const MaxImages = 64

// segCtx holds what opening one segment needs.
type segCtx struct {
	r     *volume.Resolver
	lv    *model.LV
	idx   int
	seg   *model.Segment
	eb    int64 // extent bytes
	notes []string
}

func newCtx(r *volume.Resolver, lv *model.LV, idx int) (*segCtx, error) {
	c := &segCtx{r: r, lv: lv, idx: idx, eb: r.VG.ExtentBytes()}
	if idx < 0 || idx >= len(lv.Segments) {
		return nil, fmt.Errorf("lv %s: no %s: %w", lv.Name, model.SegmentName(idx), model.ErrMapping)
	}
	c.seg = lv.Segments[idx]
	if c.eb <= 0 {
		return nil, c.errf("extent_size", "extent size is 0")
	}
	if c.seg.ExtentCount == 0 || c.seg.ExtentCount > uint64(math.MaxInt64/c.eb) {
		return nil, c.errf("extent_count", "%d extents cannot be mapped", c.seg.ExtentCount)
	}
	return c, nil
}

func (c *segCtx) errf(field, format string, args ...any) error {
	return &SegmentError{LV: c.lv.Name, Segment: c.idx, Type: c.seg.Type, Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (c *segCtx) notef(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// segBytes is the segment's size in bytes.
func (c *segCtx) segBytes() int64 { return int64(c.seg.ExtentCount) * c.eb }

// openArea opens an area (an LV, or a PV area of length bytes) as a
// Source; it returns the Source, a display name and the byte of the
// Source where the area starts.
func (c *segCtx) openArea(a model.Area, length int64) (export.Source, string, int64, error) {
	if a.IsPV() {
		pv := c.r.VG.PVByLabel(a.PV)
		if pv == nil {
			return nil, "", 0, c.errf("area", "unknown PV %q", a.PV)
		}
		ext := uint64(length / c.eb)
		if a.Start > pv.PECount || ext > pv.PECount-a.Start {
			return nil, "", 0, c.errf("area", "%s PE %d + %d extents is beyond its %d extents", a.PV, a.Start, ext, pv.PECount)
		}
		name := fmt.Sprintf("%s:%d", a.PV, a.Start)
		piece := model.Piece{LVOffset: 0, Length: length, PVUUID: pv.UUID, PVLabel: pv.Label, PVDevice: pv.Device,
			PVOffset: int64(pv.PEStart)*model.SectorSize + int64(a.Start)*c.eb}
		return export.NewPieceSource(length, []model.Piece{piece}, c.r.PVs), name, 0, nil
	}
	if a.Start > uint64(math.MaxInt64/c.eb) {
		return nil, "", 0, c.errf("area", "%s start extent %d is too large", a.LV, a.Start)
	}
	src, err := c.r.Open(a.LV)
	if err != nil {
		return nil, "", 0, err
	}
	return src, a.LV, int64(a.Start) * c.eb, nil
}

// readAll reads n bytes at off of src through its runs: zero runs read as
// zeros, missing runs are an error.
func readAll(src export.Source, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > src.Size() || n > src.Size()-off {
		return nil, fmt.Errorf("bytes [%d, %d) are beyond its end (%d bytes)", off, off+n, src.Size())
	}
	runs, err := src.Runs(off, n)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	for _, r := range runs {
		b := buf[r.Off-off : r.End()-off]
		switch r.Kind {
		case export.RunData:
			if m, err := src.ReadAt(b, r.Off); m < len(b) {
				return nil, fmt.Errorf("byte %d: %v", r.Off+int64(m), err)
			}
		case export.RunMissing:
			return nil, fmt.Errorf("bytes [%d, %d) are missing: %s", r.Off, r.End(), r.Reason)
		}
	}
	return buf, nil
}

// superblockReadSize is how much of an rmeta sub-LV is read.
const superblockReadSize = 4096

// readSuperblock reads and decodes the superblock of an rmeta area.
func (c *segCtx) readSuperblock(a model.Area) (*Superblock, string, error) {
	src, name, base, err := c.openArea(a, c.eb)
	if err != nil {
		return nil, a.LV, err
	}
	b, err := readAll(src, base, min(superblockReadSize, max(0, src.Size()-base)))
	if err != nil {
		return nil, name, fmt.Errorf("%s: %w", name, err)
	}
	sb, err := ParseSuperblock(b)
	if err != nil {
		return nil, name, fmt.Errorf("%s: %w", name, err)
	}
	return sb, name, nil
}

// sectorsToBytes converts a sector count from disk to bytes, saturating
// at noEnd.
func sectorsToBytes(s uint64) int64 {
	if s >= uint64(noEnd/model.SectorSize) {
		return noEnd
	}
	return int64(s) * model.SectorSize
}
