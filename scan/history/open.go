package history

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// ErrNoGeneration is wrapped by errors about a generation that was not
// found (or found but not parsed).
var ErrNoGeneration = errors.New("metadata generation not found")

// ErrAmbiguous is wrapped when a VG name designates several VGs that all
// have the requested generation.
var ErrAmbiguous = errors.New("ambiguous VG name")

// GenerationError says which generation of which VG could not be opened
// and which generations exist.
type GenerationError struct {
	VG        string
	Seqno     uint64
	Available []uint64 // seqnos of the VG's parsed generations
	UUIDs     []string // the VGs the name designates, when ambiguous
	Msg       string
	Err       error // ErrNoGeneration or ErrAmbiguous
}

func (e *GenerationError) Error() string {
	s := fmt.Sprintf("VG %s seqno %d: %s", e.VG, e.Seqno, e.Msg)
	if len(e.Available) > 0 {
		var n []string
		for _, q := range e.Available {
			n = append(n, fmt.Sprint(q))
		}
		s += " (generations found: " + strings.Join(n, ", ") + ")"
	}
	if len(e.UUIDs) > 0 {
		s += " (VG UUIDs: " + strings.Join(e.UUIDs, ", ") + ")"
	}
	return s
}

func (e *GenerationError) Unwrap() error { return e.Err }

// OpenGeneration returns VG vgName as its metadata generation seqno
// described it: the VG assembled from that generation's text, with its
// PVs resolved against the inputs of res exactly as scan does for the
// current generation, so that showing and exporting LVs work unchanged.
//
// vgName is a VG name, as any generation of the VG names it (the current
// name works for generations written before a vgrename), or a VG UUID in
// either form. It runs a history Scan of res; callers that already have
// one use History.Open.
//
// The returned VG's Fallback says that it is a historical view (empty
// when seqno is the generation the scan uses anyway), and its Problems
// start with the same note; a generation whose text no slot checksum
// confirms carries a warning saying so. Errors are *GenerationError.
func OpenGeneration(res *scan.Result, vgName string, seqno uint64) (*scan.VG, error) {
	return Scan(res, Options{}).Open(res, vgName, seqno)
}

// Open is OpenGeneration on an existing history of res.
func (h *History) Open(res *scan.Result, vgName string, seqno uint64) (*scan.VG, error) {
	g, err := h.Find(vgName, seqno)
	if err != nil {
		return nil, err
	}
	if g.Model() == nil {
		return nil, &GenerationError{VG: vgName, Seqno: seqno, Msg: "its text can no longer be read from its input", Err: ErrNoGeneration}
	}
	copies := scanCopies(g)
	note := ""
	if !g.Current {
		note = fmt.Sprintf("historical view: VG %s as metadata generation seqno %d described it (%s)", g.VGName, g.Seqno, h.newestNote(g))
		if g.Description != "" {
			note += fmt.Sprintf("; written by %q", g.Description)
		}
	}
	vg, err := scan.AssembleGeneration(res, copies, note)
	if err != nil {
		return nil, &GenerationError{VG: vgName, Seqno: seqno, Msg: err.Error(), Err: ErrNoGeneration}
	}
	if !g.Verified {
		vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevWarn, Path: vg.Source.PV.Path, Off: vg.Source.Off,
			Structure: "metadata text", Msg: fmt.Sprintf("no raw_locn slot records generation %d: its text was found by the history scan, parses and ends as LVM writes it, but no stored checksum confirms it", g.Seqno)})
	}
	for _, o := range h.Generations {
		if o != g && o.Key() == g.Key() && o.Seqno == g.Seqno {
			vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevWarn, Path: vg.Source.PV.Path, Off: vg.Source.Off,
				Structure: "metadata text", Stored: fmt.Sprintf("%#08x", o.CRC), Computed: fmt.Sprintf("%#08x", g.CRC),
				Msg: fmt.Sprintf("another text with seqno %d exists (%d location(s)); this one was chosen", g.Seqno, len(o.Copies))})
		}
	}
	return vg, nil
}

// newestNote describes the VG's newest generation, for the note.
func (h *History) newestNote(g *Generation) string {
	var cur, newest *Generation
	for _, o := range h.Generations {
		if o.Key() != g.Key() {
			continue
		}
		if o.Current {
			cur = o
		}
		if newest == nil || o.Seqno > newest.Seqno {
			newest = o
		}
	}
	switch {
	case cur != nil:
		return fmt.Sprintf("the current generation is seqno %d", cur.Seqno)
	case newest != nil:
		return fmt.Sprintf("no current generation is in use; the newest found is seqno %d", newest.Seqno)
	}
	return "no current generation"
}

