package raid

import (
	"math/rand/v2"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

func TestRaid10Placement(t *testing.T) {
	// spec §4.3 for 4 images, and worked out by hand for 3 images.
	cases := []struct {
		n    int
		want [][2][2]int64 // per chunk, per copy: image, row
	}{
		{4, [][2][2]int64{{{0, 0}, {1, 0}}, {{2, 0}, {3, 0}}, {{0, 1}, {1, 1}}, {{2, 1}, {3, 1}}}},
		{3, [][2][2]int64{{{0, 0}, {1, 0}}, {{2, 0}, {0, 1}}, {{1, 1}, {2, 1}}, {{0, 2}, {1, 2}}}},
	}
	for _, c := range cases {
		s := &Copies{cb: 100, c: 2, imgs: make([]*image, c.n)}
		for k, copies := range c.want {
			for j, w := range copies {
				img, off := s.place(int64(k), int64(j), 7)
				if int64(img) != w[0] || off != w[1]*100+7 {
					t.Errorf("n=%d chunk %d copy %d: image %d offset %d, want image %d offset %d", c.n, k, j, img, off, w[0], w[1]*100+7)
				}
			}
		}
	}
}

func newTestCopies(t *testing.T, n int, c, cb int64, data []byte) (*Copies, []*memSrc) {
	t.Helper()
	chunks := int64(len(data)) / cb
	imgLen := (chunks*c + int64(n) - 1) / int64(n) * cb
	raw := make([][]byte, n)
	for i := range raw {
		raw[i] = make([]byte, imgLen)
	}
	s := &Copies{lv: "t", level: "raid10", size: int64(len(data)), usable: int64(len(data)), cb: cb, c: c, resyncFrom: noEnd}
	if c == 1 {
		s.level = "raid0"
	}
	s.imgs = make([]*image, n)
	for k := int64(0); k < chunks; k++ {
		for j := int64(0); j < c; j++ {
			img, off := s.place(k, j, 0)
			copy(raw[img][off:off+cb], data[k*cb:(k+1)*cb])
		}
	}
	ms, imgs := memImages(raw, 0)
	s.imgs = imgs
	return s, ms
}

func TestCopiesLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		n int
		c int64
	}{{2, 1}, {3, 1}, {4, 2}, {3, 2}, {5, 2}, {5, 3}} {
		for round := 0; round < 30; round++ {
			const cb = 1024
			data := randBytes(r, int64(tc.n)*cb*6)
			s, ms := newTestCopies(t, tc.n, tc.c, cb, data)
			type rng struct {
				img  int
				a, b int64
			}
			var losses []rng
			for k := 0; k < r.IntN(4); k++ {
				a := r.Int64N(ms[0].Size())
				b := min(ms[0].Size(), a+1+r.Int64N(3*cb))
				i := r.IntN(tc.n)
				ms[i].lose(a, b-a)
				losses = append(losses, rng{i, a, b})
			}
			for _, m := range ms {
				sortGaps(m)
			}
			if round%4 == 3 {
				s.resyncFrom = r.Int64N(ms[0].Size())
			}
			lost := func(i int, t int64) bool {
				for _, g := range losses {
					if g.img == i && t >= g.a && t < g.b {
						return true
					}
				}
				return false
			}
			want := make([]bool, len(data))
			for x := range want {
				k, w := int64(x)/cb, int64(x)%cb
				want[x] = true
				for j := int64(0); j < tc.c; j++ {
					img, off := s.place(k, j, w)
					if !lost(img, off) && (j == 0 || off < s.resyncFrom) {
						want[x] = false
						break
					}
				}
			}
			checkAgainst(t, s, data, want, 1+r.Int64N(10000))
		}
	}
}

func TestCopiesReshapeSpace(t *testing.T) {
	data := randBytes(rand.New(rand.NewPCG(1, 1)), 4*1024*4)
	s, _ := newTestCopies(t, 4, 1, 1024, data)
	s.usable = s.size - 4096
	runs, err := s.Runs(0, s.size)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Kind != export.RunData || runs[0].Len != s.usable || runs[1].Kind != export.RunZero {
		t.Fatalf("runs %+v", runs)
	}
	buf := make([]byte, s.size)
	for i := range buf {
		buf[i] = 1
	}
	if m, err := s.ReadAt(buf, 0); m != len(buf) || err != nil {
		t.Fatal(m, err)
	}
	for _, b := range buf[s.usable:] {
		if b != 0 {
			t.Fatal("reshape space not zero")
		}
	}
}
