package history

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"sort"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/metatext"
)

// Options tune Scan.
type Options struct {
	// NoSearch skips the search for metadata-area headers on inputs and
	// partitions where no PV label was found (a wiped label).
	NoSearch bool
	// MaxRecords bounds the copies plus fragments recorded per area
	// (0: scan.DefaultMaxRingRecords).
	MaxRecords int
	// TextBudget bounds the bytes of generation texts kept in memory
	// (0: DefaultTextBudget). Texts beyond it are read again from their
	// input when needed (to identify fragments, to open a generation);
	// nothing else changes.
	TextBudget int
	// ModelBudget bounds the bytes of text whose parsed models are kept
	// (0: DefaultModelBudget; a model takes several times its text).
	// Beyond it a generation keeps what the report says of it (its LVs,
	// description, whether it parses) and Generation.Model parses its
	// text again when asked. The models the scan itself parsed are shared
	// and always kept.
	ModelBudget int
}

// DefaultTextBudget is the default Options.TextBudget.
const DefaultTextBudget = 8 << 20

// DefaultModelBudget is the default Options.ModelBudget.
const DefaultModelBudget = 4 << 20

// maxMatchCandidates bounds the generations whose text is compared with
// one fragment's beyond the hash that selects them: past it the fragment
// is left unidentified, as it is when two generations match.
const maxMatchCandidates = 16

// minMatchLen is the shortest fragment that is matched against the texts
// of known generations (shorter ones match too easily).
const minMatchLen = 64

// Scan walks every metadata area of every PV in res, and (unless
// opt.NoSearch) areas found by searching inputs and partitions without a
// PV label, and returns every copy, fragment and generation found.
func Scan(res *scan.Result, opt Options) *History {
	s := &scanner{h: &History{}, res: res, opt: opt, gens: map[genKey]*Generation{},
		budget: opt.TextBudget, models: opt.ModelBudget, walked: map[areaKey]bool{}, seed: maphash.MakeSeed(),
		cache: &modelCache{}}
	if s.budget <= 0 {
		s.budget = DefaultTextBudget
	}
	if s.models <= 0 {
		s.models = DefaultModelBudget
	}
	s.parsed = parsedCopies(res)
	owners := ownerMap(res)
	for _, pv := range res.PVs {
		for _, m := range pv.MDAs {
			a := areaFromMDA(pv, m, owners)
			s.walk(a, pv.R, pv.Size, pv.Offset)
		}
	}
	if !opt.NoSearch {
		s.search()
	}
	s.finish()
	return s.h
}

// scanner is the state of one Scan.
type scanner struct {
	h      *History
	res    *scan.Result
	opt    Options
	gens   map[genKey]*Generation
	budget int
	models int              // bytes of text whose models may still be kept
	cache  *modelCache      // the models parsed again
	walked map[areaKey]bool // areas walked
	seed   maphash.Seed     // of the suffix hashes
	parsed map[genKey]parse // the texts the scan parsed already
}

// areaKey identifies an area: input path and absolute offset.
type areaKey struct {
	path string
	off  int64
}

type genKey struct {
	uuid  string // bare
	seqno uint64
	crc   uint32
}

// parse is what metatext.Parse returned for a text.
type parse struct {
	vg  *model.VG
	err error
}

// parsedCopies indexes the copies the scan read through a slot and
// parsed, by VG UUID, seqno and checksum, so that the history does not
// parse the same text again (the model is shared: neither changes it).
func parsedCopies(res *scan.Result) map[genKey]parse {
	out := map[genKey]parse{}
	for _, pv := range res.PVs {
		for _, m := range pv.MDAs {
			for _, c := range []*scan.Copy{m.Committed, m.Precommitted} {
				if c == nil || c.TextCopy == nil || !c.CRCOK || c.VG == nil || uint64(len(c.Text))+1 != c.Size {
					continue
				}
				out[genKey{uuid: model.BareUUID(c.VG.UUID), seqno: c.VG.Seqno, crc: c.Computed}] = parse{c.VG, c.ParseErr}
			}
		}
	}
	return out
}

// ownerMap maps each PV to the bare UUID of the VG it belongs to now.
func ownerMap(res *scan.Result) map[*scan.PV]string {
	out := map[*scan.PV]string{}
	for _, vg := range res.VGs {
		for _, p := range vg.PVs {
			if p.PV != nil {
				out[p.PV] = model.BareUUID(vg.Meta.UUID)
			}
		}
	}
	return out
}

