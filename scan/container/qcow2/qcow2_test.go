package qcow2

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

const (
	fixtureDir  = "../../../testdata/fixtures/containers"
	externalDir = "../../../testdata/external/dfvfs"
)

func gunzipFixture(t testing.TB, name string) []byte {
	t.Helper()
	return containertest.Gunzip(t, filepath.Join(fixtureDir, name))
}

type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// memFs returns a read-only in-memory fs holding files.
func memFs(t testing.TB, files map[string][]byte) afero.Fs {
	t.Helper()
	fs := afero.NewMemMapFs()
	for name, b := range files {
		if err := afero.WriteFile(fs, name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return afero.NewReadOnlyFs(fs)
}

// checkMap checks that Map(0, Size) covers the disk exactly, in order,
// and returns its extents.
func checkMap(t testing.TB, d device.Device) []device.Extent {
	t.Helper()
	es, err := device.MapAll(d, 0, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	at := int64(0)
	for _, e := range es {
		if e.Off != at || e.Len <= 0 {
			t.Fatalf("extent %+v at %d", e, at)
		}
		at += e.Len
	}
	if at != d.Size() {
		t.Fatalf("extents end at %d, size %d", at, d.Size())
	}
	return es
}

// mapHash reads only the data extents of d (the holes are zeros) and
// returns the sha256 of the disk and the data and hole byte counts.
func mapHash(t testing.TB, d device.Device) (sum string, data, holes int64) {
	t.Helper()
	h := sha256.New()
	for _, e := range checkMap(t, d) {
		switch e.Kind {
		case device.Data:
			buf := make([]byte, e.Len)
			if n, err := d.ReadAt(buf, e.Off); n != len(buf) || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d, %d): %d, %v", e.Off, e.Len, n, err)
			}
			h.Write(buf)
			data += e.Len
		case device.Hole:
			h.Write(make([]byte, e.Len))
			holes += e.Len
		default:
			t.Fatalf("extent %+v", e)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), data, holes
}

func checkFields(t testing.TB, im *Image, fileSize int64) {
	t.Helper()
	sts := im.Fields()
	if len(sts) < 2 || sts[0].Name != "QCOW2 header" {
		t.Fatalf("structures %+v", sts)
	}
	want := 13
	if im.h.Version >= 3 {
		want = 18
	}
	if len(sts[0].Fields) < want {
		t.Fatalf("header: %d fields, want %d at least", len(sts[0].Fields), want)
	}
	for _, st := range sts {
		for _, f := range st.Fields {
			if f.Off < st.Off || f.Off+int64(f.Len) > st.Off+int64(st.Len) || f.Off+int64(f.Len) > fileSize || f.Len <= 0 {
				t.Errorf("%s: field %s [%d,+%d) outside [%d,+%d) or the file", st.Name, f.Name, f.Off, f.Len, st.Off, st.Len)
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, sha  string
		size       int64
		compressed bool
	}{
		{"banana.qcow2.gz", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064, false},
		{"banana-compressed.qcow2.gz", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064, true},
		{"multipv-pv0.qcow2.gz", "92a63393de3b086b9dcd694e7dc2f06bf09c94d2e1aeb2351765b454d0711552", 16777216, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := gunzipFixture(t, tc.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			im, err := Open(memFs(t, map[string][]byte{"/img/x.qcow2": b}), "/img/x.qcow2")
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != tc.size {
				t.Fatalf("size %d", im.Size())
			}
			if got := containertest.HashDevice(t, im); got != tc.sha {
				t.Fatalf("sha256 %s", got)
			}
			in := im.Info()
			if in.Format != "qcow2" || in.Version != 3 || in.ClusterSize != 65536 || in.Compression != "zlib" || in.RefcountBits != 16 ||
				len(in.Problems) != 0 || in.Encrypted || in.BackingFile != "" || len(in.Files) != 1 || in.Files[0] != "/img/x.qcow2" {
				t.Fatalf("info %+v", in)
			}
			if _, err := json.Marshal(in); err != nil {
				t.Fatal(err)
			}
			checkFields(t, im, int64(len(b)))
			// Holes are never read: reading only the data extents reads the
			// data clusters and the metadata, not the disk's size.
			cr := &countingReader{r: bytes.NewReader(b)}
			im2, err := New(cr, int64(len(b)), WithName("x.qcow2"))
			if err != nil {
				t.Fatal(err)
			}
			sum, data, holes := mapHash(t, im2)
			if sum != tc.sha || holes == 0 {
				t.Fatalf("map+read: sha %s, holes %d", sum, holes)
			}
			if got := cr.n.Load(); got > int64(len(b)) || (!tc.compressed && got > data+1<<20) {
				t.Fatalf("read %d bytes of a %d-byte file for %d bytes of data", got, len(b), data)
			}
		})
	}
}

// qemuRaw converts img (of format fmt, "" to let qemu-img probe) to raw
// with qemu-img and returns the bytes.
func qemuRaw(t testing.TB, qemu, img string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "qemu.raw")
	if b, err := exec.Command(qemu, "convert", "-O", "raw", img, out).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert %s: %v: %s", img, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDFVFS(t *testing.T) {
	for _, tc := range []struct {
		file, rawSHA string
		size         int64
	}{
		{"lvmtest.qcow2", "1028bec589fb8bdce75271522a028c6bb805610301593fbc86ff123dd0deb969", 16 << 20},
		{"lvm.qcow2", "a652bd8e068d83eb74647afbe542cba40a25479a18a91c637fab2c7858f8da20", 8 << 20},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(externalDir, tc.file)
			im, err := Open(afero.NewReadOnlyFs(afero.NewOsFs()), path)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != tc.size {
				t.Fatalf("size %d", im.Size())
			}
			if got := containertest.HashDevice(t, im); got != tc.rawSHA {
				t.Fatalf("sha256 %s", got)
			}
			st, _ := os.Stat(path)
			checkFields(t, im, st.Size())
			if sum, _, _ := mapHash(t, im); sum != tc.rawSHA {
				t.Fatalf("map+read sha256 %s", sum)
			}
			if q, err := exec.LookPath("qemu-img"); err == nil {
				want := qemuRaw(t, q, path)
				got := make([]byte, im.Size())
				if _, err := im.ReadAt(got, 0); err != nil && err != io.EOF {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("bytes differ from qemu-img's")
				}
			}
		})
	}
}

func TestProbe(t *testing.T) {
	if Probe(bytes.NewReader(make([]byte, 1024)), 1024) {
		t.Fatal("zeros probed as qcow2")
	}
	b := append([]byte(Magic), make([]byte, 100)...)
	if !Probe(bytes.NewReader(b), int64(len(b))) || Probe(bytes.NewReader(b[:20]), 20) {
		t.Fatal("probe")
	}
	if _, err := New(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("version 0: %v", err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
