package scan

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/metatext"
)

// RingCopy is a metadata text copy found by searching a metadata area's
// circular buffer (metadata-area.md §5), whether or not a slot points at it.
type RingCopy struct {
	Off     int64  // absolute offset of its first byte in the input
	RelOff  uint64 // relative to the area start
	Size    uint64 // bytes, NUL included
	Wrapped bool
	CRC     uint32 // lvm_crc of the Size bytes
	VGName  string
	VGUUID  string // as written (dashed)
	Seqno   uint64
	Text    []byte // without the NUL
}

// ringWindow is how much of an area is held in memory at once.
const ringWindow = 1 << 20

// minCopyLen is the shortest text accepted as a copy, as pvck does.
const minCopyLen = 256

var ringSig = regexp.MustCompile(`\A([A-Za-z0-9._+-]{1,127}) \{\nid = "([^"\n]{1,64})"\nseqno = ([0-9]{1,20})\n`)

// ScanRing walks the circular buffer of the metadata area at PV offset
// areaOff with areaSize bytes (r, size and base as for ReadMDAHeader) and
// returns every copy whose first lines carry the on-disk signature. Memory
// is bounded by the window plus the largest copy (at most MaxTextSize).
func ScanRing(r io.ReaderAt, size, base int64, areaOff, areaSize uint64) ([]RingCopy, error) {
	if areaOff >= uint64(size) {
		return nil, &FormatError{Structure: "metadata area", Off: base + int64(areaOff), Err: ErrTruncated,
			Msg: "area lies beyond the end of the input"}
	}
	S := min(areaSize, uint64(size)-areaOff) // scan only what is readable
	ar := &areaReader{r: r, areaOff: areaOff, S: S}
	var out []RingCopy
	first := uint64(0)
	for c := uint64(mdaHeaderSize); c < S; {
		head, err := ar.bytes(c, 512)
		if err != nil {
			return out, err
		}
		m := ringSig.FindSubmatch(head)
		if m == nil {
			c += 512
			continue
		}
		limit := first
		if limit == 0 {
			limit = c
		}
		text, wrapped, ok, err := ar.extract(c, limit)
		if err != nil {
			return out, err
		}
		if !ok || len(text)-1 < minCopyLen {
			c += 512
			continue
		}
		seq, _ := strconv.ParseUint(string(m[3]), 10, 64)
		rc := RingCopy{Off: base + int64(areaOff+c), RelOff: c, Size: uint64(len(text)), Wrapped: wrapped,
			CRC: CRC(InitialCRC, text), VGName: string(m[1]), VGUUID: string(m[2]), Seqno: seq, Text: text[:len(text)-1]}
		out = append(out, rc)
		if first == 0 {
			first = c
		}
		c += (rc.Size + 511) / 512 * 512
	}
	return out, nil
}

// areaReader reads relative ranges of a metadata area through a window.
type areaReader struct {
	r       io.ReaderAt
	areaOff uint64
	S       uint64
	win     []byte
	winOff  uint64
}

// bytes returns up to n bytes at relative offset off (fewer at the end).
func (a *areaReader) bytes(off uint64, n int) ([]byte, error) {
	if off >= a.S {
		return nil, nil
	}
	end := min(off+uint64(n), a.S)
	if a.win == nil || off < a.winOff || end > a.winOff+uint64(len(a.win)) {
		wl := min(uint64(ringWindow), a.S-off)
		if wl < end-off {
			wl = end - off
		}
		if cap(a.win) < int(wl) {
			a.win = make([]byte, wl)
		}
		a.win = a.win[:wl]
		if err := readFull(a.r, a.win, int64(a.areaOff+off)); err != nil {
			return nil, fmt.Errorf("reading metadata area at PV byte %d: %w", a.areaOff+off, err)
		}
		a.winOff = off
	}
	return a.win[off-a.winOff : end-a.winOff], nil
}

// extract returns the copy starting at c up to and including its NUL,
// continuing at relative 512 (up to limit) when it runs into the end.
func (a *areaReader) extract(c, limit uint64) (text []byte, wrapped, ok bool, err error) {
	var buf []byte
	for off := c; off < a.S; {
		b, err := a.bytes(off, 64<<10)
		if err != nil {
			return nil, false, false, err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return append(buf, b[:i+1]...), false, true, nil
		}
		buf = append(buf, b...)
		if len(buf) > MaxTextSize {
			return nil, false, false, nil
		}
		off += uint64(len(b))
	}
	for off := uint64(mdaHeaderSize); off < limit; {
		b, err := a.bytes(off, int(min(64<<10, limit-off)))
		if err != nil {
			return nil, false, false, err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return append(buf, b[:i+1]...), true, true, nil
		}
		buf = append(buf, b...)
		if len(buf) > MaxTextSize {
			return nil, false, false, nil
		}
		off += uint64(len(b))
	}
	return nil, false, false, nil
}

// fallbackVGs builds VGs for PVs whose committed metadata is unusable and
// whose VG no other PV supplied: the newest generation in their rings that
// parses is used, and the VG says so.
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
			if m.Header == nil || m.Header.Slots[0].Empty() || m.Committed.Usable() {
				continue
			}
			why := "the committed copy is unusable"
			if m.Committed != nil && m.Committed.TextCopy != nil && !m.Committed.CRCOK {
				why = fmt.Sprintf("the committed copy at byte %d fails its checksum (stored %#08x, computed %#08x)",
					m.Committed.Off, m.Committed.Stored, m.Committed.Computed)
			} else if m.Committed != nil && m.Committed.ParseErr != nil {
				why = fmt.Sprintf("the committed copy at byte %d does not parse: %v", m.Committed.Off, m.Committed.ParseErr)
			}
			copies, err := ScanRing(pv.R, pv.Size, pv.Offset, m.Locn.Offset, m.Header.Size)
			if err != nil {
				m.Problems = append(m.Problems, problemFrom(SevError, pv.Path, m.AbsOff, err))
			}
			for i := range copies {
				rc := &copies[i]
				u := model.BareUUID(rc.VGUUID)
				if have[u] {
					continue
				}
				if b, ok := best[u]; ok && b.c.VG.Seqno >= rc.Seqno {
					continue
				}
				vg, err := metatext.Parse(rc.Text)
				if err != nil || vg == nil {
					continue
				}
				tc := &TextCopy{Off: rc.Off, RelOff: rc.RelOff, Size: rc.Size, Wrapped: rc.Wrapped, Computed: rc.CRC, CRCOK: true, Text: rc.Text}
				if _, ok := best[u]; !ok {
					order = append(order, u)
				}
				best[u] = cand{c: &Copy{TextCopy: tc, Slot: -1, VG: vg, PV: pv, MDA: m}, why: why}
			}
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

func pvIndex(res *Result) map[string]*PV {
	m := map[string]*PV{}
	for _, pv := range res.PVs {
		if _, ok := m[pv.Label.Header.UUID]; !ok {
			m[pv.Label.Header.UUID] = pv
		}
	}
	return m
}
