package job

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/cow"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/record"
	_ "github.com/lvminspect/lvminspect/export/segtypes" // every segment type's opener
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// Options are the choices of one export, the same in every front end
// (the export command's flags, the inspector's export prompt).
type Options struct {
	// AllowPartial exports bytes that have no source (a missing PV, past
	// the end of a truncated image) and unreadable bytes as zeros,
	// listed in the warnings and the provenance record.
	AllowPartial bool
	// Raw exports the LV's own extents as stored (an old-style
	// snapshot's COW store itself instead of the snapshot it presents).
	Raw bool
	// MD5 computes an MD5 besides the SHA-256, in the same pass.
	MD5 bool
	// VerifyLegs compares all legs of a mirror or raid1 LV before the
	// export and reports the ranges where they differ.
	VerifyLegs bool
	// NoSparse writes zero blocks instead of leaving holes.
	NoSparse bool
	// NoProvenance writes no provenance record beside the image.
	NoProvenance bool
	// Force replaces an existing image and provenance record (never an
	// input).
	Force bool
	// HashInputs records the SHA-256 of every input in the provenance
	// record (each input is read whole once more).
	HashInputs bool
}

// Verdict says, before anything is read or written, whether an LV can be
// exported with the given options and what the export will not copy
// cleanly. Check builds it with the functions Run uses, so the verdict
// shown before an export is what the export does.
type Verdict struct {
	VG, LV  string
	Seqno   uint64 // the generation described
	Old     bool   // not the newest committed generation (time travel, or a fallback)
	Size    int64  // bytes an export writes
	Extents uint64 // the LV's logical extents

	// Exportable: with the options, an export would run (false when
	// bytes are missing and !AllowPartial, when the LV cannot be
	// opened, or when --verify-legs cannot compare its legs).
	Exportable bool
	// Reason is why not, when !Exportable, in plain words; for missing
	// bytes it ends with the hint "--allow-partial exports them as
	// zeros" (once).
	Reason string
	// Err is the error behind Reason (*export.MissingError,
	// *model.UnsupportedError, ...), nil when Exportable.
	Err error

	// MissingBytes is how many bytes have no source (exported as zeros
	// with AllowPartial); MissingWhy the first reason; Missing the ranges.
	MissingBytes int64
	MissingWhy   string
	Missing      []export.Range
	// Rebuilt lists the ranges rebuilt from parity or read from another
	// leg or copy (exact, but not from their primary place).
	Rebuilt []export.MissingRange
	// Reused lists, for an old generation, the extents later generations
	// gave to other LVs: what is there now may be their data.
	Reused []export.ReusedExtent
	// Notes are what the raid and mirror layers report, and anything
	// that could not be checked.
	Notes []string
}

// Clean reports whether an export would be a complete and exact copy
// read from the primary place of every byte: exportable, nothing missing,
// rebuilt or reused.
func (v *Verdict) Clean() bool {
	return v.Exportable && v.MissingBytes == 0 && len(v.Rebuilt) == 0 && len(v.Reused) == 0
}

// Exact reports whether an export would be complete and exact (ranges
// rebuilt from parity or read from another leg are exact): exportable,
// with nothing zero-filled and no extent reused by another LV.
func (v *Verdict) Exact() bool {
	return v.Exportable && v.MissingBytes == 0 && len(v.Reused) == 0
}

// Lines is the verdict as the user reads it, one fact per line, the same
// words in every front end: the first line is "✓ can be exported" or
// "✗ cannot export: …"; lines starting with "!" say what an export would
// not copy exactly, lines starting with "·" say what it reads from
// elsewhere or what the layers report.
func (v *Verdict) Lines() []string {
	var out []string
	if !v.Exportable {
		out = append(out, "✗ cannot export: "+v.Reason)
	} else if v.Exact() {
		out = append(out, "✓ can be exported")
	} else {
		out = append(out, "✓ can be exported, but not as an exact copy")
	}
	if v.Exportable && v.MissingBytes > 0 {
		out = append(out, "! "+zeroSummary(v.MissingBytes, v.Size, v.MissingWhy))
	}
	for _, s := range reusedLines(v.Reused, v.Extents, v.LV, "its") {
		out = append(out, "! "+s)
	}
	for _, s := range rebuiltLines(v.Rebuilt) {
		out = append(out, "· "+s)
	}
	for _, n := range v.Notes {
		out = append(out, "· "+n)
	}
	return out
}

// Check says, without reading LV data, whether lv of vg (a generation
// found on the inputs of res) can be exported with opt, and what the
// export would not copy cleanly. h is the metadata history of res; it may
// be nil, and is only needed for an old generation (reused extents): then
// Check says they were not checked instead of scanning it.
func Check(res *scan.Result, vg *scan.VG, lv *model.LV, h *history.History, opt Options) *Verdict {
	if vg == nil || vg.Meta == nil || lv == nil {
		err := errors.New("no logical volume selected")
		return &Verdict{Reason: err.Error(), Err: err}
	}
	v, _ := assess(context.Background(), vg, lv, h, opt)
	return v
}

