package vmdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

const bananaSHA = "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1"

// unreadable returns Map's unreadable extents of d.
func unreadable(t *testing.T, d *Image) []device.Extent {
	t.Helper()
	es, err := d.Map(0, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	var out []device.Extent
	for _, e := range es {
		if e.Kind == device.Unreadable {
			out = append(out, e)
		}
	}
	return out
}

func TestTruncated(t *testing.T) {
	for _, name := range []string{"banana.vmdk.gz", "banana-stream.vmdk.gz"} {
		b := containertest.Fixture(t, name)
		full, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		want := containertest.ReadAll(t, full)
		c := b[:len(b)/2]
		im, err := New(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = im.ReadAt(make([]byte, im.Size()), 0)
		var ue *device.UnreadableError
		if !errors.As(err, &ue) || !errors.Is(err, device.ErrUnreadable) {
			t.Fatalf("%s truncated: %v", name, err)
		}
		bad := unreadable(t, im)
		if len(bad) == 0 {
			t.Fatalf("%s: no unreadable extent", name)
		}
		// Every unreadable extent fails to read; everything else reads
		// as before.
		at := int64(0)
		for _, e := range bad {
			if _, err := im.ReadAt(make([]byte, e.Len), e.Off); !errors.Is(err, device.ErrUnreadable) {
				t.Fatalf("%s: unreadable %+v read: %v", name, e, err)
			}
			buf := make([]byte, e.Off-at)
			if _, err := im.ReadAt(buf, at); err != nil || !bytes.Equal(buf, want[at:e.Off]) {
				t.Fatalf("%s: [%d, %d): %v", name, at, e.Off, err)
			}
			at = e.Off + e.Len
		}
	}
}

// TestGrainDirectories damages the grain directories of a disk whose
// grain tables cover 1 MiB each.
func TestGrainDirectories(t *testing.T) {
	raw := randomDisk(6, 4<<20)
	desc := descriptorText("monolithicSparse", 0x77, cidNone, "", `RW 8192 SPARSE "g.vmdk"`)
	img := buildSparse(t, raw, sparseSpec{gtes: 16, descriptor: desc})
	le := binary.LittleEndian
	gd, rgd := int(le.Uint64(img[56:]))*512, int(le.Uint64(img[48:]))*512
	open := func(b []byte) *Image {
		t.Helper()
		im, err := New(bytes.NewReader(b), int64(len(b)), WithName("g.vmdk"))
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	// The primary damaged: the redundant one is used, and said so.
	c := bytes.Clone(img)
	le.PutUint32(c[gd+8:], 0x7fffffff)
	im := open(c)
	if ps := im.Problems(); len(ps) != 1 || !strings.Contains(ps[0].Error(), "redundant grain directory at sector") {
		t.Fatalf("problems %v", ps)
	}
	if !bytes.Equal(containertest.ReadAll(t, im), raw) || im.Info().Extents[0].GrainDirectory != fmt.Sprintf("redundant at sector %d", rgd/512) {
		t.Fatalf("redundant: %+v", im.Info())
	}
	checkFields(t, im, int64(len(c)))
	// The redundant one damaged: reported, the primary used.
	r := bytes.Clone(img)
	le.PutUint32(r[rgd+4:], 0x7fffffff)
	im = open(r)
	if ps := im.Problems(); len(ps) != 1 || !errors.Is(ps[0], ErrFormat) || !strings.Contains(ps[0].Error(), "redundant grain directory at byte") || !bytes.Equal(containertest.ReadAll(t, im), raw) {
		t.Fatalf("problems %v", ps)
	}
	// Both damaged at the same entry: that table's grains are
	// unreadable, not zeros; the others read.
	le.PutUint32(c[rgd+8:], 0x7fffffff)
	im = open(c)
	bad := unreadable(t, im)
	if len(bad) != 1 || bad[0].Off != 2<<20 || bad[0].Len != 1<<20 || !strings.Contains(bad[0].Why, "grain table 2") {
		t.Fatalf("unreadable %+v", bad)
	}
	_, err := im.ReadAt(make([]byte, 4096), 2<<20+100)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || ue.Off != 2<<20+100 {
		t.Fatalf("read: %v", err)
	}
	got := make([]byte, 2<<20)
	if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got, raw[:2<<20]) {
		t.Fatalf("before: %v", err)
	}
	if len(im.Problems()) != 1 {
		t.Fatal(im.Problems())
	}
	// A grain table entry beyond the end of the file: that grain.
	c = bytes.Clone(img)
	at := firstGTE(t, c)
	g := int64(at-int(le.Uint32(c[gd:]))*512) / 4 // grain of that entry (in table 0)
	le.PutUint32(c[at:], 0x00ffffff)
	im = open(c)
	bad = unreadable(t, im)
	if len(bad) != 1 || bad[0].Off != g*65536 || bad[0].Len != 65536 {
		t.Fatalf("bad grain: %+v", bad)
	}
	// A primary directory outside the file with no redundant one.
	c = bytes.Clone(img)
	le.PutUint64(c[56:], 1<<40)
	le.PutUint32(c[8:], flagNewlineTest)
	if _, err := New(bytes.NewReader(c), int64(len(c))); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "grain directory") {
		t.Fatalf("gd outside: %v", err)
	}
}

func TestHeaderChecks(t *testing.T) {
	b := containertest.Fixture(t, "banana.vmdk.gz")
	le := binary.LittleEndian
	for _, tc := range []struct {
		name  string
		edit  func(c []byte)
		field string
		unsup bool
	}{
		{"grain size 3", func(c []byte) { le.PutUint64(c[20:], 3) }, "grainSize", false},
		{"grain size 0", func(c []byte) { le.PutUint64(c[20:], 0) }, "grainSize", false},
		{"grain size huge", func(c []byte) { le.PutUint64(c[20:], 1<<40) }, "grainSize", false},
		{"no GTEs", func(c []byte) { le.PutUint32(c[44:], 0) }, "numGTEsPerGT", false},
		{"too many GTEs", func(c []byte) { le.PutUint32(c[44:], 1<<30) }, "numGTEsPerGT", false},
		{"capacity huge", func(c []byte) { le.PutUint64(c[12:], 1<<60) }, "capacity", false},
		{"capacity for a huge GD", func(c []byte) { le.PutUint64(c[12:], 1<<41); le.PutUint64(c[20:], 1); le.PutUint32(c[44:], 1) }, "grain directory", false},
		{"descriptor huge", func(c []byte) { le.PutUint64(c[36:], 1<<40) }, "descriptorSize", false},
		{"magic", func(c []byte) { c[0] = 'X' }, `no "KDMV" magic`, false},
		{"version 4", func(c []byte) { le.PutUint32(c[4:], 4) }, "version 4", true},
		{"compression 2", func(c []byte) { le.PutUint16(c[77:], 2) }, "compressAlgorithm 2", true},
		{"COWD", func(c []byte) { copy(c, "COWD") }, "COWD", true},
	} {
		c := bytes.Clone(b)
		tc.edit(c)
		_, err := New(bytes.NewReader(c), int64(len(c)))
		if err == nil || !strings.Contains(err.Error(), tc.field) || errors.Is(err, ErrUnsupported) != tc.unsup || !tc.unsup && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", tc.name, err)
		}
		var fe *FieldError
		if !tc.unsup && tc.field != "grain directory" && tc.name != "magic" && (!errors.As(err, &fe) || fe.Field != tc.field || fe.Structure != "sparse extent header") {
			t.Errorf("%s: %#v", tc.name, err)
		}
	}
	// Line-ending bytes changed and an unclean shutdown: reported, read.
	c := bytes.Clone(b)
	c[75] = '\n'
	c[72] = 1
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	if ps := im.Problems(); len(ps) != 2 || !strings.Contains(ps[0].Error(), "doubleEndLineChar1") || !strings.Contains(ps[1].Error(), "uncleanShutdown") {
		t.Fatalf("problems %v", ps)
	}
	if containertest.HashDevice(t, im) != bananaSHA {
		t.Fatal("hash")
	}
}

