package history

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// VGDiff is what changed between two generations of a VG, A (older, as a
// rule) and B. LVs and PVs are matched by UUID, so a rename is a change of
// one LV, not a removal and an addition. Empty lists are empty, not nil.
type VGDiff struct {
	VGName     string     `json:"vg_name"` // as B names it
	VGUUID     string     `json:"vg_uuid"`
	A          GenInfo    `json:"a"`
	B          GenInfo    `json:"b"`
	VG         []Change   `json:"vg_changes"` // VG-level keys
	PVsAdded   []PVInfo   `json:"pvs_added"`
	PVsRemoved []PVInfo   `json:"pvs_removed"`
	PVsChanged []PVChange `json:"pvs_changed"`
	LVsAdded   []LVInfo   `json:"lvs_added"`
	LVsRemoved []LVInfo   `json:"lvs_removed"`
	LVsChanged []LVChange `json:"lvs_changed"`
	// HistoricalAdded and HistoricalRemoved are historical LV entries
	// (removed thin snapshots LVM remembers), by name.
	HistoricalAdded   []string `json:"historical_lvs_added"`
	HistoricalRemoved []string `json:"historical_lvs_removed"`
}

// Empty reports whether nothing but the seqno and the document keys changed.
func (d *VGDiff) Empty() bool {
	return len(d.VG)+len(d.PVsAdded)+len(d.PVsRemoved)+len(d.PVsChanged)+len(d.LVsAdded)+len(d.LVsRemoved)+
		len(d.LVsChanged)+len(d.HistoricalAdded)+len(d.HistoricalRemoved) == 0
}

// GenInfo identifies one side of a diff.
type GenInfo struct {
	Name         string `json:"vg_name"`
	Seqno        uint64 `json:"seqno"`
	Description  string `json:"description"`
	CreationHost string `json:"creation_host"`
	CreationTime int64  `json:"creation_time"`
}

// Change is one key whose value differs.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// PVInfo describes a PV entry.
type PVInfo struct {
	Label   string `json:"label"`
	UUID    string `json:"uuid"`
	Device  string `json:"device,omitempty"`
	PECount uint64 `json:"pe_count"`
}

// PVChange lists the changed keys of a PV present in both generations.
type PVChange struct {
	PVInfo
	Changes []Change `json:"changes"`
}

// LVInfo describes an LV.
type LVInfo struct {
	Name     string    `json:"name"`
	UUID     string    `json:"uuid"`
	Visible  bool      `json:"visible"`
	Extents  uint64    `json:"extents"`
	Size     int64     `json:"size"` // bytes
	Segments []SegInfo `json:"segments"`
}

// LVChange is an LV present in both generations (same UUID) that changed.
type LVChange struct {
	UUID       string      `json:"uuid"`
	Name       string      `json:"name"`     // in B
	OldName    string      `json:"old_name"` // in A
	Renamed    bool        `json:"renamed"`
	Resized    bool        `json:"resized"`
	OldExtents uint64      `json:"old_extents"`
	NewExtents uint64      `json:"new_extents"`
	OldSize    int64       `json:"old_size"` // bytes
	NewSize    int64       `json:"new_size"`
	Changes    []Change    `json:"changes"` // status, flags, tags, other keys
	Segments   []SegChange `json:"segments"`
}

// SegInfo describes a segment; areas name PVs by UUID and local label.
type SegInfo struct {
	StartExtent uint64    `json:"start_extent"`
	ExtentCount uint64    `json:"extent_count"`
	Type        string    `json:"type"`
	Areas       []AreaRef `json:"areas"`
}

// AreaRef is one area of a segment.
type AreaRef struct {
	PVUUID  string `json:"pv_uuid,omitempty"`
	PVLabel string `json:"pv,omitempty"`
	LV      string `json:"lv,omitempty"`
	Start   uint64 `json:"start_extent"`
}

func (a AreaRef) String() string {
	if a.LV != "" {
		return fmt.Sprintf("%s LE %d", a.LV, a.Start)
	}
	return fmt.Sprintf("%s PE %d", a.PVLabel, a.Start)
}