// assess is Check, also returning the opened source (nil when the LV
// cannot be opened) for Run.
func assess(ctx context.Context, vg *scan.VG, lv *model.LV, h *history.History, opt Options) (*Verdict, *opened) {
	v := &Verdict{VG: vg.Meta.Name, LV: lv.Name, Seqno: vg.Meta.Seqno, Extents: lv.ExtentCount(), Size: vg.Meta.LVSize(lv),
		Old: record.NeedsHistory(vg)}
	if err := duplicateConflict(vg, lv, opt.Raw); err != nil {
		v.Err, v.Reason = err, plainError(err)
		return v, nil
	}
	o, err := open(vg, lv, opt.Raw)
	if err != nil {
		v.Err, v.Reason = err, plainError(err)
		return v, nil
	}
	v.Size = o.src.Size()
	miss, err := export.MissingRanges(ctx, o.src)
	if err != nil {
		v.Err, v.Reason = err, plainError(err)
		return v, o
	}
	v.Missing = miss
	for _, r := range miss {
		v.MissingBytes += r.Len
		if v.MissingWhy == "" {
			v.MissingWhy = rangeWhy(r)
		}
	}
	v.Exportable = true
	if v.MissingBytes > 0 && !opt.AllowPartial {
		v.Exportable = false
		v.Err = &export.MissingError{Ranges: miss}
		v.Reason = fmt.Sprintf("%s of %s have no source (%s); --allow-partial exports them as zeros",
			format.Size(v.MissingBytes), format.Size(v.Size), v.MissingWhy)
	}
	if opt.VerifyLegs {
		if err := legsComparable(o.resolver, lv); err != nil {
			v.Exportable = false
			v.Err = err
			v.Reason = "--verify-legs: " + plainError(err)
		}
	}
	v.Notes, v.Rebuilt = record.Layers(vg, lv)
	reused, err := record.ReusedExtents(vg, lv, h)
	v.Reused = reused
	if err != nil {
		v.Notes = append(v.Notes, err.Error())
	}
	return v, o
}

// DuplicateError says that an LV reads a PV whose UUID is on several
// inputs that differ, and none was chosen (scan.Options.PVs, --pv): which
// copy is the PV is the examiner's decision, not the order of the inputs.
type DuplicateError struct {
	LV, PV string // the LV, and the PV as the VG names it
	Why    string // the scan's words: where the copies are, how they differ, how to choose
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("LV %s reads PV %s: %s", e.LV, e.PV, e.Why)
}

// duplicateConflict is a *DuplicateError when lv, or an LV it is built
// from or presents (its pool, images, origin, the snapshot of a COW
// store), has extents on a PV with unresolved differing copies.
func duplicateConflict(vg *scan.VG, lv *model.LV, raw bool) error {
	bad := map[string]*scan.VGPV{}
	for _, p := range vg.PVs {
		if p.Conflict != "" {
			bad[p.Meta.Label] = p
		}
	}
	if len(bad) == 0 {
		return nil
	}
	m := vg.Meta
	seen := map[*model.LV]bool{}
	queue := []*model.LV{lv}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		if l == nil || seen[l] {
			continue
		}
		seen[l] = true
		for _, s := range l.Segments {
			for _, as := range [][]model.Area{s.Areas, s.MetaAreas} {
				for _, a := range as {
					if p := bad[a.PV]; a.IsPV() && p != nil {
						return &DuplicateError{LV: lv.Name, PV: p.Meta.Ref(), Why: p.Conflict}
					}
				}
			}
			for _, n := range s.ReferencedLVs() {
				queue = append(queue, m.LV(n))
			}
		}
		if l == lv && !raw {
			if snap, _ := cow.SnapshotFor(m, l); snap != nil {
				queue = append(queue, snap)
			}
		}
	}
	return nil
}

// opened is an LV opened for export.
type opened struct {
	resolver *volume.Resolver
	src      export.Source
}

// open opens lv of vg as its user sees it, or its own extents with raw.
func open(vg *scan.VG, lv *model.LV, raw bool) (*opened, error) {
	r := volume.ForScan(vg)
	openFn := r.OpenLV
	if raw {
		openFn = r.OpenRaw
	}
	src, err := openFn(lv)
	if err != nil {
		return nil, err
	}
	return &opened{resolver: r, src: src}, nil
}

