package scan

import (
	"bytes"
	"fmt"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/metatext"
	"io"
	"sort"
)

// The history scan of a metadata area's circular buffer
// (metadata-area.md §5): the pvck-style walk over 512-byte aligned
// candidate offsets, plus the improvements the spec asks for: copies that
// were partly overwritten are reported as fragments instead of being
// dropped, and tails whose head was overwritten are located through the
// `contents = "Text Format Volume Group"` line every copy ends with.
//
// The walk reads the area through a fixed window and hands the text of
// each copy to a callback, so memory stays bounded by the window plus the
// largest copy (at most MaxTextSize) whatever the size of the area; the
// time is linear in the area size.

// RingCopy is a metadata text copy found by searching a metadata area's
// circular buffer (metadata-area.md §5), whether or not a slot points at it.
type RingCopy struct {
	Off      int64  // absolute offset of its first byte in the input
	RelOff   uint64 // relative to the area start
	Size     uint64 // bytes, NUL included
	Wrapped  bool
	WrapSize uint64 // bytes continued at relative 512 (NUL included)
	CRC      uint32 // lvm_crc of the Size bytes
	VGName   string
	VGUUID   string // as written (dashed)
	Seqno    uint64
	Text     []byte // without the NUL; filled by ScanRing only
}

// FragmentKind says which part of a partly overwritten copy survived.
type FragmentKind string

// Kinds of fragments.
const (
	// FragmentHead starts with the on-disk signature (VG name, id, seqno)
	// but its end is lost: a newer copy starts inside it, or no NUL ends it.
	FragmentHead FragmentKind = "head"
	// FragmentTail ends after the `contents = "Text Format Volume Group"`
	// line but its beginning was overwritten.
	FragmentTail FragmentKind = "tail"
)

// RingFragment is the surviving part of a partly overwritten copy.
type RingFragment struct {
	Kind     FragmentKind
	Off      int64  // absolute offset of its first surviving byte
	RelOff   uint64 // relative to the area start
	Size     uint64 // surviving bytes, the NUL included when Terminated
	Wrapped  bool   // continues at relative 512
	WrapSize uint64
	// Terminated is set when the fragment ends in its NUL byte.
	Terminated bool
	CRC        uint32 // lvm_crc of the Size bytes
	// VGName, VGUUID and Seqno come from the signature of a head fragment.
	VGName string
	VGUUID string
	Seqno  uint64
	Reason string // why it is a fragment, in words
}

// RingScan is what a walk of one metadata area found.
type RingScan struct {
	AreaOff   int64  // absolute offset of the area in the input
	AreaSize  uint64 // size used for wrapping (the header's, normally)
	Walked    uint64 // bytes of the area that were readable and walked
	Copies    []RingCopy
	Fragments []RingFragment
	// Truncated is set when the walk stopped at MaxRecords.
	Truncated bool
	Problems  []Problem
}

// DefaultMaxRingRecords bounds the copies plus fragments one walk records.
// An LVM-written area of the largest practical size holds a few thousand.
const DefaultMaxRingRecords = 100000

// RingWalker walks metadata areas. Its callbacks receive the bytes of each
// copy (without the terminating NUL) and of each fragment (without a
// terminating NUL); the slices are only valid during the call.
type RingWalker struct {
	OnCopy     func(c *RingCopy, text []byte)
	OnFragment func(f *RingFragment, text []byte)
	// MaxRecords bounds copies plus fragments (0: DefaultMaxRingRecords).
	MaxRecords int
}

// ringWindow is how much of an area is held in memory at once.
const ringWindow = 1 << 20

// minCopyLen is the shortest text accepted as a copy, as pvck does.
const minCopyLen = 256

// maxVGNameLen is LVM's limit on VG names.
const maxVGNameLen = 127

// contentsMarker is the top-level line every copy carries near its end.
var contentsMarker = []byte(`contents = "Text Format Volume Group"`)