// TestDescriptorExtents reads a descriptor of FLAT extents at offsets, a
// ZERO extent and sparse extents, one a monolithicSparse file.
func TestDescriptorExtents(t *testing.T) {
	a := randomDisk(7, 1<<20)
	flatA := append(bytes.Repeat([]byte("h"), 1024), a...) // the extent at sector 2
	s1 := randomDisk(8, 2<<20)
	sp1 := buildSparse(t, s1, sparseSpec{grainSectors: 16})
	s2 := randomDisk(9, 1<<20+512)
	sp2 := buildSparse(t, s2, sparseSpec{descriptor: descriptorText("monolithicSparse", 1, cidNone, "", `RW 2049 SPARSE "other.vmdk"`)})
	short := randomDisk(10, 64<<10)
	desc := descriptorText("custom", 0xabcdef01, cidNone, "",
		`RW 2048 FLAT "data/a.bin" 2`,
		`RW 1000 ZERO`,
		`RDONLY 4096 SPARSE "s 1.vmdk"`,
		`RW 2049 SPARSE "/elsewhere/s2.vmdk"`,
		`RW 256 FLAT "short.bin"`,
	)
	files := map[string][]byte{
		"/case/d.vmdk":      []byte(desc),
		"/case/data/a.bin":  flatA,
		"/case/s 1.vmdk":    sp1,
		"/case/s2.vmdk":     sp2,
		"/case/short.bin":   short,
		"/case/unrelated.x": nil,
	}
	im, err := Open(containertest.MemFs(t, files), "/case/d.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	want := append(append(append(append(bytes.Clone(a), make([]byte, 1000*512)...), s1...), s2...), short...)
	want = append(want, make([]byte, 256*512-len(short))...)
	if im.Size() != int64(len(want)) {
		t.Fatalf("size %d, want %d", im.Size(), len(want))
	}
	// The short flat file: its end is unreadable, said so at Open.
	if ps := im.Problems(); len(ps) != 1 || !strings.Contains(ps[0].Error(), "short.bin") {
		t.Fatalf("problems %v", ps)
	}
	bad := unreadable(t, im)
	end := int64(len(want))
	if len(bad) != 1 || bad[0].Off != end-256*512+int64(len(short)) || bad[0].Len != 256*512-int64(len(short)) {
		t.Fatalf("unreadable %+v", bad)
	}
	ok := end - bad[0].Len
	got := make([]byte, ok)
	if _, err := im.ReadAt(got, 0); err != nil || !bytes.Equal(got, want[:ok]) {
		t.Fatalf("read: %v", err)
	}
	if _, err := im.ReadAt(make([]byte, 10), ok-5); !errors.Is(err, device.ErrUnreadable) {
		t.Fatalf("read across: %v", err)
	}
	es, _ := im.Map(1<<20, 1000*512)
	if len(es) != 1 || es[0].Kind != device.Hole {
		t.Fatalf("ZERO extent mapped %+v", es)
	}
	in := im.Info()
	if len(in.Extents) != 5 || in.Extents[2].Access != "RDONLY" || in.Extents[0].Offset != 2 || in.Extents[3].Path != "/case/s2.vmdk" ||
		len(in.Files) != 5 || in.GrainSize != 8192 || in.CID != "abcdef01" || in.Subformat != "custom" {
		t.Fatalf("info %+v", in)
	}
	sts := im.Fields()
	names := []string{}
	for _, st := range sts {
		names = append(names, st.Name)
	}
	if sts[0].Name != "VMDK descriptor" || len(sts[0].Fields) < 8 || !strings.HasPrefix(names[1], "s 1.vmdk: ") || !strings.HasPrefix(names[len(names)-1], "s2.vmdk: ") {
		t.Fatalf("structures %q", names)
	}
	for _, f := range sts[0].Fields {
		if got := string(files["/case/d.vmdk"][f.Off : f.Off+int64(f.Len)]); !strings.Contains(got, strings.Split(f.Name, " ")[0]) && !strings.HasPrefix(f.Name, "extent") {
			t.Errorf("field %s at [%d,+%d): %q", f.Name, f.Off, f.Len, got)
		}
	}

	// A missing extent file is an error that names it.
	delete(files, "/case/s 1.vmdk")
	_, err = Open(containertest.MemFs(t, files), "/case/d.vmdk")
	var xe *ExtentFileError
	if !errors.As(err, &xe) || xe.Name != "s 1.vmdk" || xe.Line != 10 || !strings.Contains(err.Error(), `"s 1.vmdk"`) {
		t.Fatalf("missing extent: %v", err)
	}
	// New refuses a descriptor naming other files.
	if _, err := New(bytes.NewReader([]byte(desc)), int64(len(desc))); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "Open") {
		t.Fatalf("New: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct{ createType, extent, want string }{
		{"vmfs", `RW 100 VMFS "x-flat.vmdk"`, `"vmfs"`},
		{"vmfsSparse", `RW 100 VMFSSPARSE "x-delta.vmdk"`, `"vmfsSparse"`},
		{"seSparse", `RW 100 SESPARSE "x-sesparse.vmdk"`, `"seSparse"`},
		{"custom", `RW 100 VMFSSPARSE "x-delta.vmdk"`, "VMFSSPARSE"},
		{"custom", `RW 100 SESPARSE "x-sesparse.vmdk"`, "SESPARSE"},
		{"custom", `RW 100 WEIRD "x"`, "WEIRD"},
	} {
		desc := descriptorText(tc.createType, 1, cidNone, "", tc.extent)
		_, err := Open(containertest.MemFs(t, map[string][]byte{"/d.vmdk": []byte(desc), "/x-delta.vmdk": make([]byte, 1024)}), "/d.vmdk")
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v", tc.createType, tc.extent, err)
		}
	}
	// Not a descriptor at all.
	for _, b := range [][]byte{[]byte("hello\x01world"), []byte("# Disk DescriptorFile\nversion=1\n"), bytes.Repeat([]byte{0xff}, 100)} {
		if _, err := New(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v", b, err)
		}
	}
}