// Segment change kinds.
const (
	SegAdded   = "added"   // no segment of A starts at this extent
	SegRemoved = "removed" // no segment of B starts at this extent
	SegMoved   = "moved"   // same logical extents, other physical areas
	SegResized = "resized" // same start and areas, other length
	SegChanged = "changed" // type or other keys
)

// SegChange is a segment that differs, matched by its start extent.
type SegChange struct {
	Kind        string   `json:"kind"`
	StartExtent uint64   `json:"start_extent"`
	Old         *SegInfo `json:"old"`
	New         *SegInfo `json:"new"`
	Changes     []Change `json:"changes"`
}

// Diff compares two generations of a VG (normally a older than b). It is a
// pure function of the two parsed texts.
func Diff(a, b *model.VG) *VGDiff {
	d := &VGDiff{VGName: b.Name, VGUUID: b.UUID, A: genInfo(a), B: genInfo(b),
		VG: []Change{}, PVsAdded: []PVInfo{}, PVsRemoved: []PVInfo{}, PVsChanged: []PVChange{},
		LVsAdded: []LVInfo{}, LVsRemoved: []LVInfo{}, LVsChanged: []LVChange{},
		HistoricalAdded: []string{}, HistoricalRemoved: []string{}}
	d.VG = vgChanges(a, b)
	diffPVs(d, a, b)
	diffLVs(d, a, b)
	ha, hb := map[string]bool{}, map[string]bool{}
	for _, h := range a.HistoricalLVs {
		ha[model.BareUUID(h.UUID)] = true
	}
	for _, h := range b.HistoricalLVs {
		hb[model.BareUUID(h.UUID)] = true
		if !ha[model.BareUUID(h.UUID)] {
			d.HistoricalAdded = append(d.HistoricalAdded, h.Name)
		}
	}
	for _, h := range a.HistoricalLVs {
		if !hb[model.BareUUID(h.UUID)] {
			d.HistoricalRemoved = append(d.HistoricalRemoved, h.Name)
		}
	}
	return d
}

func genInfo(vg *model.VG) GenInfo {
	return GenInfo{Name: vg.Name, Seqno: vg.Seqno, Description: vg.Description, CreationHost: vg.CreationHost, CreationTime: vg.CreationTime}
}

// changes collects differing keys.
type changes []Change

func (c *changes) str(field, a, b string) {
	if a != b {
		*c = append(*c, Change{field, a, b})
	}
}

func (c *changes) num(field string, a, b any) { c.str(field, fmt.Sprint(a), fmt.Sprint(b)) }

func (c *changes) list(field string, a, b []string) {
	if !slices.Equal(a, b) {
		*c = append(*c, Change{field, "[" + strings.Join(a, ", ") + "]", "[" + strings.Join(b, ", ") + "]"})
	}
}

func vgChanges(a, b *model.VG) []Change {
	c := changes{}
	c.str("name", a.Name, b.Name)
	c.str("id", a.UUID, b.UUID)
	c.str("format", a.Format, b.Format)
	c.list("status", a.Status, b.Status)
	c.list("flags", a.Flags, b.Flags)
	c.list("tags", a.Tags, b.Tags)
	c.str("system_id", a.SystemID, b.SystemID)
	c.str("lock_type", a.LockType, b.LockType)
	c.str("lock_args", a.LockArgs, b.LockArgs)
	c.list("pr", a.PR, b.PR)
	c.num("extent_size", a.ExtentSize, b.ExtentSize)
	c.num("max_lv", a.MaxLV, b.MaxLV)
	c.num("max_pv", a.MaxPV, b.MaxPV)
	c.str("allocation_policy", a.AllocationPolicy, b.AllocationPolicy)
	c.str("profile", a.Profile, b.Profile)
	c.num("metadata_copies", a.MetadataCopies, b.MetadataCopies)
	return c
}

func pvInfo(p *model.PV) PVInfo {
	return PVInfo{Label: p.Label, UUID: p.UUID, Device: p.Device, PECount: p.PECount}
}