// ScanRing walks the circular buffer of the metadata area at PV offset
// areaOff with areaSize bytes (r, size and base as for ReadMDAHeader) and
// returns every copy whose first lines carry the on-disk signature, with
// its text. It keeps every text in memory: use a RingWalker with a
// callback for areas of unknown size.
func ScanRing(r io.ReaderAt, size, base int64, areaOff, areaSize uint64) ([]RingCopy, error) {
	var texts [][]byte
	w := RingWalker{OnCopy: func(c *RingCopy, text []byte) {
		texts = append(texts, bytes.Clone(text))
	}}
	rs, err := w.Walk(r, size, base, areaOff, areaSize)
	if rs == nil {
		return nil, err
	}
	for i := range rs.Copies {
		rs.Copies[i].Text = texts[i]
	}
	return rs.Copies, err
}

// Walk walks the circular buffer of the metadata area at PV offset
// areaOff whose size (the wrap point) is areaSize; r reads PV-relative
// offsets, size is the number of readable PV bytes and base the PV's
// offset in its input. Only the readable part of the area is walked (a
// problem says when it is shorter). An error means the input could not be
// read; what was found up to that point is returned with it.
func (w *RingWalker) Walk(r io.ReaderAt, size, base int64, areaOff, areaSize uint64) (*RingScan, error) {
	abs := base + int64(areaOff)
	if size < 0 || areaOff >= uint64(size) {
		return nil, &FormatError{Structure: "metadata area", Off: abs, Err: ErrTruncated,
			Msg: "area lies beyond the end of the input"}
	}
	if areaSize < mdaHeaderSize {
		return nil, &FormatError{Structure: "metadata area", Off: abs,
			Msg: fmt.Sprintf("area size %d is below 512", areaSize)}
	}
	S := min(areaSize, uint64(size)-areaOff)
	rs := &RingScan{AreaOff: abs, AreaSize: areaSize, Walked: S}
	if S < areaSize {
		rs.Problems = append(rs.Problems, Problem{Severity: SevWarn, Off: abs, Structure: "metadata area",
			Msg: fmt.Sprintf("only %d of the area's %d bytes are readable: the rest was not searched", S, areaSize)})
	}
	rw := &ringWalk{w: w, rs: rs, ar: &areaReader{r: r, areaOff: areaOff, S: S}, abs: abs, max: w.MaxRecords}
	if rw.max <= 0 {
		rw.max = DefaultMaxRingRecords
	}
	if err := rw.walkSignatures(); err != nil {
		return rs, err
	}
	if err := rw.walkTails(); err != nil {
		return rs, err
	}
	if rs.Truncated {
		rs.Problems = append(rs.Problems, Problem{Severity: SevWarn, Off: abs, Structure: "metadata area",
			Msg: fmt.Sprintf("history scan stopped after %d copies and fragments", rw.max)})
	}
	return rs, nil
}

// ringWalk is the state of one Walk.
type ringWalk struct {
	w     *RingWalker
	rs    *RingScan
	ar    *areaReader
	abs   int64
	max   int
	spans []span // ring ranges taken by copies and head fragments

	nul     nulCache // forward NUL search of the signature walk
	tailNul nulCache // forward NUL search of the tail walk
	wrapNul uint64   // first NUL at or after relative 512; 0 = not yet known
}

// span is a half-open range of relative offsets.
type span struct{ lo, hi uint64 }

func (rw *ringWalk) full() bool {
	if len(rw.rs.Copies)+len(rw.rs.Fragments) >= rw.max {
		rw.rs.Truncated = true
		return true
	}
	return false
}

