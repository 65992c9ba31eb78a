package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export/lvfacts"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// The pvs, vgs and lvs commands: LVM's reports, read from disks.

// reportKind is one of the three reports.
type reportKind int

const (
	reportPV reportKind = iota
	reportVG
	reportLV
)

// repVal is one cell: a size (formatted with --units), a number, or text.
type repVal struct {
	s    string
	size *big.Int
	num  bool // right-aligned
}

func rText(s string) repVal { return repVal{s: s} }
func rNum(n int64) repVal   { return repVal{s: strconv.FormatInt(n, 10), num: true} }
func rUnum(n uint64) repVal { return repVal{s: strconv.FormatUint(n, 10), num: true} }
func rSize(n int64) repVal  { return repVal{size: big.NewInt(n), num: true} }

// rBytes is the size of n units (extents, sectors) of unit bytes, exact
// however many the metadata claims.
func rBytes(n uint64, unit int64) repVal { return repVal{size: format.Product(n, unit), num: true} }
func rPct(p *float64) repVal             { return repVal{s: repPct(p), num: true} }

func repPct(p *float64) string {
	if p == nil {
		return ""
	}
	return format.Percent(*p)
}

// repField is one column LVM knows by name.
type repField struct {
	name, head, desc string
	seg              bool // a segment field: lvs reports a row per segment
	io               bool // needs reading pool metadata or COW stores
	pv               func(*pvRow) repVal
	vg               func(*vgRow) repVal
	lv               func(*lvRow) repVal
}

type pvRow struct {
	name string
	vg   *scan.VG  // nil for a PV in no VG
	meta *model.PV // nil for a PV in no VG
	pv   *scan.PV  // nil when missing
	used uint64    // extents in use
}

type vgRow struct {
	vg   *scan.VG
	used uint64 // extents in use
}

type lvRow struct {
	vg    *scan.VG
	lv    *model.LV
	seg   *model.Segment // nil for an LV without segments
	f     *lvfacts.Facts
	names map[string]string // PV label -> name shown
}

// pvName is how a PV is named in the reports: the input path, with the
// partition number for a PV in a partition (Linux names for devices,
// "PATH:pN" for image files) and "@OFFSET" for one carving found
// elsewhere.
func pvName(pv *scan.PV) string {
	switch {
	case pv.Partition > 0 && pv.Input != nil && pv.Input.IsDevice:
		if last := pv.Path[len(pv.Path)-1]; last >= '0' && last <= '9' {
			return pv.Path + "p" + strconv.Itoa(pv.Partition)
		}
		return pv.Path + strconv.Itoa(pv.Partition)
	case pv.Partition > 0:
		return pv.Path + ":p" + strconv.Itoa(pv.Partition)
	case pv.Offset != 0:
		return pv.Path + "@" + strconv.FormatInt(pv.Offset, 10)
	}
	return pv.Path
}

// unknownPV is LVM's name for a PV of a VG that is not found.
const unknownPVName = "[unknown]"

// pvNames maps a VG's PV labels to their report names.
func pvNames(vg *scan.VG) map[string]string {
	out := map[string]string{}
	for _, p := range vg.PVs {
		if p.PV != nil {
			out[p.Meta.Label] = pvName(p.PV)
		} else {
			out[p.Meta.Label] = unknownPVName
		}
	}
	return out
}

// usedExtents counts the extents in use on each PV (by label): those
// model.FreeExtents does not count free.
func usedExtents(vg *model.VG) map[string]uint64 {
	_, free := vg.FreeExtents()
	out := map[string]uint64{}
	for _, pv := range vg.PVs {
		out[pv.Label] = pv.PECount - min(free[pv.Label], pv.PECount)
	}
	return out
}

func repList(l []string) string { return strings.Join(l, ",") }

// lvBracket names an LV as lvs does: hidden LVs in [brackets].
func lvBracket(vg *model.VG, name string) string {
	if name == "" {
		return ""
	}
	if lv := vg.LV(name); lv != nil && !vg.Shown(lv) {
		return "[" + name + "]"
	}
	return name
}

// segAreas lists the areas of the row's segment that lvs's devices and
// ranges fields show: its data areas (meta: raid metadata areas), or the
// data sub-LV a pool or cache names in a key.
func segAreas(r *lvRow, meta bool) []model.Area {
	s := r.seg
	if s == nil {
		return nil
	}
	if meta {
		return s.MetaAreas
	}
	if len(s.Areas) > 0 {
		return s.Areas
	}
	// Pools and caches name their data sub-LV in a key, not an area.
	var n string
	switch {
	case s.ThinPool != nil:
		n = s.ThinPool.Pool
	case s.CachePool != nil:
		n = s.CachePool.Data
	case s.Cache != nil:
		n = s.Cache.Origin
	case s.Writecache != nil:
		n = s.Writecache.Origin
	case s.VDOPool != nil:
		n = s.VDOPool.Data
	case s.Integrity != nil:
		n = s.Integrity.Origin
	}
	if n == "" {
		return nil
	}
	return []model.Area{{LV: n}}
}

func repAreaName(r *lvRow, a model.Area) string {
	if a.IsPV() {
		if n, ok := r.names[a.PV]; ok {
			return n
		}
		return unknownPVName
	}
	return a.LV
}

// segDevices is lvs's devices field: "name(first extent)" for each area.
func segDevices(r *lvRow, meta bool) string {
	var out []string
	for _, a := range segAreas(r, meta) {
		if a.LV == "" && a.PV == "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s(%d)", repAreaName(r, a), a.Start))
	}
	return strings.Join(out, ",")
}

