package raid

import (
	"math/rand/v2"
	"testing"
)

func newTestLegs(n int, data []byte) (*Legs, []*memSrc) {
	raw := make([][]byte, n)
	for i := range raw {
		raw[i] = append([]byte(nil), data...)
	}
	ms, imgs := memImages(raw, 0)
	return &Legs{lv: "t", kind: "mirror", size: int64(len(data)), imgs: imgs}, ms
}

func TestLegsFallBackPerRange(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 50; round++ {
		n := 2 + r.IntN(3)
		data := randBytes(r, 64<<10)
		l, ms := newTestLegs(n, data)
		var losses [][3]int64
		for k := 0; k < r.IntN(6); k++ {
			a := r.Int64N(int64(len(data)))
			b := min(int64(len(data)), a+1+r.Int64N(20000))
			i := r.IntN(n)
			ms[i].lose(a, b-a)
			losses = append(losses, [3]int64{int64(i), a, b})
		}
		for _, m := range ms {
			sortGaps(m)
		}
		// A disk log with some regions out of sync: legs > 0 not used there.
		const region = 4096
		var log *MirrorLog
		if round%2 == 1 {
			nr := uint64(len(data) / region)
			log = &MirrorLog{Version: 2, Regions: nr, clean: make([]byte, (nr+7)/8)}
			for j := uint64(0); j < nr; j++ {
				if r.IntN(4) != 0 {
					log.clean[j/8] |= 1 << (j % 8)
				}
			}
			for _, im := range l.imgs[1:] {
				im.regions = &regionMap{log: log, region: region, why: "out of sync"}
			}
		}
		want := make([]bool, len(data))
		for x := range want {
			want[x] = true
			for i := 0; i < n; i++ {
				ok := true
				for _, g := range losses {
					if g[0] == int64(i) && int64(x) >= g[1] && int64(x) < g[2] {
						ok = false
					}
				}
				if i > 0 && log != nil && !log.Clean(uint64(x/region)) {
					ok = false
				}
				if ok {
					want[x] = false
					break
				}
			}
		}
		checkAgainst(t, l, data, want, 1+r.Int64N(30000))
	}
}
