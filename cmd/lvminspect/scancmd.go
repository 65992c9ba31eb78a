package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
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
VGs, LVs and segments with checksum status and warnings, or with --json the
schema documented in docs/json.md.

Exit status: 0 when at least one PV was found, 1 when none was, 2 when an
input could not be opened.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, closeAll, err := scanInputs(args, opt)
			if err != nil {
				return err
			}
			defer closeAll()
			if cmd.Flags().Changed("seqno") {
				// Time travel: every VG that has generation seqno is shown as it described it.
				if err := history.ApplySeqno(res, "", seqno); err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(buildScanJSON(res)); err != nil {
					return err
				}
			} else {
				printScanTree(termsafe.Writer{W: w}, res)
			}
			if len(res.PVs) == 0 {
				msg := "no LVM2 physical volume found in " + strings.Join(args, ", ")
				if !opt.Carve {
					msg += " (at their starts and in their partitions; --carve searches every sector)"
				}
				return &exitError{code: 1, err: errors.New(msg)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema: docs/json.md)")
	cmd.Flags().Uint64Var(&seqno, "seqno", 0, "show each VG as its metadata generation `N` described it (see 'lvminspect history'), read-only")
	addScanFlags(cmd.Flags(), &opt)
	return cmd
}

// printScanTree writes the human-readable tree of a scan.
func printScanTree(w io.Writer, res *scan.Result) {
	for _, in := range res.Inputs {
		kind := "image"
		if in.IsDevice {
			kind = "device"
		}
		fmt.Fprintf(w, "%s  (%s, %s)\n", in.Path, kind, sizeText(in.Size))
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
				fmt.Fprintf(w, "  ├─ partition %d  start %d  size %s  %s\n", p.Index, p.Start, sizeText(p.Size), desc)
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
		printVG(w, vg)
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
	fmt.Fprintf(w, "%s   device_size %s, readable %s, pv_header ext v%d flags %#x\n", ind, sizeText(int64(h.DeviceSize)), sizeText(pv.Size), h.ExtVersion, h.ExtFlags)
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

func printVG(w io.Writer, vg *scan.VG) {
	m := vg.Meta
	fmt.Fprintf(w, "VG %s  uuid %s  seqno %d  extent %s\n", m.Name, m.UUID, m.Seqno, sizeText(m.ExtentBytes()))
	if vg.Source != nil && vg.Source.PV != nil {
		fmt.Fprintf(w, "   metadata from %s at byte %d (%d identical cop%s)\n", vg.Source.PV.Path, vg.Source.Off, len(vg.Sources), plural(len(vg.Sources), "y", "ies"))
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
	resolver := volume.FromScan(vg)
	for _, lv := range m.LVs {
		vis := ""
		if !m.Shown(lv) {
			vis = " (hidden)"
		}
		tags := ""
		if len(lv.Tags) > 0 {
			tags = "  tags " + strings.Join(lv.Tags, ",")
		}
		fmt.Fprintf(w, "├─ LV %s%s  %s  uuid %s%s\n", lv.Name, vis, sizeText(m.LVSize(lv)), lv.UUID, tags)
		if src, err := resolver.OpenLV(lv); err != nil {
			fmt.Fprintf(w, "│   cannot export: %v\n", err)
		} else if n, why, _ := export.MissingBytes(src); n > 0 {
			fmt.Fprintf(w, "│   PARTIAL: %s of %s have no source (%s); export needs --allow-partial\n", sizeText(n), sizeText(src.Size()), why)
		}
		for i, s := range lv.Segments {
			typ := s.Type
			if s.Kind() == model.KindStriped && s.StripeCount == 1 {
				typ = "linear"
			}
			fmt.Fprintf(w, "│   segment %d: extents %d..%d  %s%s\n", i+1, s.StartExtent, s.StartExtent+s.ExtentCount-1, typ, segDetail(m, s))
		}
	}
	for _, h := range m.HistoricalLVs {
		fmt.Fprintf(w, "├─ historical LV %s  uuid %s\n", h.Name, h.UUID)
	}
}

func segDetail(vg *model.VG, s *model.Segment) string {
	var parts []string
	if s.StripeCount > 1 && s.Kind() == model.KindStriped {
		parts = append(parts, fmt.Sprintf("%d stripes of %s", s.StripeCount, sizeText(int64(s.StripeSize)*model.SectorSize)))
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sizeText prints a byte count in binary units with the exact number.
func sizeText(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
