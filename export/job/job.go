// Package job is the one export use-case behind every front end (the
// export command and the inspector's export prompt): it says in advance
// whether an LV can be exported (Check), and exports it (Run): checks the
// paths, opens the LV, compares mirror legs when asked, runs the engine,
// builds the provenance record from the history already scanned and
// writes it through the same file system as the image, and says in plain
// words everything that makes the image something other than a clean
// copy.
package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/record"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// Request is one export.
type Request struct {
	Result *scan.Result
	// History is the metadata history of Result, when the caller has
	// scanned it (to open an old generation). When nil it is scanned
	// only if the generation exported needs it (an old one), at most
	// once.
	History *history.History
	VG      *scan.VG // the generation exported
	LV      *model.LV
	Options

	// Output is the image path ("" for DefaultOutput), or "-" for Stdout.
	Output string
	Stdout io.Writer
	// FS is where the image and the provenance record go (default
	// export.OSFS).
	FS export.FS
	// Protect lists paths never written, even with Force: the inputs of
	// Result always are; add any other evidence here.
	Protect []string
	// Scan says how Result was scanned; CommandFor repeats it.
	Scan scan.Options
	// CommandLine is recorded in the provenance (see Redact).
	CommandLine []string
	ToolVersion string
	// Progress, when set, receives the engine's progress.
	Progress func(export.Progress)
	// Stage, when set, is told each slow step before it starts:
	// "hashing inputs", "comparing legs", "exporting".
	Stage func(string)
}

// Outcome is a finished export.
type Outcome struct {
	Result     *export.Result
	Provenance *export.Provenance
	// Path is the image's absolute path ("-" for stdout); ProvenancePath
	// the record's ("" when none was written).
	Path, ProvenancePath string
	// Warnings say, in plain words, everything that makes the image other
	// than a complete and exact copy of the LV as the metadata describes
	// it: zero-filled ranges, extents later generations gave to other LVs
	// (and which), legs that differ. Lines starting with two spaces
	// detail the line before.
	Warnings []string
	// Notes say what the user should know of an exact image: ranges
	// rebuilt from parity or read from another leg (with the reason),
	// legs compared and found identical, ranges of legs not compared.
	Notes []string
	// Complete: no warnings, the image is a complete and exact copy
	// (ranges rebuilt from parity or read from another leg are exact).
	Complete bool
	// Legs is the leg comparison, with VerifyLegs.
	Legs *raid.LegReport
	// Verdict is the check made before the export.
	Verdict *Verdict
}

// ProvenanceError is returned with an Outcome when the image was written
// but its provenance record could not be.
type ProvenanceError struct {
	Path string // the record's path
	Err  error
}

