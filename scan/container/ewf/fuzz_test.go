package ewf

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// fuzzCount counts execs into the file $EWF_FUZZ_COUNT names, every
// thousand: the fuzz engine's own display of execs lags far behind here.
var fuzzCount int

// FuzzEWF opens one segment file of random bytes, seeded from the
// fixture's first segment and a small synthetic image, and reads, maps
// and verifies what it can: no panic, no allocation beyond what the file
// size allows.
func FuzzEWF(f *testing.F) {
	f.Add(gunzip(f, "banana.E01.gz"))
	media := make([]byte, 512*9+512*3)
	for i := range media {
		media[i] = byte(i * 7 / 13)
	}
	m := md5.Sum(media)
	f.Add(synth{media: media, sectorsPerChunk: 2, compress: func(i int) bool { return i%3 != 1 }, errs: [][2]uint32{{3, 2}}, md5: m[:]}.build())
	f.Add(synth{media: media[:512*4], sectorsPerChunk: 4}.build())
	f.Add([]byte("EVF2\r\n\x81\x00\x01\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p := os.Getenv("EWF_FUZZ_COUNT"); p != "" {
			fuzzCount++
			if fuzzCount%1000 == 0 {
				os.WriteFile(p, []byte(fmt.Sprint(fuzzCount, " ", time.Now().Format(time.TimeOnly))), 0o644)
			}
		}
		fs := afero.NewMemMapFs()
		afero.WriteFile(fs, "/f.E01", b, 0o444)
		im, err := Open(fs, "/f.E01")
		if err != nil {
			return
		}
		defer im.Close()
		_ = im.Info()
		_ = im.Fields()
		if _, err := im.Map(0, im.Size()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for _, off := range []int64{0, im.Size() / 2, im.Size() - 100, im.ChunkSize() - 10} {
			if off >= 0 {
				im.ReadAt(buf, off)
			}
		}
		if im.Chunks() <= 64 {
			if _, err := im.Verify(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
