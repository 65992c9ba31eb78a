package vhd

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

func TestBananaDynamic(t *testing.T) {
	b := containertest.Fixture(t, "banana.vhd.gz")
	if !Probe(bytes.NewReader(b), int64(len(b))) {
		t.Fatal("Probe false")
	}
	im, err := Open(containertest.MemFs(t, map[string][]byte{"/img/banana.vhd": b}), "/img/banana.vhd")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if im.Size() != 14680064 {
		t.Fatalf("size %d", im.Size())
	}
	if got := containertest.HashDevice(t, im); got != "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1" {
		t.Fatalf("sha256 %s", got)
	}
	in := im.Info()
	if in.Subformat != "dynamic" || in.BlockSize != 2<<20 || len(in.Problems) != 0 {
		t.Fatalf("info %+v", in)
	}
	for _, c := range in.Checksums {
		if !c.OK {
			t.Errorf("checksum %+v", c)
		}
	}
	checkFields(t, im, int64(len(b)))
	containertest.CheckMapReads(t, im, nil)

	// Reading only Map's data extents reads nothing else from the file,
	// and with the holes as zeros gives the raw image.
	cr := &containertest.CountingReader{R: bytes.NewReader(b)}
	im2, err := New(cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	meta := cr.N.Load()
	sum, data, holes := containertest.MapHash(t, im2)
	if sum != "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1" || holes == 0 {
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
	if containertest.CheckFields(t, sts, fileSize, nil) == 0 {
		t.Error("no checksum field")
	}
}

// TestHolesNotRead reads only Map's data extents, and checks that no
// more than those extents and the metadata are read from the file.
func TestHolesNotRead(t *testing.T) {
	// A 64 MiB dynamic disk with two blocks written.
	bs := int64(2 << 20)
	size := int64(64 << 20)
	raw := make([]byte, size)
	copy(raw[5*bs+100:], bytes.Repeat([]byte("x"), 1000))
	copy(raw[30*bs:], bytes.Repeat([]byte("y"), int(bs)))
	img := buildDynamic(t, raw, bs, nil)
	cr := &containertest.CountingReader{R: bytes.NewReader(img)}
	im, err := New(cr, int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	meta := cr.N.Load()
	es, err := im.Map(0, size)
	if err != nil {
		t.Fatal(err)
	}
	var data int64
	h := sha256.New()
	for _, e := range es {
		switch e.Kind {
		case device.Data:
			buf := make([]byte, e.Len)
			if _, err := im.ReadAt(buf, e.Off); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf, raw[e.Off:e.Off+e.Len]) {
				t.Fatalf("data %+v differs", e)
			}
			data += e.Len
		case device.Hole:
			if !bytes.Equal(raw[e.Off:e.Off+e.Len], make([]byte, e.Len)) {
				t.Fatalf("hole %+v over data", e)
			}
		default:
			t.Fatalf("extent %+v", e)
		}
	}
	h.Write(nil)
	if data != 2*bs {
		t.Fatalf("data %d bytes, want %d", data, 2*bs)
	}
	if got := cr.N.Load() - meta; got != data {
		t.Fatalf("read %d bytes from the file for %d bytes of data", got, data)
	}
}

// buildDynamic writes a dynamic (parent == nil) or differencing VHD
// following the specification. For a differencing disk, written[s]
// says which sectors the child holds; the others come from the parent.
type diffSpec struct {
	parentID   [16]byte
	parentTS   uint32
	parentName string
	locators   map[string]string // code → path
	written    func(sector int64) bool
}

func putFooter(b []byte, diskType uint32, dataOff uint64, size int64, id [16]byte, ts uint32) {
	be := binary.BigEndian
	copy(b, "conectix")
	be.PutUint32(b[8:], 2)
	be.PutUint32(b[12:], 0x00010000)
	be.PutUint64(b[16:], dataOff)
	be.PutUint32(b[24:], ts)
	copy(b[28:], "test")
	be.PutUint32(b[32:], 0x00010000)
	copy(b[36:], "Wi2k")
	be.PutUint64(b[40:], uint64(size))
	be.PutUint64(b[48:], uint64(size))
	be.PutUint32(b[56:], 0x04000411)
	be.PutUint32(b[60:], diskType)
	copy(b[68:], id[:])
	be.PutUint32(b[64:], checksum(b[:512], 64))
}

func buildDynamic(t testing.TB, raw []byte, bs int64, d *diffSpec) []byte {
	return buildDynamicID(t, raw, bs, d, [16]byte{1, 2, 3}, 1000)
}

func buildDynamicID(t testing.TB, raw []byte, bs int64, d *diffSpec, id [16]byte, ts uint32) []byte {
	be := binary.BigEndian
	size := int64(len(raw))
	nb := (size + bs - 1) / bs
	batOff := int64(1536)
	batBytes := (nb*4 + 511) / 512 * 512
	out := make([]byte, batOff+batBytes)
	dyn := out[512:1536]
	copy(dyn, "cxsparse")
	be.PutUint64(dyn[8:], ^uint64(0))
	be.PutUint64(dyn[16:], uint64(batOff))
	be.PutUint32(dyn[24:], 0x00010000)
	be.PutUint32(dyn[28:], uint32(nb))
	be.PutUint32(dyn[32:], uint32(bs))
	diskType := uint32(TypeDynamic)
	if d != nil {
		diskType = TypeDifferencing
		copy(dyn[40:], d.parentID[:])
		be.PutUint32(dyn[56:], d.parentTS)
		u := utf16.Encode([]rune(d.parentName))
		for i, c := range u {
			be.PutUint16(dyn[64+2*i:], c)
		}
		i := 0
		for _, code := range []string{"W2ku", "W2ru", "MacX"} {
			p, ok := d.locators[code]
			if !ok {
				continue
			}
			var data []byte
			if code == "MacX" {
				data = []byte("file://" + p)
			} else {
				for _, c := range utf16.Encode([]rune(p)) {
					data = binary.LittleEndian.AppendUint16(data, c)
				}
			}
			space := (len(data) + 511) / 512 * 512
			e := dyn[576+24*i:]
			copy(e, code)
			be.PutUint32(e[4:], uint32(space))
			be.PutUint32(e[8:], uint32(len(data)))
			be.PutUint64(e[16:], uint64(len(out)))
			out = append(out, data...)
			out = append(out, make([]byte, space-len(data))...)
			dyn = out[512:1536]
			i++
		}
	}
	bmSize := (bs/512/8 + 511) / 512 * 512
	for b := int64(0); b < nb; b++ {
		blk := raw[b*bs : min((b+1)*bs, size)]
		bm := make([]byte, bmSize)
		any := false
		for s := int64(0); s < bs/512; s++ {
			var w bool
			if d != nil {
				w = d.written(b*bs/512 + s)
			} else {
				w = s*512 < int64(len(blk)) && !bytes.Equal(blk[s*512:min((s+1)*512, int64(len(blk)))], make([]byte, min(512, int64(len(blk))-s*512)))
			}
			if w {
				bm[s/8] |= 0x80 >> (s % 8)
				any = true
			}
		}
		if !any {
			be.PutUint32(out[batOff+4*b:], batUnused)
			continue
		}
		if d == nil {
			for i := range bm {
				bm[i] = 0xff
			}
		}
		be.PutUint32(out[batOff+4*b:], uint32(len(out)/512))
		out = append(out, bm...)
		data := make([]byte, bs)
		copy(data, blk)
		if d != nil {
			for s := int64(0); s < bs/512; s++ {
				if !d.written(b*bs/512 + s) {
					clear(data[s*512 : (s+1)*512])
				}
			}
		}
		out = append(out, data...)
	}
	for b := nb; b*4 < batBytes; b++ {
		be.PutUint32(out[batOff+4*b:], batUnused)
	}
	dyn = out[512:1536]
	be.PutUint32(dyn[36:], checksum(dyn, 36))
	foot := make([]byte, 512)
	putFooter(foot, diskType, 512, size, id, ts)
	copy(out[:512], foot)
	return append(out, foot...)
}

func TestDifferencingChain(t *testing.T) {
	bs := int64(1 << 16)
	size := int64(1 << 20)
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]byte, size)
	for i := range base {
		base[i] = byte(rng.IntN(256))
	}
	clear(base[3*bs : 5*bs]) // a hole in the base
	mid := bytes.Clone(base)
	midW := func(s int64) bool { return s%7 == 0 || (s >= 100 && s < 130) }
	for s := int64(0); s < size/512; s++ {
		if midW(s) {
			for i := s * 512; i < (s+1)*512; i++ {
				mid[i] = byte(rng.IntN(256))
			}
		}
	}
	top := bytes.Clone(mid)
	topW := func(s int64) bool { return s%11 == 3 || (s >= 3*128+5 && s < 3*128+9) }
	for s := int64(0); s < size/512; s++ {
		if topW(s) {
			for i := s * 512; i < (s+1)*512; i++ {
				top[i] = byte(rng.IntN(256))
			}
		}
	}
	baseImg := buildDynamicID(t, base, bs, nil, [16]byte{0xb}, 10)
	midImg := buildDynamicID(t, mid, bs, &diffSpec{parentID: [16]byte{0xb}, parentTS: 10, parentName: `C:\vms\base.vhd`,
		locators: map[string]string{"W2ku": `C:\vms\base.vhd`, "W2ru": `.\base.vhd`}, written: midW}, [16]byte{0xc}, 20)
	topImg := buildDynamicID(t, top, bs, &diffSpec{parentID: [16]byte{0xc}, parentTS: 20, parentName: "mid.vhd",
		locators: map[string]string{"W2ku": `D:\elsewhere\sub\mid.vhd`}, written: topW}, [16]byte{0xd}, 30)

	fs := afero.NewMemMapFs()
	afero.WriteFile(fs, "/case/base.vhd", baseImg, 0o644)
	afero.WriteFile(fs, "/case/sub/mid.vhd", midImg, 0o644)
	afero.WriteFile(fs, "/case/sub/top.vhd", topImg, 0o644)
	ro := afero.NewReadOnlyFs(fs)
	// mid's W2ru says .\base.vhd, relative to /case/sub: not there; its
	// W2ku basename is not there either: the parent is missing.
	_, err := Open(ro, "/case/sub/top.vhd")
	var pe *ParentError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "base.vhd") {
		t.Fatalf("missing grandparent: %v", err)
	}
	afero.WriteFile(fs, "/case/sub/base.vhd", baseImg, 0o644)
	im, err := Open(ro, "/case/sub/top.vhd")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if len(im.Problems()) != 0 {
		t.Fatal(im.Problems())
	}
	got := make([]byte, size)
	if _, err := im.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, top) {
		t.Fatal("chain reads differ")
	}
	// unaligned reads
	for range 200 {
		off := rng.Int64N(size)
		n := rng.Int64N(size - off + 1)
		buf := make([]byte, n)
		if _, err := im.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, top[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d) differs", off, n)
		}
	}
	in := im.Info()
	if in.Subformat != "differencing" || in.Parent == nil || in.Parent.Parent == nil || in.Parent.Parent.Subformat != "dynamic" || in.ParentPath != "/case/sub/mid.vhd" {
		t.Fatalf("info %+v", in)
	}
	if j, err := json.Marshal(in); err != nil || !bytes.Contains(j, []byte(`"parent_path":"/case/sub/base.vhd"`)) {
		t.Fatalf("json %s: %v", j, err)
	}
	containertest.CheckMapReads(t, im, nil)
	// The same chain through New and WithParent.
	baseIm, err := New(bytes.NewReader(baseImg), int64(len(baseImg)))
	if err != nil {
		t.Fatal(err)
	}
	midIm, err := New(bytes.NewReader(midImg), int64(len(midImg)), WithParent(baseIm))
	if err != nil {
		t.Fatal(err)
	}
	topIm, err := New(bytes.NewReader(topImg), int64(len(topImg)), WithParent(midIm))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topIm.ReadAt(got, 0); err != nil || !bytes.Equal(got, top) {
		t.Fatalf("New chain: %v", err)
	}
	if _, err := New(bytes.NewReader(topImg), int64(len(topImg)), WithParent(baseIm)); !errors.As(err, &pe) {
		t.Fatalf("New with the wrong parent: %v", err)
	}
	// The base's hole, not overwritten by mid or top at sectors ≡ 0 mod 7
	// or 3 mod 11, is a hole through the chain.
	es, err := im.Map(3*bs, 2*bs)
	if err != nil {
		t.Fatal(err)
	}
	holes := int64(0)
	for _, e := range es {
		if e.Kind == device.Hole {
			holes += e.Len
			for s := e.Off / 512; s < (e.Off+e.Len)/512; s++ {
				if midW(s) || topW(s) {
					t.Fatalf("hole over written sector %d", s)
				}
			}
		}
	}
	if holes == 0 {
		t.Fatal("no hole through the chain")
	}
	// Concurrent readers.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for range 100 {
				off := r.Int64N(size)
				n := r.Int64N(min(size-off, 100000) + 1)
				buf := make([]byte, n)
				if _, err := im.ReadAt(buf, off); err != nil || !bytes.Equal(buf, top[off:off+n]) {
					t.Errorf("concurrent ReadAt(%d, %d): %v", off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// A parent with the wrong unique id is refused.
	afero.WriteFile(fs, "/case/sub/base.vhd", buildDynamicID(t, base, bs, nil, [16]byte{0xe}, 10), 0o644)
	if _, err := Open(ro, "/case/sub/top.vhd"); !errors.As(err, &pe) || !strings.Contains(err.Error(), "unique id") {
		t.Fatalf("wrong parent: %v", err)
	}
	// New without a parent refuses a differencing disk.
	if _, err := New(bytes.NewReader(topImg), int64(len(topImg))); err == nil {
		t.Fatal("differencing disk opened without its parent")
	}
}

func TestDamagedFooter(t *testing.T) {
	b := containertest.Fixture(t, "banana.vhd.gz")
	end := len(b) - 512
	// A bad checksum in the footer at the end: the copy at 0 is used.
	c := bytes.Clone(b)
	c[end+100] ^= 1
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	var ce *ChecksumError
	if len(im.Problems()) == 0 || !errors.As(im.Problems()[0], &ce) || ce.Structure != "footer" || ce.Off != int64(end) {
		t.Fatalf("problems %v", im.Problems())
	}
	if im.Info().FooterUsed != "copy at byte 0" {
		t.Fatal(im.Info().FooterUsed)
	}
	if got := containertest.HashDevice(t, im); got != "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1" {
		t.Fatal(got)
	}
	// A footer wiped at the end: the copy.
	c = bytes.Clone(b)
	clear(c[end:])
	if im, err = New(bytes.NewReader(c), int64(len(c))); err != nil || containertest.HashDevice(t, im) != "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1" {
		t.Fatal(err)
	}
	// A bad dynamic header checksum: reported, read on.
	c = bytes.Clone(b)
	c[512+700] ^= 1
	if im, err = New(bytes.NewReader(c), int64(len(c))); err != nil {
		t.Fatal(err)
	}
	if ps := im.Problems(); len(ps) != 1 || !errors.As(ps[0], &ce) || ce.Structure != "dynamic disk header" || ce.FieldOff != 512+36 {
		t.Fatalf("problems %v", ps)
	}
	// A block beyond the end of the file is unreadable, not zeros.
	c = bytes.Clone(b[:len(b)-512-(1<<20)])
	c = append(c, b[end:]...)
	if im, err = New(bytes.NewReader(c), int64(len(c))); err != nil {
		t.Fatal(err)
	}
	_, err = im.ReadAt(make([]byte, im.Size()), 0)
	if !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("truncated: %v", err)
	}
	es, _ := im.Map(0, im.Size())
	found := false
	for _, e := range es {
		found = found || e.Kind == device.Unreadable
	}
	if !found {
		t.Fatalf("map %v", es)
	}
}