// segRanges lists a segment's areas as extent ranges: seg_pe_ranges
// ("pv:0-31 sub_lv:0-7", space-separated, plain names) or with le,
// seg_le_ranges ("[sub_lv]:0-7,..." with hidden LVs bracketed).
func segRanges(r *lvRow, meta, le bool) string {
	var out []string
	for _, a := range segAreas(r, meta) {
		n := model.AreaExtents(r.seg)
		if sub := r.vg.Meta.LV(a.LV); sub != nil && r.seg.Kind() != model.KindStriped {
			// A layer's area is its whole sub-LV (raid image, pool data).
			n = max(sub.ExtentCount(), a.Start) - a.Start
		}
		if a.LV == "" && a.PV == "" || n == 0 {
			continue
		}
		name := repAreaName(r, a)
		if le && !a.IsPV() {
			name = lvBracket(r.vg.Meta, name)
		}
		out = append(out, fmt.Sprintf("%s:%d-%d", name, a.Start, a.Start+n-1))
	}
	if le {
		return strings.Join(out, ",")
	}
	return strings.Join(out, " ")
}

func (r *lvRow) ext() int64 { return r.vg.Meta.ExtentBytes() }

// segStripes is lvs's stripes field: stripes, raid images, mirror legs;
// 1 for layers over one sub-LV, 0 for thin and virtual segments.
func segStripes(s *model.Segment) int64 {
	if s == nil {
		return 0
	}
	switch s.Kind() {
	case model.KindThin, model.KindVDO, model.KindZero, model.KindError:
		return 0
	case model.KindStriped, model.KindRAID, model.KindMirror:
		return int64(len(s.Areas))
	}
	return 1
}

func segStripeSize(s *model.Segment) int64 {
	if s == nil || s.Kind() != model.KindStriped && s.Kind() != model.KindRAID {
		return 0
	}
	if s.Kind() == model.KindStriped && len(s.Areas) < 2 {
		return 0
	}
	return int64(s.StripeSize) * model.SectorSize
}

func segRegion(s *model.Segment) int64 {
	switch {
	case s == nil:
	case s.RAID != nil:
		return int64(s.RAID.RegionSize) * model.SectorSize
	case s.Mirror != nil:
		return int64(s.Mirror.RegionSize) * model.SectorSize
	}
	return 0
}

func segChunk(r *lvRow) int64 {
	s := r.seg
	switch {
	case r.f.Snapshot != nil:
		return r.f.Snapshot.ChunkSize
	case s == nil:
	case s.ThinPool != nil:
		return int64(s.ThinPool.ChunkSize) * model.SectorSize
	case s.CachePool != nil, s.Cache != nil:
		if r.f.Cache != nil {
			return r.f.Cache.ChunkSize
		}
	}
	return 0
}

func lvLayout(r *lvRow) string {
	if r.f.Role == "cachevol" {
		if u := r.vg.Meta.LV(r.f.UsedBy); u != nil && hasWritecache(u) {
			return "writecache,cachevol"
		}
		return "cache,cachevol"
	}
	s := r.lv.Segments
	if len(s) == 0 {
		return ""
	}
	switch k := s[0].Kind(); k {
	case model.KindStriped:
		return format.SegType(s[0])
	case model.KindRAID:
		base := s[0].BaseType
		level, _, _ := strings.Cut(base, "_")
		if p := s[0].RAID; p != nil && p.Level != "" {
			level = p.Level
		}
		switch {
		case level != "raid4" && level != "raid5" && level != "raid6":
			return "raid," + level
		case strings.Contains(base, "_"):
			return "raid," + level + "," + base
		case s[0].RAID != nil && s[0].RAID.Layout != "":
			return "raid," + level + "," + level + "_" + s[0].RAID.Layout
		}
		return "raid," + level
	case model.KindThinPool:
		return "thin,pool"
	case model.KindThin:
		return "thin,sparse"
	case model.KindCachePool:
		return "cache,pool"
	}
	return s[0].BaseType
}

func hasWritecache(lv *model.LV) bool {
	for _, s := range lv.Segments {
		if s.Writecache != nil {
			return true
		}
	}
	return false
}

func repTime(t int64) string {
	if t == 0 {
		return ""
	}
	return format.Time(t)
}

func repCache(r *lvRow, get func(*lvfacts.Cache) repVal) repVal {
	if r.f.Cache == nil {
		return rText("")
	}
	return get(r.f.Cache)
}