// walkSignatures is the pvck walk (metadata-area.md §5 steps 1-7), except
// that a candidate inside which another copy starts is reported as a head
// fragment (its end was overwritten) and the walk continues at that copy,
// and a candidate without a terminating NUL is reported as a head fragment
// instead of being skipped.
func (rw *ringWalk) walkSignatures() error {
	S := rw.ar.S
	first := uint64(0)
	for c := uint64(mdaHeaderSize); c < S; {
		if rw.full() {
			return nil
		}
		b, err := rw.ar.at(c, mdaHeaderSize)
		if err != nil {
			return err
		}
		sig, ok := parseRingSignature(b[:min(len(b), mdaHeaderSize)])
		if !ok {
			c += mdaHeaderSize
			continue
		}
		limit := first
		if limit == 0 {
			limit = c
		}
		end, err := rw.ar.nextNUL(&rw.nul, c)
		if err != nil {
			return err
		}
		var size, wrap uint64
		terminated := true
		if end < S {
			size = end - c + 1
		} else if rw.rs.Walked < rw.rs.AreaSize {
			terminated = false // the area is cut short: its wrap point is not readable
			size = S - c
		} else {
			wn, err := rw.firstWrapNUL()
			if err != nil {
				return err
			}
			if wn < limit {
				wrap = wn - mdaHeaderSize + 1
				size = S - c + wrap
			} else {
				terminated = false
				size = S - c
			}
		}
		// Another copy starting inside this one means its end was overwritten.
		inner, err := rw.innerSignature(c, min(c+size, S))
		if err != nil {
			return err
		}
		switch {
		case inner != 0:
			err = rw.headFragment(sig, c, inner, fmt.Sprintf("a copy starting at relative offset %d overwrote its end", inner))
		case !terminated:
			err = rw.headFragment(sig, c, S, "no NUL byte ends it, neither before the end of the area nor in the wrapped part before the first copy")
		case size-1 < minCopyLen:
			c += mdaHeaderSize // too short to be a copy, as pvck decides
			continue
		case size > MaxTextSize:
			err = rw.headFragment(sig, c, min(c+MaxTextSize, S), fmt.Sprintf("its %d bytes exceed the %d bytes a copy may hold here", size, MaxTextSize))
		default:
			err = rw.copyAt(sig, c, size, wrap)
		}
		if err != nil {
			return err
		}
		if first == 0 {
			first = c
		}
		switch {
		case inner != 0:
			c = inner
		case !terminated:
			c = S
		case size > MaxTextSize:
			c += mdaHeaderSize
		default:
			c += (size + mdaHeaderSize - 1) / mdaHeaderSize * mdaHeaderSize
		}
	}
	return nil
}

// copyAt records the copy of size bytes (wrap of them continued at 512).
func (rw *ringWalk) copyAt(sig ringSig, c, size, wrap uint64) error {
	buf := make([]byte, size)
	if err := rw.ar.readRing(buf, c); err != nil {
		return err
	}
	rc := RingCopy{Off: rw.abs + int64(c), RelOff: c, Size: size, Wrapped: wrap > 0, WrapSize: wrap,
		CRC: CRC(InitialCRC, buf), VGName: sig.name, VGUUID: sig.uuid, Seqno: sig.seqno}
	rw.rs.Copies = append(rw.rs.Copies, rc)
	rw.addSpan(c, size)
	if rw.w.OnCopy != nil {
		rw.w.OnCopy(&rw.rs.Copies[len(rw.rs.Copies)-1], buf[:size-1])
	}
	return nil
}

// headFragment records the bytes [c, end) that start with a signature.
func (rw *ringWalk) headFragment(sig ringSig, c, end uint64, why string) error {
	n := min(end-c, MaxTextSize)
	buf := make([]byte, n)
	if err := rw.ar.readRing(buf, c); err != nil {
		return err
	}
	f := RingFragment{Kind: FragmentHead, Off: rw.abs + int64(c), RelOff: c, Size: n, CRC: CRC(InitialCRC, buf),
		VGName: sig.name, VGUUID: sig.uuid, Seqno: sig.seqno, Reason: why}
	rw.addFragment(f, buf)
	rw.addSpan(c, n)
	return nil
}

