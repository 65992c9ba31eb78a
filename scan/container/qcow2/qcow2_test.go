package qcow2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
)

const externalDir = "../../../testdata/external/dfvfs"

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
			b := containertest.Fixture(t, tc.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			im, err := Open(containertest.MemFs(t, map[string][]byte{"/img/x.qcow2": b}), "/img/x.qcow2")
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
			cr := &containertest.CountingReader{R: bytes.NewReader(b)}
			im2, err := New(cr, int64(len(b)), WithName("x.qcow2"))
			if err != nil {
				t.Fatal(err)
			}
			sum, data, holes := containertest.MapHash(t, im2)
			if sum != tc.sha || holes == 0 {
				t.Fatalf("map+read: sha %s, holes %d", sum, holes)
			}
			if got := cr.N.Load(); got > int64(len(b)) || (!tc.compressed && got > data+1<<20) {
				t.Fatalf("read %d bytes of a %d-byte file for %d bytes of data", got, len(b), data)
			}
		})
	}
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
			im, err := Open(containertest.OsFs(), path)
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
			if sum, _, _ := containertest.MapHash(t, im); sum != tc.rawSHA {
				t.Fatalf("map+read sha256 %s", sum)
			}
			if q, err := exec.LookPath("qemu-img"); err == nil {
				want := containertest.QemuRaw(t, q, path, "")
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
