package vhdx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// The fixtures: qemu-img 7.2.22 convert -O vhdx -o subformat=dynamic of
// raw images whose sha256 and size the shared manifest records.
var fixtures = []struct {
	file string
	sha  string
	size int64
}{
	{"banana.vhdx.gz", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064},
	{"multipv-pv2.vhdx.gz", "5d51eae831bf507c7011b4c3bfa79fd1ba454cb0538ec337fe50c508e9887b30", 16777216},
}

func TestFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			b := containertest.Fixture(t, fx.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			name := "/img/" + strings.TrimSuffix(fx.file, ".gz")
			im, err := Open(containertest.MemFs(t, map[string][]byte{name: b}), name)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != fx.size {
				t.Fatalf("size %d", im.Size())
			}
			if got := containertest.HashDevice(t, im); got != fx.sha {
				t.Fatalf("sha256 %s", got)
			}
			in := im.Info()
			if in.Format != "vhdx" || in.Subformat != "dynamic" || in.BlockSize != 8<<20 || in.LogicalSectorSize != 512 || len(in.Problems) != 0 ||
				in.HeaderUsed != 2 || in.Log.State != "empty" || in.ChunkRatio != 512 || !strings.HasPrefix(in.Creator, "QEMU") {
				t.Fatalf("info %+v", in)
			}
			if len(in.Checksums) != 4 {
				t.Fatalf("checksums %+v", in.Checksums)
			}
			for _, c := range in.Checksums {
				if !c.OK {
					t.Errorf("checksum %+v", c)
				}
			}
			if _, err := json.Marshal(in); err != nil {
				t.Fatal(err)
			}
			checkFields(t, im, int64(len(b)))
			containertest.CheckMapReads(t, im, nil)
			checkDataOnlyRead(t, b, fx.sha)
		})
	}
}

// checkDataOnlyRead reads only Map's data extents of the image in b and
// checks that, with the holes as zeros, they hash to want, and that
// nothing else is read from the file once it is open.
func checkDataOnlyRead(t *testing.T, b []byte, want string) {
	t.Helper()
	cr := &containertest.CountingReader{R: bytes.NewReader(b)}
	im, err := New(cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	meta := cr.N.Load()
	sum, data, holes := containertest.MapHash(t, im)
	if sum != want {
		t.Fatalf("map+read differs; holes %d", holes)
	}
	if got := cr.N.Load() - meta; got != data {
		t.Fatalf("read %d bytes from the file for %d bytes of data", got, data)
	}
}

func checkFields(t *testing.T, im *Image, fileSize int64) {
	t.Helper()
	sts := im.Fields()
	if len(sts) == 0 {
		t.Fatal("no structures")
	}
	if checks := containertest.CheckFields(t, sts, fileSize, nil); checks < 4 {
		t.Errorf("%d checksum fields", checks)
	}
}

func randomDisk(seed uint64, size int64, holes func(off int64) bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, size)
	for i := int64(0); i < size; i += 4096 {
		if holes(i) || rng.IntN(3) == 0 {
			continue
		}
		for j := i; j < min(i+4096, size); j++ {
			b[j] = byte(rng.IntN(256))
		}
	}
	return b
}