// areaFromMDA describes a PV's metadata area for walking.
func areaFromMDA(pv *scan.PV, m *scan.MDA, owners map[*scan.PV]string) *Area {
	a := &Area{Path: pv.Path, PV: pv, MDA: m, Index: m.Index, Offset: m.AbsOff, PVOffset: pv.Offset,
		PVUUID: pv.UUID(), Header: m.Header, OwnerUUID: owners[pv]}
	h := m.Header
	readable := uint64(0)
	if uint64(pv.Size) > m.Locn.Offset {
		readable = uint64(pv.Size) - m.Locn.Offset
	}
	switch {
	case h != nil && h.MagicOK && h.Size >= 512 && (h.Checksum.OK || h.Size <= readable):
		a.Size, a.SizeFrom = h.Size, "header"
	case m.Locn.Size >= 512:
		a.Size, a.SizeFrom = m.Locn.Size, "pv_header"
	default:
		a.Size, a.SizeFrom = readable, "readable"
	}
	if h != nil && h.MagicOK {
		a.HeaderOK = h.Checksum.OK && h.Start == m.Locn.Offset
		a.Ignored = h.Slots[0].Ignored()
		a.SlotsZero = h.Slots[0].Empty()
	}
	if a.OwnerUUID == "" && usable(m.Committed) {
		a.OwnerUUID = model.BareUUID(m.Committed.VG.UUID)
	}
	return a
}

// walk walks area a of the PV read by r (size readable bytes, starting at
// base in its input) and records what it holds.
func (s *scanner) walk(a *Area, r io.ReaderAt, size, base int64) {
	if s.walked[areaKey{a.Path, a.Offset}] {
		return
	}
	s.walked[areaKey{a.Path, a.Offset}] = true
	s.h.Areas = append(s.h.Areas, a)
	rel := uint64(a.Offset - base)
	a.r, a.rel = r, rel
	w := scan.RingWalker{MaxRecords: s.opt.MaxRecords,
		OnCopy:     func(rc *scan.RingCopy, text []byte) { s.addCopy(a, rc, text) },
		OnFragment: func(f *scan.RingFragment, text []byte) { s.addFragment(a, f, text) },
	}
	rs, err := w.Walk(r, size, base, rel, a.Size)
	if rs != nil {
		a.Truncated = rs.Truncated
		for _, p := range rs.Problems {
			p.Path = a.Path
			a.Problems = append(a.Problems, p)
		}
	}
	if err != nil {
		a.Problems = append(a.Problems, scan.Problem{Severity: scan.SevError, Path: a.Path, Off: a.Offset,
			Structure: "metadata area", Msg: "history scan: " + err.Error()})
	}
	s.applySlots(a, r, size, base, rel)
	s.judge(a)
	sort.SliceStable(a.Copies, func(i, j int) bool { return a.Copies[i].RelOff < a.Copies[j].RelOff })
	s.h.Copies = append(s.h.Copies, a.Copies...)
}

// addCopy records a copy the walk found.
func (s *scanner) addCopy(a *Area, rc *scan.RingCopy, text []byte) {
	c := &Copy{Area: a, Offset: rc.Off, RelOff: rc.RelOff, Size: rc.Size, Wrapped: rc.Wrapped, WrapSize: rc.WrapSize,
		VGName: rc.VGName, VGUUID: rc.VGUUID, Seqno: rc.Seqno, HasSeqno: true, Slot: -1, ComputedCRC: rc.CRC,
		FoundBy: "ring", EndsWell: bytes.HasSuffix(text, []byte("\n\n"))}
	s.attach(c, text)
	a.Copies = append(a.Copies, c)
}

