package raid

import (
	"fmt"
	"io"
	"math/bits"
)

// ReadAt reads segment bytes. Windows of stripe rows are processed in
// turn: where every image is present, data chunks are read straight into
// p; otherwise the rows of all present images are read once per window
// and missing chunks are rebuilt from them.
func (s *Parity) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		return 0, fmt.Errorf("%s %s: offset %d outside the segment (%d bytes)", s.level, s.lv, off, s.size)
	}
	n := min(int64(len(p)), s.size-off)
	end := off + n
	if de := min(end, s.usable); off < de {
		t0, t1 := s.rowSpan(off, de)
		w := s.windowBytes()
		for a := t0; a < t1; a += w {
			b := min(t1, a+w)
			if err := s.readWindow(p, off, de, a, b); err != nil {
				return 0, err
			}
		}
	}
	if t := max(off, s.usable); t < end {
		clear(p[t-off : end-off])
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// readWindow fills the parts of p (LV bytes [off, end), p[0] is off) whose
// chunks lie in image rows [t0, t1).
func (s *Parity) readWindow(p []byte, off, end, t0, t1 int64) error {
	sp, err := newSpan(s.imgs, t0, t1)
	if err != nil {
		return err
	}
	if !sp.anyMiss {
		return s.pieces(t0, t1, off, end, func(dp dataPiece) error {
			return sp.read(dp.img, p[dp.off-off:dp.end-off], dp.t, false)
		})
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	rows := make([][]byte, len(s.imgs))
	for i := range s.imgs {
		rows[i] = sc.rows[i][:t1-t0]
		if err := sp.read(i, rows[i], t0, true); err != nil {
			return err
		}
	}
	return s.pieces(t0, t1, off, end, func(dp dataPiece) error {
		limit := dp.t + (dp.end - dp.off)
		for t := dp.t; t < limit; {
			mask, next := sp.mask(t, limit)
			dst := p[dp.off+(t-dp.t)-off : dp.off+(next-dp.t)-off]
			a, b := t-t0, next-t0
			if mask&(1<<uint(dp.img)) == 0 {
				copy(dst, rows[dp.img][a:b])
			} else {
				ok, why, _, e := s.canRebuild(sp, mask, t, next)
				if !ok {
					return fmt.Errorf("%s %s: LV byte %d: %s", s.level, s.lv, dp.off+(t-dp.t), why)
				}
				next, b = e, e-t0
				s.rebuild(dst[:e-t], dp.s, dp.img, mask, rows, a, b, sc)
			}
			t = next
		}
		return nil
	})
}

func (s *Parity) getScratch() *scratch {
	s.scratchOnce.Do(func() { s.scratchSem = make(chan struct{}, maxScratch) })
	s.scratchSem <- struct{}{}
	s.scratchMu.Lock()
	var sc *scratch
	if k := len(s.spare); k > 0 {
		sc, s.spare = s.spare[k-1], s.spare[:k-1]
	}
	s.scratchMu.Unlock()
	if sc != nil {
		return sc
	}
	w := s.windowBytes()
	sc = &scratch{rows: make([][]byte, len(s.imgs)), a: make([]byte, w), b: make([]byte, w)}
	for i := range sc.rows {
		sc.rows[i] = make([]byte, w)
	}
	return sc
}

// rebuild computes the bytes [a, b) of the rows of data image x of
// stripe st, where the images in mask (x among them, at most p) are
// missing, from the other images' rows (spec §4.5).
func (s *Parity) rebuild(dst []byte, st int64, x int, mask uint64, rows [][]byte, a, b int64, sc *scratch) {
	P, Q := s.lay.parity(st)
	others := mask &^ (1 << uint(x))
	if s.lay.p == 1 || others == 0 || others == 1<<uint(Q) {
		// XOR of P and the other data chunks.
		clear(dst)
		for i := range s.imgs {
			if i != x && i != Q {
				xorInto(dst, rows[i][a:b])
			}
		}
		return
	}
	cx := gfPow(s.lay.coef(x, P, Q))
	if others == 1<<uint(P) {
		// D_x = (Q + Q') / g^cx, Q' the syndrome of the present data.
		copy(dst, rows[Q][a:b])
		for i := range s.imgs {
			if i != x && i != P && i != Q {
				mulXorInto(dst, rows[i][a:b], gfPow(s.lay.coef(i, P, Q)))
			}
		}
		mulInPlace(dst, gfInv(cx))
		return
	}
	// Two data chunks x and y missing.
	y := bits.TrailingZeros64(others)
	cy := gfPow(s.lay.coef(y, P, Q))
	A, B := sc.a[:b-a], sc.b[:b-a]
	copy(A, rows[P][a:b])
	copy(B, rows[Q][a:b])
	for i := range s.imgs {
		if i != x && i != y && i != P && i != Q {
			xorInto(A, rows[i][a:b])
			mulXorInto(B, rows[i][a:b], gfPow(s.lay.coef(i, P, Q)))
		}
	}
	// D_x = (B + g^cy*A) / (g^cx + g^cy)
	copy(dst, B)
	mulXorInto(dst, A, cy)
	mulInPlace(dst, gfInv(cx^cy))
}

// putScratch keeps sc for the next read, and lets another read take
// one.
func (s *Parity) putScratch(sc *scratch) {
	s.scratchMu.Lock()
	s.spare = append(s.spare, sc)
	s.scratchMu.Unlock()
	<-s.scratchSem
}