func TestBuiltDynamicAndFixed(t *testing.T) {
	// 5 MiB and a bit in 1 MiB blocks; block 2 and the start of block 4
	// hold nothing.
	raw := randomDisk(1, 5<<20+3*512, func(off int64) bool { return off>>20 == 2 || (off >= 4<<20 && off < 4<<20+300<<10) })
	for _, s := range []spec{
		{data: raw},
		{data: raw, zeroState: true},
		{data: raw, fixed: true},
		{data: raw[:5<<20], bs: 2 << 20, lss: 4096},
	} {
		img := build(t, s)
		im, err := New(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		want := "dynamic"
		if s.fixed {
			want = "fixed"
		}
		if in := im.Info(); in.Subformat != want || len(in.Problems) != 0 || in.VirtualSize != int64(len(s.data)) {
			t.Fatalf("info %+v", in)
		}
		if got := containertest.HashDevice(t, im); got != containertest.SHA(s.data) {
			t.Fatalf("%+v: sha256 differs", s.fixed)
		}
		containertest.CheckMapReads(t, im, nil)
		checkFields(t, im, int64(len(img)))
		es, _ := im.Map(2<<20, 1<<20)
		if !s.fixed && s.bs == 0 && (len(es) != 1 || es[0].Kind != device.Hole) {
			t.Fatalf("block 2: %+v", es)
		}
	}
}

func TestQemuFixedAndDynamic(t *testing.T) {
	q := containertest.QemuImg(t)
	dir := t.TempDir()
	// 6 MiB and a bit: random data in places, zeros elsewhere; the third
	// and fifth MiB hold nothing.
	raw := randomDisk(3, 6<<20+3*512, func(off int64) bool { return off>>20 == 2 || off>>20 == 4 })
	os.WriteFile(filepath.Join(dir, "d.raw"), raw, 0o644)
	fsys := containertest.OsFs()
	for _, opts := range []string{"subformat=dynamic", "subformat=fixed", "subformat=dynamic,block_size=1M", "subformat=dynamic,block_size=1M,block_state_zero=off", "subformat=fixed,block_size=1M"} {
		t.Run(opts, func(t *testing.T) {
			img := filepath.Join(dir, strings.NewReplacer(",", "_", "=", "-").Replace(opts)+".vhdx")
			containertest.Run(t, q, "convert", "-f", "raw", "-O", "vhdx", "-o", opts, filepath.Join(dir, "d.raw"), img)
			im, err := Open(fsys, img)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			sub := strings.TrimPrefix(strings.Split(opts, ",")[0], "subformat=")
			if in := im.Info(); in.Subformat != sub || len(in.Problems) != 0 {
				t.Fatalf("info %+v", in)
			}
			got := make([]byte, im.Size())
			if _, err := im.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("bytes differ (%d vs %d)", len(got), len(raw))
			}
			containertest.CheckMapReads(t, im, nil)
			st, _ := os.Stat(img)
			checkFields(t, im, st.Size())
			if sub == "dynamic" && strings.Contains(opts, "block_size=1M") {
				// Where nothing was written, Map says hole.
				for _, mb := range []int64{2, 4} {
					es, err := im.Map(mb<<20, 1<<20)
					if err != nil || len(es) != 1 || es[0].Kind != device.Hole {
						t.Fatalf("MiB %d: %+v %v", mb, es, err)
					}
				}
			}
		})
	}
}

// TestQemuIOWrites writes into an empty dynamic VHDX with qemu-io (which
// updates the BAT through the log) and reads the writes back.
func TestQemuIOWrites(t *testing.T) {
	q := containertest.QemuImg(t)
	qio, err := exec.LookPath("qemu-io")
	if err != nil {
		t.Skip("qemu-io not installed")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "w.vhdx")
	containertest.Run(t, q, "create", "-f", "vhdx", "-o", "block_size=1M", img, "8M")
	containertest.Run(t, qio, "-c", "write -P 0xab 1M 4k", "-c", "write -P 0xcd 5242880 525312", "-c", "write -P 0x11 7340544 1024", img)
	want := make([]byte, 8<<20)
	copy(want[1<<20:], bytes.Repeat([]byte{0xab}, 4096))
	copy(want[5<<20:], bytes.Repeat([]byte{0xcd}, 525312))
	copy(want[7340544:], bytes.Repeat([]byte{0x11}, 1024))
	im, err := Open(containertest.OsFs(), img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	got := make([]byte, im.Size())
	if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("reads differ: %v", err)
	}
	es, _ := im.Map(0, im.Size())
	var data int64
	for _, e := range es {
		if e.Kind == device.Data {
			data += e.Len
		}
	}
	if data != 3<<20 { // blocks 1, 5 and 7
		t.Fatalf("data %d bytes: %+v", data, es)
	}
	containertest.CheckMapReads(t, im, nil)
}

// chain builds base ← mid ← top: differencing disks with fully present,
// partially present, not present and zero blocks.
type chainImgs struct {
	base, mid, top          []byte
	baseImg, midImg, topImg []byte
	midW, topW              func(s int64) bool
	size                    int64
}

