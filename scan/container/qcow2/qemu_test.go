package qcow2

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

type qemu struct {
	img, io string // qemu-io is "" when not installed
	dir     string
}

func needQemu(t *testing.T) *qemu {
	t.Helper()
	q := containertest.QemuImg(t)
	qio, _ := exec.LookPath("qemu-io")
	return &qemu{img: q, io: qio, dir: t.TempDir()}
}

func (q *qemu) path(name string) string { return filepath.Join(q.dir, name) }

func (q *qemu) run(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(q.img, args...)
	cmd.Dir = q.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qemu-img %q: %v: %s", args, err, out)
	}
}

func (q *qemu) write(t *testing.T, img, fmtName, cmd string) {
	t.Helper()
	if q.io == "" {
		t.Skip("qemu-io not installed")
	}
	c := exec.Command(q.io, "-f", fmtName, "-c", cmd, img)
	c.Dir = q.dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("qemu-io %q: %v: %s", cmd, err, out)
	}
}

// sampleRaw is a raw disk of 5 MiB and 4 KiB with random data in one
// 64 KiB run out of three, text in a few places and zeros elsewhere.
func sampleRaw() []byte {
	raw := make([]byte, 5<<20+4096)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < len(raw); i += 64 << 10 {
		if rng.IntN(3) == 0 {
			for j := i; j < min(i+64<<10, len(raw)); j++ {
				raw[j] = byte(rng.IntN(256))
			}
		}
	}
	copy(raw[3<<20+100:], strings.Repeat("compressible text ", 2000))
	copy(raw[len(raw)-10:], "last bytes")
	return raw
}