// TestChain reads children built from the specification: a child's
// grains not allocated come from its parent, its zeroed grains are
// zeros; cycles and missing parents are refused.
func TestChain(t *testing.T) {
	base := randomDisk(11, 2<<20)
	baseImg := buildSparse(t, base, sparseSpec{descriptor: descriptorText("monolithicSparse", 0xb, cidNone, "", `RW 4096 SPARSE "base.vmdk"`)})
	mid := bytes.Clone(base)
	copy(mid[100<<10:], bytes.Repeat([]byte("mid "), 30000))
	clear(mid[1<<20 : 1<<20+128<<10]) // zeroed grains over the base's data
	written := func(g int64) bool { return g >= 1 && g <= 3 || g == 16 || g == 17 }
	midImg := buildSparse(t, mid, sparseSpec{zeroGrains: true, unallocated: func(g int64) bool { return !written(g) },
		descriptor: descriptorText("monolithicSparse", 0xc, 0xb, `..\base\base.vmdk`, `RW 4096 SPARSE "mid.vmdk"`)})
	// top is larger than its parent: past mid's end it reads zeros.
	top := append(bytes.Clone(mid), make([]byte, 1<<20)...)
	copy(top[5000:], bytes.Repeat([]byte("top"), 1000))
	topImg := buildSparse(t, top, sparseSpec{stream: true, unallocated: func(g int64) bool { return g != 0 },
		descriptor: descriptorText("streamOptimized", 0xd, 0xc, "/old/place/mid.vmdk", `RW 6144 SPARSE "top.vmdk"`)})
	files := map[string][]byte{"/case/base/base.vmdk": baseImg, "/case/vm/mid.vmdk": midImg, "/case/vm/top.vmdk": topImg}
	im, err := Open(containertest.MemFs(t, files), "/case/vm/top.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Problems()) != 0 || !bytes.Equal(containertest.ReadAll(t, im), top) {
		t.Fatalf("chain: %v", im.Problems())
	}
	checkMap(t, im, top)
	containertest.CheckConcurrent(t, im, top, 40, 1<<20, 7)
	es, _ := im.Map(1<<20, 128<<10)
	if len(es) != 1 || es[0].Kind != device.Hole {
		t.Fatalf("zeroed grains %+v", es)
	}
	in := im.Info()
	if in.ParentPath != "/case/vm/mid.vmdk" || in.Parent.ParentPath != "/case/base/base.vmdk" || in.Parent.Parent.CID != "0000000b" {
		t.Fatalf("info %+v", in)
	}
	sts := im.Fields()
	checks := 0
	for _, st := range sts {
		for _, f := range st.Fields {
			if f.Name == "parentCID" && f.Check != nil && f.Check.OK {
				checks++
			}
		}
	}
	if checks != 1 {
		t.Fatal("parentCID not checked")
	}
	im.Close()
	// New with the parent given.
	baseIm, _ := New(bytes.NewReader(baseImg), int64(len(baseImg)))
	midIm, err := New(bytes.NewReader(midImg), int64(len(midImg)), WithParent(baseIm))
	if err != nil || !bytes.Equal(containertest.ReadAll(t, midIm), mid) {
		t.Fatalf("New with parent: %v", err)
	}
	var pe *ParentError
	if _, err := New(bytes.NewReader(midImg), int64(len(midImg))); !errors.As(err, &pe) {
		t.Fatalf("New without parent: %v", err)
	}
	// A missing parent names it.
	delete(files, "/case/base/base.vmdk")
	if _, err := Open(containertest.MemFs(t, files), "/case/vm/top.vmdk"); !errors.As(err, &pe) || pe.Name != `..\base\base.vmdk` || pe.Child != "/case/vm/mid.vmdk" {
		t.Fatalf("missing: %v", err)
	}
	// A cycle.
	a := buildSparse(t, base, sparseSpec{descriptor: descriptorText("monolithicSparse", 1, 2, "b.vmdk", `RW 4096 SPARSE "a.vmdk"`)})
	b := buildSparse(t, base, sparseSpec{descriptor: descriptorText("monolithicSparse", 2, 1, "a.vmdk", `RW 4096 SPARSE "b.vmdk"`)})
	if _, err := Open(containertest.MemFs(t, map[string][]byte{"/a.vmdk": a, "/b.vmdk": b}), "/a.vmdk"); !errors.As(err, &pe) || !strings.Contains(err.Error(), "loops") {
		t.Fatalf("cycle: %v", err)
	}
	// A chain too deep.
	deep := map[string][]byte{}
	for i := range 20 {
		deep[fmt.Sprintf("/d%d.vmdk", i)] = buildSparse(t, base[:64<<10], sparseSpec{unallocated: func(int64) bool { return true },
			descriptor: descriptorText("monolithicSparse", uint32(i), uint32(i+1), fmt.Sprintf("d%d.vmdk", i+1), fmt.Sprintf(`RW 128 SPARSE "d%d.vmdk"`, i))})
	}
	if _, err := Open(containertest.MemFs(t, deep), "/d0.vmdk"); !errors.As(err, &pe) || !strings.Contains(err.Error(), "deeper than 16") {
		t.Fatalf("deep: %v", err)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		b    string
		want bool
	}{
		{"KDMV\x01\x00\x00\x00", true},
		{"COWD\x01\x00\x00\x00", true},
		{"# Disk DescriptorFile\nversion=1\n", true},
		{"\n\n# Disk DescriptorFile\n", true},
		{"KDM", false},
		{"conectix", false},
		{"", false},
	} {
		if got := Probe(bytes.NewReader([]byte(tc.b)), int64(len(tc.b))); got != tc.want {
			t.Errorf("%q: %v", tc.b, got)
		}
	}
}