// The fields of each report, in LVM's names and headings.
var pvFields = []repField{
	{name: "pv_name", head: "PV", desc: "the input holding the PV ([unknown] when missing)", pv: func(r *pvRow) repVal { return rText(r.name) }},
	{name: "vg_name", head: "VG", desc: "its VG", pv: func(r *pvRow) repVal {
		if r.vg == nil {
			return rText("")
		}
		return rText(r.vg.Meta.Name)
	}},
	{name: "pv_fmt", head: "Fmt", desc: "metadata format", pv: func(r *pvRow) repVal { return rText("lvm2") }},
	{name: "pv_attr", head: "Attr", desc: "(a)llocatable or (u)sed, e(x)ported, (m)issing", pv: func(r *pvRow) repVal {
		var vg *model.VG
		if r.vg != nil {
			vg = r.vg.Meta
		}
		return rText(lvfacts.PVAttr(vg, r.meta, r.pv == nil))
	}},
	{name: "pv_size", head: "PSize", desc: "usable size: extents × extent size", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return pvDevSize(r)
		}
		return rBytes(r.meta.PECount, r.vg.Meta.ExtentBytes())
	}},
	{name: "pv_free", head: "PFree", desc: "extents not in use × extent size", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return pvDevSize(r)
		}
		return rBytes(r.meta.PECount-min(r.used, r.meta.PECount), r.vg.Meta.ExtentBytes())
	}},
	{name: "pv_used", head: "Used", desc: "extents in use × extent size", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rSize(0)
		}
		return rBytes(r.used, r.vg.Meta.ExtentBytes())
	}},
	{name: "pv_uuid", head: "PV UUID", desc: "PV UUID", pv: func(r *pvRow) repVal {
		if r.meta != nil {
			return rText(r.meta.UUID)
		}
		return rText(r.pv.UUID())
	}},
	{name: "dev_size", head: "DevSize", desc: "size of the device the PV is on", pv: func(r *pvRow) repVal { return pvDevSize(r) }},
	{name: "pe_start", head: "1st PE", desc: "offset of the first extent", pv: func(r *pvRow) repVal {
		if r.meta != nil {
			return rBytes(r.meta.PEStart, model.SectorSize)
		}
		if r.pv != nil && r.pv.Label != nil && r.pv.Label.Header != nil && len(r.pv.Label.Header.DataAreas) > 0 {
			return rBytes(r.pv.Label.Header.DataAreas[0].Offset, 1)
		}
		return rSize(0)
	}},
	{name: "pv_pe_count", head: "PE", desc: "extents", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rNum(0)
		}
		return rUnum(r.meta.PECount)
	}},
	{name: "pv_pe_alloc_count", head: "Alloc", desc: "extents in use", pv: func(r *pvRow) repVal { return rUnum(r.used) }},
	{name: "pv_mda_count", head: "#PMda", desc: "metadata areas", pv: func(r *pvRow) repVal {
		n, _, _ := mdaCounts(r.pv)
		return rNum(int64(n))
	}},
	{name: "pv_mda_used_count", head: "#PMdaUse", desc: "metadata areas in use (not ignored)", pv: func(r *pvRow) repVal {
		_, n, _ := mdaCounts(r.pv)
		return rNum(int64(n))
	}},
	{name: "pv_mda_size", head: "PMdaSize", desc: "size of the smallest metadata area", pv: func(r *pvRow) repVal {
		_, _, s := mdaCounts(r.pv)
		return rSize(s)
	}},
	{name: "pv_ba_start", head: "BA Start", desc: "bootloader area offset", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rSize(0)
		}
		return rBytes(r.meta.BAStart, model.SectorSize)
	}},
	{name: "pv_ba_size", head: "BA Size", desc: "bootloader area size", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rSize(0)
		}
		return rBytes(r.meta.BASize, model.SectorSize)
	}},
	{name: "pv_ext_vsn", head: "PExtVsn", desc: "pv_header extension version", pv: func(r *pvRow) repVal {
		if r.pv == nil || r.pv.Label == nil || r.pv.Label.Header == nil {
			return rText("")
		}
		return rNum(int64(r.pv.Label.Header.ExtVersion))
	}},
	{name: "pv_tags", head: "PV Tags", desc: "tags", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rText("")
		}
		return rText(repList(r.meta.Tags))
	}},
	{name: "pv_missing", head: "Missing", desc: "the VG names the PV but no input holds it", pv: func(r *pvRow) repVal {
		if r.pv == nil {
			return rText("missing")
		}
		return rText("")
	}},
	{name: "pv_device_hint", head: "Device", desc: "the device LVM last saw the PV on (the metadata's device)", pv: func(r *pvRow) repVal {
		if r.meta == nil {
			return rText("")
		}
		return rText(r.meta.Device)
	}},
}

func pvDevSize(r *pvRow) repVal {
	if r.meta != nil && r.meta.DevSize > 0 {
		return rBytes(r.meta.DevSize, model.SectorSize)
	}
	if r.pv != nil && r.pv.Label != nil && r.pv.Label.Header != nil {
		return rBytes(r.pv.Label.Header.DeviceSize, 1)
	}
	return rSize(0)
}

// mdaCounts: metadata areas, those not ignored, and the smallest size.
func mdaCounts(pv *scan.PV) (n, used int, smallest int64) {
	if pv == nil {
		return 0, 0, 0
	}
	for _, m := range pv.MDAs {
		n++
		if m.Header == nil || len(m.Header.Slots) == 0 || !m.Header.Slots[0].Ignored() {
			used++
		}
		if s := int64(m.Locn.Size); smallest == 0 || s < smallest {
			smallest = s
		}
	}
	return n, used, smallest
}