func makeChain(t testing.TB) chainImgs {
	const size = 6 << 20
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
	}
	var c chainImgs
	c.size = size
	c.base = make([]byte, size)
	fill(c.base)
	clear(c.base[3<<20 : 4<<20]) // a hole in the base
	c.mid = bytes.Clone(c.base)
	// mid: sectors ≡ 0 mod 7 in blocks 0-2, all of block 4, none of 5
	c.midW = func(s int64) bool { return (s < 3*2048 && s%7 == 0) || (s >= 4*2048 && s < 5*2048) }
	c.top = bytes.Clone(c.mid)
	// top: sectors ≡ 3 mod 11 below 2 MiB, a run in block 3, block 5
	// zeroed (ZERO state), block 4 untouched.
	c.topW = func(s int64) bool { return (s < 2*2048 && s%11 == 3) || (s >= 3*2048+5 && s < 3*2048+9) }
	for s := int64(0); s < size/512; s++ {
		if c.midW(s) {
			fill(c.mid[s*512 : (s+1)*512])
			copy(c.top[s*512:], c.mid[s*512:(s+1)*512])
		}
		if c.topW(s) {
			fill(c.top[s*512 : (s+1)*512])
		}
	}
	clear(c.top[5<<20 : 6<<20])
	c.baseImg = build(t, spec{data: c.base, dataWrite: GUID{0xb}})
	c.midImg = build(t, spec{data: c.mid, dataWrite: GUID{0xc}, diff: &diffSpec{linkage: GUID{0xb}, present: c.midW, garbage: 0xee,
		partial: func(b int64) bool { return b == 4 },
		locator: []KeyValue{{"relative_path", `..\base.vhdx`}, {"absolute_win32_path", `\\?\C:\vms\nowhere\base.vhdx`}}}})
	c.topImg = build(t, spec{data: c.top, dataWrite: GUID{0xd}, diff: &diffSpec{linkage: GUID{0xc}, present: c.topW, garbage: 0xdd,
		zeroBlks: map[int64]bool{5: true},
		locator:  []KeyValue{{"relative_path", `.\gone\mid.vhdx`}, {"volume_path", `\\?\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\case\sub\mid.vhdx`}}}})
	return c
}