// TestNoAccess: a NOACCESS extent cannot be read.
func TestNoAccess(t *testing.T) {
	desc := descriptorText("monolithicFlat", 1, cidNone, "", `NOACCESS 8 FLAT "f.bin" 0`, `RW 8 FLAT "f.bin" 8`)
	im, err := Open(containertest.MemFs(t, map[string][]byte{"/d.vmdk": []byte(desc), "/f.bin": bytes.Repeat([]byte("x"), 8192)}), "/d.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	if bad := unreadable(t, im); len(bad) != 1 || bad[0].Len != 4096 || !strings.Contains(bad[0].Why, "NOACCESS") {
		t.Fatalf("unreadable %+v", bad)
	}
	got := make([]byte, 4096)
	if _, err := im.ReadAt(got, 4096); err != nil || !bytes.Equal(got, bytes.Repeat([]byte("x"), 4096)) {
		t.Fatal(err)
	}
	if len(im.Info().Files) != 2 {
		t.Fatal(im.Info().Files)
	}
}

// TestSmallCaches reads with the grain directory left in the file and
// caches too small to hold more than a few grain tables and grains: the
// bytes are the same. (The stream-optimized extent has no descriptor:
// its first grain is at sector 1, and its table entry 1 is that grain,
// not a zeroed grain, in an extent of version 3 without the flag.)
func TestSmallCaches(t *testing.T) {
	raw := randomDisk(12, 3<<20)
	for _, stream := range []bool{false, true} {
		img := buildSparse(t, raw, sparseSpec{gtes: 4, grainSectors: 16, stream: stream})
		sh := newShared()
		sh.gdBudget = 0
		sh.gts = newCache[gtKey](40, func(t []uint32) int { return 4 * len(t) })
		sh.grains = newCache[gtKey](20000, func(b []byte) int { return len(b) })
		im := newImage("small", sh)
		if err := im.load(&file{name: "small", r: bytes.NewReader(img), size: int64(len(img))}, nil); err != nil {
			t.Fatal(err)
		}
		im.setUnit()
		if im.extents[0].sp.gd != nil {
			t.Fatal("grain directory loaded")
		}
		if got := containertest.HashDevice(t, im); got != containertest.HashDevice(t, bytesDev(raw)) {
			t.Fatalf("stream %v: bytes differ", stream)
		}
		checkMap(t, im, raw)
		containertest.CheckConcurrent(t, im, raw, 40, 1<<20, 7)
		if len(sh.gts.m) > 2 || len(sh.grains.m) > 2 {
			t.Fatalf("caches hold %d tables, %d grains", len(sh.gts.m), len(sh.grains.m))
		}
	}
	im, _ := New(bytes.NewReader(nil), 0)
	if im != nil {
		t.Fatal("empty file opened")
	}
}

// bytesDev is a device of bytes.
type bytesDev []byte

func (b bytesDev) Size() int64 { return int64(len(b)) }
func (b bytesDev) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(b).ReadAt(p, off)
}