func (rw *ringWalk) addFragment(f RingFragment, buf []byte) {
	rw.rs.Fragments = append(rw.rs.Fragments, f)
	if rw.w.OnFragment != nil {
		text := buf
		if f.Terminated {
			text = buf[:len(buf)-1]
		}
		rw.w.OnFragment(&rw.rs.Fragments[len(rw.rs.Fragments)-1], text)
	}
}

// addSpan records the ring range of n bytes at c (two spans when wrapped).
func (rw *ringWalk) addSpan(c, n uint64) {
	S := rw.ar.S
	if c+n <= S {
		rw.spans = append(rw.spans, span{c, c + n})
		return
	}
	rw.spans = append(rw.spans, span{c, S}, span{mdaHeaderSize, mdaHeaderSize + c + n - S})
}

// innerSignature returns the first 512-aligned offset in (c, end) where a
// signature starts, or 0.
func (rw *ringWalk) innerSignature(c, end uint64) (uint64, error) {
	for q := c + mdaHeaderSize; q < end; q += mdaHeaderSize {
		b, err := rw.ar.at(q, mdaHeaderSize)
		if err != nil {
			return 0, err
		}
		if _, ok := parseRingSignature(b[:min(len(b), mdaHeaderSize)]); ok {
			return q, nil
		}
	}
	return 0, nil
}

// firstWrapNUL returns the first NUL at or after relative 512 (S if none).
func (rw *ringWalk) firstWrapNUL() (uint64, error) {
	if rw.wrapNul == 0 {
		var c nulCache
		n, err := rw.ar.nextNUL(&c, mdaHeaderSize)
		if err != nil {
			return 0, err
		}
		rw.wrapNul = n
	}
	return rw.wrapNul, nil
}

// walkTails finds the tails of copies whose beginning was overwritten: every
// contents marker outside the copies and head fragments found so far ends a
// tail, which extends back to the previous NUL byte or found copy.
func (rw *ringWalk) walkTails() error {
	sort.Slice(rw.spans, func(i, j int) bool { return rw.spans[i].lo < rw.spans[j].lo })
	S := rw.ar.S
	m := uint64(len(contentsMarker))
	for pos := uint64(mdaHeaderSize); pos+m <= S; {
		b, err := rw.ar.at(pos, int(m))
		if err != nil {
			return err
		}
		i := bytes.Index(b, contentsMarker)
		if i < 0 {
			pos += uint64(len(b)) - m + 1
			continue
		}
		p := pos + uint64(i)
		pos = p + 1
		if rw.covered(p) {
			continue
		}
		if rw.full() {
			return nil
		}
		next, err := rw.tailAt(p)
		if err != nil {
			return err
		}
		pos = max(pos, next)
	}
	return nil
}

// covered reports whether relative offset p lies in a found copy or
// fragment. The spans are sorted and do not overlap.
func (rw *ringWalk) covered(p uint64) bool {
	i := sort.Search(len(rw.spans), func(i int) bool { return rw.spans[i].lo > p })
	return i > 0 && p < rw.spans[i-1].hi
}

// spanAround returns the end of the last span before the uncovered offset
// p (512 when none) and the start of the first span after it (S when none).
func (rw *ringWalk) spanAround(p uint64) (lo, hi uint64) {
	lo, hi = mdaHeaderSize, rw.ar.S
	i := sort.Search(len(rw.spans), func(i int) bool { return rw.spans[i].lo > p })
	if i > 0 {
		lo = max(lo, rw.spans[i-1].hi)
	}
	if i < len(rw.spans) {
		hi = rw.spans[i].lo
	}
	return lo, hi
}

