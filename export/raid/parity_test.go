package raid

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
)

// newTestParity builds a parity Source over in-memory images holding
// data (a whole number of stripes) after base bytes.
func newTestParity(t *testing.T, name string, n int, cb int64, data []byte, base int64) (*Parity, []*memSrc) {
	t.Helper()
	l, err := newParityLayout(name, n)
	if err != nil {
		t.Fatal(err)
	}
	sb := int64(l.d) * cb
	if int64(len(data))%sb != 0 {
		t.Fatalf("data of %d bytes is not whole stripes of %d", len(data), sb)
	}
	imgLen := int64(len(data)) / int64(l.d)
	ms, imgs := memImages(encodeParity(l, cb, data, imgLen, base), base)
	level := "raid5"
	if l.p == 2 {
		level = "raid6"
	}
	return &Parity{lv: "t", level: level, lay: l, size: int64(len(data)), usable: int64(len(data)), cb: cb,
		imgs: imgs, resyncFrom: noEnd}, ms
}

// expectMissing computes, per LV byte, whether a correct reader must
// report it missing given the lost ranges of each image.
func expectMissing(p *Parity, lost func(img int, t int64) bool) []bool {
	out := make([]bool, p.size)
	d := int64(p.lay.d)
	for x := int64(0); x < p.usable; x++ {
		k, w := x/p.cb, x%p.cb
		s, j := k/d, k%d
		P, _ := p.lay.parity(s)
		D := p.lay.dataImage(int(j), P)
		t := s*p.cb + w
		if !lost(D, t) {
			continue
		}
		c := 0
		for i := range p.imgs {
			if lost(i, t) {
				c++
			}
		}
		out[x] = c > p.lay.p || t >= p.resyncFrom
	}
	return out
}

// checkAgainst reads src in steps and compares with data and the
// expected missing bytes.
func checkAgainst(t *testing.T, src export.Source, data []byte, wantMiss []bool, step int64) {
	t.Helper()
	got, miss := sourcetest.Read(t, src, step)
	gotMiss := make([]bool, len(data))
	for _, r := range miss {
		for x := r.Off; x < r.End(); x++ {
			gotMiss[x] = true
		}
	}
	for x := range data {
		if gotMiss[x] != wantMiss[x] {
			t.Fatalf("byte %d: missing %v, want %v", x, gotMiss[x], wantMiss[x])
		}
		if !wantMiss[x] && got[x] != data[x] {
			t.Fatalf("byte %d: read %#x, want %#x (%s)", x, got[x], data[x], firstDiff(got, data))
		}
	}
}

func TestParityRebuildEveryLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, pl := range parityLayouts {
		for _, n := range []int{pl.p + 2, pl.p + 3} {
			const cb = 1024
			l, _ := newParityLayout(name, n)
			data := randBytes(r, int64(2*n+1)*int64(l.d)*cb)
			// Every set of at most p+1 whole images lost.
			for set := uint64(0); set < 1<<uint(n); set++ {
				if bits.OnesCount64(set) > pl.p+1 {
					continue
				}
				p, ms := newTestParity(t, name, n, cb, data, 512)
				for i := range ms {
					if set&(1<<uint(i)) != 0 {
						ms[i].lose(0, -1)
					}
				}
				lost := func(i int, _ int64) bool { return set&(1<<uint(i)) != 0 }
				t.Run(name, func(t *testing.T) {
					checkAgainst(t, p, data, expectMissing(p, lost), 3000)
				})
			}
		}
	}
}

