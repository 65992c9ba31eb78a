package raid

import (
	"fmt"
	"math"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// mdLevels maps LVM raid levels to the MD level in the superblock.
var mdLevels = map[string]uint32{"raid0": 0, "raid1": 1, "raid4": 5, "raid5": 5, "raid6": 6, "raid10": 10}

// raidSetup is what openRAID learns before it builds the Source.
type raidSetup struct {
	*segCtx
	rp     *model.RAIDParams
	n      int
	sbs    []*Superblock
	fresh  *Superblock // superblock with the highest events
	layout string      // parity layout name (raid4/5/6)
	p      int         // parity images
	c      int64       // copies (raid10)
}

// openRAID opens a raid segment (the model.KindRAID opener).
func openRAID(r *volume.Resolver, lv *model.LV, idx int) (export.Source, error) {
	c, err := newCtx(r, lv, idx)
	if err != nil {
		return nil, err
	}
	rs := &raidSetup{segCtx: c, rp: c.seg.RAID}
	if rs.rp == nil {
		return nil, c.errf("type", "raid segment without raid parameters")
	}
	if err := rs.checkCounts(); err != nil {
		return nil, err
	}
	rs.readSuperblocks()
	if rs.fresh == nil && len(rs.seg.MetaAreas) > 0 {
		rs.notef("no image has a readable dm-raid superblock: the images are used as the metadata describes them, without sync or failure information")
	}
	if err := rs.chooseLayout(); err != nil {
		return nil, err
	}
	return rs.build()
}

// checkCounts validates the image lists.
func (rs *raidSetup) checkCounts() error {
	seg := rs.seg
	rs.n = len(seg.Areas)
	if rs.n == 0 {
		return rs.errf("raids", "no images")
	}
	if rs.n > MaxImages {
		return &model.UnsupportedError{LV: rs.lv.Name, Segment: rs.idx, Type: seg.Type,
			Reason: fmt.Sprintf("%d images; at most %d are supported", rs.n, MaxImages)}
	}
	if rs.rp.DeviceCount != 0 && rs.rp.DeviceCount != uint64(rs.n) {
		return rs.errf("device_count", "%d, but %d images are listed", rs.rp.DeviceCount, rs.n)
	}
	if len(seg.MetaAreas) != 0 && len(seg.MetaAreas) != rs.n {
		return rs.errf("raids", "%d metadata sub-LVs for %d images", len(seg.MetaAreas), rs.n)
	}
	return nil
}

// readSuperblocks reads every image's superblock and picks the freshest.
func (rs *raidSetup) readSuperblocks() {
	rs.sbs = make([]*Superblock, rs.n)
	for i, m := range rs.seg.MetaAreas {
		if m.LV == "" && !m.IsPV() {
			continue
		}
		sb, name, err := rs.readSuperblock(m)
		if err != nil {
			rs.notef("image %d: superblock in %s unreadable: %v", i, name, err)
			continue
		}
		rs.sbs[i] = sb
		if rs.fresh == nil || sb.Events > rs.fresh.Events {
			rs.fresh = sb
		}
		if sb.NumDevices != uint32(rs.n) {
			rs.notef("image %d: superblock num_devices %d, the metadata lists %d images", i, sb.NumDevices, rs.n)
		}
		if sb.ArrayPosition != uint32(i) {
			rs.notef("image %d: superblock array_position is %d", i, sb.ArrayPosition)
		}
	}
}

// chooseLayout settles the level's geometry, preferring what the
// superblocks record where it differs from the metadata.
func (rs *raidSetup) chooseLayout() error {
	level := rs.rp.Level
	want, known := mdLevels[level]
	if !known {
		return &model.UnsupportedError{LV: rs.lv.Name, Segment: rs.idx, Type: rs.seg.Type, Reason: fmt.Sprintf("raid level %q is not known", level)}
	}
	if f := rs.fresh; f != nil {
		if f.ReshapeActive() {
			return &model.UnsupportedError{LV: rs.lv.Name, Segment: rs.idx, Type: rs.seg.Type,
				Reason: fmt.Sprintf("a reshape is in progress (reshape_position sector %d, new level %d layout %d): the array is in two layouts at once", f.ReshapePosition, f.NewLevel, f.NewLayout)}
		}
		if f.Level != want {
			rs.notef("superblock MD level %d, the metadata type %s means %d", f.Level, rs.seg.Type, want)
		}
		if f.NumDevices != uint32(rs.n) && level != "raid1" {
			return rs.errf("raids", "the superblocks describe an array of %d images, the metadata lists %d: this metadata generation does not match the array on disk", f.NumDevices, rs.n)
		}
		if level != "raid1" && rs.seg.StripeSize != 0 && f.StripeSectors != 0 && uint64(f.StripeSectors) != rs.seg.StripeSize {
			rs.notef("superblock stripe_sectors %d, the metadata has stripe_size %d: using the superblocks' (the data on disk is laid out as the kernel last ran the array)", f.StripeSectors, rs.seg.StripeSize)
		}
	}
	switch level {
	case "raid4", "raid5", "raid6":
		name := rs.rp.Layout
		if level == "raid4" {
			name = "p0"
		}
		lay, ok := parityLayouts[name]
		if !ok {
			return &model.UnsupportedError{LV: rs.lv.Name, Segment: rs.idx, Type: rs.seg.Type, Reason: fmt.Sprintf("%s layout %q is not known", level, rs.rp.Layout)}
		}
		if f := rs.fresh; f != nil && f.Level == want {
			if sbName := layoutFromMD(f.Level, f.Layout); sbName != "" && sbName != name && parityLayouts[sbName].p == lay.p {
				rs.notef("the superblocks record layout %s (MD layout %d), not the metadata's %s: using the superblocks'", sbName, f.Layout, name)
				name = sbName
			} else if sbName == "" || sbName != name {
				rs.notef("superblock MD layout %d does not match the metadata type %s", f.Layout, rs.seg.Type)
			}
		}
		rs.layout, rs.p = name, lay.p
	case "raid10":
		if rs.rp.Layout != "near" && rs.rp.Layout != "" {
			return &model.UnsupportedError{LV: rs.lv.Name, Segment: rs.idx, Type: rs.seg.Type, Reason: fmt.Sprintf("raid10 layout %q: only the near layout LVM creates is supported", rs.rp.Layout)}
		}
		rs.c = int64(rs.rp.DataCopies)
		if rs.c == 0 {
			rs.c = 2
		}
		if rs.c < 2 || rs.c > int64(rs.n) {
			return rs.errf("data_copies", "%d copies over %d images", rs.c, rs.n)
		}
		if f := rs.fresh; f != nil && f.Level == 10 && f.Layout != 0x100+uint32(rs.c) {
			rs.notef("superblock MD layout 0x%X, expected 0x%X (near, %d copies)", f.Layout, 0x100+rs.c, rs.c)
		}
	}
	return nil
}

// geometry returns the usable segment bytes, the image data bytes and the
// chunk bytes.
func (rs *raidSetup) geometry() (usable, imgLen, cb int64, err error) {
	n := uint64(rs.n)
	ext := rs.seg.ExtentCount
	R := rs.rp.ReshapeCount
	var d uint64
	switch rs.rp.Level {
	case "raid1":
		d = 1
		if R != 0 {
			rs.notef("reshape_count %d on raid1 ignored", R)
			R = 0
		}
	case "raid10":
		d = n
	default:
		d = n - uint64(rs.p)
	}
	if R > ext/d {
		return 0, 0, 0, rs.errf("reshape_count", "%d reshape extents per image exceed the segment's %d extents", R, ext)
	}
	use := ext - R*d
	var imgExt uint64
	switch rs.rp.Level {
	case "raid1":
		imgExt = use
	case "raid10":
		imgExt = (use*uint64(rs.c) + n - 1) / n
	default:
		if use%d != 0 {
			rs.notef("%d usable extents are not a multiple of the %d data images", use, d)
		}
		imgExt = (use + d - 1) / d
	}
	if R > 0 {
		rs.notef("%d extents of reshape space per image; segment bytes beyond %d read as zeros", R, int64(use)*rs.eb)
	}
	if imgExt > uint64(math.MaxInt64/rs.eb) {
		return 0, 0, 0, rs.errf("extent_count", "images of %d extents cannot be mapped", imgExt)
	}
	usable, imgLen = int64(use)*rs.eb, int64(imgExt)*rs.eb
	if rs.rp.Level == "raid1" {
		return usable, imgLen, 0, nil
	}
	ss := rs.seg.StripeSize
	if rs.fresh != nil && rs.fresh.StripeSectors != 0 {
		ss = uint64(rs.fresh.StripeSectors)
	}
	if ss == 0 {
		if rs.rp.Level == "raid0" && rs.n == 1 {
			return usable, imgLen, imgLen, nil
		}
		return 0, 0, 0, rs.errf("stripe_size", "missing or 0")
	}
	if ss > uint64(math.MaxInt64/model.SectorSize)/uint64(rs.n+1) {
		return 0, 0, 0, rs.errf("stripe_size", "%d sectors is too large", ss)
	}
	return usable, imgLen, int64(ss) * model.SectorSize, nil
}

// build opens the images and returns the Source for the level.
func (rs *raidSetup) build() (export.Source, error) {
	usable, imgLen, cb, err := rs.geometry()
	if err != nil {
		return nil, err
	}
	imgs := make([]*image, rs.n)
	names := make([]string, rs.n)
	for i, a := range rs.seg.Areas {
		im, err := rs.openImage(i, a, imgLen)
		if err != nil {
			return nil, err
		}
		imgs[i], names[i] = im, im.name
	}
	resyncFrom := int64(noEnd)
	if rs.lv.HasStatus("NOTSYNCED") {
		resyncFrom = 0
		rs.notef("the LV is NOTSYNCED: redundancy was never synchronised, so only the primary copy is used and nothing is rebuilt")
	} else if f := rs.fresh; f != nil && f.Resyncing() {
		resyncFrom = sectorsToBytes(f.ArrayResyncOffset)
		rs.notef("initial synchronisation stopped at image sector %d: copies and parity beyond it are not trusted", f.ArrayResyncOffset)
	}
	info := arrayInfo{superblocks: rs.sbs, imageNames: names}
	size := rs.segBytes()
	switch rs.rp.Level {
	case "raid1":
		if resyncFrom < noEnd {
			for _, im := range imgs[1:] {
				im.addBad(resyncFrom, noEnd, "may be stale (initial sync incomplete)")
			}
		}
		info.notes = rs.notes
		return &Legs{lv: rs.lv.Name, kind: "raid1", size: size, imgs: imgs, arrayInfo: info}, nil
	case "raid0", "raid10":
		c := rs.c
		if rs.rp.Level == "raid0" {
			c = 1
		}
		info.notes = rs.notes
		return &Copies{lv: rs.lv.Name, level: rs.rp.Level, size: size, usable: usable, cb: cb, c: c, imgs: imgs,
			resyncFrom: resyncFrom, arrayInfo: info}, nil
	}
	lay, err := newParityLayout(rs.layout, rs.n)
	if err != nil {
		return nil, rs.errf("raids", "%v", err)
	}
	info.notes = rs.notes
	return &Parity{lv: rs.lv.Name, level: rs.rp.Level, lay: lay, size: size, usable: usable, cb: cb, imgs: imgs,
		resyncFrom: resyncFrom, arrayInfo: info}, nil
}

// openImage opens image i and marks what the metadata and superblocks
// say is unusable in it.
func (rs *raidSetup) openImage(i int, a model.Area, imgLen int64) (*image, error) {
	sb := rs.sbs[i]
	var dataOff uint64
	switch {
	case sb != nil && sb.Extended():
		dataOff = sb.DataOffset
	case rs.fresh != nil && rs.fresh.Extended():
		dataOff = rs.fresh.DataOffset
	case rs.rp.DataOffset != nil:
		dataOff = *rs.rp.DataOffset
	}
	if rs.rp.DataOffset != nil && *rs.rp.DataOffset != dataOff {
		rs.notef("image %d: data_offset %d from the superblock, the metadata says %d", i, dataOff, *rs.rp.DataOffset)
	}
	src, name, base, err := rs.openArea(a, imgLen)
	if err != nil {
		return nil, err
	}
	doff := sectorsToBytes(dataOff)
	if doff > src.Size() || base > src.Size()-doff || imgLen > src.Size()-doff-base {
		return nil, rs.errf("raids", "image %s is %d bytes; the segment needs %d bytes from byte %d (data_offset %d sectors)",
			name, src.Size(), imgLen, base+min(doff, src.Size()), dataOff)
	}
	im := &image{name: name, src: src, base: base + doff}
	if sub := rs.r.VG.LV(a.LV); sub != nil && sub.HasStatus("REBUILD") {
		im.addBad(0, noEnd, "is marked REBUILD in the metadata (its content is being rebuilt)")
	}
	hasMeta := i < len(rs.seg.MetaAreas) && (rs.seg.MetaAreas[i].LV != "" || rs.seg.MetaAreas[i].IsPV())
	switch {
	case hasMeta && sb == nil && rs.fresh == nil:
		// No image has a readable superblock: there is nothing to tell
		// the images apart, so all are used as the metadata describes
		// them (as the kernel would, resynchronising a blank array).
	case hasMeta && sb == nil:
		im.addBad(0, noEnd, "is not used: its superblock is unreadable")
	case rs.fresh != nil && rs.fresh.Failed(i):
		im.addBad(0, noEnd, fmt.Sprintf("is marked failed in the superblock (events %d)", rs.fresh.Events))
	case sb != nil && sb.Events < rs.fresh.Events:
		im.addBad(0, noEnd, fmt.Sprintf("is stale: its superblock has events %d, the array %d", sb.Events, rs.fresh.Events))
	case sb != nil && sb.Recovering():
		im.addBad(sectorsToBytes(sb.DiskRecoveryOffset), noEnd,
			fmt.Sprintf("is being rebuilt: valid only below image sector %d", sb.DiskRecoveryOffset))
	}
	for _, b := range im.bad {
		rs.notef("image %d (%s) %s", i, name, b.why)
	}
	return im, nil
}