// tailAt records the tail fragment holding the contents marker at the
// uncovered relative offset p and returns the offset just past it.
func (rw *ringWalk) tailAt(p uint64) (uint64, error) {
	S := rw.ar.S
	lo, hi := rw.spanAround(p)
	f := RingFragment{Kind: FragmentTail, Reason: "its beginning was overwritten"}
	// The end: the NUL after the marker, possibly in the wrapped part.
	end, err := rw.ar.nextNUL(&rw.tailNul, p)
	if err != nil {
		return 0, err
	}
	var wrap uint64 // bytes continued at relative 512
	stop := S       // just past the part that starts at `start`
	switch {
	case end < hi:
		f.Terminated = true
		stop = end + 1
	case hi < S:
		stop = hi
		f.Reason = fmt.Sprintf("its beginning was overwritten and no NUL byte ends it before the copy at relative offset %d", hi)
	case rw.rs.Walked < rw.rs.AreaSize:
		f.Reason = "its beginning was overwritten and the area is cut short before its end"
	default:
		wn, err := rw.firstWrapNUL()
		if err != nil {
			return 0, err
		}
		firstSpan := S
		if len(rw.spans) > 0 {
			firstSpan = rw.spans[0].lo
		}
		if wn < firstSpan && wn < p {
			f.Terminated = true
			wrap = wn - mdaHeaderSize + 1
		} else {
			f.Reason = "its beginning was overwritten and no NUL byte ends it"
		}
	}
	// The start: just after the last NUL byte (or found copy) before p.
	start, err := rw.ar.lastNULBefore(p, lo)
	if err != nil {
		return 0, err
	}
	n := stop - start + wrap
	headWrapped := false
	if start == mdaHeaderSize && lo == mdaHeaderSize && wrap == 0 && rw.rs.Walked == rw.rs.AreaSize {
		// Nothing before it in the buffer: it may have begun at the end of
		// the area and wrapped (the usual fate of a wrapped copy).
		from := stop
		if len(rw.spans) > 0 {
			from = max(from, rw.spans[len(rw.spans)-1].hi)
		}
		if from < S {
			b, err := rw.ar.at(S-1, 1)
			if err != nil {
				return 0, err
			}
			if b[0] != 0 {
				hs, err := rw.ar.lastNULBefore(S, from)
				if err != nil {
					return 0, err
				}
				if S-hs+n <= MaxTextSize {
					headWrapped = true
					wrap, start, n = n, hs, S-hs+n
				}
			}
		}
	}
	if n > MaxTextSize {
		if wrap > 0 {
			return stop, nil // cannot be shown whole; not recorded
		}
		start, n = stop-MaxTextSize, MaxTextSize
		f.Reason += "; longer than a copy may be, only its last bytes are shown"
	}
	buf := make([]byte, n)
	if err := rw.ar.readRing(buf, start); err != nil {
		return 0, err
	}
	f.Off, f.RelOff, f.Size, f.CRC = rw.abs+int64(start), start, n, CRC(InitialCRC, buf)
	f.Wrapped, f.WrapSize = wrap > 0, wrap
	rw.addFragment(f, buf)
	switch {
	case headWrapped:
		rw.spans = append(rw.spans, span{start, S}) // sorts last: after every span
		return stop, nil
	case wrap > 0:
		return S, nil // it runs to the end of the area
	}
	return stop, nil
}

// ringSig is the identity read from a copy's first three lines.
type ringSig struct {
	name, uuid string
	seqno      uint64
}

// parseRingSignature checks the first three lines of b as the walk
// requires (metadata-area.md §5 step 2): `<vgname> {`, `id = "...`,
// `seqno = <decimal>`.
func parseRingSignature(b []byte) (ringSig, bool) {
	var s ringSig
	i := bytes.IndexByte(b, '\n')
	if i < 3 || i > maxVGNameLen+2 || b[i-1] != '{' || b[i-2] != ' ' {
		return s, false
	}
	name := b[:i-2]
	for _, ch := range name {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-' || ch == '+') {
			return s, false
		}
	}
	rest := b[i+1:]
	const idPrefix, seqPrefix = `id = "`, "seqno = "
	if !bytes.HasPrefix(rest, []byte(idPrefix)) {
		return s, false
	}
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		return s, false
	}
	id := rest[len(idPrefix):j]
	if k := bytes.IndexByte(id, '"'); k >= 0 {
		id = id[:k]
	}
	if len(id) > 64 {
		id = id[:64]
	}
	rest = rest[j+1:]
	if !bytes.HasPrefix(rest, []byte(seqPrefix)) {
		return s, false
	}
	rest = rest[len(seqPrefix):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		if s.seqno > (1<<64-1-9)/10 {
			return s, false // does not fit 64 bits
		}
		s.seqno = s.seqno*10 + uint64(rest[n]-'0')
		n++
	}
	if n == 0 {
		return s, false
	}
	s.name, s.uuid = string(name), string(id)
	return s, true
}

