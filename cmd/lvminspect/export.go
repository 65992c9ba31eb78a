package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

type exportFlags struct {
	device   string // --device ID
	output   string
	seqno    uint64
	hasSeqno bool // --seqno was given
	job.Options
	scan scan.Options
}

func newExportCmd() *cobra.Command {
	var fl exportFlags
	cmd := &cobra.Command{
		Use:   "export [flags] VG/LV PATH... | export --device ID [flags] PATH...",
		Short: "Export a logical volume, or any device, to a raw image file",
		Long: `export copies the logical volume VG/LV, found on the inputs PATH..., to a raw
image file, byte for byte, and computes its sha256 in the same pass. Hidden
sub-LVs are named as lvs prints them, without brackets (vg/r5_rimage_0). The
VG may be given by its UUID (UUID/LV); a VG name two VGs share is refused with
both UUIDs. With --device ID it exports a device of scan --json's devices[]
instead: a partition (in1.p2), a container's virtual disk (in1.ewf), an LV's
device (lv:pve/vm-100-disk-0).

The image is written to a temporary file beside the target, synced, and only
then renamed into place: on an error or an interrupt nothing is left under the
target name. All-zero blocks become holes (sparse output). A provenance
record FILE.json is written beside the image: inputs (with --hash-inputs
their sha256), the command line, the tool version, VG and LV, metadata
generation, extent map, bytes read per PV, checksum status of the metadata
used, times, sha256, and everything listed below.

Standard output gets "SHA256  FILE", the line sha256sum -c reads, and with
--md5 a second line "MD5  FILE", the line md5sum -c reads (each tool warns
about the other's line and checks its own; or keep one with grep). With -o -
the image goes to stdout and these lines to stderr.

Whatever makes the image other than a clean copy is said on stderr and in
the provenance record: ranges exported as zeros (--allow-partial), extents of
an old generation (--seqno) that later generations gave to another LV (named,
with the generation), mirror legs that differ (--verify-legs), and ranges
rebuilt from raid parity or read from another leg, with the reason.

Exit status:
  0  the image is complete and exact (ranges rebuilt from parity or read
     from another leg are exact; stderr says which)
  1  the export failed; nothing was written
  2  usage error, or an input could not be opened
  3  the image was written but is incomplete or uncertain: ranges exported
     as zeros, extents reused by another LV, legs that differ, or the
     provenance record could not be written
  130 interrupted (^C; 143 for SIGTERM, 129 for SIGHUP): the temporary
      file is removed, nothing was written

A temporary file (.NAME.tmp-…) that an export killed without warning
(kill -9) left beside its output is named by the next export to that
directory; remove it.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if fl.device != "" {
				return usageArgs(cobra.MinimumNArgs(1))(cmd, args)
			}
			return usageArgs(cobra.MinimumNArgs(2))(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fl.hasSeqno = cmd.Flags().Changed("seqno")
			if fl.device != "" {
				if fl.hasSeqno || fl.Raw || fl.VerifyLegs {
					return &exitError{code: exitUsage, err: errors.New("--device: --seqno, --raw and --verify-legs apply to LVs only")}
				}
				return runExportDevice(cmd, fl.device, args, fl)
			}
			return runExport(cmd, args[0], args[1:], fl)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.output, "output", "o", "", "output file, or - for stdout (default ./VG/LV.img; with --device ./ID.img)")
	f.StringVar(&fl.device, "device", "", "export the device `ID` of scan --json's devices[] (a partition, a container's virtual disk, an LV's device) instead of VG/LV: PATH... are then all inputs")
	f.BoolVar(&fl.Force, "force", false, "replace an existing output file and provenance record, never an input (with -o -: write to a terminal)")
	f.BoolVar(&fl.AllowPartial, "allow-partial", false, "export missing or unreadable ranges as zeros (listed on stderr and in the provenance record; exit status 3 if there are any)")
	f.Uint64Var(&fl.seqno, "seqno", 0, "export the LV as metadata generation `N` described it (see 'lvminspect history'; default: the current one)")
	f.BoolVar(&fl.MD5, "md5", false, "also compute an MD5 in the same pass (a second line on stdout, as md5sum prints it)")
	f.BoolVar(&fl.NoSparse, "no-sparse", false, "write zero blocks instead of leaving holes")
	f.BoolVar(&fl.NoProvenance, "no-provenance", false, "do not write the FILE.json provenance record")
	f.BoolVar(&fl.HashInputs, "hash-inputs", false, "record the sha256 of every input in the provenance record (reads each input whole first)")
	addScanFlags(f, &fl.scan)
	f.BoolVar(&fl.Raw, "raw", false, "export the LV's own extents as stored: an old-style snapshot's COW store itself instead of the snapshot it presents")
	f.BoolVar(&fl.VerifyLegs, "verify-legs", false, "mirror and raid1: compare all legs first and report the ranges where they differ (in the provenance record as leg_differences; exit status 3 when they differ)")
	return cmd
}

// splitLVName splits "vg/lv" (brackets around a hidden LV's name allowed).
func splitLVName(s string) (vg, lv string, err error) {
	vg, lv, ok := strings.Cut(s, "/")
	lv = strings.TrimSuffix(strings.TrimPrefix(lv, "["), "]")
	if !ok || vg == "" || lv == "" {
		return "", "", &exitError{code: exitUsage, err: fmt.Errorf("%q: name the LV as VG/LV", s)}
	}
	return vg, lv, nil
}

// staleTemporaries lists the temporaries left beside out by exports
// killed earlier (none for stdout).
func staleTemporaries(out string) []string {
	if out == "-" {
		return nil
	}
	return export.StaleTemporaries(filepath.Dir(out))
}

// outputPath is where the image goes: the -o path, or the default.
func outputPath(output string, vg *scan.VG, lv *model.LV) string {
	if output == "" {
		return job.DefaultOutput(vg.Meta.Name, lv.Name)
	}
	return output
}

// selectVG finds a VG by name in a scan, at the generation asked for
// (with has false, the current one). An old generation is opened from
// the history, scanned here once and returned for the provenance record.
func selectVG(res *scan.Result, name string, seqno uint64, has bool) (*scan.VG, *history.History, error) {
	vg, err := findVG(res, name)
	if err != nil {
		return nil, nil, err
	}
	if vg != nil && (!has || seqno == vg.Meta.Seqno) {
		return vg, nil, nil
	}
	if has {
		h := history.Scan(res, history.Options{})
		vg, err := h.Open(res, name, seqno)
		return vg, h, err
	}
	var names []string
	for _, vg := range res.VGs {
		names = append(names, vg.Meta.Name)
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("no volume group found on the inputs%s", unopened(res))
	}
	return nil, nil, fmt.Errorf("no volume group %q on the inputs (found: %s)%s", name, strings.Join(names, ", "), unopened(res))
}

// unopened says which layers that may hold the VG asked for could not be
// opened: LUKS volumes left locked, md arrays not assembled.
func unopened(res *scan.Result) string {
	var why []string
	for _, n := range append(append([]*scan.Node(nil), res.LUKSNodes...), res.MDNodes...) {
		if n.Device() != nil {
			continue
		}
		for _, p := range n.Problems {
			why = append(why, n.ID+": "+strings.TrimPrefix(p.Msg, n.Label+": "))
		}
	}
	if len(why) == 0 {
		return ""
	}
	return "; not opened: " + strings.Join(why, "; ")
}

func runExport(cmd *cobra.Command, lvArg string, paths []string, fl exportFlags) error {
	vgName, lvName, err := splitLVName(lvArg)
	if err != nil {
		return err
	}
	if fl.output == "-" && !fl.Force && isTerminal(cmd.OutOrStdout()) {
		// Raw disk bytes on a terminal are garbage at best and escape
		// sequences at worst.
		return &exitError{code: exitUsage, err: errors.New("-o -: standard output is a terminal; redirect it to a file or a pipe (or use --force)")}
	}
	res, closeAll, err := scanInputs(paths, fl.scan)
	if err != nil {
		return err
	}
	defer closeAll()
	vg, h, err := selectVG(res, vgName, fl.seqno, fl.hasSeqno)
	if err != nil {
		return err
	}
	lv := vg.Meta.LV(lvName)
	if lv == nil {
		return fmt.Errorf("VG %s (seqno %d) has no LV %q", vg.Meta.Name, vg.Meta.Seqno, lvName)
	}
	// Each message line escapes what it quotes from the disks, a
	// newline included.
	stderr := newLineWriter(cmd.ErrOrStderr())
	defer stderr.Flush()
	for _, t := range staleTemporaries(outputPath(fl.output, vg, lv)) {
		// Left by an export killed without warning (kill -9, a power
		// cut): said, never removed (it may be worth a look).
		fmt.Fprintf(stderr, "lvminspect: stale temporary %s from an interrupted export; remove it\n", t)
	}
	stderr.Flush()
	oc, pe, err := runWithProgress(cmd, func(ctx context.Context, progress func(export.Progress), stage func(string)) (*job.Outcome, error) {
		return job.Run(ctx, &job.Request{Result: res, History: h, VG: vg, LV: lv, Options: fl.Options, Output: fl.output,
			Stdout: cmd.OutOrStdout(), Protect: append(theLUKSFlags.files(), paths...), CommandLine: os.Args, ToolVersion: Version(), Progress: progress, Stage: stage})
	})
	if err != nil {
		return err
	}
	name := vg.Meta.Name + "/" + lv.Name
	if oc.Verdict != nil && oc.Verdict.Old {
		name += fmt.Sprintf(" (seqno %d)", vg.Meta.Seqno)
	}
	return reportOutcome(cmd, stderr, oc, name, "LV", pe)
}

// reportOutcome prints the hash lines of a finished export (on stdout,
// or stderr when the image went to stdout), what makes the image of name
// other than an exact copy, and what else to know of it; and gives the
// exit status.
func reportOutcome(cmd *cobra.Command, stderr *lineWriter, oc *job.Outcome, name, what string, pe *job.ProvenanceError) error {
	sums := stderr
	if oc.Result.Path != "-" {
		sums = newLineWriter(cmd.OutOrStdout())
		defer sums.Flush()
	}
	fmt.Fprintf(sums, "%s  %s\n", oc.Result.SHA256, oc.Result.Path)
	if oc.Result.MD5 != "" {
		fmt.Fprintf(sums, "%s  %s\n", oc.Result.MD5, oc.Result.Path)
	}
	if len(oc.Warnings) > 0 {
		fmt.Fprintf(stderr, "warning: the image of %s is not an exact copy of the %s:\n", name, what)
		for _, w := range oc.Warnings {
			fmt.Fprintf(stderr, "  %s\n", w)
		}
	}
	if len(oc.Notes) > 0 {
		fmt.Fprintf(stderr, "note: the image of %s is exact:\n", name)
		for _, n := range oc.Notes {
			fmt.Fprintf(stderr, "  %s\n", n)
		}
	}
	if pe != nil {
		return &exitError{code: exitIncomplete, err: pe}
	}
	if !oc.Complete {
		return &exitError{code: exitIncomplete, err: fmt.Errorf("%s: the image is not an exact copy (see the warning above)", name)}
	}
	return nil
}

// runExportDevice exports the device id of the graph the inputs make.
func runExportDevice(cmd *cobra.Command, id string, paths []string, fl exportFlags) error {
	if fl.output == "-" && !fl.Force && isTerminal(cmd.OutOrStdout()) {
		return &exitError{code: exitUsage, err: errors.New("-o -: standard output is a terminal; redirect it to a file or a pipe (or use --force)")}
	}
	res, closeAll, err := scanInputs(paths, fl.scan)
	if err != nil {
		return err
	}
	defer closeAll()
	n := res.DeviceByID(id)
	if n == nil {
		var ids []string
		for _, d := range res.Devices() {
			ids = append(ids, d.ID)
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("--device %s: no such device on the inputs (devices: %s)", id, strings.Join(ids, ", "))}
	}
	stderr := newLineWriter(cmd.ErrOrStderr())
	defer stderr.Flush()
	out := fl.output
	if out == "" {
		out = job.DefaultDeviceOutput(n.ID)
	}
	for _, t := range staleTemporaries(out) {
		fmt.Fprintf(stderr, "lvminspect: stale temporary %s from an interrupted export; remove it\n", t)
	}
	stderr.Flush()
	oc, pe, err := runWithProgress(cmd, func(ctx context.Context, progress func(export.Progress), stage func(string)) (*job.Outcome, error) {
		return job.RunDevice(ctx, &job.DeviceRequest{Result: res, Device: n, Options: fl.Options, Output: fl.output,
			Stdout: cmd.OutOrStdout(), Protect: append(theLUKSFlags.files(), paths...), CommandLine: os.Args, ToolVersion: Version(), Progress: progress, Stage: stage})
	})
	if err != nil {
		return err
	}
	return reportOutcome(cmd, stderr, oc, "device "+n.ID, "device", pe)
}

// runWithProgress runs an export (run) with the progress bar on a
// terminal's stderr and ^C, SIGTERM and SIGHUP cancelling it. It returns
// the outcome, a *job.ProvenanceError when the image was written but its
// record was not, or the error with the export's exit status.
func runWithProgress(cmd *cobra.Command, run func(ctx context.Context, progress func(export.Progress), stage func(string)) (*job.Outcome, error)) (*job.Outcome, *job.ProvenanceError, error) {
	ctx, caught, stop := signalContext(cmd.Context())
	defer stop()
	var progress func(export.Progress)
	var stage func(string)
	bar := newProgressBar(cmd.ErrOrStderr())
	if bar != nil {
		progress, stage = bar.update, bar.stage
	}
	oc, err := run(ctx, progress, stage)
	if bar != nil {
		bar.finish()
	}
	var pe *job.ProvenanceError
	switch {
	case errors.As(err, &pe):
		// The image is there: say its hashes and what is wrong with it.
		return oc, pe, nil
	case errors.Is(err, context.Canceled):
		s := caught()
		return nil, nil, &exitError{code: interruptedStatus(s), err: fmt.Errorf("interrupted (%s): no output was left behind", signalName(s))}
	case err != nil:
		return nil, nil, exportError(err)
	}
	return oc, nil, nil
}

// exportError gives a failed export its exit status: 1, nothing was
// written (a usage error is 2).
func exportError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitFailed, err: err}
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
		eta = format.Duration(pr.ETA)
	}
	fmt.Fprintf(p.w, "\r%s %s / %s  %s/s  ETA %s \x1b[K", p.bar.ViewAs(pct), format.Size(pr.Done), format.Size(pr.Total), format.Size(int64(pr.Rate)), eta)
}

// stage says which slow step runs (before the export's own progress).
func (p *progressBar) stage(s string) { fmt.Fprintf(p.w, "\r%s…\x1b[K", termsafe.Text(s)) }

func (p *progressBar) finish() { fmt.Fprint(p.w, "\r\x1b[K") }

// findVG finds the VG a command names by its name or its UUID (either
// form): nil when none has it. A name two VGs share (a guest VG inside
// an LV named like the host's, two disks of cloned machines) is refused
// with both choices listed.
func findVG(res *scan.Result, name string) (*scan.VG, error) {
	if model.ValidUUID(name) {
		for _, vg := range res.VGs {
			if model.BareUUID(vg.Meta.UUID) == model.BareUUID(name) {
				return vg, nil
			}
		}
	}
	var found []*scan.VG
	for _, vg := range res.VGs {
		if vg.Meta.Name == name {
			found = append(found, vg)
		}
	}
	if len(found) <= 1 {
		if len(found) == 1 {
			return found[0], nil
		}
		return nil, nil
	}
	var choices []string
	for _, vg := range found {
		where := "no PV present"
		if vg.Source != nil && vg.Source.PV != nil {
			where = "on " + vg.Source.PV.Path
		}
		choices = append(choices, fmt.Sprintf("%s (%s)", vg.Meta.UUID, where))
	}
	return nil, &exitError{code: exitUsage, err: fmt.Errorf("%d VGs are named %s: give the VG by its UUID (UUID/LV): %s",
		len(found), name, strings.Join(choices, ", "))}
}