var vgFields = []repField{
	{name: "vg_name", head: "VG", desc: "VG name", vg: func(r *vgRow) repVal { return rText(r.vg.Meta.Name) }},
	{name: "pv_count", head: "#PV", desc: "PVs", vg: func(r *vgRow) repVal { return rNum(int64(len(r.vg.Meta.PVs))) }},
	{name: "lv_count", head: "#LV", desc: "LVs lvs shows without -a", vg: func(r *vgRow) repVal {
		n := 0
		for _, lv := range r.vg.Meta.LVs {
			if r.vg.Meta.Shown(lv) {
				n++
			}
		}
		return rNum(int64(n))
	}},
	{name: "snap_count", head: "#SN", desc: "old-style snapshots", vg: func(r *vgRow) repVal {
		n := 0
		for _, lv := range r.vg.Meta.LVs {
			for _, s := range lv.Segments {
				if s.Snapshot != nil {
					n++
					break
				}
			}
		}
		return rNum(int64(n))
	}},
	{name: "vg_attr", head: "Attr", desc: "(w)riteable/(r)ead-only, resi(z)eable, e(x)ported, (p)artial, allocation policy, (c)lustered/(s)hared", vg: func(r *vgRow) repVal {
		return rText(lvfacts.VGAttrPartial(r.vg.Meta, vgPartial(r.vg)))
	}},
	{name: "vg_size", head: "VSize", desc: "extents × extent size", vg: func(r *vgRow) repVal { return rBytes(vgExtents(r.vg.Meta), r.vg.Meta.ExtentBytes()) }},
	{name: "vg_free", head: "VFree", desc: "free extents × extent size", vg: func(r *vgRow) repVal {
		t := vgExtents(r.vg.Meta)
		return rBytes(t-min(r.used, t), r.vg.Meta.ExtentBytes())
	}},
	{name: "vg_uuid", head: "VG UUID", desc: "VG UUID", vg: func(r *vgRow) repVal { return rText(r.vg.Meta.UUID) }},
	{name: "vg_fmt", head: "Fmt", desc: "metadata format", vg: func(r *vgRow) repVal { return rText("lvm2") }},
	{name: "vg_extent_size", head: "Ext", desc: "extent size", vg: func(r *vgRow) repVal { return rSize(r.vg.Meta.ExtentBytes()) }},
	{name: "vg_extent_count", head: "#Ext", desc: "extents", vg: func(r *vgRow) repVal { return rUnum(vgExtents(r.vg.Meta)) }},
	{name: "vg_free_count", head: "Free", desc: "free extents", vg: func(r *vgRow) repVal {
		t := vgExtents(r.vg.Meta)
		return rUnum(t - min(r.used, t))
	}},
	{name: "vg_seqno", head: "Seq", desc: "metadata generation", vg: func(r *vgRow) repVal { return rUnum(r.vg.Meta.Seqno) }},
	{name: "vg_mda_count", head: "#VMda", desc: "metadata areas on the PVs found", vg: func(r *vgRow) repVal {
		n, _, _ := vgMdas(r.vg)
		return rNum(int64(n))
	}},
	{name: "vg_mda_used_count", head: "#VMdaUse", desc: "metadata areas in use (not ignored)", vg: func(r *vgRow) repVal {
		_, n, _ := vgMdas(r.vg)
		return rNum(int64(n))
	}},
	{name: "vg_mda_size", head: "VMdaSize", desc: "size of the smallest metadata area", vg: func(r *vgRow) repVal {
		_, _, s := vgMdas(r.vg)
		return rSize(s)
	}},
	{name: "vg_mda_copies", head: "#VMdaCps", desc: "metadata copies wanted", vg: func(r *vgRow) repVal {
		if r.vg.Meta.MetadataCopies == 0 {
			return rText("unmanaged")
		}
		return rNum(r.vg.Meta.MetadataCopies)
	}},
	{name: "vg_tags", head: "VG Tags", desc: "tags", vg: func(r *vgRow) repVal { return rText(repList(r.vg.Meta.Tags)) }},
	{name: "vg_systemid", head: "System ID", desc: "system ID", vg: func(r *vgRow) repVal { return rText(r.vg.Meta.SystemID) }},
	{name: "vg_lock_type", head: "LockType", desc: "lock type", vg: func(r *vgRow) repVal { return rText(r.vg.Meta.LockType) }},
	{name: "vg_allocation_policy", head: "AllocPol", desc: "allocation policy", vg: func(r *vgRow) repVal {
		if r.vg.Meta.AllocationPolicy == "" {
			return rText("normal")
		}
		return rText(r.vg.Meta.AllocationPolicy)
	}},
	{name: "max_lv", head: "MaxLV", desc: "LV limit (0: none)", vg: func(r *vgRow) repVal { return rNum(r.vg.Meta.MaxLV) }},
	{name: "max_pv", head: "MaxPV", desc: "PV limit (0: none)", vg: func(r *vgRow) repVal { return rNum(r.vg.Meta.MaxPV) }},
	{name: "vg_missing_pv_count", head: "#PV Missing", desc: "PVs no input holds", vg: func(r *vgRow) repVal {
		n := 0
		for _, p := range r.vg.PVs {
			if p.Missing {
				n++
			}
		}
		return rNum(int64(n))
	}},
}

func vgPartial(vg *scan.VG) bool {
	for _, p := range vg.PVs {
		if p.Missing {
			return true
		}
	}
	return false
}

func vgExtents(vg *model.VG) uint64 { return vg.TotalExtents() }

func vgMdas(vg *scan.VG) (n, used int, smallest int64) {
	for _, p := range vg.PVs {
		a, b, s := mdaCounts(p.PV)
		n += a
		used += b
		if s > 0 && (smallest == 0 || s < smallest) {
			smallest = s
		}
	}
	return n, used, smallest
}

