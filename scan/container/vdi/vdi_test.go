package vdi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, sha string
		size      int64
	}{
		{"banana.vdi.gz", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064},
		{"md-raid1-m0.vdi.gz", "1e0d0ce16906dd48ff8a113f38b748553dd360faab8548c6b1985357a8e34c55", 25165824},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := containertest.Fixture(t, tc.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			im, err := Open(containertest.MemFs(t, map[string][]byte{"/x.vdi": b}), "/x.vdi")
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
			if in.Subformat != "dynamic" || in.BlockSize != 1<<20 || len(in.Problems) != 0 || in.BlocksMapped != in.BlocksAllocated {
				t.Fatalf("info %+v", in)
			}
			checkFields(t, im, int64(len(b)))
			// Holes are never read: read only the data extents.
			cr := &containertest.CountingReader{R: bytes.NewReader(b)}
			im2, err := New(cr, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			meta := cr.N.Load()
			sum, data, holes := containertest.MapHash(t, im2)
			if sum != tc.sha || holes == 0 {
				t.Fatalf("map+read: holes %d", holes)
			}
			if got := cr.N.Load() - meta; got != data {
				t.Fatalf("read %d bytes for %d bytes of data", got, data)
			}
		})
	}
}

func checkFields(t *testing.T, im *Image, fileSize int64) {
	t.Helper()
	sts := im.Fields()
	if len(sts) != 2 || len(sts[0].Fields) < 20 {
		t.Fatalf("structures %+v", sts)
	}
	containertest.CheckFields(t, sts, fileSize, nil)
}

func TestBroken(t *testing.T) {
	b := containertest.Fixture(t, "banana.vdi.gz")
	// Truncated: the last blocks are unreadable, with an error, not zeros.
	c := b[:len(b)-(1<<20)]
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.ReadAt(make([]byte, im.Size()), 0); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("truncated: %v", err)
	}
	es, _ := im.Map(0, im.Size())
	bad := false
	for _, e := range es {
		bad = bad || e.Kind == device.Unreadable
	}
	if !bad {
		t.Fatalf("map %v", es)
	}
	// A differencing image is refused with the reason.
	c = bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[76:], TypeDiff)
	if _, err := New(bytes.NewReader(c), int64(len(c))); err == nil || !errors.Is(err, ErrFormat) {
		t.Fatalf("diff: %v", err)
	}
	// A block size not a power of two.
	c = bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[376:], 1<<20+512)
	if _, err := New(bytes.NewReader(c), int64(len(c))); err == nil {
		t.Fatal("odd block size accepted")
	}
	// A block map claiming 4G entries.
	c = bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[384:], 0xFFFFFFF0)
	if _, err := New(bytes.NewReader(c), int64(len(c))); err == nil {
		t.Fatal("huge block map accepted")
	}
}

func TestQemuFixedAndDynamic(t *testing.T) {
	q := containertest.QemuImg(t)
	dir := t.TempDir()
	raw := make([]byte, 7<<20+4096)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < len(raw); i += 64 << 10 {
		if rng.IntN(3) == 0 {
			for j := i; j < min(i+64<<10, len(raw)); j++ {
				raw[j] = byte(rng.IntN(256))
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "d.raw"), raw, 0o644)
	for _, tc := range []struct{ name, opt, sub string }{{"fixed", "static=on", "fixed"}, {"dynamic", "static=off", "dynamic"}} {
		img := filepath.Join(dir, tc.name+".vdi")
		containertest.Run(t, q, "convert", "-f", "raw", "-O", "vdi", "-o", tc.opt, filepath.Join(dir, "d.raw"), img)
		want := containertest.QemuRaw(t, q, img, "vdi")
		im, err := Open(containertest.OsFs(), img)
		if err != nil {
			t.Fatal(err)
		}
		if im.Info().Subformat != tc.sub || len(im.Problems()) != 0 {
			t.Fatal(im.Info())
		}
		got := make([]byte, im.Size())
		if _, err := im.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || !bytes.Equal(got[:len(raw)], raw) {
			t.Fatalf("%s: bytes differ from qemu-img's (%d vs %d)", tc.name, len(got), len(want))
		}
		// concurrent unaligned reads
		containertest.CheckConcurrent(t, im, want, 50, 3<<20, 1)
		im.Close()
	}
}

func FuzzVDI(f *testing.F) {
	for _, name := range []string{"banana.vdi.gz", "md-raid1-m0.vdi.gz"} {
		b := containertest.Fixture(f, name)
		le := binary.LittleEndian
		// the header and block map, and one data block
		off := int(le.Uint32(b[344:]))
		f.Add(bytes.Clone(b[:min(len(b), off+4096)]))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		Probe(r, int64(len(data)))
		im, err := New(r, int64(len(data)))
		if err != nil {
			return
		}
		im.Info()
		im.Fields()
		size := im.Size()
		buf := make([]byte, 1<<16)
		for _, off := range []int64{0, size / 3, size - 100, size - 1} {
			if off < 0 {
				continue
			}
			im.ReadAt(buf, off)
			es, err := im.Map(off, 1<<30)
			if err != nil {
				continue
			}
			containertest.CheckMapRange(t, es, off, 1<<30, size)
		}
	})
}

func TestZeroBlock(t *testing.T) {
	b := containertest.Fixture(t, "banana.vdi.gz")
	le := binary.LittleEndian
	offBlocks := int(le.Uint32(b[340:]))
	// the first allocated block becomes a zero block
	i := 0
	for le.Uint32(b[offBlocks+4*i:]) == blockFree {
		i++
	}
	le.PutUint32(b[offBlocks+4*i:], blockZero)
	im, err := New(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	bs := im.Info().BlockSize
	es, _ := im.Map(int64(i)*bs, bs)
	if len(es) != 1 || es[0].Kind != device.Hole {
		t.Fatalf("zero block mapped %v", es)
	}
	buf := bytes.Repeat([]byte{1}, int(bs))
	if _, err := im.ReadAt(buf, int64(i)*bs); err != nil || !bytes.Equal(buf, make([]byte, bs)) {
		t.Fatal("zero block not zeros", err)
	}
	if in := im.Info(); in.ZeroBlocks != 1 || len(in.Problems) != 1 {
		t.Fatalf("info %+v", in)
	}
}
