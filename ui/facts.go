package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/export/lvfacts"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
)

// lvFacts is what lvminspect shows about an LV beyond its metadata, as lvs
// shows it: export/lvfacts, which `scan` and `lvs` use too. lvfacts.Cheap
// (the metadata alone) gives the tree's rows; lvfacts.Of (which reads
// snapshot exception stores and pool metadata) the details, in a command.
type lvFacts = lvfacts.Facts

// factsOf is the one call that gets an LV's facts with what the disks
// tell; r lives as long as the generation is shown, so lvfacts caches
// what it read.
func factsOf(r *volume.Resolver, lv *model.LV) *lvFacts { return lvfacts.Of(r, lv) }

// cheapFacts is what the metadata alone says of an LV (no I/O).
func cheapFacts(r *volume.Resolver, lv *model.LV) *lvFacts { return lvfacts.Cheap(r, lv) }

// vgAttr is the VG's vgs attr, the characters a disk can tell.
func vgAttr(m *model.VG) string { return lvfacts.VGAttr(m) }

func pct(p *float64) string {
	if p == nil {
		return ""
	}
	return format.Percent(*p) + "%"
}

// factsSummary shows an LV's facts at the top of its details: attr, type,
// the size it presents, its origin, pool and sub-LVs, how full it is.
func factsSummary(d *detailsBuilder, vg *model.VG, lv *model.LV, f *lvFacts) {
	d.kv("attr", f.Attr)
	d.kv("type", f.Type)
	extents := format.Count(int(lv.ExtentCount()), "extent", "extents")
	if f.LVSize != f.Size {
		// An old-style snapshot presents its origin's size; its own
		// extents are its COW store (what lvs shows as LSize).
		d.kv("size", format.SizeExact(f.Size)+" (as it presents itself)")
		d.kv("own extents", fmt.Sprintf("%s, %s (lvs LSize)", format.SizeExact(f.LVSize), extents))
	} else {
		d.kv("size", fmt.Sprintf("%s, %s", format.SizeExact(f.Size), extents))
	}
	switch {
	case f.Role == "snapshot origin" || f.Role == "snapshot COW store":
		// The user recorded for these roles is LVM's internal snapshotN
		// LV; the rows below name the snapshot as lvs and scan do.
	case f.Role != "" && f.Role != "none":
		d.kv("role", joinNonEmpty(" of ", f.Role, f.UsedBy))
	}
	if f.Origin != "" {
		d.kv("origin", f.Origin)
	}
	if f.Pool != "" {
		d.kv("pool", f.Pool)
	}
	if f.DataLV != "" || f.MetaLV != "" {
		d.kv("data / meta", joinNonEmpty(" / ", f.DataLV, f.MetaLV))
	}
	if f.MirrorLog != "" {
		d.kv("mirror log", f.MirrorLog)
	}
	if len(f.Snapshots) > 0 {
		d.kv("snapshots", listText(f.Snapshots))
	}
	if f.Partial {
		d.kv("partial", paint(d.st.Check.Bad, "✗ a PV it needs is MISSING"))
	}
	if p := pct(f.DataPercent); p != "" {
		d.kv("Data%", p)
	}
	if p := pct(f.MetaPercent); p != "" {
		d.kv("Meta%", p)
	}
}

// factsSections detail a snapshot, a thin pool, a thin LV or a cache, and
// what could not be read.
func factsSections(d *detailsBuilder, f *lvFacts) {
	if s := f.Snapshot; s != nil {
		snapshotDetails(d, s)
	}
	if t := f.ThinPool; t != nil {
		thinPoolDetails(d, t)
	}
	if t := f.Thin; t != nil {
		d.section("Thin volume")
		d.kv("device id", t.DeviceID)
		if t.Read {
			d.kv("mapped", fmt.Sprintf("%s of %s (%d blocks of %s)", format.Size(int64(t.Mapped)*t.BlockSize), format.Size(f.Size),
				t.Mapped, format.Size(t.BlockSize)))
		}
	}
	if c := f.Cache; c != nil {
		cacheDetails(d, c)
	}
	for _, p := range f.Problems {
		d.para(d.st.Status.Warn, "! "+p)
	}
}