// areaReader reads relative ranges of a metadata area through a window.
type areaReader struct {
	r       io.ReaderAt
	areaOff uint64
	S       uint64 // readable bytes of the area
	win     []byte
	winOff  uint64
}

// at returns the bytes from relative offset off to the end of the current
// window: at least min(need, S-off) of them (need <= ringWindow), nothing
// at or beyond S. The slice is valid until the next call.
func (a *areaReader) at(off uint64, need int) ([]byte, error) {
	if off >= a.S {
		return nil, nil
	}
	need = max(1, min(need, ringWindow))
	end := min(off+uint64(need), a.S)
	if a.win == nil || off < a.winOff || end > a.winOff+uint64(len(a.win)) {
		wl := min(uint64(ringWindow), a.S-off)
		if cap(a.win) < int(wl) {
			a.win = make([]byte, wl)
		}
		a.win = a.win[:wl]
		if err := readFull(a.r, a.win, int64(a.areaOff+off)); err != nil {
			a.win = nil
			return nil, fmt.Errorf("reading metadata area at PV byte %d: %w", a.areaOff+off, err)
		}
		a.winOff = off
	}
	return a.win[off-a.winOff:], nil
}

// readRing fills buf from relative offset off, continuing at relative 512
// when it reaches the end of the area.
func (a *areaReader) readRing(buf []byte, off uint64) error {
	for len(buf) > 0 {
		if off >= a.S {
			off = mdaHeaderSize
		}
		n := min(uint64(len(buf)), a.S-off)
		if err := readFull(a.r, buf[:n], int64(a.areaOff+off)); err != nil {
			return fmt.Errorf("reading metadata text at PV byte %d: %w", a.areaOff+off, err)
		}
		buf = buf[n:]
		off += n
	}
	return nil
}

// nulCache remembers that [from, at) holds no NUL byte and that at holds
// one (or is the end of the area). Queries with increasing offsets thus
// look at every byte at most once.
type nulCache struct {
	from, at uint64
	ok       bool
}

// nextNUL returns the offset of the first NUL byte at or after off, or S.
func (a *areaReader) nextNUL(c *nulCache, off uint64) (uint64, error) {
	if c.ok && off >= c.from && off <= c.at {
		return c.at, nil
	}
	at := a.S
	for p := off; p < a.S; {
		b, err := a.at(p, 1)
		if err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			at = p + uint64(i)
			break
		}
		p += uint64(len(b))
	}
	*c = nulCache{from: off, at: at, ok: true}
	return at, nil
}

// lastNULBefore returns the offset just past the last NUL byte in [lo, p),
// or lo when there is none. It looks back at most MaxTextSize bytes.
func (a *areaReader) lastNULBefore(p, lo uint64) (uint64, error) {
	if p > lo+MaxTextSize {
		lo = p - MaxTextSize
	}
	for hi := p; hi > lo; {
		n := min(hi-lo, ringWindow)
		b, err := a.at(hi-n, int(n))
		if err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b[:n], 0); i >= 0 {
			return hi - n + uint64(i) + 1, nil
		}
		hi -= n
	}
	return lo, nil
}

