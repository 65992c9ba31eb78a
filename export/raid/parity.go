package raid

import (
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/lvminspect/lvminspect/export"
)

// Parity is the Source of a raid4, raid5 or raid6 segment. Data chunks
// are read from their image; a chunk whose image is missing is rebuilt
// from the other images of its stripe (P parity, and for raid6 the Q
// syndrome) when at most p = 1 (raid4/5) or 2 (raid6) images of the
// stripe are missing there.
type Parity struct {
	lv     string
	level  string // raid4, raid5 or raid6
	lay    *parityLayout
	size   int64 // segment bytes
	usable int64 // bytes mapped by the layout; the rest is reshape space
	cb     int64 // chunk bytes
	imgs   []*image
	// resyncFrom is the image offset from which parity may be
	// inconsistent (initial sync incomplete): no rebuild there.
	resyncFrom int64
	arrayInfo

	// spare is the rebuild scratch kept between reads: kept, not pooled,
	// so that a garbage collection does not make the next read allocate
	// (and the heap grow) again. At most maxScratch exist: a degraded read
	// waits for one (each is (n+2) windows, 8 MiB), so that concurrent
	// readers do not multiply the memory.
	scratchMu   sync.Mutex
	spare       []*scratch
	scratchOnce sync.Once
	scratchSem  chan struct{}

	concOnce   sync.Once
	concurrent bool
}

// scratch holds the rows of every image for one window, plus two work
// buffers for raid6.
type scratch struct {
	rows [][]byte
	a, b []byte
}

// maxScratch is how many rebuild scratches a Parity source keeps.
const maxScratch = 2

// windowBytes bounds the image bytes read per image and window in the
// degraded path; the scratch memory is (n+2) times this.
func (s *Parity) windowBytes() int64 {
	const total = 8 << 20
	return max(64<<10, total/int64(len(s.imgs)+2))
}

// Size is the segment size in bytes.
func (s *Parity) Size() int64 { return s.size }

// Layout is the parity layout in use (e.g. "ls", "zr", "p0" for raid4).
func (s *Parity) Layout() string { return s.lay.name }

func (s *Parity) check(off, n int64) error {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return fmt.Errorf("%s %s: range [%d, %d) outside the segment (%d bytes)", s.level, s.lv, off, off+n, s.size)
	}
	return nil
}

// rowSpan returns the image offsets that hold the chunks of LV bytes
// [off, end): whole stripe rows, narrowed at the ends when the request
// touches a single chunk of its first or last stripe.
func (s *Parity) rowSpan(off, end int64) (int64, int64) {
	sb := int64(s.lay.d) * s.cb
	s0, s1 := off/sb, (end-1)/sb
	t0, t1 := s0*s.cb, (s1+1)*s.cb
	if o := off - s0*sb; (min(end, (s0+1)*sb)-1-s0*sb)/s.cb == o/s.cb {
		t0 += o % s.cb
	}
	if o := end - 1 - s1*sb; (max(off, s1*sb)-s1*sb)/s.cb == o/s.cb {
		t1 = s1*s.cb + o%s.cb + 1
	}
	return t0, t1
}

// dataPiece is a part of one data chunk inside a window.
type dataPiece struct {
	off, end int64 // LV bytes
	s        int64 // stripe
	img      int   // image holding the chunk
	t        int64 // image offset of off
}

// pieces calls fn for each data chunk part in image rows [t0, t1) that
// falls in LV bytes [off, end), in image-row order.
func (s *Parity) pieces(t0, t1, off, end int64, fn func(dataPiece) error) error {
	d := int64(s.lay.d)
	for t := t0; t < t1; {
		st := t / s.cb
		w := t - st*s.cb
		e := min(t1, (st+1)*s.cb)
		P, _ := s.lay.parity(st)
		for j := int64(0); j < d; j++ {
			chunk := (st*d + j) * s.cb
			a, b := max(off, chunk+w), min(end, chunk+(e-st*s.cb))
			if a >= b {
				continue
			}
			img := s.lay.dataImage(int(j), P)
			if err := fn(dataPiece{off: a, end: b, s: st, img: img, t: st*s.cb + (a - chunk)}); err != nil {
				return err
			}
		}
		t = e
	}
	return nil
}

