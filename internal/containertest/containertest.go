// Package containertest holds what the tests of the container readers
// (scan/container/...) share: loading gzipped fixtures and hashing a
// device as its readers read it.
package containertest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan/device"
)

// Gunzip returns the gunzipped content of the file at path; it fails t
// if the file cannot be read.
func Gunzip(t testing.TB, path string) []byte {
	t.Helper()
	b, err := fixture.Gunzip(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// HashChunk is the size of HashDevice's reads: odd, so that they cross
// the blocks of every container.
const HashChunk = 1<<20 + 777

// HashDevice reads d from start to end in chunks of HashChunk bytes and
// returns the hex sha256 of what it read; it fails t on a read error (an
// io.EOF with the last bytes is none).
func HashDevice(t testing.TB, d device.Device) string {
	t.Helper()
	h := sha256.New()
	buf := make([]byte, HashChunk)
	for off := int64(0); off < d.Size(); {
		n, err := d.ReadAt(buf, off)
		if err != nil && !(err == io.EOF && off+int64(n) == d.Size()) {
			t.Fatalf("ReadAt(%d): %d, %v", off, n, err)
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	return hex.EncodeToString(h.Sum(nil))
}