func TestQemuFixedAndDynamic(t *testing.T) {
	q := containertest.QemuImg(t)
	dir := t.TempDir()
	raw := make([]byte, 5<<20+3*512)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(raw); i += 4096 {
		if rng.IntN(3) == 0 {
			for j := i; j < min(i+4096, len(raw)); j++ {
				raw[j] = byte(rng.IntN(256))
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "d.raw"), raw, 0o644)
	for _, opt := range []string{"fixed,force_size=on", "dynamic,force_size=on", "dynamic", "fixed"} {
		sub := strings.Split(opt, ",")[0]
		img := filepath.Join(dir, strings.ReplaceAll(opt, ",", "_")+".vhd")
		// Without force_size, qemu-img rounds the size up to a CHS
		// geometry and writes that as Current Size.
		containertest.Run(t, q, "convert", "-f", "raw", "-O", "vpc", "-o", "subformat="+opt, filepath.Join(dir, "d.raw"), img)
		want := containertest.QemuRaw(t, q, img, "vpc")
		im, err := Open(containertest.OsFs(), img)
		if err != nil {
			t.Fatal(err)
		}
		if im.Info().Subformat != sub {
			t.Fatal(im.Info())
		}
		got := make([]byte, im.Size())
		if _, err := im.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || len(got) < len(raw) || !bytes.Equal(got[:len(raw)], raw) || !bytes.Equal(got[len(raw):], make([]byte, len(got)-len(raw))) {
			t.Fatalf("%s: bytes differ from qemu-img's (%d vs %d)", sub, len(got), len(want))
		}
		containertest.CheckMapReads(t, im, nil)
		checkFields(t, im, func() int64 { st, _ := os.Stat(img); return st.Size() }())
		im.Close()
	}
}

func FuzzVHD(f *testing.F) {
	b := containertest.Fixture(f, "banana.vhd.gz")
	// Seeds: the fixture's metadata with its data cut short, and a
	// generated differencing disk (opened with a zero parent).
	head := bytes.Clone(b[:4096])
	f.Add(append(head, b[len(b)-512:]...))
	// Small seeds: the fuzzer minimises every new input it finds.
	raw := make([]byte, 8<<10)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	f.Add(buildDynamic(f, raw, 1<<12, nil))
	f.Add(buildDynamic(f, raw, 1<<12, &diffSpec{parentName: "p.vhd", locators: map[string]string{"W2ru": `.\p.vhd`}, written: func(s int64) bool { return s%3 == 0 }}))
	fixed := make([]byte, 8192+512)
	putFooter(fixed[8192:], TypeFixed, ^uint64(0), 8192, [16]byte{}, 0)
	f.Add(fixed)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		Probe(r, int64(len(data)))
		parent := device.Device(containertest.ZeroDev(1 << 20))
		im, err := New(r, int64(len(data)), WithParent(parent))
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
			es, err := im.Map(off, 1<<20)
			if err != nil {
				continue
			}
			containertest.CheckMapRange(t, es, off, 1<<20, size)
		}
	})
}