var lvFields = []repField{
	{name: "lv_name", head: "LV", desc: "LV name (hidden LVs in [brackets])", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.lv.Name)) }},
	{name: "vg_name", head: "VG", desc: "VG name", lv: func(r *lvRow) repVal { return rText(r.vg.Meta.Name) }},
	{name: "lv_full_name", head: "LV", desc: "VG/LV", lv: func(r *lvRow) repVal { return rText(r.vg.Meta.Name + "/" + r.lv.Name) }},
	{name: "lv_attr", head: "Attr", desc: "attributes; the 5th (state) and 6th (open) characters are the kernel's and always '-' here, see --help", lv: func(r *lvRow) repVal { return rText(r.f.Attr) }},
	{name: "lv_size", head: "LSize", desc: "extents × extent size (an old-style snapshot: its COW store's size, as lvs)", lv: func(r *lvRow) repVal { return rBytes(r.lv.ExtentCount(), r.ext()) }},
	{name: "pool_lv", head: "Pool", desc: "thin pool, cache pool or cachevol", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.f.Pool)) }},
	{name: "origin", head: "Origin", desc: "snapshot origin, cache origin", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.f.Origin)) }},
	{name: "origin_size", head: "OSize", desc: "an old-style snapshot's origin size: the size it presents", lv: func(r *lvRow) repVal {
		if r.f.Snapshot == nil {
			return rText("")
		}
		return rSize(r.f.Snapshot.OriginSize)
	}},
	{name: "data_percent", head: "Data%", io: true, desc: "share in use read from disk: thin pool data, thin LV mapped blocks, snapshot COW store, cache blocks", lv: func(r *lvRow) repVal { return rPct(r.f.DataPercent) }},
	{name: "snap_percent", head: "Snap%", io: true, desc: "an old-style snapshot's COW store in use", lv: func(r *lvRow) repVal {
		if r.f.Snapshot == nil {
			return rText("")
		}
		return rPct(r.f.DataPercent)
	}},
	{name: "metadata_percent", head: "Meta%", io: true, desc: "thin pool metadata in use (with the kernel's reserve, as lvs)", lv: func(r *lvRow) repVal { return rPct(r.f.MetaPercent) }},
	{name: "move_pv", head: "Move", desc: "pvmove source", lv: func(r *lvRow) repVal { return rText("") }},
	{name: "mirror_log", head: "Log", desc: "mirror log LV", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.f.MirrorLog)) }},
	{name: "data_lv", head: "Data", desc: "pool data sub-LV", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.f.DataLV)) }},
	{name: "metadata_lv", head: "Meta", desc: "pool metadata sub-LV", lv: func(r *lvRow) repVal { return rText(lvBracket(r.vg.Meta, r.f.MetaLV)) }},
	{name: "lv_uuid", head: "LV UUID", desc: "LV UUID", lv: func(r *lvRow) repVal { return rText(r.lv.UUID) }},
	{name: "lv_tags", head: "LV Tags", desc: "tags", lv: func(r *lvRow) repVal { return rText(repList(r.lv.Tags)) }},
	{name: "lv_layout", head: "Layout", desc: "layout", lv: func(r *lvRow) repVal { return rText(lvLayout(r)) }},
	{name: "lv_role", head: "Role", desc: "how another LV uses it (lvminspect's words)", lv: func(r *lvRow) repVal { return rText(r.f.Role) }},
	{name: "lv_path", head: "Path", desc: "/dev/VG/LV for LVs lvs shows", lv: func(r *lvRow) repVal {
		if r.f.Hidden {
			return rText("")
		}
		return rText("/dev/" + r.vg.Meta.Name + "/" + r.lv.Name)
	}},
	{name: "lv_dm_path", head: "DMPath", desc: "/dev/mapper name", lv: func(r *lvRow) repVal {
		d := func(s string) string { return strings.ReplaceAll(s, "-", "--") }
		return rText("/dev/mapper/" + d(r.vg.Meta.Name) + "-" + d(r.lv.Name))
	}},
	{name: "lv_time", head: "CTime", desc: "creation time (UTC)", lv: func(r *lvRow) repVal { return rText(repTime(r.lv.CreationTime)) }},
	{name: "lv_host", head: "Host", desc: "creation host", lv: func(r *lvRow) repVal { return rText(r.lv.CreationHost) }},
	{name: "lv_allocation_policy", head: "AllocPol", desc: "allocation policy", lv: func(r *lvRow) repVal {
		if r.lv.AllocationPolicy == "" {
			return rText("inherit")
		}
		return rText(r.lv.AllocationPolicy)
	}},
	{name: "lv_presented_size", head: "PSize", desc: "the size the LV presents (an old-style snapshot: its origin's); lvminspect's own field", lv: func(r *lvRow) repVal { return rSize(r.f.Size) }},
	{name: "lv_type", head: "LType", desc: "what the LV is (snapshot for an old-style snapshot); lvminspect's own field", lv: func(r *lvRow) repVal { return rText(r.f.Type) }},
	{name: "seg_count", head: "#Seg", desc: "segments", lv: func(r *lvRow) repVal { return rNum(int64(len(r.lv.Segments))) }},
	{name: "transaction_id", head: "TransId", io: true, desc: "thin pool transaction id (pool superblock)", lv: func(r *lvRow) repVal {
		if r.f.ThinPool == nil {
			return rText("")
		}
		if !r.f.ThinPool.Read {
			return rUnum(r.f.ThinPool.MetadataTransactionID)
		}
		return rUnum(r.f.ThinPool.TransactionID)
	}},
	{name: "thin_id", head: "ThId", desc: "thin device id", lv: func(r *lvRow) repVal {
		if r.f.Thin == nil {
			return rText("")
		}
		return rUnum(r.f.Thin.DeviceID)
	}},
	{name: "thin_count", head: "#Thins", desc: "thin LVs of a pool", lv: func(r *lvRow) repVal {
		if r.f.ThinPool == nil {
			return rText("")
		}
		return rNum(int64(r.f.ThinPool.ThinLVs))
	}},
	{name: "zero", head: "Zero", desc: "a thin pool zeroes new blocks", lv: func(r *lvRow) repVal {
		if r.f.ThinPool == nil {
			return rText("")
		}
		if r.f.ThinPool.Zero {
			return rText("zero")
		}
		return rText("")
	}},
	{name: "discards", head: "Discards", desc: "thin pool discards", lv: func(r *lvRow) repVal {
		if r.f.ThinPool == nil {
			return rText("")
		}
		return rText(r.f.ThinPool.Discards)
	}},
	{name: "cache_mode", head: "CacheMode", desc: "cache mode", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal { return rText(c.Mode) })
	}},
	{name: "cache_policy", head: "CachePolicy", desc: "cache policy", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal { return rText(c.Policy) })
	}},
	{name: "cache_total_blocks", head: "CacheTotalBlocks", io: true, desc: "cache blocks", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal {
			if !c.Read || c.Kind == "writecache" {
				return rText("")
			}
			return rUnum(c.Blocks)
		})
	}},
	{name: "cache_used_blocks", head: "CacheUsedBlocks", io: true, desc: "cache blocks holding data (at rest)", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal {
			if !c.Read || c.Kind == "writecache" {
				return rText("")
			}
			return rUnum(c.Used)
		})
	}},
	{name: "cache_dirty_blocks", head: "CacheDirtyBlocks", io: true, desc: "dirty cache blocks (at rest)", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal {
			if !c.Read || c.Kind == "writecache" {
				return rText("")
			}
			return rUnum(c.Dirty)
		})
	}},
	{name: "writecache_total_blocks", head: "WCacheTotalBlocks", io: true, desc: "writecache blocks", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal {
			if !c.Read || c.Kind != "writecache" {
				return rText("")
			}
			return rUnum(c.Blocks)
		})
	}},
	{name: "writecache_free_blocks", head: "WCacheFreeBlocks", io: true, desc: "writecache blocks free; the others hold blocks not yet written back (at rest)", lv: func(r *lvRow) repVal {
		return repCache(r, func(c *lvfacts.Cache) repVal {
			if !c.Read || c.Kind != "writecache" {
				return rText("")
			}
			return rUnum(c.Blocks - min(c.Used, c.Blocks))
		})
	}},
	{name: "segtype", head: "Type", seg: true, desc: "segment type", lv: func(r *lvRow) repVal { return rText(format.SegType(r.seg)) }},
	{name: "stripes", head: "#Str", seg: true, desc: "stripes, raid images or mirror legs", lv: func(r *lvRow) repVal { return rNum(segStripes(r.seg)) }},
	{name: "stripe_size", head: "Stripe", seg: true, desc: "stripe size", lv: func(r *lvRow) repVal { return rSize(segStripeSize(r.seg)) }},
	{name: "region_size", head: "Region", seg: true, desc: "raid/mirror region size", lv: func(r *lvRow) repVal { return rSize(segRegion(r.seg)) }},
	{name: "chunk_size", head: "Chunk", seg: true, desc: "snapshot, thin pool or cache chunk size", lv: func(r *lvRow) repVal { return rSize(segChunk(r)) }},
	{name: "seg_start", head: "Start", seg: true, desc: "segment offset in the LV", lv: func(r *lvRow) repVal {
		if r.seg == nil {
			return rSize(0)
		}
		return rBytes(r.seg.StartExtent, r.ext())
	}},
	{name: "seg_start_pe", head: "Start", seg: true, desc: "segment's first extent in the LV", lv: func(r *lvRow) repVal {
		if r.seg == nil {
			return rNum(0)
		}
		return rUnum(r.seg.StartExtent)
	}},
	{name: "seg_size", head: "SSize", seg: true, desc: "segment size", lv: func(r *lvRow) repVal {
		if r.seg == nil {
			return rSize(0)
		}
		return rBytes(r.seg.ExtentCount, r.ext())
	}},
	{name: "seg_size_pe", head: "SSize", seg: true, desc: "segment size in extents", lv: func(r *lvRow) repVal {
		if r.seg == nil {
			return rNum(0)
		}
		return rUnum(r.seg.ExtentCount)
	}},
	{name: "devices", head: "Devices", seg: true, desc: "where the segment's data lives: PV(first extent) or sub-LV(first extent)", lv: func(r *lvRow) repVal { return rText(segDevices(r, false)) }},
	{name: "metadata_devices", head: "Metadata Devs", seg: true, desc: "raid metadata sub-LVs", lv: func(r *lvRow) repVal { return rText(segDevices(r, true)) }},
	{name: "seg_pe_ranges", head: "PE Ranges", seg: true, desc: "extent ranges", lv: func(r *lvRow) repVal { return rText(segRanges(r, false, false)) }},
	{name: "seg_le_ranges", head: "LE Ranges", seg: true, desc: "extent ranges, hidden LVs in [brackets]", lv: func(r *lvRow) repVal { return rText(segRanges(r, false, true)) }},
	{name: "seg_metadata_le_ranges", head: "Metadata LE Ranges", seg: true, desc: "raid metadata extent ranges", lv: func(r *lvRow) repVal { return rText(segRanges(r, true, true)) }},
}

