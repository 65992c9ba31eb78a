package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/record"
	_ "github.com/lvminspect/lvminspect/export/segtypes" // every segment type's opener
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
)

type exportFlags struct {
	output       string
	force        bool
	allowPartial bool
	seqno        uint64
	hasSeqno     bool // --seqno was given
	md5          bool
	noSparse     bool
	noProvenance bool
	verifyLegs   bool
	raw          bool
	scan         scan.Options
}

func newExportCmd() *cobra.Command {
	var fl exportFlags
	cmd := &cobra.Command{
		Use:   "export [flags] VG/LV PATH...",
		Short: "Export a logical volume to a raw image file",
		Long: `export copies the logical volume VG/LV, found on the inputs PATH..., to a raw
image file, byte for byte, and computes its sha256 in the same pass. Hidden
sub-LVs are named as lvs prints them, without brackets (vg/r5_rimage_0).

The image is written to a temporary file beside the target, synced, and only
then renamed into place: on an error or an interrupt nothing is left under the
target name. All-zero blocks become holes (sparse output). A provenance
record FILE.json is written beside the image: inputs, VG and LV, metadata
generation, extent map, bytes read per PV, checksum status of the metadata
used, times, sha256.

With -o - the image goes to stdout and the sha256 to stderr.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl.hasSeqno = cmd.Flags().Changed("seqno")
			return runExport(cmd, args[0], args[1:], fl)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.output, "output", "o", "", "output file, or - for stdout (default ./VG/LV.img)")
	f.BoolVar(&fl.force, "force", false, "replace an existing output file (with -o -: write to a terminal)")
	f.BoolVar(&fl.allowPartial, "allow-partial", false, "export missing or unreadable ranges as zeros (listed in the provenance record)")
	f.Uint64Var(&fl.seqno, "seqno", 0, "export the LV as metadata generation `N` described it (see 'lvminspect history'; default: the current one)")
	f.BoolVar(&fl.md5, "md5", false, "also compute an MD5 in the same pass")
	f.BoolVar(&fl.noSparse, "no-sparse", false, "write zero blocks instead of leaving holes")
	f.BoolVar(&fl.noProvenance, "no-provenance", false, "do not write the FILE.json provenance record")
	addScanFlags(f, &fl.scan)
	f.BoolVar(&fl.raw, "raw", false, "export the LV's own extents as stored: an old-style snapshot's COW store itself instead of the snapshot it presents")
	f.BoolVar(&fl.verifyLegs, "verify-legs", false, "mirror and raid1: compare all legs first and report the ranges where they differ (in the provenance record as leg_differences)")
	return cmd
}

// splitLVName splits "vg/lv" (brackets around a hidden LV's name allowed).
func splitLVName(s string) (vg, lv string, err error) {
	vg, lv, ok := strings.Cut(s, "/")
	lv = strings.TrimSuffix(strings.TrimPrefix(lv, "["), "]")
	if !ok || vg == "" || lv == "" {
		return "", "", &exitError{code: 2, err: fmt.Errorf("%q: name the LV as VG/LV", s)}
	}
	return vg, lv, nil
}

// selectVG finds a VG by name in a scan, at the generation asked for.
// With has false, the current generation.
func selectVG(res *scan.Result, name string, seqno uint64, has bool) (*scan.VG, error) {
	for _, vg := range res.VGs {
		if vg.Meta.Name != name {
			continue
		}
		if !has || seqno == vg.Meta.Seqno {
			return vg, nil
		}
		return openGeneration(res, name, seqno)
	}
	if has {
		return openGeneration(res, name, seqno)
	}
	var names []string
	for _, vg := range res.VGs {
		names = append(names, vg.Meta.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no volume group found on the inputs")
	}
	return nil, fmt.Errorf("no volume group %q on the inputs (found: %s)", name, strings.Join(names, ", "))
}

func runExport(cmd *cobra.Command, lvArg string, paths []string, fl exportFlags) error {
	vgName, lvName, err := splitLVName(lvArg)
	if err != nil {
		return err
	}
	if fl.output == "-" && !fl.force && isTerminal(cmd.OutOrStdout()) {
		// Raw disk bytes on a terminal are garbage at best and escape
		// sequences at worst.
		return &exitError{code: 2, err: errors.New("-o -: standard output is a terminal; redirect it to a file or a pipe (or use --force)")}
	}
	res, closeAll, err := scanInputs(paths, fl.scan)
	if err != nil {
		return err
	}
	defer closeAll()
	vg, err := selectVG(res, vgName, fl.seqno, fl.hasSeqno)
	if err != nil {
		return err
	}
	lv := vg.Meta.LV(lvName)
	if lv == nil {
		return fmt.Errorf("VG %s (seqno %d) has no LV %q", vg.Meta.Name, vg.Meta.Seqno, lvName)
	}
	resolver := volume.FromScan(vg)
	open := resolver.OpenLV
	if fl.raw {
		open = resolver.OpenRaw
	}
	src, err := open(lv)
	if err != nil {
		return fmt.Errorf("cannot export %s/%s: %w", vgName, lvName, err)
	}
	var legs *raid.LegReport
	if fl.verifyLegs {
		if legs, err = raid.VerifyLegs(cmd.Context(), resolver, lv); err != nil {
			return fmt.Errorf("--verify-legs: %w", err)
		}
		if legs.Diffs == nil {
			legs.Diffs = []raid.LegDiff{}
		}
		printLegReport(termsafe.Writer{W: cmd.ErrOrStderr()}, legs)
	}
	out := fl.output
	if out == "" {
		out = filepath.Join(".", vgName, lvName+".img")
	}
	stderr := cmd.ErrOrStderr()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	opt := export.Options{Output: out, Stdout: cmd.OutOrStdout(), Force: fl.force, AllowPartial: fl.allowPartial,
		Sparse: !fl.noSparse, MD5: fl.md5, Protect: paths}
	if pp := export.ProvenancePath(out); pp != "" && !fl.force && !fl.noProvenance {
		if _, err := os.Lstat(pp); err == nil {
			return &export.ExistsError{Path: pp}
		}
	}
	bar := newProgressBar(stderr)
	if bar != nil {
		opt.Progress = bar.update
	}
	r, err := export.Export(ctx, src, opt)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		var me *export.MissingError
		if errors.As(err, &me) {
			return fmt.Errorf("%s/%s: %w\n(use --allow-partial to export these ranges as zeros)", vgName, lvName, err)
		}
		if errors.Is(err, context.Canceled) {
			return &exitError{code: 130, err: errors.New("interrupted: no output was left behind")}
		}
		return err
	}
	if p := export.ProvenancePath(out); p != "" && !fl.noProvenance {
		prov := record.Build(res, vg, lv, src, r, Version())
		if legs != nil {
			prov.LegDifferences = legs
		}
		if err := export.WriteProvenance(p, prov); err != nil {
			return fmt.Errorf("image written to %s (sha256 %s), but the provenance record failed: %w", out, r.SHA256, err)
		}
	}
	var w io.Writer = termsafe.Writer{W: cmd.OutOrStdout()}
	if out == "-" {
		w = termsafe.Writer{W: stderr}
	}
	fmt.Fprintf(w, "%s  %s\n", r.SHA256, out)
	if r.MD5 != "" {
		fmt.Fprintf(w, "md5 %s  %s\n", r.MD5, out)
	}
	for _, m := range r.Missing {
		fmt.Fprintf(termsafe.Writer{W: stderr}, "warning: exported as zeros: %s\n", m)
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// progressBar draws a progress line on a terminal's stderr.
type progressBar struct {
	w   io.Writer
	bar progress.Model
}

func newProgressBar(w io.Writer) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	f := w.(*os.File)
	width := 40
	if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 60 {
		width = min(cols-45, 60)
	}
	b := progress.New(progress.WithDefaultGradient(), progress.WithWidth(width))
	return &progressBar{w: w, bar: b}
}

func (p *progressBar) update(pr export.Progress) {
	pct := 0.0
	if pr.Total > 0 {
		pct = float64(pr.Done) / float64(pr.Total)
	}
	eta := "--:--"
	if pr.ETA > 0 {
		eta = pr.ETA.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%s %s / %s  %s/s  ETA %s \x1b[K", p.bar.ViewAs(pct), sizeText(pr.Done), sizeText(pr.Total), sizeText(int64(pr.Rate)), eta)
}

func (p *progressBar) finish() { fmt.Fprint(p.w, "\r\x1b[K") }

func printLegReport(w io.Writer, rep *raid.LegReport) {
	fmt.Fprintf(w, "legs of %s: %s compared, %d differing range(s)\n", rep.LV, sizeText(rep.Compared), len(rep.Diffs))
	for _, d := range rep.Diffs {
		fmt.Fprintf(w, "  LV bytes [%d, %d): %s differ from %s\n", d.Off, d.Off+d.Len, strings.Join(d.Differ, ", "), d.Reference)
	}
	for _, u := range rep.Unchecked {
		fmt.Fprintf(w, "  not compared (fewer than two legs): %s\n", u)
	}
}