func TestDifferencingChain(t *testing.T) {
	c := makeChain(t)
	fs := afero.NewMemMapFs()
	afero.WriteFile(fs, "/case/sub/mid.vhdx", c.midImg, 0o644)
	afero.WriteFile(fs, "/case/sub/top.vhdx", c.topImg, 0o644)
	ro := afero.NewReadOnlyFs(fs)
	// mid's relative path ..\base.vhdx is /case/base.vhdx: missing.
	_, err := Open(ro, "/case/sub/top.vhdx")
	var pe *ParentError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "base.vhdx") || pe.Child != "/case/sub/mid.vhdx" {
		t.Fatalf("missing grandparent: %v", err)
	}
	afero.WriteFile(fs, "/case/base.vhdx", c.baseImg, 0o644)
	im, err := Open(ro, "/case/sub/top.vhdx")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if len(im.Problems()) != 0 {
		t.Fatal(im.Problems())
	}
	got := make([]byte, c.size)
	if _, err := im.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.top) {
		t.Fatal("chain reads differ")
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for range 200 {
		off := rng.Int64N(c.size)
		n := rng.Int64N(c.size - off + 1)
		buf := make([]byte, n)
		if _, err := im.ReadAt(buf, off); err != nil || !bytes.Equal(buf, c.top[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d) differs: %v", off, n, err)
		}
	}
	in := im.Info()
	if in.Subformat != "differencing" || in.Parent == nil || in.Parent.Parent == nil || in.Parent.Parent.Subformat != "dynamic" ||
		in.ParentPath != "/case/sub/mid.vhdx" || in.Parent.ParentPath != "/case/base.vhdx" || !in.HasParent {
		t.Fatalf("info %+v", in)
	}
	if j, err := json.Marshal(in); err != nil || !bytes.Contains(j, []byte(`"parent_path":"/case/base.vhdx"`)) || !bytes.Contains(j, []byte(`"key":"parent_linkage"`)) {
		t.Fatalf("json %s: %v", j, err)
	}
	containertest.CheckMapReads(t, im, nil)
	checkFields(t, im, int64(len(c.topImg)))
	// The base's hole, where neither mid nor top wrote, is a hole through
	// the chain; top's zero block is a hole.
	es, err := im.Map(3<<20, 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	var holes int64
	for _, e := range es {
		if e.Kind == device.Hole {
			holes += e.Len
			for s := e.Off / 512; s < (e.Off+e.Len)/512; s++ {
				if (s < 5*2048 && c.midW(s)) || c.topW(s) {
					t.Fatalf("hole over written sector %d", s)
				}
			}
		}
	}
	if holes != 2<<20-4*512 {
		t.Fatalf("holes %d bytes: %+v", holes, es)
	}
	// Concurrent readers.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for range 100 {
				off := r.Int64N(c.size)
				n := r.Int64N(min(c.size-off, 100000) + 1)
				buf := make([]byte, n)
				if _, err := im.ReadAt(buf, off); err != nil || !bytes.Equal(buf, c.top[off:off+n]) {
					t.Errorf("concurrent ReadAt(%d, %d): %v", off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// The same chain through New and WithParent.
	baseIm, err := New(bytes.NewReader(c.baseImg), int64(len(c.baseImg)))
	if err != nil {
		t.Fatal(err)
	}
	midIm, err := New(bytes.NewReader(c.midImg), int64(len(c.midImg)), WithParent(baseIm))
	if err != nil {
		t.Fatal(err)
	}
	topIm, err := New(bytes.NewReader(c.topImg), int64(len(c.topImg)), WithParent(midIm), WithName("top"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topIm.ReadAt(got, 0); err != nil || !bytes.Equal(got, c.top) {
		t.Fatalf("New chain: %v", err)
	}
	if _, err := New(bytes.NewReader(c.topImg), int64(len(c.topImg)), WithParent(baseIm)); !errors.As(err, &pe) || !strings.Contains(err.Error(), "DataWriteGuid") {
		t.Fatalf("New with the wrong parent: %v", err)
	}
	if _, err := New(bytes.NewReader(c.topImg), int64(len(c.topImg))); !errors.As(err, &pe) {
		t.Fatalf("differencing disk opened without its parent: %v", err)
	}
}

func TestParentLinkageAndPaths(t *testing.T) {
	c := makeChain(t)
	fs := afero.NewMemMapFs()
	ro := afero.NewReadOnlyFs(fs)
	// A base with another DataWriteGuid where the relative path points,
	// the right one found by its name alone in the child's directory.
	wrong := build(t, spec{data: c.base, dataWrite: GUID{0xe}})
	afero.WriteFile(fs, "/case/base.vhdx", wrong, 0o644)
	afero.WriteFile(fs, "/case/sub/mid.vhdx", c.midImg, 0o644)
	_, err := Open(ro, "/case/sub/mid.vhdx")
	var pe *ParentError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "DataWriteGuid") {
		t.Fatalf("wrong parent: %v", err)
	}
	afero.WriteFile(fs, "/case/sub/base.vhdx", c.baseImg, 0o644)
	im, err := Open(ro, "/case/sub/mid.vhdx")
	if err != nil {
		t.Fatal(err)
	}
	if im.ParentPath() != "/case/sub/base.vhdx" {
		t.Fatal(im.ParentPath())
	}
	im.Close()
	// An absolute Windows path maps to /vms/nowhere/base.vhdx.
	fs.Remove("/case/sub/base.vhdx")
	fs.Remove("/case/base.vhdx")
	afero.WriteFile(fs, "/vms/nowhere/base.vhdx", c.baseImg, 0o644)
	if im, err = Open(ro, "/case/sub/mid.vhdx"); err != nil || im.ParentPath() != "/vms/nowhere/base.vhdx" {
		t.Fatalf("absolute path: %v", err)
	}
	im.Close()
	// A child whose locator names itself: a loop.
	self := build(t, spec{data: c.mid, dataWrite: GUID{0xc}, diff: &diffSpec{linkage: GUID{0xc}, present: c.midW,
		locator: []KeyValue{{"relative_path", "self.vhdx"}}}})
	afero.WriteFile(fs, "/case/self.vhdx", self, 0o644)
	if _, err := Open(ro, "/case/self.vhdx"); !errors.As(err, &pe) || !strings.Contains(err.Error(), "loops") {
		t.Fatalf("loop: %v", err)
	}
	// A chain of 16 files opens; of 17, it is refused.
	prev := GUID{0xb}
	afero.WriteFile(fs, "/deep/d0.vhdx", c.baseImg, 0o644)
	for i := 1; i <= maxChain; i++ {
		g := GUID{0x40, byte(i)}
		img := build(t, spec{data: make([]byte, 1<<20), dataWrite: g, diff: &diffSpec{linkage: prev, present: func(int64) bool { return false },
			locator: []KeyValue{{"relative_path", fmt.Sprintf("d%d.vhdx", i-1)}}}})
		prev = g
		afero.WriteFile(fs, fmt.Sprintf("/deep/d%d.vhdx", i), img, 0o644)
	}
	if _, err := Open(ro, fmt.Sprintf("/deep/d%d.vhdx", maxChain)); !errors.As(err, &pe) || !strings.Contains(err.Error(), "deeper") {
		t.Fatalf("deep chain: %v", err)
	}
	if im, err := Open(ro, fmt.Sprintf("/deep/d%d.vhdx", maxChain-1)); err != nil {
		t.Fatalf("chain of %d: %v", maxChain, err)
	} else {
		im.Close()
	}
}

func TestWinPath(t *testing.T) {
	for _, tc := range []struct {
		in    string
		local string
		abs   bool
	}{
		{`\\?\d:\path2\sub3\parent.vhdx`, "/path2/sub3/parent.vhdx", true},
		{`\\?\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\path2\sub3\parent.vhdx`, "/path2/sub3/parent.vhdx", true},
		{`C:\x\..\y.vhdx`, "/y.vhdx", true},
		{`\\server\share\p.vhdx`, "", true},
		{`\\?\UNC\server\share\p.vhdx`, "", true},
		{`..\..\path2\sub3\parent.vhdx`, "", false},
		{`\top\p.vhdx`, "/top/p.vhdx", true},
	} {
		local, abs := winPath(tc.in)
		if local != tc.local || abs != tc.abs {
			t.Errorf("winPath(%q) = %q, %v", tc.in, local, abs)
		}
	}
}

// corruptHeader flips a byte of a header copy (without fixing its
// checksum).
func corruptAt(b []byte, off int64) []byte {
	c := bytes.Clone(b)
	c[off] ^= 0x40
	return c
}

func TestDamage(t *testing.T) {
	b := containertest.Fixture(t, "banana.vhdx.gz")
	want := fixtures[0].sha
	open := func(img []byte) (*Image, error) { return New(bytes.NewReader(img), int64(len(img))) }
	// Header 2 (the current one) damaged: header 1 is used.
	im, err := open(corruptAt(b, header2Off+200))
	if err != nil {
		t.Fatal(err)
	}
	var ce *ChecksumError
	if ps := im.Problems(); len(ps) != 1 || !errors.As(ps[0], &ce) || ce.Structure != "header 2" || ce.FieldOff != header2Off+4 {
		t.Fatalf("problems %v", ps)
	}
	if in := im.Info(); in.HeaderUsed != 1 || in.Headers[1].Valid || len(in.Problems) != 1 {
		t.Fatalf("info %+v", in)
	}
	if containertest.HashDevice(t, im) != want {
		t.Fatal("read differs")
	}
	// Header 1 without its signature: header 2 is used.
	if im, err = open(corruptAt(b, header1Off)); err != nil || im.Info().HeaderUsed != 2 || len(im.Problems()) != 1 || !strings.Contains(im.Problems()[0].Error(), "signature") {
		t.Fatalf("header 1: %v %v", err, im.Problems())
	}
	// Both damaged: refused.
	if _, err := open(corruptAt(corruptAt(b, header1Off+100), header2Off+100)); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "no valid header") {
		t.Fatalf("both headers: %v", err)
	}
	// Region table 1 damaged: table 2 used.
	if im, err = open(corruptAt(b, regionTable1Off+1000)); err != nil || im.Info().RegionTableUsed != 2 || len(im.Problems()) != 1 || containertest.HashDevice(t, im) != want {
		t.Fatalf("region table 1: %v %v", err, im.Problems())
	}
	if _, err := open(corruptAt(corruptAt(b, regionTable1Off+1000), regionTable2Off+5)); !errors.Is(err, ErrFormat) {
		t.Fatalf("both region tables: %v", err)
	}
	// A BAT entry beyond the end of the file: that block is unreadable.
	c := bytes.Clone(b)
	le := binary.LittleEndian
	le.PutUint64(c[2<<20+8:], PayloadFullyPresent|uint64(1000)<<20) // block 1 (qemu's BAT is at 2 MiB)
	im, err = open(c)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, im.Size())
	_, err = im.ReadAt(buf, 0)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || ue.Off != 8<<20 || !strings.Contains(ue.Why, "outside the file") {
		t.Fatalf("block beyond the file: %v", err)
	}
	if _, err := im.ReadAt(buf[:8<<20], 0); err != nil {
		t.Fatalf("block 0: %v", err)
	}
	es, _ := im.Map(0, im.Size())
	if len(es) == 0 || es[len(es)-1].Kind != device.Unreadable || es[len(es)-1].Off != 8<<20 {
		t.Fatalf("map %+v", es)
	}
	containertest.CheckMapReads(t, im, nil)
	// A reserved state: unreadable and reported.
	c = bytes.Clone(b)
	le.PutUint64(c[2<<20+8:], 5|uint64(16)<<20)
	if im, err = open(c); err != nil || len(im.Problems()) != 1 {
		t.Fatalf("reserved state: %v %v", err, im.Problems())
	}
	if _, err := im.ReadAt(buf, 0); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("reserved state read: %v", err)
	}
	// A truncated file: the block cut off (block 1 at 16 MiB) is
	// unreadable.
	if im, err = open(b[:20<<20]); err != nil {
		t.Fatal(err)
	}
	if _, err := im.ReadAt(buf, 0); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("truncated: %v", err)
	}
	// Not a VHDX.
	if _, err := open(make([]byte, 1<<20)); !errors.Is(err, ErrFormat) {
		t.Fatalf("zeros: %v", err)
	}
	if Probe(bytes.NewReader(b[8:]), int64(len(b)-8)) || Probe(bytes.NewReader(nil), 0) {
		t.Fatal("Probe true")
	}
}