// attach ties a copy with an identity to its generation, parsing the text
// the first time the generation is seen.
func (s *scanner) attach(c *Copy, text []byte) {
	k := genKey{uuid: model.BareUUID(c.VGUUID), seqno: c.Seqno, crc: c.ComputedCRC}
	g := s.gens[k]
	if g == nil {
		g = &Generation{VGName: c.VGName, VGUUID: c.VGUUID, Seqno: c.Seqno, CRC: c.ComputedCRC, Size: c.Size, cache: s.cache}
		p, shared := s.parsed[k]
		if !shared {
			p.vg, p.err = metatext.Parse(text)
		}
		vg, err := p.vg, p.err
		g.VG, g.ParseErr, g.parses = vg, err, vg != nil
		if vg != nil {
			g.Description, g.CreationHost, g.CreationTime = vg.Description, vg.CreationHost, vg.CreationTime
			for _, lv := range vg.LVs {
				g.LVs = append(g.LVs, lv.Name)
			}
			if err == nil && (model.BareUUID(vg.UUID) != k.uuid || vg.Seqno != c.Seqno || vg.Name != c.VGName) {
				g.ParseErr = fmt.Errorf("the parsed text names VG %s %s seqno %d, its first lines %s %s seqno %d",
					vg.Name, vg.UUID, vg.Seqno, c.VGName, c.VGUUID, c.Seqno)
			}
		} else {
			var f Fragment
			recoverInfo(&f, text)
			g.LVs, g.Description, g.CreationHost, g.CreationTime = f.LVs, f.Description, f.CreationHost, f.CreationTime
		}
		if vg != nil && !shared {
			if len(text) <= s.models {
				s.models -= len(text)
			} else {
				g.VG, g.dropped = nil, true // Model parses it again
			}
		}
		if len(text) <= s.budget {
			g.text = bytes.Clone(text)
			s.budget -= len(text)
		}
		g.tails = s.suffixHashes(text)
		s.gens[k] = g
		s.h.Generations = append(s.h.Generations, g)
	}
	c.Gen = g
	c.Parsed = g.parses && g.ParseErr == nil
	c.ParseErr = g.ParseErr
	g.Copies = append(g.Copies, c)
}

// addFragment records a fragment the walk found.
func (s *scanner) addFragment(a *Area, f *scan.RingFragment, text []byte) {
	c := &Copy{Area: a, Offset: f.Off, RelOff: f.RelOff, Size: f.Size, Wrapped: f.Wrapped, WrapSize: f.WrapSize,
		Slot: -1, ComputedCRC: f.CRC, FoundBy: "ring"}
	if f.Kind == scan.FragmentHead {
		c.VGName, c.VGUUID, c.Seqno, c.HasSeqno = f.VGName, f.VGUUID, f.Seqno, true
	}
	fr := &Fragment{Kind: f.Kind, Terminated: f.Terminated, Reason: f.Reason}
	recoverInfo(fr, text)
	c.Fragment = fr
	a.Copies = append(a.Copies, c)
}

// applySlots ties the header's slots to the copies found, and reads the
// text of a slot whose copy the walk did not find.
func (s *scanner) applySlots(a *Area, r io.ReaderAt, size, base int64, rel uint64) {
	h := a.Header
	if h == nil || !h.MagicOK {
		return
	}
	for i, sl := range h.Slots {
		if sl.Empty() || (i == 1 && sl.Offset == h.Slots[0].Offset) {
			continue
		}
		var c *Copy
		for _, x := range a.Copies {
			if x.Fragment == nil && x.RelOff == sl.Offset && x.Size == sl.Size {
				c = x
				break
			}
		}
		if c == nil {
			c = s.slotCopy(a, r, size, base, rel, i)
			if c == nil {
				continue
			}
		}
		if c.Slot < 0 {
			c.Slot = i
		}
		c.StoredCRC = sl.Checksum
		c.CRCOK = sl.Checksum == c.ComputedCRC
		if i == 0 {
			c.Committed = c.CRCOK
		} else {
			c.Precommitted = c.CRCOK
		}
	}
}

// slotCopy reads the text slot i points at, for a copy the walk missed.
func (s *scanner) slotCopy(a *Area, r io.ReaderAt, size, base int64, rel uint64, i int) *Copy {
	tc, err := scan.ReadText(r, size, base, rel, a.Header, i)
	if tc == nil {
		a.Problems = append(a.Problems, scan.Problem{Severity: scan.SevError, Path: a.Path, Off: a.Offset,
			Structure: "metadata area", Msg: fmt.Sprintf("raw_locn[%d] points at text that cannot be read: %v", i, err)})
		return nil
	}
	c := &Copy{Area: a, Offset: tc.Off, RelOff: tc.RelOff, Size: tc.Size, Wrapped: tc.Wrapped, WrapSize: tc.WrapSize,
		Slot: -1, ComputedCRC: tc.Computed, FoundBy: "slot",
		EndsWell: uint64(len(tc.Text)) == tc.Size-1 && bytes.HasSuffix(tc.Text, []byte("\n\n"))}
	if name, uuid, seqno, ok := scan.RingSignature(tc.Text); ok {
		c.VGName, c.VGUUID, c.Seqno, c.HasSeqno = name, uuid, seqno, true
	} else if vg, err := metatext.Parse(tc.Text); err == nil && vg != nil {
		c.VGName, c.VGUUID, c.Seqno, c.HasSeqno = vg.Name, vg.UUID, vg.Seqno, true
	}
	if c.HasSeqno {
		s.attach(c, tc.Text)
	} else {
		_, c.ParseErr = metatext.Parse(tc.Text)
		if c.ParseErr == nil {
			c.ParseErr = fmt.Errorf("the text does not name its VG")
		}
	}
	a.Copies = append(a.Copies, c)
	return c
}

