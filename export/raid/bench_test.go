package raid

import (
	"math/rand/v2"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// benchRead reads src sequentially as the export engine does: Runs for
// each 4 MiB chunk, then ReadAt on each data run.
func benchRead(b *testing.B, src export.Source) {
	const chunk = 4 << 20
	buf := make([]byte, chunk)
	b.SetBytes(src.Size())
	b.ResetTimer()
	for range b.N {
		for off := int64(0); off < src.Size(); off += chunk {
			n := min(chunk, src.Size()-off)
			runs, err := src.Runs(off, n)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range runs {
				if r.Kind != export.RunData {
					b.Fatalf("run %+v", r)
				}
				if _, err := src.ReadAt(buf[r.Off-off:r.End()-off], r.Off); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func benchParity(b *testing.B, layout string, n int, cb int64, lose ...int) {
	l, _ := newParityLayout(layout, n)
	size := int64(64<<20) / (int64(l.d) * cb) * int64(l.d) * cb
	data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
	imgLen := size / int64(l.d)
	ms, imgs := memImages(encodeParity(l, cb, data, imgLen, 0), 0)
	for _, i := range lose {
		ms[i].lose(0, -1)
	}
	level := "raid5"
	if l.p == 2 {
		level = "raid6"
	}
	p := &Parity{lv: "bench", level: level, lay: l, size: size, usable: size, cb: cb, imgs: imgs, resyncFrom: noEnd}
	benchRead(b, p)
}

func BenchmarkRaid5Read(b *testing.B)           { benchParity(b, "ls", 4, 64<<10) }
func BenchmarkRaid5ReadSmallChunk(b *testing.B) { benchParity(b, "ls", 4, 16<<10) }
func BenchmarkRaid5ReadOneMissing(b *testing.B) { benchParity(b, "ls", 4, 64<<10, 2) }
func BenchmarkRaid6ReadTwoMissing(b *testing.B) { benchParity(b, "zr", 5, 64<<10, 1, 3) }
func BenchmarkRaid6ReadDataAndP(b *testing.B)   { benchParity(b, "ls_6", 6, 64<<10, 0, 5) }
func BenchmarkRaid10Read(b *testing.B) {
	data := randBytes(rand.New(rand.NewPCG(1, 2)), 64<<20)
	s := &Copies{lv: "bench", level: "raid10", size: int64(len(data)), usable: int64(len(data)), cb: 64 << 10, c: 2, resyncFrom: noEnd}
	raw := make([][]byte, 4)
	for i := range raw {
		raw[i] = make([]byte, len(data)/2)
	}
	s.imgs = make([]*image, 4)
	_, s.imgs = memImages(raw, 0)
	benchRead(b, s)
}
