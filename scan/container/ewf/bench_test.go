package ewf

import (
	"compress/zlib"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spf13/afero"
)

// benchImage writes a 64 MiB image of mixed data (text-like, zero and
// repetitive stretches) with zlib-compressed 32 KiB chunks to a file.
func benchImage(b *testing.B) *Image {
	b.Helper()
	media := genMedia(64 << 20)
	// Make the random stretches text-like (skewed bytes that deflate
	// compresses with Huffman codes and matches), as disk data mostly is.
	for i := 0; i < len(media); i += 32768 {
		c := media[i : i+32768]
		if c[0] != 0 && c[0] != 'l' {
			x := uint32(i)
			for k := range c {
				x = x*1664525 + 1013904223
				c[k] = "etaoinshrdlu  \n0123456789abcdefgh"[(x>>24)%uint32(14+(x>>16)%20)]
			}
		}
	}
	img := synth{media: media, level: zlib.BestSpeed}.build()
	p := filepath.Join(b.TempDir(), "bench.E01")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		b.Fatal(err)
	}
	im, err := Open(afero.NewOsFs(), p)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { im.Close() })
	b.Logf("%d MiB media in %d MiB of E01", im.Size()>>20, len(img)>>20)
	return im
}

// BenchmarkDecompress measures the rate at which ReadChunks delivers the
// media (bytes/s of media), with one worker and with GOMAXPROCS.
func BenchmarkDecompress(b *testing.B) {
	im := benchImage(b)
	for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.SetBytes(im.Size())
			for b.Loop() {
				if err := im.ReadChunks(context.Background(), 0, im.Chunks(), w, func(i int64, data []byte, err error) error { return err }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ReadAt", func(b *testing.B) {
		b.SetBytes(im.Size())
		readAll(b, im)
	})
	b.Run("ReadAt-readahead", func(b *testing.B) {
		im2, err := Open(afero.NewOsFs(), im.segs[0].name)
		if err != nil {
			b.Fatal(err)
		}
		defer im2.Close()
		im2.EnableReadAhead(0, 0)
		b.SetBytes(im2.Size())
		readAll(b, im2)
	})
}

func readAll(b *testing.B, im *Image) {
	buf := make([]byte, 1<<20)
	for b.Loop() {
		for off := int64(0); off < im.Size(); off += int64(len(buf)) {
			if _, err := im.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFile reads the image $EWF_BENCH_E01 names (e.g. one made by
// ewfacquire -c fast, to compare with ewfexport -f raw) through ReadChunks
// and through ReadAt with read-ahead.
func BenchmarkFile(b *testing.B) {
	p := os.Getenv("EWF_BENCH_E01")
	if p == "" {
		b.Skip("EWF_BENCH_E01 not set")
	}
	im, err := Open(afero.NewOsFs(), p)
	if err != nil {
		b.Fatal(err)
	}
	defer im.Close()
	b.Run("ReadChunks", func(b *testing.B) {
		b.SetBytes(im.Size())
		for b.Loop() {
			if err := im.ReadChunks(context.Background(), 0, im.Chunks(), 0, func(i int64, data []byte, err error) error { return err }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadAt-readahead", func(b *testing.B) {
		im.EnableReadAhead(0, 0)
		b.SetBytes(im.Size())
		readAll(b, im)
	})
}