// judge sets CRCOK for copies no slot records, and labels copies of other
// VGs than the area's owner.
func (s *scanner) judge(a *Area) {
	uuids := map[string]bool{}
	for _, c := range a.Copies {
		if c.VGUUID != "" {
			uuids[model.BareUUID(c.VGUUID)] = true
		}
		if a.OwnerUUID != "" && c.VGUUID != "" && model.BareUUID(c.VGUUID) != a.OwnerUUID {
			c.OtherVG = true
		}
		if c.Slot >= 0 || c.Fragment != nil {
			continue
		}
		contradicted := false
		if h := a.Header; h != nil && h.MagicOK {
			for _, sl := range h.Slots {
				if !sl.Empty() && sl.Offset == c.RelOff {
					contradicted = true
				}
			}
		}
		c.CRCOK = c.Parsed && c.EndsWell && !contradicted
	}
	if len(uuids) > 1 {
		a.Problems = append(a.Problems, scan.Problem{Severity: scan.SevInfo, Path: a.Path, Off: a.Offset, Structure: "metadata area",
			Msg: fmt.Sprintf("copies of %d different VGs in one area (disk re-use, vgsplit or vgmerge)", len(uuids))})
	}
}

// finish identifies fragments, orders the generations and marks the ones
// the scan uses.
func (s *scanner) finish() {
	s.matchFragments()
	for _, a := range s.h.Areas {
		probableSeqnos(a)
	}
	for _, g := range s.h.Generations {
		for _, c := range g.Copies {
			g.Committed = g.Committed || c.Committed
			g.Precommitted = g.Precommitted || c.Precommitted
			g.Verified = g.Verified || (c.Slot >= 0 && c.CRCOK)
		}
	}
	for _, vg := range s.res.VGs {
		if vg.Source == nil || vg.Source.TextCopy == nil {
			continue
		}
		k := genKey{uuid: model.BareUUID(vg.Meta.UUID), seqno: vg.Meta.Seqno, crc: vg.Source.Computed}
		if g := s.gens[k]; g != nil {
			g.Current = true
		}
	}
	sortGenerations(s.h.Generations)
	for _, a := range s.h.Areas {
		s.h.Problems = append(s.h.Problems, a.Problems...)
	}
}

// suffixHashes hashes the last 2^k bytes of text for k = 6, 7, ... as
// long as the text lasts: a fragment is matched against the generations
// whose last bytes hash like its own.
func (s *scanner) suffixHashes(text []byte) []uint64 {
	var out []uint64
	for n := minMatchLen; n <= len(text); n *= 2 {
		out = append(out, maphash.Bytes(s.seed, text[len(text)-n:]))
	}
	return out
}

type headKey struct {
	uuid  string
	seqno uint64
}

type tailKey struct {
	k int // the hash is of the last minMatchLen<<k bytes
	h uint64
}