func diffPVs(d *VGDiff, a, b *model.VG) {
	for _, pb := range b.PVs {
		pa := a.PVByUUID(pb.UUID)
		if pa == nil {
			d.PVsAdded = append(d.PVsAdded, pvInfo(pb))
			continue
		}
		c := changes{}
		c.str("label", pa.Label, pb.Label)
		c.str("device", pa.Device, pb.Device)
		c.str("device_id_type", pa.DeviceIDType, pb.DeviceIDType)
		c.str("device_id", pa.DeviceID, pb.DeviceID)
		c.list("status", pa.Status, pb.Status)
		c.list("flags", pa.Flags, pb.Flags)
		c.list("tags", pa.Tags, pb.Tags)
		c.num("dev_size", pa.DevSize, pb.DevSize)
		c.num("pe_start", pa.PEStart, pb.PEStart)
		c.num("pe_count", pa.PECount, pb.PECount)
		c.num("ba_start", pa.BAStart, pb.BAStart)
		c.num("ba_size", pa.BASize, pb.BASize)
		if len(c) > 0 {
			d.PVsChanged = append(d.PVsChanged, PVChange{PVInfo: pvInfo(pb), Changes: c})
		}
	}
	for _, pa := range a.PVs {
		if b.PVByUUID(pa.UUID) == nil {
			d.PVsRemoved = append(d.PVsRemoved, pvInfo(pa))
		}
	}
}

func lvInfo(vg *model.VG, lv *model.LV) LVInfo {
	i := LVInfo{Name: lv.Name, UUID: lv.UUID, Visible: lv.Visible(), Extents: lv.ExtentCount(), Size: vg.LVSize(lv), Segments: []SegInfo{}}
	for _, s := range lv.Segments {
		i.Segments = append(i.Segments, segInfo(vg, s))
	}
	return i
}

func segInfo(vg *model.VG, s *model.Segment) SegInfo {
	si := SegInfo{StartExtent: s.StartExtent, ExtentCount: s.ExtentCount, Type: s.Type, Areas: []AreaRef{}}
	for _, a := range s.Areas {
		r := AreaRef{LV: a.LV, Start: a.Start}
		if a.IsPV() {
			r.PVLabel = a.PV
			if pv := vg.PVByLabel(a.PV); pv != nil {
				r.PVUUID = pv.UUID
			}
		}
		si.Areas = append(si.Areas, r)
	}
	return si
}

func diffLVs(d *VGDiff, a, b *model.VG) {
	byUUID := func(vg *model.VG) map[string]*model.LV {
		m := make(map[string]*model.LV, len(vg.LVs))
		for _, lv := range vg.LVs {
			if u := model.BareUUID(lv.UUID); m[u] == nil {
				m[u] = lv // the first of duplicates, as LVByUUID
			}
		}
		return m
	}
	inA, inB := byUUID(a), byUUID(b)
	for _, lb := range b.LVs {
		la := inA[model.BareUUID(lb.UUID)]
		if la == nil {
			d.LVsAdded = append(d.LVsAdded, lvInfo(b, lb))
			continue
		}
		if ch := lvChange(a, b, la, lb); ch != nil {
			d.LVsChanged = append(d.LVsChanged, *ch)
		}
	}
	for _, la := range a.LVs {
		if inB[model.BareUUID(la.UUID)] == nil {
			d.LVsRemoved = append(d.LVsRemoved, lvInfo(a, la))
		}
	}
}

