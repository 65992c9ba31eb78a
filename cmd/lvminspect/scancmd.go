package main

import (
	"errors"
	"fmt"
	"github.com/lvminspect/lvminspect/scan/content"
	"io"
	"math/big"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/export/lvfacts"
	"github.com/lvminspect/lvminspect/export/record"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
	"github.com/lvminspect/lvminspect/scan/md"
)

func newScanCmd() *cobra.Command {
	var asJSON bool
	var opt scan.Options
	var seqno uint64
	cmd := &cobra.Command{
		Use:   "scan [--json] PATH...",
		Short: "Find LVM2 physical volumes, volume groups and logical volumes",
		Long: `scan reads each PATH (an image file or a block device) read-only, probes it
and its MBR/GPT partitions for LVM2 physical volumes, verifies every label,
PV header, metadata-area header and metadata text checksum, and assembles the
volume groups across all PATHs. It prints a tree of inputs, partitions, PVs,
VGs, LVs and segments with checksum status and warnings, and for each LV that
cannot be exported as it is (or not as an exact copy) why, or with --json the
schema documented in docs/json.md.

Exit status:
  0  at least one PV was found, without error-level problems
  1  no PV was found (or no VG has generation --seqno N)
  2  usage error, or an input could not be opened
  3  PVs were found, with error-level problems (a missing PV, a bad
     checksum, a truncated PV...): listed at the end`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, closeAll, err := scanInputs(args, opt)
			if err != nil {
				return err
			}
			defer closeAll()
			var h *history.History
			if cmd.Flags().Changed("seqno") {
				// Time travel: every VG that has generation seqno is shown as it described it.
				h = history.Scan(res, history.Options{})
				if err := h.Apply(res, "", seqno); err != nil {
					return &exitError{code: exitFailed, err: err}
				}
			}
			check := lvChecker(res, h)
			w := cmd.OutOrStdout()
			if asJSON {
				doc := buildScanJSON(res, check, h != nil)
				var streams []*lvStream
				for _, vg := range doc.VGs {
					streams = append(streams, vg.LVs)
				}
				if err := writeJSONStream(w, doc, streams); err != nil {
					return err
				}
			} else {
				lw := newLineWriter(w)
				printScanTree(lw, res, check, h != nil)
				if err := lw.Flush(); err != nil {
					return err
				}
			}
			if len(res.PVs) == 0 {
				return &exitError{code: exitFailed, err: errors.New(nothingFound(res, args, opt))}
			}
			if n := errorCount(res.AllProblems()); n > 0 {
				return &exitError{code: exitIncomplete, err: fmt.Errorf("%s (listed above)", format.Count(n, "error-level problem", "error-level problems"))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema: docs/json.md)")
	cmd.Flags().Uint64Var(&seqno, "seqno", 0, "show each VG as its metadata generation `N` described it (see 'lvminspect history'), read-only")
	addScanFlags(cmd.Flags(), &opt)
	return cmd
}

// lvCheck gives the export verdict of an LV of a VG of the scan.
type lvCheck func(vg *scan.VG, lv *model.LV) *job.Verdict

// lvChecker returns the lvCheck of a scan (h: its history, when scanned),
// with the export command's default options. Verdicts are not kept: the
// text and the JSON ask once per LV.
func lvChecker(res *scan.Result, h *history.History) lvCheck {
	return func(vg *scan.VG, lv *model.LV) *job.Verdict {
		if h == nil && record.NeedsHistory(vg) {
			// A fallback from a damaged newest copy: later generations
			// may have reused its extents. Scanned once, if ever.
			h = history.Scan(res, history.Options{})
		}
		return job.Check(res, vg, lv, h, job.Options{})
	}
}

// errorCount counts the error-level problems.
func errorCount(probs []scan.Problem) int {
	n := 0
	for _, p := range probs {
		if p.Severity == scan.SevError {
			n++
		}
	}
	return n
}

// nothingFound says that no PV was found, and where else to look: the
// --carve hint only when nothing else explains the inputs (scan says what
// a compressed file, a qcow2 or a file system is instead).
func nothingFound(res *scan.Result, args []string, opt scan.Options) string {
	msg := "no LVM2 physical volume found in " + strings.Join(args, ", ")
	if opt.Carve {
		return msg + " (every sector was searched for a PV label)"
	}
	var unexplained []string
	for _, in := range res.Inputs {
		if in.Content == nil && len(in.PartitionContent) == 0 {
			unexplained = append(unexplained, in.Path)
		}
	}
	switch {
	case len(unexplained) == 0:
		return msg + " (scan names what each holds instead)"
	case len(unexplained) == 1 && len(res.Inputs) == 1:
		return msg + ": no PV label at its start or the start of any of its partitions; --carve searches every sector for one"
	case len(unexplained) == 1:
		return msg + ": no PV label at the start of " + unexplained[0] + " or of its partitions; --carve searches every sector for one"
	}
	return msg + ": no PV label at the start of " + strings.Join(unexplained, ", ") + " or of their partitions; --carve searches every sector for one"
}

// printScanTree writes the human-readable tree of a scan; past is set
// when it shows an old generation (--seqno).
func printScanTree(w io.Writer, res *scan.Result, check lvCheck, past bool) {
	for _, in := range res.Inputs {
		fmt.Fprintf(w, "%s  (%s)  device %s\n", in.Path, inputKind(in), in.Node.ID)
		if t := in.Partitions; t != nil {
			fmt.Fprintf(w, "  %s partition table, %d-byte sectors\n", strings.ToUpper(t.Kind), t.SectorSize)
			for _, p := range t.Partitions {
				desc := p.TypeName
				if desc == "" {
					desc = p.Type
				}
				if p.Name != "" {
					desc += fmt.Sprintf(" %q", p.Name)
				}
				fmt.Fprintf(w, "  ├─ partition %d  start %d  size %s  %s\n", p.Index, uint64(p.Start), format.SizeOf(unsigned(p.Size)), desc)
				if c, ok := in.PartitionContent[p.Index]; ok {
					fmt.Fprintf(w, "  │    holds: %s\n", holdsText(c))
				}
				for _, n := range in.PartNodes {
					if n.MD != nil && n.Offset == p.Start {
						fmt.Fprintf(w, "  │    %s\n", memberOf(res, n))
					}
				}
				for _, pv := range in.PVs {
					if pv.Partition == p.Index && pv.Offset == p.Start {
						printPV(w, pv, "  │    ")
					}
				}
			}
		}
		for _, pv := range in.PVs {
			if pv.Partition == 0 {
				printPV(w, pv, "  ")
			}
		}
		if in.Content != nil {
			fmt.Fprintf(w, "  holds: %s\n", holdsText(*in.Content))
		}
		if in.Node.MD != nil {
			fmt.Fprintf(w, "  %s\n", memberOf(res, in.Node))
		}
		if a := in.Node.Array; a != nil {
			printArray(w, a)
		}
		if len(in.PVs) == 0 && in.Node.MD == nil && in.Node.LUKS == nil {
			if hasMDPartition(in) {
				fmt.Fprintln(w, "  no LVM2 physical volume found directly (what its partitions hold is below)")
			} else {
				fmt.Fprintln(w, "  no LVM2 physical volume found")
			}
		}
		for _, p := range in.Problems {
			fmt.Fprintf(w, "  ! %s\n", p)
		}
	}
	for _, n := range res.MDNodes {
		if n.Device() == nil {
			fmt.Fprintf(w, "%s  (%s)  device %s\n", n.Label, arrayKind(n.Array, 0), n.ID)
			printArray(w, n.Array)
			fmt.Fprintln(w, "  not read")
		}
	}
	for _, vg := range res.VGs {
		fmt.Fprintln(w)
		printVG(w, res, vg, check, past)
	}
	if probs := res.AllProblems(); len(probs) > 0 {
		fmt.Fprintf(w, "\n%s:\n", format.Count(len(probs), "problem", "problems"))
		for _, p := range probs {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// unsigned is n read as the unsigned number it was before a conversion
// to int64 (an offset or size from a disk field of 64 bits).
func unsigned(n int64) *big.Int { return new(big.Int).SetUint64(uint64(n)) }

func okText(ok bool) string {
	if ok {
		return "ok"
	}
	return "BAD"
}

func printPV(w io.Writer, pv *scan.PV, ind string) {
	h := pv.Label.Header
	weak := ""
	if pv.Label.Weak {
		weak = " (weak: no LABELONE)"
	}
	fmt.Fprintf(w, "%sPV %s at offset %d, label sector %d%s, label crc %s\n", ind, pv.UUID(), uint64(pv.Offset), pv.Label.Sector, weak, okText(pv.Label.CRC.OK))
	fmt.Fprintf(w, "%s   device_size %s, readable %s, pv_header ext v%d flags %#x\n", ind, format.SizeOf(format.Product(h.DeviceSize, 1)), format.Size(pv.Size), h.ExtVersion, h.ExtFlags)
	for _, m := range pv.MDAs {
		line := fmt.Sprintf("%s   mda%d at %d size %d", ind, m.Index, uint64(m.AbsOff), m.Locn.Size)
		if m.Header == nil {
			line += ": header unreadable"
		} else {
			line += ", header crc " + okText(m.Header.Checksum.OK)
			if m.Header.Slots[0].Ignored() {
				line += ", IGNORED"
			}
			if c := m.Committed; c != nil && c.TextCopy != nil {
				line += fmt.Sprintf(", committed text %d bytes at %d crc %s", c.Size, uint64(c.Off), okText(c.CRCOK))
				if c.Wrapped {
					line += " (wrapped)"
				}
				if c.VG != nil {
					line += fmt.Sprintf(" → VG %s seqno %d", c.VG.Name, c.VG.Seqno)
				}
			} else if m.Header.Slots[0].Empty() {
				line += ", no committed metadata"
			}
		}
		fmt.Fprintln(w, line)
	}
	if len(pv.MDAs) == 0 {
		fmt.Fprintf(w, "%s   no metadata areas\n", ind)
	}
}

func printVG(w io.Writer, res *scan.Result, vg *scan.VG, check lvCheck, past bool) {
	m := vg.Meta
	eb := m.ExtentBytes()
	fmt.Fprintf(w, "VG %s  uuid %s  seqno %d  extent %s\n", m.Name, m.UUID, m.Seqno, format.Size(eb))
	free, freeByPV := m.FreeExtents()
	total := m.TotalExtents()
	partial := false
	for _, p := range vg.PVs {
		partial = partial || p.Missing
	}
	fmt.Fprintf(w, "   attr %s  size %s  free %s  (%s, %s)\n", lvfacts.VGAttrPartial(m, partial),
		format.SizeExactOf(format.Product(total, eb)), format.SizeExactOf(format.Product(free, eb)),
		format.Count(len(m.PVs), "PV", "PVs"), format.Count(len(m.LVs), "LV", "LVs"))
	if vg.Source != nil && vg.Source.PV != nil {
		fmt.Fprintf(w, "   metadata from %s at byte %d (%s)\n", vg.Source.PV.Path, uint64(vg.Source.Off), format.Count(len(vg.Sources), "identical copy", "identical copies"))
	}
	if vg.Fallback != "" {
		fmt.Fprintf(w, "   FALLBACK: %s\n", vg.Fallback)
	}
	for _, p := range vg.PVs {
		where := "MISSING (last seen as " + p.Meta.Device + ")"
		if p.Meta.Device == "" {
			where = "MISSING (no device recorded)"
		}
		if p.PV != nil {
			where = fmt.Sprintf("%s offset %d", p.PV.Path, uint64(p.PV.Offset))
		}
		stale := ""
		if p.Stale {
			stale = fmt.Sprintf(" STALE (seqno %d)", p.Seqno)
		}
		fmt.Fprintf(w, "├─ %s %s  %s  pe_start %d  %d extents%s\n", p.Meta.Label, p.Meta.UUID, where, format.Product(p.Meta.PEStart, model.SectorSize), p.Meta.PECount, stale)
		pf := min(freeByPV[p.Meta.Label], p.Meta.PECount)
		fmt.Fprintf(w, "│   attr %s  size %s  used %s  free %s\n", lvfacts.PVAttr(m, p.Meta, p.Missing),
			format.SizeOf(format.Product(p.Meta.PECount, eb)), format.SizeOf(format.Product(p.Meta.PECount-pf, eb)), format.SizeOf(format.Product(pf, eb)))
	}
	r := volume.ForScan(vg)
	lvNodes := res.LVNodesOf(m.UUID)
	for _, lv := range m.LVs {
		f := lvFacts(r, lv, past)
		vis := ""
		if !m.Shown(lv) {
			vis = " (hidden)"
		}
		tags := ""
		if len(lv.Tags) > 0 {
			tags = "  tags " + strings.Join(lv.Tags, ",")
		}
		size := format.Size(f.Size)
		if !m.LVSizeFits(lv) {
			size = format.SizeOf(format.Product(lv.ExtentCount(), eb))
		}
		fmt.Fprintf(w, "├─ LV %s%s  %s  %s  attr %s  uuid %s%s\n", lv.Name, vis, size, f.Type, f.Attr, lv.UUID, tags)
		if n := lvNodes[lv.Name]; n != nil && !past {
			holds := "nothing recognised"
			if n.Content != nil {
				holds = holdsText(*n.Content)
			}
			fmt.Fprintf(w, "│   device %s, holds: %s\n", n.ID, holds)
		}
		for _, l := range factLines(m, lv, f, past) {
			fmt.Fprintf(w, "│   %s\n", l)
		}
		if v := check(vg, lv); !v.Clean() {
			// What an export would do, in the words the inspector uses.
			for _, l := range v.Lines() {
				fmt.Fprintf(w, "│   %s\n", l)
			}
		}
		for i, s := range lv.Segments {
			fmt.Fprintf(w, "│   %s: extents %d..%d  %s%s\n", format.Segment(i), s.StartExtent, s.StartExtent+s.ExtentCount-1, format.SegType(s), segDetail(m, s))
		}
	}
	for _, h := range m.HistoricalLVs {
		fmt.Fprintf(w, "├─ historical LV %s  uuid %s\n", h.Name, h.UUID)
	}
}

// lvFacts is what lvfacts knows about lv. For an old generation (--seqno)
// only what its metadata says: how full a pool or a snapshot is would be
// read from today's data.
func lvFacts(r *volume.Resolver, lv *model.LV, past bool) *lvfacts.Facts {
	if past {
		return lvfacts.Cheap(r, lv)
	}
	return lvfacts.Of(r, lv)
}

// factLines says what lvfacts knows about an LV, as lvs users read it:
// what it is a snapshot, pool, thin LV or cache of, and how full it is.
func factLines(vg *model.VG, lv *model.LV, f *lvfacts.Facts, past bool) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	usage := func(what string) string {
		if past {
			return what + " not shown: --seqno shows an old generation, the disks hold today's data"
		}
		return what + " could not be read"
	}
	switch {
	case f.Snapshot != nil:
		sn := f.Snapshot
		line := fmt.Sprintf("snapshot of %s (%s): COW store %s (the segments below)", sn.Origin, format.Size(sn.OriginSize), format.Size(sn.COWSize))
		switch {
		case sn.Read && f.DataPercent != nil:
			line += fmt.Sprintf(", %s%% used (%s, with %s of %s copied)", format.Percent(*f.DataPercent), format.Size(sn.COWUsed),
				format.Count(sn.Exceptions, "chunk", "chunks"), format.Size(sn.ChunkSize))
		case sn.Read:
			line += fmt.Sprintf(", %s used, chunk %s", format.Size(sn.COWUsed), format.Size(sn.ChunkSize))
		default:
			line += ", chunk " + format.Size(sn.ChunkSize) + "; " + usage("its use")
		}
		add("%s", line)
		switch {
		case sn.Invalid:
			add("INVALID: the COW store overflowed and the kernel stopped using it; its data no longer follows %s", sn.Origin)
		case sn.Full:
			add("FULL: the next write to %s would have invalidated it", sn.Origin)
		}
		if sn.Merging {
			add("merging into %s", sn.Origin)
		}
	case f.ThinPool != nil:
		tp := f.ThinPool
		if tp.Read {
			data := fmt.Sprintf("data %s %s", f.DataLV, format.Size(int64(tp.DataTotal)*tp.DataBlock))
			if f.DataPercent != nil {
				data += fmt.Sprintf(", %s%% used (%d of %d blocks of %s)", format.Percent(*f.DataPercent), tp.DataUsed, tp.DataTotal, format.Size(tp.DataBlock))
			}
			meta := fmt.Sprintf("metadata %s %s", f.MetaLV, format.Size(int64(tp.MetaTotal)*tp.MetaBlock))
			if f.MetaPercent != nil {
				meta += fmt.Sprintf(", %s%% used (%d of %d blocks, %d of them held back by the kernel)", format.Percent(*f.MetaPercent),
					tp.MetaUsed+tp.MetaReserved, tp.MetaTotal, tp.MetaReserved)
			}
			add("thin pool: %s", data)
			add("           %s", meta)
			if tp.TransactionID == tp.MetadataTransactionID {
				add("transaction id %d (the pool's superblock and the VG metadata agree)", tp.TransactionID)
			} else {
				add("transaction id %d in the pool's superblock, %d in the VG metadata: a pool operation did not finish", tp.TransactionID, tp.MetadataTransactionID)
			}
			if tp.NeedsCheck {
				add("NEEDS CHECK: the kernel flagged the pool's metadata for thin_check")
			}
		} else {
			add("thin pool: data %s, metadata %s; %s", f.DataLV, f.MetaLV, usage("data and metadata use"))
			add("transaction id %d in the VG metadata", tp.MetadataTransactionID)
		}
		opts := []string{format.Count(tp.ThinLVs, "thin LV", "thin LVs"), "chunk " + format.Size(tp.ChunkSize)}
		if tp.Zero {
			opts = append(opts, "zeroes new blocks")
		}
		if tp.Discards != "" {
			opts = append(opts, "discards "+tp.Discards)
		}
		add("%s", strings.Join(opts, ", "))
	case f.Thin != nil:
		th := f.Thin
		line := fmt.Sprintf("thin LV of pool %s (device id %d)", f.Pool, th.DeviceID)
		if o := externalOrigin(lv); o != "" {
			line += ", external origin " + o
		} else if f.Origin != "" {
			line += ", snapshot of " + f.Origin
		}
		switch {
		case th.Read && th.BlockSize > 0:
			line += fmt.Sprintf(": %s mapped", format.Size(int64(th.Mapped)*th.BlockSize))
			if f.DataPercent != nil {
				line += fmt.Sprintf(", %s%% of it (%d of %d blocks of %s)", format.Percent(*f.DataPercent), th.Mapped, f.Size/th.BlockSize, format.Size(th.BlockSize))
			}
		default:
			line += "; " + usage("its mapped blocks")
		}
		add("%s", line)
	case f.Cache != nil:
		add("%s", cacheLine(f, usage))
	default:
		for _, s := range lv.Segments {
			if p := s.Snapshot; p != nil && p.CowStore != "" {
				// snapshotN: the LV that ties origin and COW store.
				add("LVM's internal LV of the snapshot of %s whose COW store is %s (lvs lists it as %s)", p.Origin, p.CowStore, p.CowStore)
				break
			}
		}
	}
	if len(f.Snapshots) > 0 {
		add("origin of %s", strings.Join(f.Snapshots, ", "))
	} else if f.Role != "" && f.Snapshot == nil && f.Cache == nil {
		if f.UsedBy != "" {
			add("%s of %s", f.Role, f.UsedBy)
		} else {
			add("%s", f.Role)
		}
	}
	for _, p := range f.Problems {
		add("! %s", p)
	}
	return out
}

// cacheLine describes a cached LV, a cache pool or a writecache.
func cacheLine(f *lvfacts.Facts, usage func(string) string) string {
	c := f.Cache
	var line string
	switch c.Kind {
	case "writecache":
		line = fmt.Sprintf("writecache of %s on cachevol %s, block %s", f.Origin, f.Pool, format.Size(c.ChunkSize))
	case "cache-pool":
		line = fmt.Sprintf("cache pool (data %s, metadata %s)", f.DataLV, f.MetaLV)
		if f.UsedBy != "" {
			line += " of " + f.UsedBy
		}
		line += ": " + cacheMode(c) + ", chunk " + format.Size(c.ChunkSize)
	default:
		by := "cache pool"
		if c.CacheVol {
			by = "cachevol"
		}
		line = fmt.Sprintf("cache of %s on %s %s: %s, chunk %s", f.Origin, by, f.Pool, cacheMode(c), format.Size(c.ChunkSize))
	}
	if !c.Read {
		return line + "; " + usage("its blocks in use")
	}
	line += "; "
	if f.DataPercent != nil {
		line += format.Percent(*f.DataPercent) + "% used "
	}
	line += fmt.Sprintf("(%d of %d blocks)", c.Used, c.Blocks)
	if c.Kind == "writecache" {
		return line + fmt.Sprintf(", %s not yet written back to %s", format.Count(int(c.Dirty), "block", "blocks"), f.Origin)
	}
	return line + fmt.Sprintf(", %s", format.Count(int(c.Dirty), "dirty block", "dirty blocks"))
}

// cacheMode is a dm-cache's mode and policy: "writethrough, policy smq".
func cacheMode(c *lvfacts.Cache) string {
	mode := c.Mode
	if mode == "" {
		mode = "mode not recorded"
	}
	policy := c.Policy
	if policy == "" {
		policy = "not recorded"
	}
	s := mode + ", policy " + policy
	if c.PolicyOnDisk != "" {
		s += " (the cache's superblock says " + c.PolicyOnDisk + ")"
	}
	return s
}

// externalOrigin is the external origin of a thin LV, "" when none.
func externalOrigin(lv *model.LV) string {
	for _, s := range lv.Segments {
		if s.Thin != nil && s.Thin.ExternalOrigin != "" {
			return s.Thin.ExternalOrigin
		}
	}
	return ""
}

// segDetail describes a segment's layout after its type: stripes of a
// striped segment, images of a raid segment and legs of a mirror (never
// "stripes" for those), what a snapshot, pool, thin or cache segment
// refers to, then its areas.
func segDetail(vg *model.VG, s *model.Segment) string {
	var parts []string
	areas := func() {
		for _, a := range s.Areas {
			if a.IsPV() {
				parts = append(parts, fmt.Sprintf("%s PE %d", a.PV, a.Start))
			} else {
				parts = append(parts, fmt.Sprintf("%s LE %d", a.LV, a.Start))
			}
		}
	}
	stripe := format.Size(int64(s.StripeSize) * model.SectorSize)
	switch s.Kind() {
	case model.KindStriped:
		if s.StripeCount > 1 {
			parts = append(parts, fmt.Sprintf("%d stripes of %s", s.StripeCount, stripe))
		}
		areas()
	case model.KindRAID:
		desc := format.Count(len(s.Areas), "image", "images")
		if b := format.SegType(s); s.StripeSize > 0 && b != "raid1" {
			desc += ", stripe size " + stripe
		}
		parts = append(parts, desc)
		areas()
	case model.KindMirror:
		desc := format.Count(len(s.Areas), "leg", "legs")
		if s.Mirror != nil && s.Mirror.MirrorLog != "" {
			desc += ", log " + s.Mirror.MirrorLog
		} else {
			desc += ", core log"
		}
		parts = append(parts, desc)
		areas()
	case model.KindSnapshot:
		if p := s.Snapshot; p != nil {
			store := "COW store " + p.CowStore
			if p.CowStore == "" {
				store = "merging store " + p.MergingStore
			}
			parts = append(parts, "origin "+p.Origin, store, "chunk "+format.Size(int64(p.ChunkSize)*model.SectorSize))
		}
	case model.KindThinPool:
		if p := s.ThinPool; p != nil {
			parts = append(parts, "data "+p.Pool, "metadata "+p.Metadata)
		}
	case model.KindThin:
		if p := s.Thin; p != nil {
			parts = append(parts, "pool "+p.ThinPool)
			switch {
			case p.Origin != "":
				parts = append(parts, "origin "+p.Origin)
			case p.ExternalOrigin != "":
				parts = append(parts, "external origin "+p.ExternalOrigin)
			}
		}
	case model.KindCache:
		if p := s.Cache; p != nil {
			parts = append(parts, "origin "+p.Origin, "cache "+p.CachePool)
		}
	case model.KindCachePool:
		if p := s.CachePool; p != nil {
			parts = append(parts, "data "+p.Data, "metadata "+p.Metadata)
		}
	case model.KindWritecache:
		if p := s.Writecache; p != nil {
			parts = append(parts, "origin "+p.Origin, "cache "+p.Writecache)
		}
	default:
		areas()
	}
	if len(parts) == 0 {
		if refs := s.ReferencedLVs(); len(refs) > 0 {
			parts = append(parts, "uses "+strings.Join(refs, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, ", ")
}

// inputKind says what an input is: an image file or a disk device, the
// virtual disk of a container in a file, an LV of a VG found on the
// inputs; with its size.
func inputKind(in *scan.InputResult) string {
	size := format.Size(in.Size)
	switch {
	case in.File != nil:
		return fmt.Sprintf("%s container, virtual disk %s", in.Node.Kind, size)
	case in.Node.Kind == scan.KindLV:
		return fmt.Sprintf("LV of VG %s, %s", in.Node.VG, size)
	case in.Node.Array != nil:
		return arrayKind(in.Node.Array, in.Size)
	case in.Node.Kind == scan.KindLUKS && in.Node.LUKS != nil:
		return luksKind(in.Node, in.Size)
	case in.IsDevice:
		return "device, " + size
	}
	if in.ContainerErr != nil {
		return "image, " + size + ", container not opened"
	}
	return "image, " + size
}

// holdsText says what a device holds: the format's name, with the label
// and UUID the format records.
func holdsText(c content.Info) string {
	s := c.Name
	if c.Label != "" {
		s += fmt.Sprintf(" labelled %q", c.Label)
	}
	if c.UUID != "" {
		s += ", UUID " + c.UUID
	}
	return s
}

// arrayKind describes an md array: level, layout, chunk, roles, size.
func arrayKind(a *md.Array, size int64) string {
	s := "md " + a.Level
	if a.Layout != "" {
		s += " " + a.Layout
	}
	if a.ChunkSize > 0 && a.Level != "raid1" {
		s += ", " + format.Size(a.ChunkSize) + " chunks"
	}
	s += fmt.Sprintf(", %s, metadata %s", format.Count(a.RaidDisks, "role", "roles"), a.Metadata)
	if a.Degraded {
		s += ", degraded"
	}
	if size > 0 {
		s += ", " + format.Size(size)
	}
	return s
}

// printArray lists an array's members and missing roles.
func printArray(w io.Writer, a *md.Array) {
	fmt.Fprintf(w, "  UUID %s", a.UUID)
	if a.Name != "" {
		fmt.Fprintf(w, ", name %q", a.Name)
	}
	state := "clean"
	if !a.Clean {
		state = "active (not clean)"
	}
	fmt.Fprintf(w, ", %s, events %d\n", state, a.Events)
	for _, m := range a.Members {
		role := fmt.Sprintf("role %d", m.Role)
		if m.Role < 0 {
			role = m.State
		}
		fmt.Fprintf(w, "  ├─ %-8s %s  %s, events %d\n", role, m.Device, m.State, m.Events)
	}
	for _, r := range a.MissingRoles {
		fmt.Fprintf(w, "  ├─ role %-3d missing\n", r)
	}
	if a.Refused != "" {
		fmt.Fprintf(w, "  refused: %s\n", a.Refused)
	}
}

// memberOf says which array an md member belongs to, and its place.
func memberOf(res *scan.Result, n *scan.Node) string {
	for _, a := range res.MDNodes {
		for _, m := range a.Array.Members {
			if m.SB == n.MD {
				if m.Role >= 0 {
					return fmt.Sprintf("member of %s: role %d, %s", a.ID, m.Role, m.State)
				}
				return fmt.Sprintf("member of %s: %s", a.ID, m.State)
			}
		}
	}
	return "md member (no array assembled)"
}

// hasMDPartition reports whether a partition of the input is an md member
// or a LUKS volume: what it holds is shown as a device of its own.
func hasMDPartition(in *scan.InputResult) bool {
	for _, p := range in.PartNodes {
		if p.MD != nil || p.LUKS != nil {
			return true
		}
	}
	return false
}

// luksKind describes an unlocked LUKS volume: version, cipher, what
// opened it, the payload's size.
func luksKind(n *scan.Node, size int64) string {
	h := n.LUKS
	s := fmt.Sprintf("LUKS%d %s, %d-bit key, %d-byte sectors", h.Version, h.Cipher, h.KeyBytes*8, h.SectorSize)
	if k := n.Unlock; k != nil {
		if k.Slot >= 0 {
			s += fmt.Sprintf(", opened by key slot %d (%s)", k.Slot, k.KDF)
		} else {
			s += ", opened with the volume key given"
		}
	}
	return s + ", decrypted " + format.Size(size)
}
