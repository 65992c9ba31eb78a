package metatext

import (
	"sort"

	"github.com/lvminspect/lvminspect/model"
)

var pvKeys = set("id", "device", "device_id_type", "device_id", "status", "flags", "tags",
	"dev_size", "pe_start", "pe_count", "ba_start", "ba_size")

// physicalVolumes reads physical_volumes { pvN { ... } }.
func (b *builder) physicalVolumes(n *Node) {
	for c := range n.Children() {
		if !c.Section() {
			b.note(c, "unexpected key %q in physical_volumes", clip(c.Name()))
			continue
		}
		if len(b.vg.PVs) == MaxPVs {
			b.fail(c, "more than %d PVs: the rest are not read (a limit of this reader)", MaxPVs)
			break
		}
		if b.pvs[c.Name()] != nil {
			b.fail(c, "duplicate PV label %q; the first is used", clip(c.Name()))
			continue
		}
		s := sec{b, c}
		s.unknownKeys(pvKeys)
		pv := &model.PV{
			Label:        c.Name(),
			UUID:         b.uuid(s, "id"),
			Device:       s.str("device", false),
			DeviceIDType: s.str("device_id_type", false),
			DeviceID:     s.str("device_id", false),
			Status:       s.words("status", true),
			Flags:        s.words("flags", false),
			Tags:         s.words("tags", false),
			DevSize:      s.u64v("dev_size", false),
			PEStart:      s.u64v("pe_start", true),
			PECount:      s.u64v("pe_count", true),
			BAStart:      s.u64v("ba_start", false),
			BASize:       s.u64v("ba_size", false),
		}
		b.checkWords(s, "status", pvStatusWords)
		b.checkWords(s, "flags", pvFlagWords)
		if (c.Get("ba_start") == nil) != (c.Get("ba_size") == nil) {
			b.fail(c, "ba_start and ba_size must be given together")
		}
		b.pvs[pv.Label] = pv
		b.vg.PVs = append(b.vg.PVs, pv)
	}
	byUUID := make(map[string]*model.PV, len(b.vg.PVs))
	for _, pv := range b.vg.PVs {
		u := model.BareUUID(pv.UUID)
		if dup := byUUID[u]; dup != nil && u != "" {
			b.note(n, "PVs %s and %s have the same UUID %s", dup.Label, pv.Label, pv.UUID)
			continue
		}
		byUUID[u] = pv
	}
}

var lvKeys = set("id", "status", "flags", "tags", "creation_time", "creation_host", "lock_args",
	"allocation_policy", "profile", "read_ahead", "major", "minor", "segment_count")

// logicalVolumes reads logical_volumes { name { ... } }. Names are
// collected first so that area lists can refer to any LV.
func (b *builder) logicalVolumes(n *Node) {
	var secs []*Node
	for c := range n.Children() {
		switch {
		case !c.Section():
			b.note(c, "unexpected key %q in logical_volumes", clip(c.Name()))
		case len(secs) == MaxLVs:
			b.fail(c, "more than %d LVs: the rest are not read (a limit of this reader)", MaxLVs)
			b.readLVs(secs)
			return
		case b.lvNames[c.Name()]:
			b.fail(c, "duplicate LV %q; the first is used", clip(c.Name()))
		default:
			b.lvNames[c.Name()] = true
			secs = append(secs, c)
		}
	}
	b.readLVs(secs)
}

func (b *builder) readLVs(secs []*Node) {
	if len(secs) > 0 {
		b.vg.LVs = make([]*model.LV, 0, len(secs))
	}
	for _, c := range secs {
		b.vg.LVs = append(b.vg.LVs, b.logicalVolume(c))
	}
}