// matchFragments ties each fragment to the one generation whose text it
// is part of: a head is the beginning of a generation with its VG UUID
// and seqno, a terminated tail the end of one. Candidates are found by
// hash, then compared with texts read again from the input as needed.
func (s *scanner) matchFragments() {
	heads := map[headKey][]*Generation{}
	for _, g := range s.h.Generations {
		k := headKey{g.Key(), g.Seqno}
		heads[k] = append(heads[k], g)
	}
	tails := map[tailKey][]*Generation{}
	indexed := map[int]bool{}
	for _, c := range s.h.Copies {
		f := c.Fragment
		if f == nil || c.Size < minMatchLen || (f.Kind != scan.FragmentHead && !f.Terminated) {
			continue
		}
		text, ok := readCopyText(c)
		if !ok || len(text) < minMatchLen {
			continue
		}
		var cands []*Generation
		match := func(g *Generation) bool { return bytes.HasSuffix(s.textOf(g), text) }
		if f.Kind == scan.FragmentHead {
			cands = heads[headKey{model.BareUUID(c.VGUUID), c.Seqno}]
			match = func(g *Generation) bool { return bytes.HasPrefix(s.textOf(g), text) }
		} else {
			k := 0
			for minMatchLen<<(k+1) <= len(text) {
				k++
			}
			if !indexed[k] {
				indexed[k] = true
				for _, g := range s.h.Generations {
					if k < len(g.tails) {
						tk := tailKey{k, g.tails[k]}
						tails[tk] = append(tails[tk], g)
					}
				}
			}
			cands = tails[tailKey{k, maphash.Bytes(s.seed, text[len(text)-minMatchLen<<k:])}]
		}
		var found *Generation
		n := 0
		for i, g := range cands {
			if i == maxMatchCandidates || n > 1 {
				n = 2 // too many to tell
				break
			}
			if match(g) {
				found = g
				n++
			}
		}
		if n == 1 {
			f.Match = found
		}
	}
}

// textOf returns the text of a generation: kept in memory, else read
// again from one of its copies; nil if none can be read.
func (s *scanner) textOf(g *Generation) []byte {
	if g.text != nil {
		return g.text
	}
	for _, c := range g.Copies {
		if t, ok := readCopyText(c); ok {
			return t
		}
	}
	return nil
}

// readCopyText reads the text of a copy or fragment again from its input
// (without the NUL, up to the first NUL of a copy) and checks it against
// the checksum computed when it was found.
func readCopyText(c *Copy) ([]byte, bool) {
	a := c.Area
	if a == nil || a.r == nil || c.Size == 0 || c.Size > scan.MaxTextSize || (c.Wrapped && c.WrapSize > c.Size) {
		return nil, false
	}
	buf := make([]byte, c.Size)
	first := c.Size
	if c.Wrapped {
		first -= c.WrapSize
	}
	if n, _ := a.r.ReadAt(buf[:first], int64(a.rel+c.RelOff)); uint64(n) != first {
		return nil, false
	}
	if c.Wrapped {
		if n, _ := a.r.ReadAt(buf[first:], int64(a.rel+512)); uint64(n) != c.WrapSize {
			return nil, false
		}
	}
	if scan.CRC(scan.InitialCRC, buf) != c.ComputedCRC {
		return nil, false
	}
	switch {
	case c.Fragment == nil:
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			buf = buf[:i]
		}
	case c.Fragment.Terminated:
		buf = buf[:len(buf)-1]
	}
	return buf, true
}

// sortGenerations orders generations by VG (the name of its newest
// generation, then UUID), seqno and checksum.
func sortGenerations(gens []*Generation) {
	newest := map[string]*Generation{}
	for _, g := range gens {
		if n := newest[g.Key()]; n == nil || g.Seqno > n.Seqno {
			newest[g.Key()] = g
		}
	}
	sort.SliceStable(gens, func(i, j int) bool {
		a, b := gens[i], gens[j]
		if na, nb := newest[a.Key()].VGName, newest[b.Key()].VGName; na != nb {
			return na < nb
		}
		if a.Key() != b.Key() {
			return a.Key() < b.Key()
		}
		if a.Seqno != b.Seqno {
			return a.Seqno < b.Seqno
		}
		return a.CRC < b.CRC
	})
}

// usable reports whether a committed copy checked out and parsed.
func usable(c *scan.Copy) bool { return c != nil && c.TextCopy != nil && c.Usable() }

// probableSeqnos infers the seqno of each terminated tail fragment of an
// area from the copy that LVM wrote right after it.
func probableSeqnos(a *Area) {
	at := map[uint64]*Copy{} // the last copy with a seqno at each offset
	for _, o := range a.Copies {
		if o.Fragment == nil && o.HasSeqno && o.Seqno > 0 {
			at[o.RelOff] = o
		}
	}
	for _, c := range a.Copies {
		f := c.Fragment
		if f == nil || f.Kind != scan.FragmentTail || !f.Terminated || f.Match != nil {
			continue
		}
		end := c.RelOff + c.Size
		if c.Wrapped {
			end = 512 + c.WrapSize
		}
		next := (end + 511) / 512 * 512
		if o := at[next]; o != nil {
			f.ProbableSeqno, f.ProbableVGUUID = o.Seqno-1, o.VGUUID
		}
	}
}