// Find returns the parsed generation seqno of the VG vgName designates (a
// name or a UUID, as for OpenGeneration). When several texts share the
// seqno, the one a slot checksum confirms is preferred, then the one that
// parses without error, then the one found at more places.
func (h *History) Find(vgName string, seqno uint64) (*Generation, error) {
	keys := h.vgKeys(vgName)
	if len(keys) == 0 {
		return nil, &GenerationError{VG: vgName, Seqno: seqno, Msg: "no metadata of this VG was found", Err: ErrNoGeneration}
	}
	var cands []*Generation
	avail := map[uint64]bool{}
	withSeq := map[string]bool{}
	for _, g := range h.Generations {
		if !keys[g.Key()] || !g.Parses() {
			continue
		}
		avail[g.Seqno] = true
		if g.Seqno == seqno {
			cands = append(cands, g)
			withSeq[g.Key()] = true
		}
	}
	var seqs []uint64
	for q := range avail {
		seqs = append(seqs, q)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if len(cands) == 0 {
		return nil, &GenerationError{VG: vgName, Seqno: seqno, Available: seqs,
			Msg: "this generation is not in any metadata area (overwritten, or never written)", Err: ErrNoGeneration}
	}
	if len(withSeq) > 1 {
		var us []string
		for _, g := range cands {
			us = append(us, g.VGUUID)
		}
		return nil, &GenerationError{VG: vgName, Seqno: seqno, UUIDs: us,
			Msg: "several VGs of this name have this generation: give the VG UUID", Err: ErrAmbiguous}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Verified != b.Verified {
			return a.Verified
		}
		if (a.ParseErr == nil) != (b.ParseErr == nil) {
			return a.ParseErr == nil
		}
		return len(a.Copies) > len(b.Copies)
	})
	return cands[0], nil
}

// scanCopies turns a generation's locations into scan.Copy values.
func scanCopies(g *Generation) []*scan.Copy {
	var out []*scan.Copy
	text := g.text
	if text == nil {
		text = (&scanner{}).textOf(g)
	}
	vg := g.Model()
	for _, c := range g.Copies {
		if c.Area.PV == nil {
			continue
		}
		tc := &scan.TextCopy{Off: c.Offset, RelOff: c.RelOff, Size: c.Size, Wrapped: c.Wrapped, WrapSize: c.WrapSize,
			Stored: c.StoredCRC, Computed: c.ComputedCRC, CRCOK: c.CRCOK, Text: text}
		if c.Slot < 0 {
			tc.Stored = c.ComputedCRC // no slot records it: nothing else to compare with
		}
		out = append(out, &scan.Copy{TextCopy: tc, Slot: c.Slot, Ignored: c.Area.Ignored, VG: vg, ParseErr: g.ParseErr,
			PV: c.Area.PV, MDA: c.Area.MDA})
	}
	return out
}

// ApplySeqno replaces in res.VGs every VG that has metadata generation
// seqno by the VG as that generation described it (see OpenGeneration);
// vgName ("" for any) restricts it to the VG it designates. VGs that only
// the history knows (a removed VG) are added. It returns an error, and
// changes nothing, when no VG has that generation. It runs a history Scan
// of res; callers that already have one use History.Apply.
func ApplySeqno(res *scan.Result, vgName string, seqno uint64) error {
	return Scan(res, Options{}).Apply(res, vgName, seqno)
}

// Apply is ApplySeqno on an existing history of res.
func (h *History) Apply(res *scan.Result, vgName string, seqno uint64) error {
	var keys []string
	seen := map[string]bool{}
	for _, g := range h.Generations {
		if g.Seqno != seqno || !g.Parses() || seen[g.Key()] {
			continue
		}
		if vgName != "" && !h.vgKeys(vgName)[g.Key()] {
			continue
		}
		seen[g.Key()] = true
		keys = append(keys, g.Key())
	}
	if len(keys) == 0 {
		name := vgName
		if name == "" {
			name = "(any)"
		}
		e := &GenerationError{VG: name, Seqno: seqno, Msg: "no VG has this generation in its metadata areas", Err: ErrNoGeneration}
		if vgName != "" {
			if _, err := h.Find(vgName, seqno); err != nil {
				return err
			}
		}
		return e
	}
	var vgs []*scan.VG
	for _, k := range keys {
		vg, err := h.Open(res, k, seqno)
		if err != nil {
			return err
		}
		vgs = append(vgs, vg)
	}
	for _, vg := range vgs {
		k := model.BareUUID(vg.Meta.UUID)
		replaced := false
		for i, old := range res.VGs {
			if model.BareUUID(old.Meta.UUID) == k {
				res.VGs[i] = vg
				replaced = true
			}
		}
		if !replaced {
			res.VGs = append(res.VGs, vg)
		}
	}
	return nil
}
