package export

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

func benchExport(b *testing.B, src Source, stdout bool) {
	b.SetBytes(src.Size())
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		opt := Options{Output: filepath.Join(dir, "lv.img"), Sparse: true, Force: true}
		if stdout {
			opt.Output, opt.Stdout = "-", io.Discard
		}
		if _, err := Export(context.Background(), src, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExport exports 256 MiB: dense data to a file and to a stream
// (no disk), and a mostly unprovisioned LV (1% data, the rest zero runs)
// and a mostly zero LV read as data, both to sparse files.
func BenchmarkExport(b *testing.B) {
	const size = 256 << 20
	var patches []patch
	for off := int64(0); off < size; off += 100 << 16 { // 64 KiB every 6.4 MiB: 1%
		patches = append(patches, patch{off: off, data: randomData(64<<10, uint64(off))})
	}
	b.Run("dense-file", func(b *testing.B) { benchExport(b, genSource{size: size}, false) })
	b.Run("dense-stream", func(b *testing.B) { benchExport(b, genSource{size: size}, true) })
	b.Run("sparse-runs", func(b *testing.B) { benchExport(b, &patchSource{size: size, patches: patches, zeroRuns: true}, false) })
	b.Run("sparse-data", func(b *testing.B) { benchExport(b, &patchSource{size: size, patches: patches}, false) })
}