func TestDamagedDifferencing(t *testing.T) {
	c := makeChain(t)
	baseIm, err := New(bytes.NewReader(c.baseImg), int64(len(c.baseImg)))
	if err != nil {
		t.Fatal(err)
	}
	midIm, err := New(bytes.NewReader(c.midImg), int64(len(c.midImg)), WithParent(baseIm))
	if err != nil {
		t.Fatal(err)
	}
	// top's blocks 0 and 1 are partially present; its sector bitmap
	// entry cleared: they cannot be read.
	img := bytes.Clone(c.topImg)
	cr := int64(sectorsPerBitmap * 512 / mib)
	binary.LittleEndian.PutUint64(img[testBATOff+8*cr:], 0)
	top, err := New(bytes.NewReader(img), int64(len(img)), WithParent(midIm))
	if err != nil {
		t.Fatal(err)
	}
	_, err = top.ReadAt(make([]byte, 4096), 0)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Why, "SB_BLOCK_PRESENT") {
		t.Fatalf("no sector bitmap: %v", err)
	}
	// Block 3, partial too, neither; block 2 (not present: the parent's)
	// reads.
	buf := make([]byte, 1<<20)
	if _, err := top.ReadAt(buf, 3<<20); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("block 3 read without its bitmap: %v", err)
	}
	if _, err := top.ReadAt(buf, 2<<20); err != nil || !bytes.Equal(buf, c.top[2<<20:3<<20]) {
		t.Fatalf("block 2: %v", err)
	}
	containertest.CheckMapReads(t, top, nil)
	// A PARTIALLY_PRESENT block in a dynamic disk is unreadable.
	dyn := build(t, spec{data: c.base})
	binary.LittleEndian.PutUint64(dyn[testBATOff:], binary.LittleEndian.Uint64(dyn[testBATOff:])|PayloadPartiallyPresent)
	im, err := New(bytes.NewReader(dyn), int64(len(dyn)))
	if err != nil || len(im.Problems()) != 1 {
		t.Fatalf("%v %v", err, im.Problems())
	}
	if _, err := im.ReadAt(buf, 0); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("partial in dynamic: %v", err)
	}
}