func TestParentAbsoluteLocator(t *testing.T) {
	bs := int64(1 << 16)
	base := bytes.Repeat([]byte("parent!!"), 1<<15)
	child := bytes.Clone(base)
	w := func(s int64) bool { return s == 5 }
	copy(child[5*512:6*512], bytes.Repeat([]byte("c"), 512))
	baseImg := buildDynamicID(t, base, bs, nil, [16]byte{0x21}, 1)
	for _, tc := range []struct{ code, path string }{
		{"MacX", "/other/place/p.vhd"},
		{"W2ku", `\other\place\p.vhd`},
	} {
		childImg := buildDynamicID(t, child, bs, &diffSpec{parentID: [16]byte{0x21}, parentTS: 2, parentName: "nothere.vhd",
			locators: map[string]string{tc.code: tc.path}, written: w}, [16]byte{0x22}, 3)
		im, err := Open(containertest.MemFs(t, map[string][]byte{"/other/place/p.vhd": baseImg, "/case/c.vhd": childImg}), "/case/c.vhd")
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		// The parent's time stamp differs from the one the child recorded.
		if len(im.Problems()) != 1 || !strings.Contains(im.Problems()[0].Error(), "time stamp") {
			t.Fatalf("%s: problems %v", tc.code, im.Problems())
		}
		got := make([]byte, len(child))
		if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got, child) {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if im.ParentPath() != "/other/place/p.vhd" {
			t.Fatal(im.ParentPath())
		}
		im.Close()
	}
}
