package vmdk

import (
	"bytes"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
)

// BenchmarkReadCompressed reads the stream-optimized fixture in reads
// of 4 MiB, which span 64 compressed grains each.
func BenchmarkReadCompressed(b *testing.B) {
	img := containertest.Fixture(b, "banana-stream.vmdk.gz")
	im, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4<<20)
	b.SetBytes(im.Size())
	for b.Loop() {
		for off := int64(0); off < im.Size(); off += int64(len(buf)) {
			if _, err := im.ReadAt(buf, off); err != nil && off+int64(len(buf)) <= im.Size() {
				b.Fatal(err)
			}
		}
	}
}