// Parts of images lost at arbitrary byte offsets: the split must be exact
// to the byte, and reads of arbitrary ranges correct.
func TestParityPartialLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"ls", "p0", "zr", "nc", "ls_6", "n_6"} {
		for round := 0; round < 20; round++ {
			const cb = 2048
			n := parityLayouts[name].p + 2 + r.IntN(3)
			l, _ := newParityLayout(name, n)
			data := randBytes(r, int64(7)*int64(l.d)*cb)
			p, ms := newTestParity(t, name, n, cb, data, 0)
			imgLen := ms[0].Size()
			type rng struct {
				img  int
				a, b int64
			}
			var losses []rng
			for k := 0; k < 1+r.IntN(5); k++ {
				a := r.Int64N(imgLen)
				b := min(imgLen, a+1+r.Int64N(3*cb))
				i := r.IntN(n)
				ms[i].lose(a, b-a)
				losses = append(losses, rng{i, a, b})
			}
			for _, m := range ms {
				sortGaps(m)
			}
			if round%3 == 0 {
				p.resyncFrom = r.Int64N(imgLen)
			}
			lost := func(i int, t int64) bool {
				for _, g := range losses {
					if g.img == i && t >= g.a && t < g.b {
						return true
					}
				}
				return false
			}
			want := expectMissing(p, lost)
			checkAgainst(t, p, data, want, 1+r.Int64N(20000))
			checkRebuilt(t, p, lost, want)
			// Random reads of present ranges.
			for k := 0; k < 50; k++ {
				a := r.Int64N(p.size)
				b := min(p.size, a+1+r.Int64N(4*cb*int64(n)))
				runs, err := p.Runs(a, b-a)
				if err != nil {
					t.Fatal(err)
				}
				for _, ru := range runs {
					if ru.Kind != export.RunData {
						continue
					}
					buf := make([]byte, ru.Len)
					if m, err := p.ReadAt(buf, ru.Off); m != len(buf) || err != nil {
						t.Fatalf("%s: ReadAt %d at %d: %d, %v", name, ru.Len, ru.Off, m, err)
					}
					if !bytes.Equal(buf, data[ru.Off:ru.End()]) {
						t.Fatalf("%s: ReadAt %d at %d: wrong bytes", name, ru.Len, ru.Off)
					}
				}
			}
		}
	}
}

func sortGaps(m *memSrc) {
	// Gaps may overlap; rebuild them as a sorted, disjoint list.
	lost := make([]bool, m.Size())
	for _, g := range m.gaps {
		for x := g.Off; x < g.End(); x++ {
			lost[x] = true
		}
	}
	m.gaps = nil
	for x := int64(0); x < m.Size(); {
		if !lost[x] {
			x++
			continue
		}
		e := x
		for e < m.Size() && lost[e] {
			e++
		}
		m.gaps = append(m.gaps, export.Run{Off: x, Len: e - x, Kind: export.RunMissing})
		x = e
	}
}

// A ReadAt on bytes that cannot be rebuilt fails instead of returning
// wrong bytes.
func TestParityReadAtUnrebuildableFails(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	data := randBytes(r, 3*4096*8)
	p, ms := newTestParity(t, "ls", 4, 4096, data, 0)
	ms[0].lose(0, -1)
	ms[1].lose(0, -1)
	buf := make([]byte, len(data))
	if _, err := p.ReadAt(buf, 0); err == nil || !strings.Contains(err.Error(), "rebuilds at most 1") {
		t.Fatalf("ReadAt over lost data: %v", err)
	}
}

// Zero runs of an image (holes in an input file) read as zeros, also
// when they take part in a rebuild.
func TestParityZeroRuns(t *testing.T) {
	l, _ := newParityLayout("ls", 4)
	const cb = 4096
	data := make([]byte, 3*cb*4)
	r := rand.New(rand.NewPCG(7, 8))
	copy(data, randBytes(r, cb*5))
	raw := encodeParity(l, cb, data, int64(len(data))/3, 0)
	ms, imgs := memImages(raw, 0)
	// The last 2 stripes rows are all zeros on every image: mark them
	// as zero runs (without clearing, they are zeros already).
	for _, m := range ms {
		m.gaps = append(m.gaps, export.Run{Off: 2 * cb, Len: 2 * cb, Kind: export.RunZero})
	}
	ms[2].gaps = append([]export.Run{{Off: 0, Len: 2 * cb, Kind: export.RunMissing}}, ms[2].gaps...)
	p := &Parity{lv: "t", level: "raid5", lay: l, size: int64(len(data)), usable: int64(len(data)), cb: cb, imgs: imgs, resyncFrom: noEnd}
	got, miss := sourcetest.Read(t, p, 1<<20)
	if len(miss) != 0 || !bytes.Equal(got, data) {
		t.Fatalf("missing %v, %s", miss, firstDiff(got, data))
	}
}

// checkRebuilt compares Redundant with the bytes whose image is lost but
// that can be rebuilt.
func checkRebuilt(t *testing.T, p *Parity, lost func(int, int64) bool, miss []bool) {
	t.Helper()
	red, err := p.Redundant(0, p.size)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]bool, p.size)
	for _, r := range red {
		for x := r.Off; x < r.End(); x++ {
			got[x] = true
		}
	}
	d := int64(p.lay.d)
	for x := int64(0); x < p.size; x++ {
		k, w := x/p.cb, x%p.cb
		s, j := k/d, k%d
		P, _ := p.lay.parity(s)
		want := lost(p.lay.dataImage(int(j), P), s*p.cb+w) && !miss[x]
		if got[x] != want {
			t.Fatalf("byte %d: rebuilt %v, want %v", x, got[x], want)
		}
	}
}