var reportDefaults = map[reportKind]string{
	reportPV: "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free",
	reportVG: "vg_name,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free",
	reportLV: "vg_name,lv_name,lv_attr,lv_size,pool_lv,origin,data_percent,metadata_percent,devices",
}

func fieldsOf(k reportKind) []repField {
	switch k {
	case reportPV:
		return pvFields
	case reportVG:
		return vgFields
	}
	return lvFields
}

// repPrefixes LVM lets a field name drop, by report.
var repPrefixes = map[reportKind][]string{
	reportPV: {"pv_", "pvseg_"},
	reportVG: {"vg_"},
	reportLV: {"lv_", "seg_"},
}

func lookupField(k reportKind, name string) (repField, bool) {
	fs := fieldsOf(k)
	for _, try := range append([]string{name}, func() []string {
		var out []string
		for _, p := range repPrefixes[k] {
			out = append(out, p+name)
		}
		return out
	}()...) {
		for _, f := range fs {
			if f.name == try {
				return f, true
			}
		}
	}
	return repField{}, false
}

// selectFields resolves the -o options: a list replaces the default
// columns, a list starting with "+" adds to them.
func selectFields(k reportKind, opts []string) ([]repField, error) {
	names := strings.Split(reportDefaults[k], ",")
	for _, o := range opts {
		add := strings.HasPrefix(o, "+")
		o = strings.TrimPrefix(o, "+")
		var list []string
		for _, n := range strings.Split(o, ",") {
			if n = strings.TrimSpace(n); n != "" {
				list = append(list, n)
			}
		}
		if add {
			names = append(names, list...)
		} else {
			names = list
		}
	}
	var out []repField
	for _, n := range names {
		f, ok := lookupField(k, n)
		if !ok {
			return nil, &exitError{code: 2, err: fmt.Errorf("unknown field %q (-o help lists them)", n)}
		}
		out = append(out, f)
	}
	return out, nil
}

type reportOpts struct {
	units    string
	nosuffix bool
	options  []string
	all      bool
	segments bool
	json     bool
	format   string
	noheads  bool
	sep      string
	seqno    uint64
	seqnoSet bool
	scan     scan.Options
}

const reportHelpTail = `
Sizes are shown as LVM shows them: two decimals in the fitting unit, and
"<" when the number shown is larger than the exact size (--units r, the
default; --units h without the mark; b for bytes, s for 512-byte sectors,
k m g t p e for 1024-based, K M G T P E for 1000-based units).

-o names the columns with LVM's field names (-o help lists them); -o +FIELD
adds to the default columns. --json prints LVM's --reportformat json shape,
every value a string.

Read from disks, not from a running system: what only the kernel knows is
never guessed. The lv_attr state (5th) and open (6th) characters are always
'-'; the 9th (health) is 'p' when a PV the LV needs is missing and 'w' for a
writemostly image, '-' otherwise (raid sync state, mismatches and a pool's
kernel state cannot be known). Data% and Meta% are read from the pools'
metadata and the snapshots' exception stores as they were last written;
empty when they could not be read.

Exit status: 0 when something was found, 1 when nothing was, 2 for a usage
error or an input that cannot be opened.`