func TestUnknownRequired(t *testing.T) {
	raw := randomDisk(4, 2<<20, func(int64) bool { return false })
	odd := mustGUID("01234567-89AB-CDEF-0123-456789ABCDEF")
	// Not required: ignored.
	img := build(t, spec{data: raw, extraMeta: []MetadataEntry{{ItemID: odd}}, extraRegion: []Region{{GUID: odd, FileOffset: 9 << 20, Length: mib}}})
	im, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil || containertest.HashDevice(t, im) != containertest.SHA(raw) {
		t.Fatal(err)
	}
	if len(im.Regions()) != 3 || len(im.MetadataEntries()) != 6 {
		t.Fatalf("%+v %+v", im.Regions(), im.MetadataEntries())
	}
	// A user item not required is ignored; required, it is refused like
	// a system item.
	img = build(t, spec{data: raw, extraMeta: []MetadataEntry{{ItemID: odd, IsUser: true}}})
	if _, err := New(bytes.NewReader(img), int64(len(img))); err != nil {
		t.Fatal(err)
	}
	for _, s := range []spec{
		{data: raw, extraMeta: []MetadataEntry{{ItemID: odd, IsRequired: true}}},
		{data: raw, extraMeta: []MetadataEntry{{ItemID: odd, IsUser: true, IsRequired: true}}},
		{data: raw, extraRegion: []Region{{GUID: odd, FileOffset: 9 << 20, Length: mib, Required: true}}},
	} {
		img := build(t, s)
		_, err := New(bytes.NewReader(img), int64(len(img)))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "01234567-89ab-cdef-0123-456789abcdef") {
			t.Fatalf("unknown required: %v", err)
		}
	}
}

