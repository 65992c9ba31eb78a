package history_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// synthPV is a PV image generated on the fly: a label and an mda header
// at 4096 describing an area of areaSize bytes, the area filled by fill,
// and byte strings planted at absolute offsets.
type synthPV struct {
	size   int64
	head   []byte // bytes [0, len(head))
	fill   func(p []byte, off int64)
	plants map[int64][]byte
}

func (s *synthPV) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > s.size-off {
		n = int(s.size - off)
	}
	p = p[:n]
	s.fill(p, off)
	if off < int64(len(s.head)) {
		copy(p, s.head[off:])
	}
	for at, b := range s.plants {
		if at < off+int64(n) && at+int64(len(b)) > off {
			lo := max(at, off)
			copy(p[lo-off:], b[lo-at:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// junk fills p with pseudo-random bytes that depend only on the offset.
func junk(p []byte, off int64) {
	var w [8]byte
	for i := 0; i < len(p); {
		pos := off + int64(i)
		x := uint64(pos/8)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 27
		binary.LittleEndian.PutUint64(w[:], x)
		k := copy(p[i:], w[pos%8:])
		i += k
	}
}

const synthPVUUID = "zOyPRbqflr3FM5kMw3Cx05k5g2UUeFM5"

// newSynthPV builds the label and mda header of a PV whose only metadata
// area lies at 4096 with areaSize bytes; slot 0 records text at rel.
func newSynthPV(areaSize uint64, rel uint64, text []byte, fill func([]byte, int64)) *synthPV {
	head := make([]byte, 4096+512)
	lb := head[512:1024]
	copy(lb, "LABELONE")
	binary.LittleEndian.PutUint64(lb[8:], 1)
	binary.LittleEndian.PutUint32(lb[20:], 32)
	copy(lb[24:], "LVM2 001")
	ph := lb[32:]
	copy(ph, synthPVUUID)
	size := int64(4096 + areaSize + 1<<20)
	binary.LittleEndian.PutUint64(ph[32:], uint64(size))
	binary.LittleEndian.PutUint64(ph[40:], 4096+areaSize) // data area, then a terminator at 56
	binary.LittleEndian.PutUint64(ph[72:], 4096)          // metadata area
	binary.LittleEndian.PutUint64(ph[80:], areaSize)      // then a terminator at 88
	binary.LittleEndian.PutUint32(ph[104:], 2)            // extension version
	binary.LittleEndian.PutUint32(ph[108:], 1)
	binary.LittleEndian.PutUint32(lb[16:], scan.CRC(scan.InitialCRC, lb[20:]))
	h := head[4096:]
	copy(h[4:], " LVM2 x[5A%r0N*>")
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint64(h[24:], 4096)
	binary.LittleEndian.PutUint64(h[32:], areaSize)
	binary.LittleEndian.PutUint64(h[40:], rel)
	binary.LittleEndian.PutUint64(h[48:], uint64(len(text)))
	binary.LittleEndian.PutUint32(h[56:], scan.CRC(scan.InitialCRC, text))
	binary.LittleEndian.PutUint32(h[0:], scan.CRC(scan.InitialCRC, h[4:512]))
	return &synthPV{size: size, head: head, fill: fill, plants: map[int64][]byte{4096 + int64(rel): text}}
}

// TestBoundedGiBJunk scans a PV whose 1 GiB metadata area is full of junk
// with one copy in the middle and the tail of another further on: both are
// found, in bounded memory and time.
func TestBoundedGiBJunk(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB scan")
	}
	text := append([]byte(otherVGText), 0)
	const area = 1 << 30
	pv := newSynthPV(area, 512<<20, text, junk)
	tail := text[strings.Index(otherVGText, "}\n# Generated")+2:]
	pv.plants[4096+900<<20] = append([]byte{0}, tail...)
	in := scan.NewInput("junk", pv, pv.size)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	res := scan.Scan([]*scan.Input{in}, scan.Options{})
	h := history.Scan(res, history.Options{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("1 GiB junk area: scan + history in %v, %d MiB allocated in total", elapsed, alloc>>20)

	if len(h.Areas) != 1 || h.Areas[0].Size != area || h.Areas[0].Truncated {
		t.Fatalf("areas %+v", h.Areas)
	}
	var copies, frags int
	for _, c := range h.Copies {
		switch {
		case c.Fragment == nil && c.Committed && c.CRCOK && c.Parsed && c.RelOff == 512<<20:
			copies++
		case c.Fragment != nil && c.Fragment.Kind == scan.FragmentTail && c.Fragment.Terminated &&
			c.Offset == 4096+900<<20+1 && c.Fragment.Match != nil && c.Fragment.Description != "":
			frags++
		default:
			t.Errorf("unexpected copy at %d: %+v", c.Offset, c)
		}
	}
	if copies != 1 || frags != 1 {
		t.Errorf("%d copies, %d fragments, want 1 and 1", copies, frags)
	}
	if alloc > 64<<20 {
		t.Errorf("%d MiB allocated: not bounded", alloc>>20)
	}
	if elapsed > 2*time.Minute {
		t.Errorf("took %v", elapsed)
	}
}

// TestBoundedAdversarial fills 64 MiB areas with what costs the walk most:
// signatures without any NUL, and short copies back to back. The walk
// stops at its record limit and says so.
func TestBoundedAdversarial(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB areas")
	}
	const area = 64 << 20
	sig := []byte("vg {\nid = \"x\"\nseqno = 1\n")
	short := append([]byte("vg {\nid = \"x\"\nseqno = 1\n"), bytes.Repeat([]byte("a = 1\n"), 60)...)
	short = append(short, 0)
	for name, unit := range map[string][]byte{"no-nul": sig, "short-copies": short} {
		t.Run(name, func(t *testing.T) {
			fill := func(p []byte, off int64) {
				for i := range p {
					pos := (off + int64(i)) % 512
					if pos < int64(len(unit)) {
						p[i] = unit[pos]
					} else if name == "no-nul" {
						p[i] = 'x'
					} else {
						p[i] = 0
					}
				}
			}
			pv := newSynthPV(area, 512, short, fill)
			start := time.Now()
			res := scan.Scan([]*scan.Input{scan.NewInput(name, pv, pv.size)}, scan.Options{})
			h := history.Scan(res, history.Options{MaxRecords: 20000})
			t.Logf("%s: %d locations in %v", name, len(h.Copies), time.Since(start))
			if !h.Areas[0].Truncated || len(h.Copies) < 20000 || len(h.Copies) > 20002 {
				t.Errorf("truncated %v, %d locations", h.Areas[0].Truncated, len(h.Copies))
			}
			if time.Since(start) > time.Minute {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}
