package raid

import (
	"fmt"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// openMirror opens a legacy mirror segment (also pvmove's), the
// model.KindMirror opener.
func openMirror(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	c, err := newCtx(r, lv, idx)
	if err != nil {
		return nil, err
	}
	seg, mp := c.seg, c.seg.Mirror
	if mp == nil {
		return nil, c.errf("type", "mirror segment without mirror parameters")
	}
	n := len(seg.Areas)
	switch {
	case n == 0:
		return nil, c.errf("mirrors", "no legs")
	case n > MaxImages:
		return nil, &model.UnsupportedError{LV: lv.Name, Segment: idx, Type: seg.Type,
			Reason: fmt.Sprintf("%d legs; at most %d are supported", n, MaxImages)}
	case mp.MirrorCount != 0 && mp.MirrorCount != uint64(n):
		return nil, c.errf("mirror_count", "%d, but %d legs are listed", mp.MirrorCount, n)
	}
	size := c.segBytes()
	imgs := make([]*image, n)
	names := make([]string, n)
	for i, a := range seg.Areas {
		src, name, base, err := c.openArea(a, size)
		if err != nil {
			return nil, err
		}
		if base > src.Size() || size > src.Size()-base {
			return nil, c.errf("mirrors", "leg %s is %d bytes; the segment needs %d bytes from byte %d", name, src.Size(), size, base)
		}
		imgs[i] = &image{name: name, src: src, base: base}
		names[i] = name
	}
	others := imgs[1:]
	switch {
	case lv.HasStatus("NOTSYNCED"):
		c.notef("the LV is NOTSYNCED: the legs were never synchronised, only leg 0 (%s) is used", names[0])
		markAll(others, "is not used: the mirror is NOTSYNCED")
	case mp.ExtentsMoved != nil && *mp.ExtentsMoved < seg.ExtentCount:
		c.notef("pvmove has moved %d of this segment's %d extents: only the source leg %s is used", *mp.ExtentsMoved, seg.ExtentCount, names[0])
		markAll(others, fmt.Sprintf("is not used: pvmove incomplete (%d of %d extents moved)", *mp.ExtentsMoved, seg.ExtentCount))
	case mp.MirrorLog != "":
		if log, why := c.readMirrorLog(mp, size); log != nil {
			c.notef("disk log %s: %d of %d regions in sync; other legs are used only in those", mp.MirrorLog, log.CleanCount(), log.Regions)
			for _, im := range others {
				im.regions = &regionMap{log: log, region: int64(mp.RegionSize) * model.SectorSize,
					why: fmt.Sprintf("is not used in regions the log %s marks out of sync", mp.MirrorLog)}
			}
		} else {
			c.notef("disk log %s unusable (%s): the legs are assumed in sync", mp.MirrorLog, why)
		}
	default:
		c.notef("core log: the sync state was not recorded; the legs are assumed in sync (the kernel resynchronises them on every activation)")
	}
	return &Legs{lv: lv.Name, kind: "mirror", size: size, imgs: imgs,
		arrayInfo: arrayInfo{notes: c.notes, imageNames: names}}, nil
}

func markAll(imgs []*image, why string) {
	for _, im := range imgs {
		im.addBad(0, noEnd, why)
	}
}

// readMirrorLog reads and checks the disk log of a mirror segment of size
// bytes; it returns nil and the reason when it cannot be used.
func (c *segCtx) readMirrorLog(mp *model.MirrorParams, size int64) (*MirrorLog, string) {
	if mp.RegionSize == 0 {
		return nil, "region_size is 0"
	}
	rb := int64(mp.RegionSize) * model.SectorSize
	if rb <= 0 || rb/model.SectorSize != int64(mp.RegionSize) {
		return nil, fmt.Sprintf("region_size %d is too large", mp.RegionSize)
	}
	want := size / rb
	if size%rb != 0 {
		want++
	}
	src, err := c.r.Open(mp.MirrorLog)
	if err != nil {
		return nil, err.Error()
	}
	n := MirrorLogBitsetOffset + (want+7)/8
	if n > src.Size() {
		return nil, fmt.Sprintf("%d regions need %d bytes, the log LV has %d", want, n, src.Size())
	}
	b, err := readAll(src, 0, n)
	if err != nil {
		return nil, err.Error()
	}
	log, err := ParseMirrorLog(b)
	if err != nil {
		return nil, err.Error()
	}
	if log.Regions != uint64(want) {
		return nil, fmt.Sprintf("it records %d regions, the segment has %d", log.Regions, want)
	}
	return log, ""
}
