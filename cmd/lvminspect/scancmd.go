package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/export/record"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
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
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(buildScanJSON(res, check)); err != nil {
					return err
				}
			} else {
				printScanTree(termsafe.Writer{W: w}, res, check)
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
// computing each verdict once for the text and the JSON alike, with the
// export command's default options.
func lvChecker(res *scan.Result, h *history.History) lvCheck {
	type key struct {
		vg *scan.VG
		lv *model.LV
	}
	done := map[key]*job.Verdict{}
	return func(vg *scan.VG, lv *model.LV) *job.Verdict {
		k := key{vg, lv}
		if v, ok := done[k]; ok {
			return v
		}
		if h == nil && record.NeedsHistory(vg) {
			// A fallback from a damaged newest copy: later generations
			// may have reused its extents. Scanned once, if ever.
			h = history.Scan(res, history.Options{})
		}
		v := job.Check(res, vg, lv, h, job.Options{})
		done[k] = v
		return v
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

// printScanTree writes the human-readable tree of a scan.
func printScanTree(w io.Writer, res *scan.Result, check lvCheck) {
	for _, in := range res.Inputs {
		kind := "image"
		if in.IsDevice {
			kind = "device"
		}
		fmt.Fprintf(w, "%s  (%s, %s)\n", in.Path, kind, format.Size(in.Size))
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
				fmt.Fprintf(w, "  ├─ partition %d  start %d  size %s  %s\n", p.Index, p.Start, format.Size(p.Size), desc)
				if c, ok := in.PartitionContent[p.Index]; ok {
					fmt.Fprintf(w, "  │    holds: %s\n", c.Name)
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
			fmt.Fprintf(w, "  holds: %s\n", in.Content.Name)
		}
		if len(in.PVs) == 0 {
			fmt.Fprintln(w, "  no LVM2 physical volume found")
		}
		for _, p := range in.Problems {
			fmt.Fprintf(w, "  ! %s\n", p)
		}
	}
	for _, vg := range res.VGs {
		fmt.Fprintln(w)
		printVG(w, vg, check)
	}
	if probs := res.AllProblems(); len(probs) > 0 {
		fmt.Fprintf(w, "\n%d problem(s):\n", len(probs))
		for _, p := range probs {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

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
	fmt.Fprintf(w, "%sPV %s at offset %d, label sector %d%s, label crc %s\n", ind, pv.UUID(), pv.Offset, pv.Label.Sector, weak, okText(pv.Label.CRC.OK))
	fmt.Fprintf(w, "%s   device_size %s, readable %s, pv_header ext v%d flags %#x\n", ind, format.Size(int64(h.DeviceSize)), format.Size(pv.Size), h.ExtVersion, h.ExtFlags)
	for _, m := range pv.MDAs {
		line := fmt.Sprintf("%s   mda%d at %d size %d", ind, m.Index, m.AbsOff, m.Locn.Size)
		if m.Header == nil {
			line += ": header unreadable"
		} else {
			line += ", header crc " + okText(m.Header.Checksum.OK)
			if m.Header.Slots[0].Ignored() {
				line += ", IGNORED"
			}
			if c := m.Committed; c != nil && c.TextCopy != nil {
				line += fmt.Sprintf(", committed text %d bytes at %d crc %s", c.Size, c.Off, okText(c.CRCOK))
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

func printVG(w io.Writer, vg *scan.VG, check lvCheck) {
	m := vg.Meta
	fmt.Fprintf(w, "VG %s  uuid %s  seqno %d  extent %s\n", m.Name, m.UUID, m.Seqno, format.Size(m.ExtentBytes()))
	if vg.Source != nil && vg.Source.PV != nil {
		fmt.Fprintf(w, "   metadata from %s at byte %d (%s)\n", vg.Source.PV.Path, vg.Source.Off, format.Count(len(vg.Sources), "identical copy", "identical copies"))
	}
	if vg.Fallback != "" {
		fmt.Fprintf(w, "   FALLBACK: %s\n", vg.Fallback)
	}
	for _, p := range vg.PVs {
		where := "MISSING (last seen as " + p.Meta.Device + ")"
		if p.PV != nil {
			where = fmt.Sprintf("%s offset %d", p.PV.Path, p.PV.Offset)
		}
		stale := ""
		if p.Stale {
			stale = fmt.Sprintf(" STALE (seqno %d)", p.Seqno)
		}
		fmt.Fprintf(w, "├─ %s %s  %s  pe_start %d  %d extents%s\n", p.Meta.Label, p.Meta.UUID, where, p.Meta.PEStart*model.SectorSize, p.Meta.PECount, stale)
	}
	for _, lv := range m.LVs {
		vis := ""
		if !m.Shown(lv) {
			vis = " (hidden)"
		}
		tags := ""
		if len(lv.Tags) > 0 {
			tags = "  tags " + strings.Join(lv.Tags, ",")
		}
		fmt.Fprintf(w, "├─ LV %s%s  %s  uuid %s%s\n", lv.Name, vis, format.Size(m.LVSize(lv)), lv.UUID, tags)
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

func segDetail(vg *model.VG, s *model.Segment) string {
	var parts []string
	if s.StripeCount > 1 && s.Kind() == model.KindStriped {
		parts = append(parts, fmt.Sprintf("%d stripes of %s", s.StripeCount, format.Size(int64(s.StripeSize)*model.SectorSize)))
	}
	for _, a := range s.Areas {
		if a.IsPV() {
			parts = append(parts, fmt.Sprintf("%s PE %d", a.PV, a.Start))
		} else {
			parts = append(parts, fmt.Sprintf("%s LE %d", a.LV, a.Start))
		}
	}
	refs := s.ReferencedLVs()
	if len(s.Areas) == 0 && len(refs) > 0 {
		parts = append(parts, "uses "+strings.Join(refs, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, ", ")
}