// fallbackVGs builds VGs for PVs whose committed metadata is unusable and
// whose VG no other PV supplied: the newest generation in their rings that
// parses is used, and the VG says so.
//
// Only generations of the VG the broken committed copy belonged to are
// considered: the VG named by the copy's own signature when that survived,
// otherwise the VG of the copy written just before it in the ring. Copies
// of other VGs in the same area (a re-used disk) are not resurrected.
func fallbackVGs(res *Result) []*VG {
	have := map[string]bool{}
	for _, vg := range res.VGs {
		have[model.BareUUID(vg.Meta.UUID)] = true
	}
	type cand struct {
		c   *Copy
		why string
	}
	best := map[string]cand{}
	var order []string
	for _, pv := range res.PVs {
		for _, m := range pv.MDAs {
			if m.Header == nil || m.Header.Slots[0].Empty() || (m.Committed != nil && m.Committed.TextCopy != nil && m.Committed.Usable()) {
				continue
			}
			why := "the committed copy is unusable"
			if m.Committed != nil && m.Committed.TextCopy != nil && !m.Committed.CRCOK {
				why = fmt.Sprintf("the committed copy at byte %d fails its checksum (stored %#08x, computed %#08x)",
					m.Committed.Off, m.Committed.Stored, m.Committed.Computed)
			} else if m.Committed != nil && m.Committed.ParseErr != nil {
				why = fmt.Sprintf("the committed copy at byte %d does not parse: %v", m.Committed.Off, m.Committed.ParseErr)
			}
			c, err := newestIntact(pv, m)
			if err != nil {
				m.Problems = append(m.Problems, problemFrom(SevError, pv.Path, m.AbsOff, err))
			}
			if c == nil {
				continue
			}
			u := model.BareUUID(c.VG.UUID)
			if have[u] {
				continue
			}
			if b, ok := best[u]; ok && b.c.VG.Seqno >= c.VG.Seqno {
				continue
			}
			if _, ok := best[u]; !ok {
				order = append(order, u)
			}
			best[u] = cand{c: c, why: why}
		}
	}
	var out []*VG
	for _, u := range order {
		b := best[u]
		vg := buildVG(res, []*Copy{b.c}, pvIndex(res))
		vg.Fallback = fmt.Sprintf("%s; using the newest intact generation found in the metadata area: seqno %d at byte %d",
			b.why, b.c.VG.Seqno, b.c.Off)
		vg.Problems = append([]Problem{{Severity: SevWarn, Path: b.c.PV.Path, Off: b.c.Off, Structure: "metadata text", Msg: vg.Fallback}}, vg.Problems...)
		out = append(out, vg)
	}
	return out
}

// newestIntact walks the ring of an area whose committed copy is unusable
// and returns the newest copy of that copy's VG that parses without error,
// or nil.
func newestIntact(pv *PV, m *MDA) (*Copy, error) {
	// The walk only notes the candidates: the texts are read again and
	// parsed newest first, so that a ring of thousands of generations
	// costs one parse, not one per generation.
	var cands []RingCopy
	slotOff := m.Header.Slots[0].Offset
	w := RingWalker{OnCopy: func(rc *RingCopy, text []byte) {
		// Not the broken committed copy itself; LVM ends every copy with
		// a blank line.
		if rc.RelOff != slotOff && bytes.HasSuffix(text, []byte("\n\n")) {
			cands = append(cands, *rc)
		}
	}}
	rs, err := w.Walk(pv.R, pv.Size, pv.Offset, m.Locn.Offset, m.Header.Size)
	if rs == nil {
		return nil, err
	}
	u := brokenCopyVG(rs, slotOff)
	if u == "" {
		return nil, err
	}
	mine := cands[:0]
	for _, c := range cands {
		if model.BareUUID(c.VGUUID) == u {
			mine = append(mine, c)
		}
	}
	// Newest first; of one seqno, the first in the area.
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].Seqno > mine[j].Seqno })
	ar := &areaReader{r: pv.R, areaOff: m.Locn.Offset, S: rs.Walked}
	failed := map[uint32]bool{} // checksums of texts that do not parse
	for _, rc := range mine {
		if failed[rc.CRC] {
			continue
		}
		buf := make([]byte, rc.Size)
		if rerr := ar.readRing(buf, rc.RelOff); rerr != nil || CRC(InitialCRC, buf) != rc.CRC {
			continue
		}
		text := buf[:rc.Size-1]
		vg, perr := metatext.Parse(text)
		if perr != nil || vg == nil || model.BareUUID(vg.UUID) != u || vg.Seqno != rc.Seqno {
			failed[rc.CRC] = true
			continue
		}
		tc := &TextCopy{Off: rc.Off, RelOff: rc.RelOff, Size: rc.Size, Wrapped: rc.Wrapped, WrapSize: rc.WrapSize,
			Stored: rc.CRC, Computed: rc.CRC, CRCOK: true, Text: text}
		return &Copy{TextCopy: tc, Slot: -1, VG: vg, PV: pv, MDA: m}, err
	}
	return nil, err
}