func newReportCmd(k reportKind) *cobra.Command {
	var o reportOpts
	use, short := "pvs", "Report physical volumes as LVM's pvs does"
	switch k {
	case reportVG:
		use, short = "vgs", "Report volume groups as LVM's vgs does"
	case reportLV:
		use, short = "lvs", "Report logical volumes as LVM's lvs -a -o +devices does"
	}
	long := map[reportKind]string{
		reportPV: `pvs reads each PATH read-only and lists the physical volumes found, with
LVM's default columns: PV, VG, Fmt, Attr, PSize, PFree. A PV the metadata
names but no PATH holds is listed as [unknown] with attr "m".`,
		reportVG: `vgs reads each PATH read-only and lists the volume groups assembled across
them, with LVM's default columns: VG, #PV, #LV, #SN, Attr, VSize, VFree.`,
		reportLV: `lvs reads each PATH read-only and lists every logical volume, hidden ones in
[brackets] as lvs -a does, with the columns of lvs -a -o +devices: VG, LV,
Attr, LSize, Pool, Origin, Data%, Meta%, Devices. Like LVM, a column of a
segment (devices, segtype, stripes...) gives one row per segment.`,
	}[k]
	cmd := &cobra.Command{
		Use:   use + " [flags] PATH...",
		Short: short,
		Long:  long + "\n" + reportHelpTail,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !repHelpOnly(o.options) {
				return &exitError{code: 2, err: fmt.Errorf("%s needs at least one PATH (an image file or block device)", use)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.seqnoSet = cmd.Flags().Changed("seqno")
			return runReport(cmd.OutOrStdout(), cmd.ErrOrStderr(), k, args, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.units, "units", "r", "size `unit`: r (human, '<' when rounded up), h (human), b, s, k, m, g, t, p, e (1024-based), or upper case for 1000-based")
	fl.BoolVar(&o.nosuffix, "nosuffix", false, "sizes without their unit letter (use with --units)")
	fl.StringArrayVarP(&o.options, "options", "o", nil, "columns: `FIELD[,FIELD...]` replaces the default ones, +FIELD adds to them; -o help lists the fields")
	fl.BoolVar(&o.json, "json", false, "print LVM's --reportformat json shape")
	fl.StringVar(&o.format, "reportformat", "basic", "basic or json")
	fl.BoolVar(&o.noheads, "noheadings", false, "no heading line")
	fl.StringVar(&o.sep, "separator", "", "separate columns with `STRING` instead of aligning them")
	fl.Uint64Var(&o.seqno, "seqno", 0, "report each VG as its metadata generation `N` described it (see 'lvminspect history'); usage numbers (Data%, Meta%...) are left empty, the disks hold today's")
	if k == reportLV {
		fl.BoolVarP(&o.all, "all", "a", true, "list hidden sub-LVs too, in [brackets], as lvs -a does (--all=false leaves them out)")
		fl.BoolVar(&o.segments, "segments", false, "one row per segment, with the segment columns")
	}
	addScanFlags(fl, &o.scan)
	return cmd
}

func repHelpOnly(opts []string) bool {
	for _, o := range opts {
		if o == "help" {
			return true
		}
	}
	return false
}

func runReport(w, errw io.Writer, k reportKind, paths []string, o reportOpts) error {
	if repHelpOnly(o.options) {
		for _, f := range fieldsOf(k) {
			fmt.Fprintf(w, "  %-28s %-12s %s\n", f.name, f.head, f.desc)
		}
		return nil
	}
	unit, err := format.ParseUnit(o.units)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--units: %w", err)}
	}
	switch o.format {
	case "basic":
	case "json", "json_std":
		o.json = true
	default:
		return &exitError{code: 2, err: fmt.Errorf("--reportformat %q: use basic or json", o.format)}
	}
	if o.segments {
		o.options = append(o.options, "+seg_start_pe,segtype,seg_size_pe")
	}
	fields, err := selectFields(k, o.options)
	if err != nil {
		return err
	}
	res, closeAll, err := scanInputs(paths, o.scan)
	if err != nil {
		return err
	}
	defer closeAll()
	if o.seqnoSet {
		if err := history.ApplySeqno(res, "", o.seqno); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	for _, vg := range res.VGs {
		for _, p := range vg.PVs {
			if p.Missing {
				fmt.Fprintf(errw, "  WARNING: VG %s is missing PV %s (last written to %s).\n",
					termsafe.Text(vg.Meta.Name), p.Meta.UUID, termsafe.Text(p.Meta.Device))
			}
		}
	}
	var rows [][]repVal
	key := map[reportKind]string{reportPV: "pv", reportVG: "vg", reportLV: "lv"}[k]
	switch k {
	case reportPV:
		rows = pvRows(res, fields)
	case reportVG:
		rows = vgRows(res, fields)
	case reportLV:
		var seg bool
		rows, seg = lvRows(res, fields, o.all, !o.seqnoSet)
		if seg && o.segments {
			key = "seg"
		}
	}
	if len(rows) == 0 {
		what := map[reportKind]string{reportPV: "physical volume", reportVG: "volume group", reportLV: "logical volume"}[k]
		msg := fmt.Sprintf("no LVM2 %s found in %s", what, strings.Join(paths, ", "))
		if len(res.PVs) == 0 && !o.scan.Carve {
			msg += " (--carve searches every sector)"
		}
		return &exitError{code: 1, err: errors.New(msg)}
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = make([]string, len(r))
		for j, v := range r {
			if v.size != nil {
				s, err := format.UnitsOf(v.size, unit, !o.nosuffix)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				cells[i][j] = s
			} else {
				cells[i][j] = v.s
			}
		}
	}
	if o.json {
		return writeReportJSON(w, key, fields, cells)
	}
	lw := newLineWriter(w)
	writeReportText(lw, fields, rows, cells, o)
	return lw.Flush()
}

func pvRows(res *scan.Result, fields []repField) [][]repVal {
	var rs []*pvRow
	inVG := map[*scan.PV]bool{}
	for _, vg := range res.VGs {
		used := usedExtents(vg.Meta)
		for _, p := range vg.PVs {
			name := unknownPVName
			if p.PV != nil {
				name = pvName(p.PV)
				inVG[p.PV] = true
			}
			rs = append(rs, &pvRow{name: name, vg: vg, meta: p.Meta, pv: p.PV, used: used[p.Meta.Label]})
		}
	}
	for _, pv := range res.PVs {
		if !inVG[pv] {
			rs = append(rs, &pvRow{name: pvName(pv), pv: pv})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].name < rs[j].name })
	var out [][]repVal
	for _, r := range rs {
		var row []repVal
		for _, f := range fields {
			row = append(row, f.pv(r))
		}
		out = append(out, row)
	}
	return out
}

func vgRows(res *scan.Result, fields []repField) [][]repVal {
	vgs := append([]*scan.VG(nil), res.VGs...)
	sort.SliceStable(vgs, func(i, j int) bool { return vgs[i].Meta.Name < vgs[j].Meta.Name })
	var out [][]repVal
	for _, vg := range vgs {
		var used uint64
		for _, n := range usedExtents(vg.Meta) {
			used += n
		}
		r := &vgRow{vg: vg, used: used}
		var row []repVal
		for _, f := range fields {
			row = append(row, f.vg(r))
		}
		out = append(out, row)
	}
	return out
}

// lvRows lists the LVs lvs shows (with all, the hidden ones too), a row
// per segment when a segment field is asked for. readDisks false leaves
// the usage numbers out: an old generation's pools held other data.
func lvRows(res *scan.Result, fields []repField, all, readDisks bool) ([][]repVal, bool) {
	seg, needIO := false, false
	for _, f := range fields {
		seg = seg || f.seg
		needIO = needIO || f.io
	}
	vgs := append([]*scan.VG(nil), res.VGs...)
	sort.SliceStable(vgs, func(i, j int) bool { return vgs[i].Meta.Name < vgs[j].Meta.Name })
	var out [][]repVal
	for _, vg := range vgs {
		r := volume.ForScan(vg)
		names := pvNames(vg)
		lvs := append([]*model.LV(nil), vg.Meta.LVs...)
		sort.SliceStable(lvs, func(i, j int) bool { return lvs[i].Name < lvs[j].Name })
		for _, lv := range lvs {
			if isSnapshotN(lv) || !all && !vg.Meta.Shown(lv) {
				continue
			}
			var f *lvfacts.Facts
			if needIO && readDisks {
				f = lvfacts.Of(r, lv)
			} else {
				f = lvfacts.Cheap(r, lv)
			}
			segs := []*model.Segment{nil}
			if len(lv.Segments) > 0 {
				segs = lv.Segments[:1]
				if seg {
					segs = lv.Segments
				}
			}
			for _, s := range segs {
				row := &lvRow{vg: vg, lv: lv, seg: s, f: f, names: names}
				var cells []repVal
				for _, fl := range fields {
					cells = append(cells, fl.lv(row))
				}
				out = append(out, cells)
			}
		}
	}
	return out, seg
}

// isSnapshotN reports the internal LV of an old-style snapshot, which lvs
// never lists (it shows the COW store under the snapshot's name).
func isSnapshotN(lv *model.LV) bool {
	for _, s := range lv.Segments {
		if s.Snapshot != nil {
			return true
		}
	}
	return false
}

// writeReportJSON writes LVM's --reportformat json shape, keys in column
// order, every value a string.
func writeReportJSON(w io.Writer, key string, fields []repField, cells [][]string) error {
	var b bytes.Buffer
	b.WriteString("{\n    \"report\": [\n        {\n            ")
	k, _ := json.Marshal(key)
	b.Write(k)
	b.WriteString(": [\n")
	for i, row := range cells {
		b.WriteString("                {")
		for j, c := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			n, _ := json.Marshal(fields[j].name)
			v, _ := json.Marshal(c)
			b.Write(n)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		if i < len(cells)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("            ]\n        }\n    ]\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func writeReportText(w io.Writer, fields []repField, rows [][]repVal, cells [][]string, o reportOpts) {
	for i := range cells {
		for j := range cells[i] {
			cells[i][j] = termsafe.Text(cells[i][j])
		}
	}
	if o.sep != "" {
		if !o.noheads {
			var h []string
			for _, f := range fields {
				h = append(h, f.head)
			}
			fmt.Fprintln(w, "  "+strings.Join(h, o.sep))
		}
		for _, row := range cells {
			fmt.Fprintln(w, "  "+strings.Join(row, o.sep))
		}
		return
	}
	width := make([]int, len(fields))
	for j, f := range fields {
		if !o.noheads {
			width[j] = ansi.StringWidth(f.head)
		}
		for _, row := range cells {
			width[j] = max(width[j], ansi.StringWidth(row[j]))
		}
	}
	line := func(vals []string, right func(int) bool) {
		var b strings.Builder
		b.WriteString("  ")
		for j, v := range vals {
			if j > 0 {
				b.WriteByte(' ')
			}
			pad := strings.Repeat(" ", width[j]-ansi.StringWidth(v))
			if right(j) {
				b.WriteString(pad + v)
			} else {
				b.WriteString(v + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	if !o.noheads {
		var h []string
		for _, f := range fields {
			h = append(h, f.head)
		}
		line(h, func(int) bool { return false })
	}
	for i, row := range cells {
		line(row, func(j int) bool { return rows[i][j].num })
	}
}