// canRebuild reports whether a data chunk on a missing image can be
// rebuilt where the images in mask are missing, and if not why.
func (s *Parity) canRebuild(sp *span, mask uint64, t, limit int64) (bool, string, string, int64) {
	next := limit
	if t >= s.resyncFrom {
		return false, fmt.Sprintf("%s %s: parity beyond image byte %d may be inconsistent (initial sync incomplete), so missing data there is not rebuilt", s.level, s.lv, s.resyncFrom), "", next
	}
	if s.resyncFrom < noEnd {
		next = min(next, s.resyncFrom)
	}
	if bits.OnesCount64(mask) <= s.lay.p {
		return true, "", "", next
	}
	var names []string
	src := ""
	for i := range s.imgs {
		if mask&(1<<uint(i)) != 0 {
			r, _ := sp.state(i, t, limit)
			names = append(names, r.Reason)
			if src == "" {
				src = r.Source
			}
		}
	}
	return false, fmt.Sprintf("%s %s: %d images missing, %s rebuilds at most %d (%s)", s.level, s.lv,
		bits.OnesCount64(mask), s.level, s.lay.p, strings.Join(names, "; ")), src, next
}

// Runs describes [off, off+n): RunData where the bytes are present or can
// be rebuilt, RunMissing elsewhere, RunZero for reshape space.
func (s *Parity) Runs(off, n int64) ([]export.Run, error) {
	if err := s.check(off, n); err != nil {
		return nil, err
	}
	var out []export.Run
	end := off + n
	if de := min(end, s.usable); off < de {
		t0, t1 := s.rowSpan(off, de)
		sp, err := newSpan(s.imgs, t0, t1)
		if err != nil {
			return nil, err
		}
		if !sp.anyMiss {
			out = append(out, export.Run{Off: off, Len: de - off, Kind: export.RunData})
		} else if err := s.pieces(t0, t1, off, de, func(p dataPiece) error {
			out = s.classify(out, sp, p)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if t := max(off, s.usable); t < end {
		out = export.AppendRun(out, reshapeRun(t, end))
	}
	return out, nil
}

// classify appends the runs of one data piece.
func (s *Parity) classify(out []export.Run, sp *span, p dataPiece) []export.Run {
	for t := p.t; t < p.t+(p.end-p.off); {
		limit := p.t + (p.end - p.off)
		mask, next := sp.mask(t, limit)
		lv := p.off + (t - p.t)
		if mask&(1<<uint(p.img)) == 0 {
			out = export.AppendRun(out, export.Run{Off: lv, Len: next - t, Kind: export.RunData})
			t = next
			continue
		}
		ok, why, src, e := s.canRebuild(sp, mask, t, next)
		if ok {
			out = export.AppendRun(out, export.Run{Off: lv, Len: e - t, Kind: export.RunData})
		} else {
			out = export.AppendRun(out, export.Run{Off: lv, Len: e - t, Kind: export.RunMissing, Source: src, Reason: why})
		}
		t = e
	}
	return out
}

// Redundant lists the ranges of [off, off+n) rebuilt from parity because
// the image holding them is missing there.
func (s *Parity) Redundant(off, n int64) ([]export.Range, error) {
	if err := s.check(off, n); err != nil {
		return nil, err
	}
	end := min(off+n, s.usable)
	if off >= end {
		return nil, nil
	}
	t0, t1 := s.rowSpan(off, end)
	sp, err := newSpan(s.imgs, t0, t1)
	if err != nil || !sp.anyMiss {
		return nil, err
	}
	var out []export.Range
	err = s.pieces(t0, t1, off, end, func(p dataPiece) error {
		limit := p.t + (p.end - p.off)
		for t := p.t; t < limit; {
			mask, next := sp.mask(t, limit)
			if mask&(1<<uint(p.img)) != 0 {
				ok, _, _, e := s.canRebuild(sp, mask, t, next)
				if ok {
					r, _ := sp.state(p.img, t, e)
					out = appendRange(out, export.Range{Off: p.off + (t - p.t), Len: e - t, Source: s.imgs[p.img].name,
						Reason: fmt.Sprintf("rebuilt from %s parity: %s", s.level, r.Reason)})
				}
				next = e
			}
			t = next
		}
		return nil
	})
	return out, err
}

// ConcurrentReads reports whether ReadAt may run in several goroutines:
// only when every image is fully present, so that reads go straight into
// the caller's buffer and no rebuild scratch (whose size bounds memory)
// is taken per reader.
func (s *Parity) ConcurrentReads() bool {
	s.concOnce.Do(func() {
		_, t1 := s.rowSpan(0, max(1, s.usable))
		sp, err := newSpan(s.imgs, 0, t1)
		if err != nil || sp.anyMiss {
			return
		}
		for _, im := range s.imgs {
			if len(im.bad) > 0 || im.regions != nil {
				return
			}
		}
		s.concurrent = true
	})
	return s.concurrent
}