func (b *builder) logicalVolume(n *Node) *model.LV {
	s := sec{b, n}
	for c := range n.Children() {
		if !c.Section() && !b.known(c, lvKeys) {
			b.note(c, "unknown key %q", clip(c.Name()))
		}
	}
	if !validName(n.Name()) {
		b.note(n, "invalid LV name %q", clip(n.Name()))
	}
	if b.pvs[n.Name()] != nil {
		b.note(n, "LV %q is shadowed by the PV label of the same name in area lists", clip(n.Name()))
	}
	lv := &model.LV{Name: n.Name()}
	b.curLV = lv
	defer func() { b.curLV = nil }()
	*lv = model.LV{
		Name:             n.Name(),
		UUID:             b.uuid(s, "id"),
		Status:           s.words("status", true),
		Flags:            s.words("flags", false),
		Tags:             s.words("tags", false),
		CreationHost:     s.str("creation_host", false),
		LockArgs:         s.str("lock_args", false),
		AllocationPolicy: s.str("allocation_policy", false),
		Profile:          s.str("profile", false),
		ReadAhead:        s.i64p("read_ahead"),
		Major:            s.i64p("major"),
		Minor:            s.i64p("minor"),
	}
	lv.CreationTime, _ = b.creationTime(s)
	if n.Get("creation_time") != nil && n.Get("creation_host") == nil {
		b.fail(n, "creation_time without creation_host")
	}
	b.checkWords(s, "status", lvStatusWords)
	b.checkWords(s, "flags", lvFlagWords)
	count, haveCount := s.i64("segment_count", true)
	lv.SegmentCount = count
	for _, c := range s.subsections() {
		if !b.segmentBudget(c) {
			break
		}
		lv.Segments = append(lv.Segments, b.segment(c))
	}
	sort.SliceStable(lv.Segments, func(i, j int) bool {
		return lv.Segments[i].StartExtent < lv.Segments[j].StartExtent
	})
	if haveCount && count != int64(len(lv.Segments)) {
		b.fail(n, "segment_count is %d but the LV has %d segment sections", count, len(lv.Segments))
	}
	b.checkTiling(n, lv)
	return lv
}

// segmentBudget counts one more segment section (or thin pool message)
// c and reports whether it is within MaxSegments.
func (b *builder) segmentBudget(c *Node) bool {
	if b.segments == MaxSegments {
		if !b.segmentsSaid {
			b.segmentsSaid = true
			b.failVG(c, "more than %d segments in the VG: the rest are not read (a limit of this reader)", MaxSegments)
		}
		return false
	}
	b.segments++
	return true
}

// checkTiling verifies that the sorted segments cover [0, total) exactly.
func (b *builder) checkTiling(n *Node, lv *model.LV) {
	var next uint64
	for _, seg := range lv.Segments {
		if seg.StartExtent != next {
			if seg.StartExtent > next {
				b.fail(n, "segments leave a gap: extents %d..%d are not covered", next, seg.StartExtent-1)
			} else {
				b.fail(n, "segments overlap at extent %d", seg.StartExtent)
			}
		}
		end := seg.StartExtent + seg.ExtentCount
		if end < seg.StartExtent {
			b.fail(n, "segment at extent %d: extent_count %d overflows", seg.StartExtent, seg.ExtentCount)
			return
		}
		if end > next {
			next = end
		}
	}
}

var hlvKeys = set("id", "name", "creation_time", "removal_time", "origin", "descendants")

// historicalVolumes reads historical_logical_volumes { name { ... } }.
func (b *builder) historicalVolumes(n *Node) {
	seen := make(map[string]bool)
	for c := range n.Children() {
		if !c.Section() {
			b.note(c, "unexpected key %q in historical_logical_volumes", clip(c.Name()))
			continue
		}
		if len(b.vg.HistoricalLVs) == MaxLVs {
			b.fail(c, "more than %d historical LVs: the rest are not read (a limit of this reader)", MaxLVs)
			break
		}
		if seen[c.Name()] {
			b.fail(c, "duplicate historical LV %q; the first is used", clip(c.Name()))
			continue
		}
		seen[c.Name()] = true
		s := sec{b, c}
		s.unknownKeys(hlvKeys)
		h := &model.HistoricalLV{
			Name:         c.Name(),
			UUID:         b.uuid(s, "id"),
			NameKey:      s.str("name", false),
			CreationTime: s.i64v("creation_time", false),
			RemovalTime:  s.i64v("removal_time", false),
			Origin:       s.str("origin", false),
			Descendants:  s.words("descendants", false),
		}
		if h.Descendants != nil && len(h.Descendants) == 0 {
			b.fail(c, "descendants is empty")
		}
		b.vg.HistoricalLVs = append(b.vg.HistoricalLVs, h)
	}
}