// brokenCopyVG names (bare UUID) the VG of the text at relative offset
// slotOff: from its own signature if a copy or head fragment starts there,
// else from the copy that precedes it in the ring.
func brokenCopyVG(rs *RingScan, slotOff uint64) string {
	for _, c := range rs.Copies {
		if c.RelOff == slotOff {
			return model.BareUUID(c.VGUUID)
		}
	}
	for _, f := range rs.Fragments {
		if f.Kind == FragmentHead && f.RelOff == slotOff {
			return model.BareUUID(f.VGUUID)
		}
	}
	var before, last *RingCopy
	for i := range rs.Copies {
		c := &rs.Copies[i]
		if c.RelOff < slotOff && (before == nil || c.RelOff > before.RelOff) {
			before = c
		}
		if last == nil || c.RelOff > last.RelOff {
			last = c
		}
	}
	if before == nil {
		before = last // the ring wrapped: the predecessor is the last copy
	}
	if before == nil {
		return ""
	}
	return model.BareUUID(before.VGUUID)
}

// AssembleGeneration builds the VG that one metadata generation describes,
// for read-only views of the past ("time travel") and recovery. copies are
// the generation's locations: the same text, parsed (VG set), each with the
// PV and area it was read from; copies without a parsed VG or a PV are
// left out. Its PVs are resolved against the PVs of res as for the current
// generation. note says why this generation is shown instead of the
// current one; it becomes the VG's Fallback and its first problem.
func AssembleGeneration(res *Result, copies []*Copy, note string) (*VG, error) {
	var use []*Copy
	for _, c := range copies {
		if c != nil && c.TextCopy != nil && c.VG != nil && c.PV != nil && c.PV.Label != nil && c.PV.Label.Header != nil {
			use = append(use, c)
		}
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("assembling a metadata generation: none of its %d copies is parsed and tied to a PV", len(copies))
	}
	vg := buildVG(res, use, pvIndex(res))
	vg.Fallback = note
	if note != "" {
		vg.Problems = append([]Problem{{Severity: SevInfo, Path: vg.Source.PV.Path, Off: vg.Source.Off,
			Structure: "metadata text", Msg: note}}, vg.Problems...)
	}
	return vg, nil
}

func pvIndex(res *Result) map[string]*PV {
	m := map[string]*PV{}
	for _, pv := range res.PVs {
		if _, ok := m[pv.Label.Header.UUID]; !ok {
			m[pv.Label.Header.UUID] = pv
		}
	}
	return m
}

// RingSignature checks whether b starts like an on-disk metadata copy (the
// history scan's test, metadata-area.md §5 step 2) and returns the VG name,
// the VG UUID as written and the seqno it announces.
func RingSignature(b []byte) (name, uuid string, seqno uint64, ok bool) {
	s, ok := parseRingSignature(b)
	return s.name, s.uuid, s.seqno, ok
}