// legsComparable says whether raid.VerifyLegs can compare the legs of lv:
// it needs a mirror or raid1 segment that opens as legs.
func legsComparable(r *volume.Resolver, lv *model.LV) error {
	for i, s := range lv.Segments {
		if s.Kind() != model.KindMirror && !(s.Kind() == model.KindRAID && s.RAID != nil && s.RAID.Level == "raid1") {
			continue
		}
		a, err := raid.OpenSegment(r, lv, i)
		if err != nil {
			return err
		}
		if _, ok := a.(*raid.Legs); ok {
			return nil
		}
	}
	return fmt.Errorf("LV %s has no mirror or raid1 segment whose legs could be compared", lv.Name)
}

// plainError is an error's text without the package prefixes the user
// does not need ("export: ").
func plainError(err error) string {
	s := err.Error()
	return strings.TrimPrefix(s, "export: ")
}

// rangeWhy is why a range has no source.
func rangeWhy(r export.Range) string {
	why := r.Reason
	if why == "" {
		why = "no source"
	}
	if r.Source != "" && !strings.Contains(why, r.Source) {
		why = r.Source + ": " + why
	}
	return why
}

// zeroSummary: "10.00 MiB of 20.00 MiB have no source (why): exported as zeros".
func zeroSummary(n, size int64, why string) string {
	return fmt.Sprintf("%s of %s have no source (%s): exported as zeros", format.Size(n), format.Size(size), why)
}

// maxListed bounds the ranges listed one per line; the rest are counted
// (all are in the provenance record).
const maxListed = 10

// bytesText is "LV bytes [a, b) (size)".
func bytesText(off, n int64) string {
	return fmt.Sprintf("LV bytes [%d, %d) (%s)", off, off+n, format.Size(n))
}

// rebuiltLines says which ranges are not read from their primary place,
// one line per reason (a missing raid5 image makes every stripe chunk on
// it a range): "1.00 MiB in 16 ranges, the first at LV byte 131072:
// rebuilt from raid5 parity: …". The ranges themselves are in the
// provenance record.
func rebuiltLines(rs []export.MissingRange) []string {
	type group struct {
		why   string
		n     int
		bytes int64
		first export.MissingRange
	}
	var groups []*group
	byWhy := map[string]*group{}
	for _, r := range rs {
		why := rebuiltWhy(r.Reason)
		g := byWhy[why]
		if g == nil {
			g = &group{why: why, first: r}
			byWhy[why] = g
			groups = append(groups, g)
		}
		g.n++
		g.bytes += r.Length
	}
	var out []string
	for _, g := range groups {
		if g.n == 1 {
			out = append(out, fmt.Sprintf("%s: %s", bytesText(g.first.Start, g.first.Length), g.why))
			continue
		}
		out = append(out, fmt.Sprintf("%s in %d ranges, the first at LV byte %d: %s", format.Size(g.bytes), g.n, g.first.Start, g.why))
	}
	return out
}

// rebuiltWhy words a raid layer's reason ("rebuilt from parity: …",
// "read from leg …").
func rebuiltWhy(r string) string {
	if r == "" {
		return "the primary copy is missing or not trusted"
	}
	return r
}

// reusedLines groups reused extents by the LV and generation that took
// them: "6 of its 12 extents (3..8) were given to LV epsilon by seqno 9:
// those bytes may now hold epsilon's data, not gamma's". whose is "its"
// in a verdict, "the" in an outcome.
func reusedLines(rs []export.ReusedExtent, total uint64, lv, whose string) []string {
	type key struct {
		by    string
		seqno uint64
	}
	groups := map[key][]export.ReusedExtent{}
	var keys []key
	for _, r := range rs {
		k := key{r.ByLV, r.Seqno}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].seqno < keys[j].seqno })
	var out []string
	for _, k := range keys {
		var n uint64
		var parts []string
		for _, r := range groups[k] {
			n += r.ExtentCount
			if r.ExtentCount == 1 {
				parts = append(parts, fmt.Sprint(r.StartExtent))
			} else {
				parts = append(parts, fmt.Sprintf("%d..%d", r.StartExtent, r.StartExtent+r.ExtentCount-1))
			}
		}
		out = append(out, fmt.Sprintf("%d of %s %d extents (%s) were given to LV %s by seqno %d: those bytes may now hold %s's data, not %s's",
			n, whose, total, strings.Join(parts, ", "), k.by, k.seqno, k.by, lv))
	}
	return out
}

// NotExportableError is Run's error when Check's verdict says the LV
// cannot be exported: nothing was written.
type NotExportableError struct {
	Verdict *Verdict
}

func (e *NotExportableError) Error() string {
	return fmt.Sprintf("cannot export %s/%s: %s", e.Verdict.VG, e.Verdict.LV, e.Verdict.Reason)
}

// Unwrap returns the error behind the verdict.
func (e *NotExportableError) Unwrap() error { return e.Verdict.Err }