func snapshotDetails(d *detailsBuilder, s *lvfacts.Snapshot) {
	d.section("Snapshot (old-style, copy-on-write)")
	d.kv("of", fmt.Sprintf("%s, %s (the size it presents)", s.Origin, format.SizeExact(s.OriginSize)))
	d.kv("COW store", fmt.Sprintf("%s, %s", s.COW, format.SizeExact(s.COWSize)))
	if s.ChunkSize > 0 {
		d.kv("chunk size", format.Size(s.ChunkSize))
	}
	if s.Read {
		used := fmt.Sprintf("%s of %s", format.Size(s.COWUsed), format.Size(s.COWSize))
		if s.COWSize > 0 {
			used += fmt.Sprintf(" (%s%%)", format.Percent(100*float64(s.COWUsed)/float64(s.COWSize)))
		}
		d.kv("COW used", used+", "+format.Count(s.Exceptions, "chunk", "chunks")+" copied")
	} else {
		d.kv("COW used", "unknown: the exception store could not be read")
	}
	var state []string
	if s.Full {
		state = append(state, "FULL: the next write would invalidate it")
	}
	if s.Invalid {
		state = append(state, "INVALID: it overflowed")
	}
	if s.Merging {
		state = append(state, "merging into its origin")
	}
	if len(state) > 0 {
		d.kv("state", paint(d.st.Check.Warn, "! "+strings.Join(state, "; ")))
	}
}

func thinPoolDetails(d *detailsBuilder, t *lvfacts.ThinPool) {
	d.section("Thin pool")
	d.kv("chunk size", format.Size(t.ChunkSize))
	d.kv("thin LVs", t.ThinLVs)
	if t.Read {
		d.kv("data", fmt.Sprintf("%s of %s used (%d of %d blocks)", format.Size(int64(t.DataUsed)*t.DataBlock),
			format.Size(int64(t.DataTotal)*t.DataBlock), t.DataUsed, t.DataTotal))
		d.kv("metadata", fmt.Sprintf("%d of %d blocks used, %d reserved (%s blocks)", t.MetaUsed, t.MetaTotal, t.MetaReserved, format.Size(t.MetaBlock)))
		tid := fmt.Sprintf("%d (pool superblock), %d (VG metadata)", t.TransactionID, t.MetadataTransactionID)
		if t.TransactionID != t.MetadataTransactionID {
			d.kv("transaction id", paint(d.st.Check.Warn, "! "+tid+": they differ, a pool operation was interrupted"))
		} else {
			d.kv("transaction id", tid)
		}
		if t.NeedsCheck {
			d.kv("needs check", paint(d.st.Check.Warn, "! the superblock asks for thin_check"))
		}
	} else {
		d.kv("usage", "unknown: the pool's metadata could not be read")
		d.kv("transaction id", fmt.Sprintf("%d (VG metadata)", t.MetadataTransactionID))
	}
	zero := "no"
	if t.Zero {
		zero = "yes"
	}
	d.kv("zero new blocks", zero)
	if t.Discards != "" {
		d.kv("discards", t.Discards)
	}
}

func cacheDetails(d *detailsBuilder, c *lvfacts.Cache) {
	d.section("Cache (" + c.Kind + ")")
	if c.Mode != "" {
		d.kv("mode", c.Mode)
	}
	if c.Policy != "" {
		pol := c.Policy
		if c.PolicyOnDisk != "" {
			pol += " (the cache superblock says " + c.PolicyOnDisk + ")"
		}
		d.kv("policy", pol)
	}
	if c.CacheVol {
		d.kv("cache", "a cachevol")
	}
	if c.ChunkSize > 0 {
		d.kv("block size", format.Size(c.ChunkSize))
	}
	if c.Read {
		d.kv("blocks", fmt.Sprintf("%d in use of %d, %d dirty", c.Used, c.Blocks, c.Dirty))
	}
}
