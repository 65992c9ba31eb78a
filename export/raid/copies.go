package raid

import (
	"fmt"
	"io"
	"strings"

	"github.com/lvminspect/lvminspect/export"
)

// Copies is the Source of a raid0 or raid10 (near layout) segment: the
// segment is cut into chunks of C bytes and copy j (0 <= j < c) of chunk
// k lies on image (k*c+j) mod n at image offset ((k*c+j) div n)*C
// (spec §4.3). raid0 is the case c = 1. With a placer, the placer says
// where the copies are instead (md's raid10 far and offset layouts, the
// zones of an md raid0).
type Copies struct {
	lv     string
	level  string // raid0 or raid10
	size   int64  // segment bytes
	usable int64  // bytes mapped by the layout; the rest is reshape space
	cb     int64  // chunk bytes
	c      int64  // copies per chunk
	imgs   []*image
	// resyncFrom is the image offset from which copies other than the
	// first may be stale (initial sync incomplete); noEnd when in sync.
	resyncFrom int64
	// pl, when set, places the copies; nil is the near layout above.
	pl placer
	arrayInfo
}

// placer places the c copies of each chunk of a Copies on its images.
type placer interface {
	// chunk returns the image and the image offset of the first byte of
	// copy j (0 <= j < c) of chunk k.
	chunk(k, j int64) (int, int64)
	// bands returns image offset ranges, sorted, not overlapping and
	// made of whole chunks, that hold every copy of chunks k0..k1.
	bands(k0, k1 int64) [][2]int64
}

// Size is the segment size in bytes.
func (s *Copies) Size() int64 { return s.size }

// place returns the image and image offset of byte w of copy j of chunk k.
func (s *Copies) place(k, j, w int64) (int, int64) {
	if s.pl != nil {
		img, t := s.pl.chunk(k, j)
		return img, t + w
	}
	n := int64(len(s.imgs))
	x := k*s.c + j
	return int(x % n), (x/n)*s.cb + w
}

// spanOf collects the runs of every image over the image offsets that
// hold the chunks of [off, end).
func (s *Copies) spanOf(off, end int64) (*span, error) {
	if s.pl != nil {
		return newBandSpan(s.imgs, s.pl.bands(off/s.cb, (end-1)/s.cb))
	}
	t0, t1 := s.rows(off, end)
	return newSpan(s.imgs, t0, t1)
}

// newBandSpan is newSpan over several ranges of image offsets (sorted,
// not overlapping): each image's runs are those of every range in turn.
// Only offsets inside the ranges may be asked of it.
func newBandSpan(imgs []*image, bands [][2]int64) (*span, error) {
	if len(bands) == 1 {
		return newSpan(imgs, bands[0][0], bands[0][1])
	}
	sp := &span{imgs: imgs, runs: make([][]export.Run, len(imgs)), miss: make([][]export.Run, len(imgs))}
	if len(bands) > 0 {
		sp.t0, sp.t1 = bands[0][0], bands[len(bands)-1][1]
	}
	for _, b := range bands {
		part, err := newSpan(imgs, b[0], b[1])
		if err != nil {
			return nil, err
		}
		for i := range imgs {
			sp.runs[i] = append(sp.runs[i], part.runs[i]...)
			sp.miss[i] = append(sp.miss[i], part.miss[i]...)
		}
		sp.anyMiss = sp.anyMiss || part.anyMiss
	}
	return sp, nil
}

// rows returns the image offsets holding the chunks of [off, end).
func (s *Copies) rows(off, end int64) (int64, int64) {
	n := int64(len(s.imgs))
	k0, k1 := off/s.cb, (end-1)/s.cb
	return (k0 * s.c / n) * s.cb, ((k1*s.c+s.c-1)/n + 1) * s.cb
}

// piece is a part of one chunk with a fixed choice of copy.
type piece struct {
	off, end int64 // LV bytes
	img      int   // image to read, -1 when no copy is present
	copy     int64 // which copy img holds
	t        int64 // image offset of off
	why      string
	src      string
}