// lvChange compares one LV in both generations; nil when unchanged.
func lvChange(a, b *model.VG, la, lb *model.LV) *LVChange {
	ch := &LVChange{UUID: lb.UUID, Name: lb.Name, OldName: la.Name, Renamed: la.Name != lb.Name,
		OldExtents: la.ExtentCount(), NewExtents: lb.ExtentCount(), OldSize: a.LVSize(la), NewSize: b.LVSize(lb),
		Segments: []SegChange{}}
	ch.Resized = ch.OldExtents != ch.NewExtents || ch.OldSize != ch.NewSize
	c := changes{}
	c.list("status", la.Status, lb.Status)
	c.list("flags", la.Flags, lb.Flags)
	c.list("tags", la.Tags, lb.Tags)
	c.num("creation_time", la.CreationTime, lb.CreationTime)
	c.str("creation_host", la.CreationHost, lb.CreationHost)
	c.str("lock_args", la.LockArgs, lb.LockArgs)
	c.str("allocation_policy", la.AllocationPolicy, lb.AllocationPolicy)
	c.str("profile", la.Profile, lb.Profile)
	c.str("read_ahead", optInt(la.ReadAhead), optInt(lb.ReadAhead))
	c.str("major", optInt(la.Major), optInt(lb.Major))
	c.str("minor", optInt(la.Minor), optInt(lb.Minor))
	ch.Changes = c
	ch.Segments = segChanges(a, b, la, lb)
	if !ch.Renamed && !ch.Resized && len(ch.Changes) == 0 && len(ch.Segments) == 0 {
		return nil
	}
	return ch
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

// segChanges pairs segments by start extent.
func segChanges(a, b *model.VG, la, lb *model.LV) []SegChange {
	out := []SegChange{}
	old := map[uint64]*model.Segment{}
	for _, s := range la.Segments {
		old[s.StartExtent] = s
	}
	seen := map[uint64]bool{}
	for _, sb := range lb.Segments {
		nb := segInfo(b, sb)
		sa := old[sb.StartExtent]
		if sa == nil {
			out = append(out, SegChange{Kind: SegAdded, StartExtent: sb.StartExtent, New: &nb, Changes: []Change{}})
			continue
		}
		seen[sb.StartExtent] = true
		na := segInfo(a, sa)
		c := changes{}
		c.num("extent_count", sa.ExtentCount, sb.ExtentCount)
		if !sameAreas(na.Areas, nb.Areas) {
			c.str("areas", areasText(na.Areas), areasText(nb.Areas))
		}
		c.str("type", sa.Type, sb.Type)
		c.num("stripe_count", sa.StripeCount, sb.StripeCount)
		c.num("stripe_size", sa.StripeSize, sb.StripeSize)
		c.list("tags", sa.Tags, sb.Tags)
		paramChanges(&c, sa.Params, sb.Params)
		if len(c) == 0 {
			continue
		}
		kind := SegChanged
		switch {
		case !sameAreas(na.Areas, nb.Areas):
			kind = SegMoved
		case sa.ExtentCount != sb.ExtentCount:
			kind = SegResized
		}
		out = append(out, SegChange{Kind: kind, StartExtent: sb.StartExtent, Old: &na, New: &nb, Changes: c})
	}
	for _, sa := range la.Segments {
		if !seen[sa.StartExtent] {
			na := segInfo(a, sa)
			out = append(out, SegChange{Kind: SegRemoved, StartExtent: sa.StartExtent, Old: &na, Changes: []Change{}})
		}
	}
	slices.SortStableFunc(out, func(x, y SegChange) int {
		switch {
		case x.StartExtent < y.StartExtent:
			return -1
		case x.StartExtent > y.StartExtent:
			return 1
		}
		return 0
	})
	return out
}

// sameAreas compares areas by PV UUID (labels are local to a generation)
// or LV name, and start.
func sameAreas(a, b []AreaRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if model.BareUUID(a[i].PVUUID) != model.BareUUID(b[i].PVUUID) || a[i].LV != b[i].LV || a[i].Start != b[i].Start {
			return false
		}
	}
	return true
}

func areasText(as []AreaRef) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

// handled are segment keys compared on their own.
var handled = map[string]bool{"start_extent": true, "extent_count": true, "type": true, "stripe_count": true,
	"stripe_size": true, "stripes": true, "mirrors": true, "raids": true, "raid0_lvs": true, "tags": true}

// paramChanges compares the other keys of two segments, verbatim.
func paramChanges(c *changes, a, b []model.Param) {
	va, vb := map[string]string{}, map[string]string{}
	var keys []string
	for _, p := range a {
		if _, ok := va[p.Key]; !ok && !handled[p.Key] {
			va[p.Key] = fmt.Sprint(p.Value)
			keys = append(keys, p.Key)
		}
	}
	for _, p := range b {
		if _, ok := vb[p.Key]; !ok && !handled[p.Key] {
			vb[p.Key] = fmt.Sprint(p.Value)
			if _, ok := va[p.Key]; !ok {
				keys = append(keys, p.Key)
			}
		}
	}
	for _, k := range keys {
		c.str(k, va[k], vb[k])
	}
}
