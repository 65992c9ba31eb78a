package containertest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestGunzip(t *testing.T) {
	want := bytes.Repeat([]byte("container "), 1000)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(want)
	w.Close()
	p := filepath.Join(t.TempDir(), "x.gz")
	if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Gunzip(t, p); !bytes.Equal(got, want) {
		t.Fatalf("%d bytes", len(got))
	}
}

func TestHashDevice(t *testing.T) {
	for _, n := range []int{0, 1, HashChunk - 1, HashChunk, 2*HashChunk + 5} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 31)
		}
		sum := sha256.Sum256(b)
		if got := HashDevice(t, bytes.NewReader(b)); got != hex.EncodeToString(sum[:]) {
			t.Fatalf("%d bytes: %s", n, got)
		}
	}
}