// walk splits [off, end) (within the usable part) into pieces.
func (s *Copies) walk(sp *span, off, end int64, fn func(p piece) error) error {
	for pos := off; pos < end; {
		k, w := pos/s.cb, pos%s.cb
		ce := min(end, (k+1)*s.cb) // end of this chunk part
		// Find the longest prefix [pos, e) with a constant choice.
		e := ce
		choice := piece{off: pos, img: -1}
		var why []string
		for j := int64(0); j < s.c; j++ {
			im, t := s.place(k, j, w)
			r, next := sp.state(im, t, t+(ce-pos))
			e = min(e, pos+(next-t))
			trusted := j == 0 || t < s.resyncFrom
			if r == nil && trusted {
				if j > 0 && s.resyncFrom < noEnd {
					// This copy becomes untrusted at the resync point.
					e = min(e, pos+(s.resyncFrom-t))
				}
				choice.img, choice.t, choice.copy = im, t, j
				break
			}
			if r != nil {
				why = append(why, r.Reason)
				if choice.src == "" {
					choice.src = r.Source
				}
			} else {
				why = append(why, fmt.Sprintf("%s may be stale (initial sync incomplete)", s.imgs[im].name))
			}
		}
		choice.end = e
		if choice.img >= 0 && len(why) > 0 {
			choice.why = strings.Join(why, "; ")
		}
		if choice.img < 0 {
			choice.why = fmt.Sprintf("%s %s: no copy of these bytes is available (%s)", s.level, s.lv, strings.Join(why, "; "))
		}
		if err := fn(choice); err != nil {
			return err
		}
		pos = e
	}
	return nil
}

func (s *Copies) check(off, n int64) error {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return fmt.Errorf("%s %s: range [%d, %d) outside the segment (%d bytes)", s.level, s.lv, off, off+n, s.size)
	}
	return nil
}

// Runs describes [off, off+n): RunData where a copy is present,
// RunMissing where none is, RunZero for reshape space.
func (s *Copies) Runs(off, n int64) ([]export.Run, error) {
	if err := s.check(off, n); err != nil {
		return nil, err
	}
	var out []export.Run
	end := off + n
	if de := min(end, s.usable); off < de {
		sp, err := s.spanOf(off, de)
		if err != nil {
			return nil, err
		}
		if !sp.anyMiss {
			out = append(out, export.Run{Off: off, Len: de - off, Kind: export.RunData})
		} else {
			err = s.walk(sp, off, de, func(p piece) error {
				if p.img >= 0 {
					out = export.AppendRun(out, export.Run{Off: p.off, Len: p.end - p.off, Kind: export.RunData})
				} else {
					out = export.AppendRun(out, export.Run{Off: p.off, Len: p.end - p.off, Kind: export.RunMissing, Source: p.src, Reason: p.why})
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	if t := max(off, s.usable); t < end {
		out = export.AppendRun(out, reshapeRun(t, end))
	}
	return out, nil
}

// reshapeRun describes segment bytes beyond the data: reshape space.
func reshapeRun(a, b int64) export.Run {
	return export.Run{Off: a, Len: b - a, Kind: export.RunZero, Reason: "raid reshape space (not part of the LV's data)"}
}

// ReadAt reads segment bytes.
func (s *Copies) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		return 0, fmt.Errorf("%s %s: offset %d outside the segment (%d bytes)", s.level, s.lv, off, s.size)
	}
	n := min(int64(len(p)), s.size-off)
	end := off + n
	const maxWindow = 32 << 20 // LV bytes classified per span
	window := max(s.cb, maxWindow/s.cb*s.cb)
	for pos := off; pos < min(end, s.usable); {
		e := min(end, s.usable, pos+window)
		sp, err := s.spanOf(pos, e)
		if err != nil {
			return int(pos - off), err
		}
		err = s.walk(sp, pos, e, func(pc piece) error {
			if pc.img < 0 {
				return fmt.Errorf("byte %d: %s", pc.off, pc.why)
			}
			return sp.read(pc.img, p[pc.off-off:pc.end-off], pc.t, false)
		})
		if err != nil {
			return int(pos - off), err
		}
		pos = e
	}
	if t := max(off, s.usable); t < end {
		clear(p[t-off : end-off])
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// Redundant lists the ranges of [off, off+n) read from another copy than
// the first, because the first is missing or not trusted there.
func (s *Copies) Redundant(off, n int64) ([]export.Range, error) {
	if err := s.check(off, n); err != nil {
		return nil, err
	}
	var out []export.Range
	end := min(off+n, s.usable)
	if off >= end {
		return nil, nil
	}
	sp, err := s.spanOf(off, end)
	if err != nil || !sp.anyMiss && s.resyncFrom == noEnd {
		return nil, err
	}
	err = s.walk(sp, off, end, func(p piece) error {
		if p.img >= 0 && p.copy > 0 {
			out = appendRange(out, export.Range{Off: p.off, Len: p.end - p.off, Source: s.imgs[p.img].name,
				Reason: fmt.Sprintf("read from copy %d on %s: %s", p.copy, s.imgs[p.img].name, p.why)})
		}
		return nil
	})
	return out, err
}