func TestGUID(t *testing.T) {
	g := mustGUID("{2DC27766-F623-4200-9D64-115E9BFD4A08}")
	if g.String() != "2dc27766-f623-4200-9d64-115e9bfd4a08" || g[0] != 0x66 || g[8] != 0x9d {
		t.Fatalf("%s % x", g, g[:])
	}
	for _, s := range []string{"", "{}", "2DC27766-F623-4200-9D64-115E9BFD4A0", "2DC27766+F623-4200-9D64-115E9BFD4A08", "2DC27766-F623-4200-9D64-115E9BFD4AXX"} {
		if _, err := ParseGUID(s); err == nil {
			t.Errorf("ParseGUID(%q)", s)
		}
	}
}

// sparse is a file made of records placed in zeros.
type sparse struct {
	size int64
	recs []sparseRec
}

type sparseRec struct {
	off  int64
	data []byte
}

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.size-off))
	clear(p[:n])
	for _, r := range s.recs {
		if r.off < off+int64(n) && r.off+int64(len(r.data)) > off {
			lo := max(r.off, off)
			hi := min(r.off+int64(len(r.data)), off+int64(n))
			copy(p[lo-off:hi-off], r.data[lo-r.off:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sparseBuf holds the file decodeSparse decodes, and sparseDirty the
// ranges the last input wrote: the fuzz target runs one input at a time,
// and allocating or clearing megabytes for each would be most of its
// work.
var (
	sparseBuf   []byte
	sparseDirty [][2]int64
)

func decodeSparse(data []byte) (io.ReaderAt, int64) {
	if len(data) < 8 || string(data[:4]) != "SPRS" {
		return bytes.NewReader(data), int64(len(data))
	}
	le := binary.LittleEndian
	if sparseBuf == nil {
		sparseBuf = make([]byte, 16<<20)
	}
	for _, d := range sparseDirty {
		clear(sparseBuf[d[0]:d[1]])
	}
	sparseDirty = sparseDirty[:0]
	f := sparseBuf[:min(int64(le.Uint32(data[4:]))*kib, 16<<20)]
	for p := data[8:]; len(p) >= 6; {
		off, n := int64(le.Uint32(p)), int(le.Uint16(p[4:]))
		p = p[6:]
		n = min(n, len(p))
		if off < int64(len(f)) {
			k := copy(f[off:], p[:n])
			sparseDirty = append(sparseDirty, [2]int64{off, off + int64(k)})
		}
		p = p[n:]
	}
	return bytes.NewReader(f), int64(len(f))
}

// encodeSparse is the sparse form of img: its non-zero 512-byte runs.
// An input of the fuzz target starting "SPRS" is: a uint32 size in KiB
// (at most 16 MiB), then records of a uint32 offset, a uint16 length and
// the bytes, placed in zeros: a VHDX of several MiB in a small input.
// Any other input is the file itself.
func encodeSparse(img []byte) []byte {
	le := binary.LittleEndian
	out := []byte("SPRS")
	out = le.AppendUint32(out, uint32((len(img)+kib-1)/kib))
	for i := 0; i < len(img); {
		if img[i] == 0 {
			i++
			continue
		}
		// A run ends at 8 zero bytes or at 60000 bytes.
		j, zeros := i, 0
		for j < len(img) && zeros < 8 && j-i < 60000 {
			if img[j] == 0 {
				zeros++
			} else {
				zeros = 0
			}
			j++
		}
		j -= zeros
		out = le.AppendUint32(out, uint32(i))
		out = le.AppendUint16(out, uint16(j-i))
		out = append(out, img[i:j]...)
		i = j
	}
	return out
}

func TestSparse(t *testing.T) {
	img := build(t, spec{data: randomDisk(9, 1<<20, func(off int64) bool { return off > 8192 })})
	r, size := decodeSparse(encodeSparse(img))
	got := make([]byte, size)
	if n, err := r.ReadAt(got, 0); n != len(img) || err != nil || !bytes.Equal(got, img) {
		t.Fatalf("%d %v", n, err)
	}
}

func FuzzVHDX(f *testing.F) {
	// Seeds: a small dynamic disk, a differencing one with a partial
	// block, one with a log to replay, and qemu's fixture's metadata.
	raw := make([]byte, 1<<20+4096)
	copy(raw[100:], "a few bytes of data in the first block")
	copy(raw[1<<20+4000:], "and some in the last")
	f.Add(encodeSparse(build(f, spec{data: raw})))
	f.Add(encodeSparse(build(f, spec{data: raw, diff: &diffSpec{present: func(s int64) bool { return s%3 == 0 }, locator: []KeyValue{{"relative_path", "p.vhdx"}}}})))
	img := build(f, spec{data: raw})
	lg := GUID{0x10}
	page := make([]byte, logSectorSize)
	copy(page[10:], "replayed")
	putLog(img, testLogOff, testLogLen, lg, []testEntry{
		{pos: 0, seq: 5, tail: 0, guid: lg, descs: []testDesc{{off: 4 << 20, data: page}, {zero: true, off: 4<<20 + 4096, n: 8192}}, last: uint64(len(img))},
		{pos: 2 * 4096, seq: 6, tail: 0, guid: lg, descs: []testDesc{{off: testBATOff, data: batPage(img, 0, PayloadZero, 0)}}, last: uint64(len(img))},
	})
	f.Add(encodeSparse(img))
	b := containertest.Fixture(f, "banana.vhdx.gz")
	f.Add(encodeSparse(b[:4<<20]))
	f.Add([]byte("vhdxfile"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, size := decodeSparse(data)
		Probe(r, size)
		im, err := New(r, size, WithParent(containertest.ZeroDev(3<<20)))
		if err != nil {
			return
		}
		im.Info()
		im.Fields()
		im.Problems()
		vs := im.Size()
		const span = 256 << 10
		for _, off := range []int64{0, vs / 3, vs - 5000, vs - 1} {
			if off < 0 {
				continue
			}
			es, err := im.Map(off, span)
			if err != nil {
				t.Fatalf("Map(%d): %v", off, err)
			}
			containertest.CheckMapRange(t, es, off, span, vs)
			for _, e := range es {
				buf := make([]byte, e.Len)
				_, err := im.ReadAt(buf, e.Off)
				switch e.Kind {
				case device.Unreadable:
					if !errors.Is(err, device.ErrUnreadable) {
						t.Fatalf("unreadable %+v reads: %v", e, err)
					}
				case device.Hole:
					if err != nil || !bytes.Equal(buf, make([]byte, len(buf))) {
						t.Fatalf("hole %+v: %v", e, err)
					}
				case device.Data:
					if err != nil {
						t.Fatalf("data %+v: %v", e, err)
					}
				}
			}
		}
	})
}

// batPage is the first 4 KiB of img's BAT with entry i set.
func batPage(img []byte, i int, state, off uint64) []byte {
	p := bytes.Clone(img[testBATOff : testBATOff+logSectorSize])
	binary.LittleEndian.PutUint64(p[8*i:], state|off/mib<<20)
	return p
}

// TestLargeBAT opens a 5 TiB disk whose BAT (5.2 million entries) is too
// large to load: its entries are read one by one.
func TestLargeBAT(t *testing.T) {
	raw := randomDisk(31, 2<<20, func(int64) bool { return false })
	img := build(t, spec{data: raw})
	le := binary.LittleEndian
	le.PutUint64(img[testMetaOff+metadataTableSize+8:], 5<<40)
	for _, off := range []int{regionTable1Off, regionTable2Off} {
		le.PutUint32(img[off+16+24:], 48<<20)
		setCRC(img[off:off+regionTableSize], 4)
	}
	le.PutUint64(img[testBATOff:], PayloadFullyPresent|60<<20)
	le.PutUint64(img[testBATOff+8:], PayloadFullyPresent|61<<20)
	r := &sparse{size: 62 << 20, recs: []sparseRec{{0, img[:4<<20]}, {60 << 20, img[4<<20 : 6<<20]}}}
	im, err := New(r, r.size)
	if err != nil {
		t.Fatal(err)
	}
	if in := im.Info(); in.VirtualSize != 5<<40 || in.BlocksPresent != -1 || in.BATEntries != 5<<20+(5<<20-1)/4096 || len(in.Problems) != 0 {
		t.Fatalf("info %+v", in)
	}
	got := make([]byte, 3<<20)
	if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got[:2<<20], raw) || !bytes.Equal(got[2<<20:], make([]byte, 1<<20)) {
		t.Fatalf("read: %v", err)
	}
	es, err := im.Map(1<<20, 4<<40)
	if err != nil || len(es) != 2 || es[0].Kind != device.Data || es[0].Len != 1<<20 || es[1].Kind != device.Hole || es[1].Off+es[1].Len != 4<<40+1<<20 {
		t.Fatalf("map %+v %v", es, err)
	}
	if _, err := im.ReadAt(got, 5<<40-100); err != io.EOF {
		t.Fatalf("read at the end: %v", err)
	}
	checkFields(t, im, r.size)
}