// checkQemu opens img (through the OS fs) and compares every byte with
// qemu-img's conversion to raw, whole and in concurrent unaligned reads;
// the map must cover the disk, its holes be zeros in qemu's bytes, and
// reading only its data extents give the same disk.
func checkQemu(t *testing.T, q *qemu, img string) *Image {
	t.Helper()
	want := containertest.QemuRaw(t, q.img, img, "")
	im, err := Open(containertest.OsFs(), img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	if im.Size() != int64(len(want)) {
		t.Fatalf("size %d, qemu-img %d", im.Size(), len(want))
	}
	if !bytes.Equal(containertest.ReadAll(t, im), want) {
		t.Fatal("bytes differ from qemu-img's")
	}
	es := containertest.CheckMap(t, im)
	for _, e := range es {
		if e.Kind == device.Hole && !bytes.Equal(want[e.Off:e.Off+e.Len], make([]byte, e.Len)) {
			t.Fatalf("hole %+v holds data", e)
		}
		if e.Kind == device.Unreadable {
			t.Fatalf("extent %+v", e)
		}
	}
	containertest.CheckConcurrent(t, im, want, 40, 3<<20, 1)
	return im
}

func TestQemuFormats(t *testing.T) {
	q := needQemu(t)
	raw := sampleRaw()
	if err := os.WriteFile(q.path("d.raw"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		args        []string
		version     uint32
		compression string
		cluster     int64
	}{
		{"plain", nil, 3, "zlib", 65536},
		{"compressed", []string{"-c"}, 3, "zlib", 65536},
		{"zstd", []string{"-c", "-o", "compression_type=zstd"}, 3, "zstd", 65536},
		{"compat 0.10", []string{"-o", "compat=0.10"}, 2, "zlib", 65536},
		{"compat 0.10 compressed", []string{"-c", "-o", "compat=0.10"}, 2, "zlib", 65536},
		{"512-byte clusters", []string{"-o", "cluster_size=512"}, 3, "zlib", 512},
		{"2 MiB clusters compressed", []string{"-c", "-o", "cluster_size=2M"}, 3, "zlib", 2 << 20},
		{"extended L2", []string{"-o", "extended_l2=on"}, 3, "zlib", 65536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := q.path(strings.ReplaceAll(tc.name, " ", "-") + ".qcow2")
			args := append([]string{"convert", "-f", "raw", "-O", "qcow2"}, tc.args...)
			cmd := exec.Command(q.img, append(args, q.path("d.raw"), img)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				if tc.name == "zstd" {
					t.Skipf("qemu-img without zstd: %s", out)
				}
				t.Fatalf("%v: %s", err, out)
			}
			im := checkQemu(t, q, img)
			if got := containertest.HashDevice(t, im); got != containertest.SHA(raw) {
				t.Fatal("HashDevice differs from the raw disk")
			}
			in := im.Info()
			if in.Version != tc.version || in.Compression != tc.compression || in.ClusterSize != tc.cluster || len(in.Problems) != 0 {
				t.Fatalf("info %+v", in)
			}
			// qemu-img convert stores no cluster that is all zeros: every
			// cluster with data is data, every zero cluster a hole (qemu
			// finds zeros 4 KiB at a time; extended L2 entries are mapped
			// by cluster only)
			es := containertest.CheckMap(t, im)
			cs := tc.cluster
			for c := int64(0); c*cs < im.Size(); c++ {
				zero := bytes.Equal(raw[c*cs:min((c+1)*cs, im.Size())], make([]byte, min(cs, im.Size()-c*cs)))
				k := kindAt(es, c*cs)
				if (!zero && k != device.Data) || (zero && k != device.Hole && tc.name != "extended L2" && cs >= 4096) {
					t.Fatalf("cluster %d (zero %v): %v", c, zero, k)
				}
			}
			st, _ := os.Stat(img)
			checkFields(t, im, st.Size())
		})
	}
}

func TestQemuBackingChain(t *testing.T) {
	q := needQemu(t)
	raw := sampleRaw()
	os.WriteFile(q.path("base.raw"), raw, 0o644)
	q.run(t, "convert", "-f", "raw", "-O", "qcow2", "base.raw", "base.qcow2")
	// qcow2 on qcow2, named relative to the image's directory
	q.run(t, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
	q.write(t, q.path("top.qcow2"), "qcow2", "write -P 0x55 1M 64k")
	q.write(t, q.path("top.qcow2"), "qcow2", "write -P 0x66 2000k 3000") // unaligned: the rest of its cluster from the base
	q.write(t, q.path("top.qcow2"), "qcow2", "write -z 3M 128k")         // zero clusters over the base's data
	im := checkQemu(t, q, q.path("top.qcow2"))
	in := im.Info()
	if in.BackingFile != "base.qcow2" || in.BackingFormat != "qcow2" || in.Backing == nil || in.Backing.Format != "qcow2" ||
		in.BackingPath != q.path("base.qcow2") || len(in.Files) != 2 || len(in.Problems) != 0 {
		t.Fatalf("info %+v", in)
	}
	es := containertest.CheckMap(t, im)
	base, err := Open(containertest.OsFs(), q.path("base.qcow2"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	bes := containertest.CheckMap(t, base)
	for off := int64(0); off < im.Size(); off += 64 << 10 {
		want := kindAt(bes, off)
		switch {
		case off == 1<<20 || off == 1984<<10:
			want = device.Data // written in the top
		case off >= 3<<20 && off < 3<<20+128<<10:
			want = device.Hole // zero clusters in the top
		}
		if got := kindAt(es, off); got != want {
			t.Fatalf("byte %d: %v, want %v", off, got, want)
		}
	}
	// the same files in an in-memory fs
	tb, _ := os.ReadFile(q.path("top.qcow2"))
	bb, _ := os.ReadFile(q.path("base.qcow2"))
	im2, err := Open(containertest.MemFs(t, map[string][]byte{"/x/top.qcow2": tb, "/x/base.qcow2": bb}), "/x/top.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if containertest.HashDevice(t, im2) != containertest.HashDevice(t, im) {
		t.Fatal("in-memory fs: bytes differ")
	}
	// the base missing: the error names it
	_, err = Open(containertest.MemFs(t, map[string][]byte{"/x/top.qcow2": tb}), "/x/top.qcow2")
	var be *BackingError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), `"base.qcow2"`) || !strings.Contains(err.Error(), "/x/base.qcow2") {
		t.Fatalf("missing base: %v", err)
	}
}

func TestQemuRawBacking(t *testing.T) {
	q := needQemu(t)
	raw := sampleRaw()
	os.WriteFile(q.path("base.raw"), raw, 0o644)
	// raw → qcow2 (absolute name) → qcow2, the top larger than its base
	q.run(t, "create", "-f", "qcow2", "-b", q.path("base.raw"), "-F", "raw", "mid.qcow2")
	q.write(t, q.path("mid.qcow2"), "qcow2", "write -P 0x11 64k 64k")
	q.run(t, "create", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2", "8M")
	q.write(t, q.path("top.qcow2"), "qcow2", "write -P 0x22 4M 4k")
	q.write(t, q.path("top.qcow2"), "qcow2", "write -P 0x33 7M 4k")
	im := checkQemu(t, q, q.path("top.qcow2"))
	in := im.Info()
	if in.Backing == nil || in.Backing.Backing == nil || in.Backing.Backing.Format != "raw" || len(in.Files) != 3 || in.Files[2] != q.path("base.raw") {
		t.Fatalf("info %+v", in)
	}
	es := containertest.CheckMap(t, im)
	if kindAt(es, 6<<20) != device.Hole || kindAt(es, 7<<20) != device.Data || kindAt(es, 0) != device.Data {
		t.Fatalf("map %v", es)
	}
	// the chain moved elsewhere: the absolute name of the raw base is not
	// there, its base name in the image's directory is
	mid, _ := os.ReadFile(q.path("mid.qcow2"))
	top, _ := os.ReadFile(q.path("top.qcow2"))
	im2, err := Open(containertest.MemFs(t, map[string][]byte{"/case/top.qcow2": top, "/case/mid.qcow2": mid, "/case/base.raw": raw}), "/case/top.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if containertest.HashDevice(t, im2) != containertest.HashDevice(t, im) || len(im2.Problems()) != 1 || !strings.Contains(im2.Problems()[0].Error(), "base.raw") {
		t.Fatalf("moved chain: %v", im2.Problems())
	}
}

func TestQemuOnePercent(t *testing.T) {
	q := needQemu(t)
	img := q.path("sparse.qcow2")
	q.run(t, "create", "-f", "qcow2", img, "64M")
	// 10 writes of 64 KiB: 1 % of the disk
	for i := range 10 {
		q.write(t, img, "qcow2", "write -P 0x5a "+itoa(int64(i)*6<<20+int64(i)*4096)+" 64k")
	}
	b, _ := os.ReadFile(img)
	cr := &containertest.CountingReader{R: bytes.NewReader(b)}
	im, err := New(cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	meta := cr.N.Load()
	sum, data, _ := containertest.MapHash(t, im)
	if want := containertest.SHA(containertest.QemuRaw(t, q.img, img, "")); sum != want {
		t.Fatal("map+read differs from qemu-img's")
	}
	read := cr.N.Load()
	// written 640 KiB, unaligned: 20 clusters at most; one L2 table
	if data > 20*65536 || read > data+65536+meta {
		t.Fatalf("%d bytes of data, %d read (%d at open) for a %d-byte disk", data, read, meta, im.Size())
	}
	t.Logf("64 MiB disk, 640 KiB written: %d bytes of data extents, %d bytes read from a %d-byte file", data, read, len(b))
}

func TestQemuRefused(t *testing.T) {
	q := needQemu(t)
	// qemu-img times its key derivation and fails now and then on a busy
	// machine ("Unable to get accurate CPU usage"): a few tries
	var out []byte
	var err error
	for range 5 {
		os.Remove(q.path("luks.qcow2"))
		cmd := exec.Command(q.img, "create", "-f", "qcow2", "--object", "secret,id=s0,data=x", "-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10", q.path("luks.qcow2"), "1M")
		if out, err = cmd.CombinedOutput(); err == nil {
			break
		}
	}
	if err != nil {
		t.Logf("qemu-img could not make a LUKS image (not checked): %v: %s", err, out)
	} else {
		_, err = Open(containertest.OsFs(), q.path("luks.qcow2"))
		if !errors.Is(err, ErrEncrypted) || !strings.Contains(err.Error(), "encrypt") || !strings.Contains(err.Error(), "LUKS") {
			t.Fatalf("LUKS: %v", err)
		}
	}
	q.run(t, "create", "-f", "qcow2", "-o", "data_file=data.raw", "ext.qcow2", "1M")
	_, err = Open(containertest.OsFs(), q.path("ext.qcow2"))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "data.raw") {
		t.Fatalf("data file: %v", err)
	}
	q.run(t, "create", "-f", "qcow", "v1.qcow", "1M")
	_, err = Open(containertest.OsFs(), q.path("v1.qcow"))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("qcow v1: %v", err)
	}
}

func TestQemuSnapshots(t *testing.T) {
	q := needQemu(t)
	os.WriteFile(q.path("d.raw"), sampleRaw(), 0o644)
	q.run(t, "convert", "-f", "raw", "-O", "qcow2", "d.raw", "s.qcow2")
	q.run(t, "snapshot", "-c", "before", "s.qcow2")
	q.write(t, q.path("s.qcow2"), "qcow2", "write -P 0x77 0 1M")
	q.run(t, "snapshot", "-c", "after the write", "s.qcow2")
	im := checkQemu(t, q, q.path("s.qcow2"))
	in := im.Info()
	if in.Snapshots != 2 || len(in.SnapshotList) != 2 || in.SnapshotList[0].Name != "before" || in.SnapshotList[0].ID != "1" ||
		in.SnapshotList[1].Name != "after the write" || in.SnapshotList[1].ID != "2" || in.SnapshotList[1].DiskSize != im.Size() || len(in.Problems) != 0 {
		t.Fatalf("snapshots %+v", in)
	}
	st, _ := os.Stat(q.path("s.qcow2"))
	checkFields(t, im, st.Size())
}

func TestQemuBackingFormatProbed(t *testing.T) {
	q := needQemu(t)
	os.WriteFile(q.path("d.raw"), sampleRaw(), 0o644)
	q.run(t, "convert", "-f", "raw", "-O", "qcow2", "d.raw", "base.qcow2")
	q.run(t, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
	q.write(t, q.path("top.qcow2"), "qcow2", "write -P 0x55 1M 64k")
	// the backing format extension made one qemu does not know: both
	// probe the base
	b, _ := os.ReadFile(q.path("top.qcow2"))
	i := bytes.Index(b[:4096], []byte{0xe2, 0x79, 0x2a, 0xca})
	if i < 0 {
		t.Fatal("no backing format extension")
	}
	copy(b[i:], []byte{0x12, 0x34, 0x56, 0x78})
	os.WriteFile(q.path("top.qcow2"), b, 0o644)
	im := checkQemu(t, q, q.path("top.qcow2"))
	in := im.Info()
	if !in.BackingFormatProbed || in.BackingFormat != "qcow2" || len(in.Problems) != 1 || !strings.Contains(strings.Join(in.HeaderExtensions, ","), "unknown 0x12345678") {
		t.Fatalf("info %+v", in)
	}
}
