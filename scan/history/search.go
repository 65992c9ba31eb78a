package history

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/scan"
)

// The search for metadata areas whose PV label is gone (pvremove wipes the
// label, a damaged disk loses it): metadata-area.md §5, last improvement.
// Headers are looked for at every 512-byte boundary of the first MiB and
// the last searchTail bytes of each input and partition that has no PV
// label, and accepted when their checksum matches and their start field
// places them inside the region. Where no header is found, the default
// areas pvck guesses are walked, and kept only if they hold copies.

var mdaMagic = []byte(" LVM2 x[5A%r0N*>")

const (
	mib        = 1 << 20
	searchHead = mib + 4096 // mda1 lies at 4096 in practice
	searchTail = 8 * mib    // mda2 ends at the end of the PV
)

// region is a range of an input that may hold a PV without a label.
type region struct {
	in       *scan.InputResult
	off, len int64
}

// search walks the metadata areas found in regions without a PV label.
func (s *scanner) search() {
	for _, in := range s.res.Inputs {
		for _, reg := range unlabelled(in) {
			s.searchRegion(reg)
		}
	}
}

// unlabelled lists the input and its partitions where no PV was found.
func unlabelled(in *scan.InputResult) []region {
	has := map[int64]bool{}
	for _, pv := range in.PVs {
		has[pv.Offset] = true
	}
	var out []region
	if !has[0] && in.Size > 0 {
		out = append(out, region{in: in, off: 0, len: in.Size})
	}
	if t := in.Partitions; t != nil {
		for _, p := range t.Partitions {
			if p.Extended || p.Start <= 0 || p.Start >= in.Size || has[p.Start] {
				continue
			}
			out = append(out, region{in: in, off: p.Start, len: min(p.Size, in.Size-p.Start)})
		}
	}
	return out
}

// searchRegion finds and walks the metadata areas of one region.
func (s *scanner) searchRegion(reg region) {
	r := io.NewSectionReader(reg.in.ReaderAt(), reg.off, reg.len)
	headEnd := min(reg.len, searchHead)
	foundHead := s.searchRange(reg, r, 0, headEnd)
	foundTail := s.searchRange(reg, r, max(headEnd, reg.len-searchTail), reg.len)
	// pvck's defaults for lost headers (metadata-area.md §5).
	if !foundHead && reg.len >= 2*mib {
		s.walkGuess(reg, 4096, mib-4096, 1)
	}
	if !foundTail && reg.len >= 2*mib {
		off := reg.len - reg.len%mib - mib
		s.walkGuess(reg, off, uint64(reg.len-off), 2)
	}
}

// searchRange looks for valid mda headers at the 512-byte boundaries of
// [lo, hi) of the region and walks their areas. It reports whether any
// header was found.
func (s *scanner) searchRange(reg region, r io.ReaderAt, lo, hi int64) bool {
	found := false
	buf := make([]byte, min(hi-lo, mib))
	lo -= lo % 512
	for pos := lo; pos+512 <= hi; {
		n := min(int64(len(buf)), hi-pos)
		n -= n % 512
		if n <= 0 {
			break
		}
		if _, err := r.ReadAt(buf[:n], pos); err != nil && err != io.EOF {
			s.h.Problems = append(s.h.Problems, scan.Problem{Severity: scan.SevWarn, Path: reg.in.Path, Off: reg.off + pos,
				Msg: "searching for metadata areas: " + err.Error()})
			return found
		}
		for i := int64(0); i+512 <= n; i += 512 {
			if bytes.Equal(buf[i+4:i+20], mdaMagic) && s.tryHeader(reg, r, pos+i) {
				found = true
			}
		}
		pos += n
	}
	return found
}

// tryHeader validates the header candidate at byte rel of the region and
// walks its area.
func (s *scanner) tryHeader(reg region, r io.ReaderAt, rel int64) bool {
	h, _, err := scan.ReadMDAHeader(r, reg.len, reg.off, scan.DiskLocn{Offset: uint64(rel)})
	if err != nil || h == nil || !h.Checksum.OK || h.Start > uint64(rel) || h.Start%512 != 0 {
		return false
	}
	pvRel := rel - int64(h.Start)
	if s.walked[areaKey{reg.in.Path, reg.off + rel}] {
		return true
	}
	idx := 1
	if h.Start >= mib {
		idx = 2
	}
	a := &Area{Path: reg.in.Path, Index: idx, Offset: reg.off + rel, PVOffset: reg.off + pvRel, Size: h.Size,
		SizeFrom: "header", Header: h, HeaderOK: true, Ignored: h.Slots[0].Ignored(), SlotsZero: h.Slots[0].Empty()}
	a.Problems = append(a.Problems, scan.Problem{Severity: scan.SevInfo, Path: reg.in.Path, Off: a.Offset, Structure: "mda_header",
		Msg: fmt.Sprintf("metadata area found by searching: no PV label at byte %d (wiped or damaged)", a.PVOffset)})
	pr := io.NewSectionReader(reg.in.ReaderAt(), a.PVOffset, reg.len-pvRel)
	s.walk(a, pr, reg.len-pvRel, a.PVOffset)
	return true
}

// walkGuess walks a default area of the region and keeps it only if it
// holds copies or fragments and overlaps no area walked already.
func (s *scanner) walkGuess(reg region, rel int64, size uint64, idx int) {
	abs := reg.off + rel
	for _, a := range s.h.Areas {
		if a.Path == reg.in.Path && abs < a.Offset+int64(a.Size) && a.Offset < abs+int64(size) {
			return
		}
	}
	a := &Area{Path: reg.in.Path, Index: idx, Offset: abs, PVOffset: reg.off, Size: size, SizeFrom: "default"}
	a.Problems = append(a.Problems, scan.Problem{Severity: scan.SevInfo, Path: reg.in.Path, Off: abs, Structure: "metadata area",
		Msg: "no PV label nor metadata-area header here: searched the default area pvck assumes"})
	nCopies, nAreas := len(s.h.Copies), len(s.h.Areas)
	r := io.NewSectionReader(reg.in.ReaderAt(), reg.off, reg.len)
	s.walk(a, r, reg.len, reg.off)
	if len(a.Copies) == 0 && len(s.h.Areas) == nAreas+1 {
		s.h.Areas = s.h.Areas[:nAreas]
		s.h.Copies = s.h.Copies[:nCopies]
	}
}
