package history_test

import (
	"bytes"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// ringBytes reads n bytes of the area at rel, wrapping at len(area) to 512.
func ringBytes(area []byte, rel, n uint64) []byte {
	var out []byte
	S := uint64(len(area))
	if S <= 512 {
		return nil
	}
	for n > 0 {
		if rel >= S {
			rel = 512
		}
		k := min(n, S-rel)
		out = append(out, area[rel:rel+k]...)
		rel += k
		n -= k
	}
	return out
}

// FuzzRingWalk walks arbitrary area bytes and checks what the walk claims
// against the bytes; then runs a whole history scan of a PV holding them
// with slot 0 set from the input.
func FuzzRingWalk(f *testing.F) {
	hist := fixture.Load(f, "history").Image(f, "pv0")
	f.Add(bytes.Clone(hist[4096:4096+32768]), uint32(14336), uint32(3570))
	ban := fixture.Load(f, "banana").Image(f, "pv0")
	f.Add(bytes.Clone(ban[4096:4096+16384]), uint32(8704), uint32(1760))
	f.Add(append(make([]byte, 512), []byte("vg {\nid = \"x\"\nseqno = 1\n"+string(bytes.Repeat([]byte("a"), 300))+"\x00")...), uint32(512), uint32(326))
	f.Fuzz(func(t *testing.T, area []byte, slotOff, slotSize uint32) {
		if len(area) < 512 || len(area) > 1<<20 {
			return
		}
		S := uint64(len(area))
		type span struct{ lo, hi uint64 }
		var spans []span
		w := scan.RingWalker{
			OnCopy: func(c *scan.RingCopy, text []byte) {
				if c.RelOff < 512 || c.RelOff >= S || c.RelOff%512 != 0 || c.Size < 257 || c.Size > S-512 {
					t.Fatalf("copy out of bounds: %+v (S %d)", c, S)
				}
				b := ringBytes(area, c.RelOff, c.Size)
				if uint64(len(text)) != c.Size-1 || !bytes.Equal(text, b[:len(b)-1]) || b[len(b)-1] != 0 || bytes.IndexByte(text, 0) >= 0 {
					t.Fatalf("copy text does not match the area: %+v", c)
				}
				if scan.CRC(scan.InitialCRC, b) != c.CRC || c.Wrapped != (c.RelOff+c.Size > S) {
					t.Fatalf("copy crc or wrap wrong: %+v", c)
				}
				if c.Wrapped {
					spans = append(spans, span{c.RelOff, S}, span{512, 512 + c.WrapSize})
				} else {
					spans = append(spans, span{c.RelOff, c.RelOff + c.Size})
				}
			},
			OnFragment: func(fr *scan.RingFragment, text []byte) {
				if fr.RelOff < 512 || fr.RelOff >= S || fr.Size == 0 || fr.Size > S-512 {
					t.Fatalf("fragment out of bounds: %+v (S %d)", fr, S)
				}
				b := ringBytes(area, fr.RelOff, fr.Size)
				want := b
				if fr.Terminated {
					want = b[:len(b)-1]
				}
				if !bytes.Equal(text, want) || scan.CRC(scan.InitialCRC, b) != fr.CRC {
					t.Fatalf("fragment bytes do not match the area: %+v", fr)
				}
			},
		}
		rs, err := w.Walk(bytes.NewReader(area), int64(S), 0, 0, S)
		if err != nil || rs == nil {
			t.Fatalf("walk: %v", err)
		}
		for i := range spans {
			for j := range i {
				if spans[i].lo < spans[j].hi && spans[j].lo < spans[i].hi {
					t.Fatalf("copies overlap: %v %v", spans[i], spans[j])
				}
			}
		}
		// A whole history scan of a PV with this area.
		size := (S + 511) / 512 * 512
		text := ringBytes(area, uint64(slotOff)%S, uint64(slotSize)%S)
		pv := newSynthPV(size, uint64(slotOff), text, func(p []byte, off int64) {
			// The area's bytes from relative 512 on, zero elsewhere; copied
			// rather than set byte by byte, which made every exec slow.
			clear(p)
			lo, hi := max(off, 4096+512), min(off+int64(len(p)), 4096+int64(S))
			if lo < hi {
				copy(p[lo-off:hi-off], area[lo-4096:hi-4096])
			}
		})
		delete(pv.plants, 4096+int64(slotOff))
		res := scan.Scan([]*scan.Input{scan.NewInput("f", pv, pv.size)}, scan.Options{})
		h := history.Scan(res, history.Options{})
		var buf bytes.Buffer
		h.WriteText(&buf, "")
		_ = h.Report("")
		for i, g := range h.Generations {
			// Opening and comparing every generation of the seeds' 73 cost
			// milliseconds an exec: the first two and the last two.
			if g.VG == nil || i >= 2 && i < len(h.Generations)-2 {
				continue
			}
			for _, lv := range g.VG.LVs {
				history.ReusedExtents(h.Generations, g.VGUUID, g.Seqno, lv.Name)
			}
			history.Diff(g.VG, g.VG).WriteText(&buf)
			if _, err := h.Open(res, g.VGUUID, g.Seqno); err != nil && g.ParseErr == nil {
				t.Fatalf("open %s %d: %v", g.VGName, g.Seqno, err)
			}
		}
	})
}
