package containertest

import (
	"bytes"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

func TestHelpers(t *testing.T) {
	b := bytes.Repeat([]byte("disk"), 1000)
	if SHA(b) != HashDevice(t, bytes.NewReader(b)) {
		t.Fatal("SHA differs from HashDevice")
	}
	cr := &CountingReader{R: bytes.NewReader(b)}
	if sum, data, holes := MapHash(t, cr2dev{cr, int64(len(b))}); sum != SHA(b) || data != int64(len(b)) || holes != 0 || cr.N.Load() != int64(len(b)) {
		t.Fatalf("MapHash: %s %d %d, read %d", sum, data, holes, cr.N.Load())
	}
	if got := ReadAll(t, bytes.NewReader(b)); !bytes.Equal(got, b) {
		t.Fatal("ReadAll")
	}
	CheckConcurrent(t, bytes.NewReader(b), nil, 10, 100, 1)
	z := ZeroDev(10)
	buf := []byte{1, 2, 3, 4}
	if n, err := z.ReadAt(buf, 8); n != 2 || err != io.EOF || buf[0]|buf[1] != 0 || buf[2] != 3 {
		t.Fatalf("ZeroDev: %d %v %v", n, err, buf)
	}
	if CheckMapReads(t, z, make([]byte, 10)) != 0 {
		t.Fatal("ZeroDev has no map: all data")
	}
	CheckMapRange(t, []device.Extent{{Off: 2, Len: 3}, {Off: 5, Len: 5}}, 2, 100, 10)
	fs := MemFs(t, map[string][]byte{"/a/b": b})
	if got, err := afero.ReadFile(fs, "/a/b"); err != nil || !bytes.Equal(got, b) {
		t.Fatal("MemFs", err)
	}
	if err := afero.WriteFile(fs, "/c", b, 0o644); err == nil {
		t.Fatal("MemFs is not read-only")
	}
}

type cr2dev struct {
	io.ReaderAt
	size int64
}

func (d cr2dev) Size() int64 { return d.size }