func (e *ProvenanceError) Error() string {
	return fmt.Sprintf("the image was written, but its provenance record %s failed: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *ProvenanceError) Unwrap() error { return e.Err }

// Run exports req.LV: it checks the paths (an input is never replaced;
// an existing image or provenance record only with Force), checks the LV
// with the same functions as Check (a *NotExportableError, before
// anything is written, when Check says it cannot be exported), hashes the
// inputs and compares the legs when asked, runs the engine, builds the
// provenance record (without rescanning the history when req.History is
// given) and writes it through req.FS beside the image.
//
// On an error nothing is left at the output, except a *ProvenanceError:
// the image is complete, the Outcome is returned with the error.
func Run(ctx context.Context, req *Request) (*Outcome, error) {
	if req == nil || req.Result == nil || req.VG == nil || req.VG.Meta == nil || req.LV == nil {
		return nil, errors.New("export: no LV to export")
	}
	res, vg, lv, opt := req.Result, req.VG, req.LV, req.Options
	t, err := prepare(res, req.Output, DefaultOutput(vg.Meta.Name, lv.Name), req.FS, req.Protect, opt)
	if err != nil {
		return nil, err
	}
	out, pp, fsys, protect := t.out, t.pp, t.fsys, t.protect

	h := req.History
	if h == nil && record.NeedsHistory(vg) {
		h = history.Scan(res, history.Options{})
	}
	v, o := assess(ctx, vg, lv, h, opt)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !v.Exportable {
		return nil, &NotExportableError{Verdict: v}
	}

	var hashes []string
	if opt.HashInputs {
		stage(req, "hashing inputs")
		if hashes, err = hashInputs(ctx, res); err != nil {
			return nil, err
		}
	}
	var legs *raid.LegReport
	if opt.VerifyLegs {
		stage(req, "comparing legs")
		var err error
		if legs, err = raid.VerifyLegs(ctx, o.resolver, lv); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("--verify-legs: %w", err)
		}
		if legs.Diffs == nil {
			legs.Diffs = []raid.LegDiff{}
		}
	}

	stage(req, "exporting")
	r, err := export.Export(ctx, o.src, export.Options{Output: out, Stdout: req.Stdout, Force: opt.Force,
		AllowPartial: opt.AllowPartial, Sparse: !opt.NoSparse, MD5: opt.MD5, Progress: req.Progress, FS: fsys, Protect: protect})
	if err != nil {
		return nil, err
	}

	prov := record.New(res, vg, lv, h, o.src, r, req.ToolVersion)
	prov.CommandLine = Redact(req.CommandLine)
	for i := range prov.Inputs {
		if i < len(hashes) {
			prov.Inputs[i].SHA256 = hashes[i]
		}
	}
	if legs != nil {
		prov.LegDifferences = legs
	}
	oc := &Outcome{Result: r, Provenance: prov, Path: AbsOutput(r.Path), Legs: legs, Verdict: v}
	oc.Warnings, oc.Notes = warnings(lv.Name, v.Extents, r, prov, legs)
	oc.Complete = len(oc.Warnings) == 0
	if pp != "" {
		if err := export.WriteProvenanceFS(fsys, pp, prov); err != nil {
			return oc, &ProvenanceError{Path: pp, Err: err}
		}
		oc.ProvenancePath = AbsOutput(pp)
	}
	return oc, nil
}

func stage(req *Request, s string) {
	if req.Stage != nil {
		req.Stage(s)
	}
}

// target is where an export writes, checked.
type target struct {
	out, pp string // the image ("-" for stdout) and its provenance record ("" for none)
	fsys    export.FS
	protect []string // never written: the paths given and every file the inputs were read from
}

// prepare settles where an export writes (out, or def when out is ""),
// through fsys (the OS's when nil), and checks it: never an input or a
// file read for one, nothing existing without Force.
func prepare(res *scan.Result, out, def string, fsys export.FS, protect []string, opt Options) (*target, error) {
	if out == "" {
		out = def
	}
	if fsys == nil {
		fsys = export.OSFS{}
	}
	t := &target{out: out, fsys: fsys, protect: append(append([]string(nil), protect...), record.Evidence(res)...)}
	if out != "-" && !opt.NoProvenance {
		t.pp = export.ProvenancePath(out)
	}
	if err := checkPaths(fsys, out, t.pp, t.protect, opt.Force); err != nil {
		return nil, err
	}
	return t, nil
}

// checkPaths refuses an output or provenance path that is an input
// (whatever force says), and an existing one without force.
func checkPaths(fsys export.FS, out, pp string, protect []string, force bool) error {
	if out == "-" {
		return nil
	}
	for _, p := range []string{out, export.ProvenancePath(out)} {
		if err := export.CheckProtected(p, protect); err != nil {
			return err
		}
	}
	if force {
		return nil
	}
	for _, p := range []string{out, pp} {
		if p == "" {
			continue
		}
		_, err := fsys.Lstat(p)
		if err == nil {
			return &export.ExistsError{Path: filepath.Clean(p)}
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export: checking %s: %w", p, err)
		}
	}
	return nil
}

// hashInputs returns the SHA-256 of every input given of res, in the
// order of record.Inputs: of the file as given (an E01's or a qcow2's own
// bytes, what sha256sum of that path says, not the disk inside); the LVs
// the graph opened as disks are not inputs.
func hashInputs(ctx context.Context, res *scan.Result) ([]string, error) {
	var out []string
	buf := make([]byte, 4<<20)
	for _, in := range res.Given() {
		var r io.ReaderAt = in.ReaderAt()
		size := in.Size
		if in.File != nil {
			r, size = in.File.Device(), in.File.Size
		}
		h := sha256.New()
		for off := int64(0); off < size; {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := int(min(int64(len(buf)), size-off))
			m, err := r.ReadAt(buf[:n], off)
			h.Write(buf[:m])
			off += int64(m)
			if m < n {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("--hash-inputs: reading %s at byte %d: %w", in.Path, off, err)
			}
		}
		out = append(out, hex.EncodeToString(h.Sum(nil)))
	}
	return out, nil
}

// Redact returns the command line to record, with the values of options
// that may carry secrets replaced by "(redacted)". lvminspect has no such
// option yet; secretFlags is where one goes (a passphrase, a key file).
func Redact(args []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, 0, len(args))
	hide := false
	for _, a := range args {
		if hide {
			out = append(out, "(redacted)")
			hide = false
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		if secretFlags[name] {
			if hasValue {
				out = append(out, name+"=(redacted)")
			} else {
				out = append(out, a)
				hide = true
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// secretFlags are the options whose values are never recorded.
var secretFlags = map[string]bool{}

// warnings words what makes the image not an exact copy, and what else
// the user should know of it.
func warnings(lv string, extents uint64, r *export.Result, p *export.Provenance, legs *raid.LegReport) (w, notes []string) {
	if len(r.Missing) > 0 {
		var n int64
		for _, m := range r.Missing {
			n += m.Len
		}
		w = append(w, fmt.Sprintf("%s of %s exported as zeros (no source or unreadable), in %s:", format.Size(n), format.Size(r.Size),
			format.Count(len(r.Missing), "range", "ranges")))
		for i, m := range r.Missing {
			if i == maxListed {
				w = append(w, fmt.Sprintf("  and %d more (listed in the provenance record)", len(r.Missing)-maxListed))
				break
			}
			w = append(w, fmt.Sprintf("  %s: %s", bytesText(m.Off, m.Len), rangeWhy(m)))
		}
	}
	if len(p.ReusedExtents) > 0 {
		w = append(w, reusedLines(p.ReusedExtents, extents, lv, "the")...)
	}
	if legs != nil && len(legs.Diffs) > 0 {
		w = append(w, fmt.Sprintf("the legs of %s differ in %s (the image has the bytes of the first leg that holds them):", legs.LV, format.Count(len(legs.Diffs), "range", "ranges")))
		for i, d := range legs.Diffs {
			if i == maxListed {
				w = append(w, fmt.Sprintf("  and %d more (listed in the provenance record)", len(legs.Diffs)-maxListed))
				break
			}
			w = append(w, fmt.Sprintf("  %s: %s differ from %s", bytesText(d.Off, d.Len), strings.Join(d.Differ, ", "), d.Reference))
		}
	} else if legs != nil {
		notes = append(notes, fmt.Sprintf("the legs of %s were compared over %s: identical", legs.LV, format.Size(legs.Compared)))
	}
	if legs != nil {
		for _, u := range legs.Unchecked {
			notes = append(notes, fmt.Sprintf("%s: legs not compared (%s)", bytesText(u.Off, u.Len), u.Reason))
		}
	}
	notes = append(notes, rebuiltLines(p.RebuiltRanges)...)
	return w, notes
}

// Summary is the one line a front end shows when the export ended: what
// was exported where, its size and sha256, and whether it is an exact
// copy.
func (o *Outcome) Summary() string {
	v := o.Verdict
	gen := ""
	if v != nil && v.Old {
		gen = fmt.Sprintf(" as of seqno %d", v.Seqno)
	}
	name := ""
	if v != nil {
		name = v.VG + "/" + v.LV + gen + " "
	}
	mark := "✓ exported "
	switch {
	case !o.Complete:
		mark = "! exported, not an exact copy: "
	case v != nil && !v.Clean():
		// Exact, but not every byte was read from its primary place: no
		// ✓ for a copy that is not clean.
		mark = "! exported (exact, some ranges not read from their primary place) "
	}
	return fmt.Sprintf("%s%sto %s (%s) sha256 %s", mark, name, o.Path, format.Size(o.Result.Size), o.Result.SHA256)
}
