package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// mdManifest is the md part of a fixture's manifest.json.
type mdManifest struct {
	MDArrays []struct {
		Name      string `json:"name"`
		UUID      string `json:"uuid"`
		Level     string `json:"level"`
		Metadata  string `json:"metadata_version"`
		RaidDisks int    `json:"raid_disks"`
		Chunk     int64  `json:"chunk_bytes"`
		Layout    string `json:"layout"`
		Size      int64  `json:"size_bytes"`
		SHA256    string `json:"sha256"`
		Members   []struct {
			Image     string `json:"image"`
			Partition int    `json:"partition"`
			Role      int    `json:"role"`
		} `json:"members"`
	} `json:"md_arrays"`
	LVs []struct {
		VG     string `json:"vg"`
		Name   string `json:"name"`
		Hidden bool   `json:"hidden"`
		SHA256 string `json:"sha256"`
	} `json:"lvs"`
}

func loadMD(t *testing.T, f *fixture.Fixture) mdManifest {
	t.Helper()
	var m mdManifest
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.MDArrays) != 1 {
		t.Fatalf("%d md arrays in the manifest", len(m.MDArrays))
	}
	return m
}

// readDevice reads a whole device of the graph.
func readDevice(t *testing.T, n *scan.Node) []byte {
	t.Helper()
	d := n.Device()
	b := make([]byte, d.Size())
	if _, err := d.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatalf("%s: %v", n.ID, err)
	}
	return b
}

func mdNode(t *testing.T, res *scan.Result) *scan.Node {
	t.Helper()
	if len(res.MDNodes) != 1 {
		var ids []string
		for _, d := range res.Devices() {
			ids = append(ids, d.ID+"("+d.Kind+")")
		}
		t.Fatalf("%d md arrays; devices %v; problems %v", len(res.MDNodes), ids, res.AllProblems())
	}
	return res.MDNodes[0]
}

// checkMDFixture scans the given member images of an md fixture and
// checks the array's bytes, its description, and every LV's bytes
// against the manifest.
func checkMDFixture(t *testing.T, f *fixture.Fixture, m mdManifest, images []string, inputs []*scan.Input) {
	t.Helper()
	res := Scan(inputs, scan.Options{})
	want := m.MDArrays[0]
	n := mdNode(t, res)
	a := n.Array
	if n.Kind != scan.KindMD || a.UUID != want.UUID || a.Level != want.Level || a.Metadata != want.Metadata ||
		a.RaidDisks != want.RaidDisks || (want.Level != "raid1" && a.ChunkSize != want.Chunk) ||
		(want.Level == "raid5" && a.Layout != want.Layout) {
		t.Errorf("array %s: %s %s uuid %s metadata %s %d roles chunk %d; want %s %s %s %d %d", n.ID, a.Level, a.Layout, a.UUID, a.Metadata,
			a.RaidDisks, a.ChunkSize, want.Level, want.UUID, want.Metadata, want.RaidDisks, want.Chunk)
	}
	if n.ID != "md:"+want.Name {
		t.Errorf("array id %s, want md:%s", n.ID, want.Name)
	}
	var missing []int
	for _, mem := range want.Members {
		given := false
		for _, im := range images {
			given = given || im == mem.Image
		}
		if !given {
			missing = append(missing, mem.Role)
		}
	}
	if fmt.Sprint(a.MissingRoles) != fmt.Sprint(missing) || a.Degraded != (len(missing) > 0) {
		t.Errorf("missing roles %v degraded %v, want %v", a.MissingRoles, a.Degraded, missing)
	}
	if len(n.Parents) != len(images) {
		t.Errorf("parents %v, want %d members", n.Parents, len(images))
	}
	if n.Device() == nil {
		t.Fatalf("array not readable: %v", n.Problems)
	}
	if n.Size != want.Size {
		t.Errorf("array size %d, want %d", n.Size, want.Size)
	}
	if got := sha256hex(readDevice(t, n)); got != want.SHA256 {
		t.Errorf("array sha256 %s, want %s", got, want.SHA256)
	}
	for _, lv := range m.LVs {
		if lv.Hidden {
			continue
		}
		var vg *scan.VG
		for _, v := range res.VGs {
			if v.Meta != nil && v.Meta.Name == lv.VG {
				vg = v
			}
		}
		if vg == nil {
			t.Errorf("no VG %s on the array (problems %v)", lv.VG, res.AllProblems())
			continue
		}
		src, err := forScan(vg).OpenLV(vg.Meta.LV(lv.Name))
		if err != nil {
			t.Errorf("%s/%s: %v", lv.VG, lv.Name, err)
			continue
		}
		d := NewDevice(src, lv.Name)
		b := make([]byte, d.Size())
		if _, err := d.ReadAt(b, 0); err != nil {
			t.Errorf("%s/%s: %v", lv.VG, lv.Name, err)
			continue
		}
		if got := sha256hex(b); got != lv.SHA256 {
			t.Errorf("%s/%s sha256 %s, want %s", lv.VG, lv.Name, got, lv.SHA256)
		}
	}
	// The members' own PV labels (0.90 and 1.0 members show the array's
	// first sectors) are not PVs of their own.
	for _, pv := range res.PVs {
		if pv.Input.Node.Kind != scan.KindMD {
			t.Errorf("PV %s found on %s, not on the array", pv.UUID(), pv.Input.Node.ID)
		}
	}
}

func memberInputs(t *testing.T, f *fixture.Fixture, images []string) []*scan.Input {
	var ins []*scan.Input
	for _, im := range images {
		b := f.Image(t, im)
		ins = append(ins, scan.NewInput(im+".img", bytes.NewReader(b), int64(len(b))))
	}
	return ins
}

// Every md fixture, with all members and with each member left out
// that the level can do without: the same array bytes and LV bytes.
func TestMDFixtures(t *testing.T) {
	cases := map[string][][]string{
		"md-raid5":     {{"m0", "m1", "m2"}, {"m0", "m2"}, {"m1", "m2"}, {"m0", "m1"}},
		"md-raid1":     {{"m0", "m1"}, {"m0"}, {"m1"}},
		"md-090-raid1": {{"d0", "d1"}, {"d0"}, {"d1"}},
	}
	for name, sets := range cases {
		for _, images := range sets {
			t.Run(name+"/"+strings.Join(images, "+"), func(t *testing.T) {
				f := fixture.Load(t, name)
				m := loadMD(t, f)
				checkMDFixture(t, f, m, images, memberInputs(t, f, images))
			})
		}
	}
}

// md-raid1 from its container copies: m0 as VDI (in testdata), m1 as
// raw or, when the shared fixtures are at hand, as E01.
func TestMDFromContainers(t *testing.T) {
	f := fixture.Load(t, "md-raid1")
	m := loadMD(t, f)
	dir := t.TempDir()
	vdi, err := fixture.Gunzip(filepath.Join(fixture.TestdataDir(), "fixtures", "containers", "md-raid1-m0.vdi.gz"))
	if err != nil {
		t.Skip(err)
	}
	p0 := filepath.Join(dir, "m0.vdi")
	if err := os.WriteFile(p0, vdi, 0o444); err != nil {
		t.Fatal(err)
	}
	paths := []string{p0}
	e01 := filepath.Join(fixture.Root(), "..", "..", "..", "shared", "fixtures", "containers", "md-raid1-m1.E01.gz")
	if b, err := fixture.Gunzip(e01); err == nil {
		p1 := filepath.Join(dir, "m1.E01")
		if err := os.WriteFile(p1, b, 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p1)
	} else {
		p1 := filepath.Join(dir, "m1.img")
		if err := os.WriteFile(p1, f.Image(t, "m1"), 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p1)
	}
	var ins []*scan.Input
	for _, p := range paths {
		in, err := scan.Open(scan.ReadOnlyOSFs(), p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		ins = append(ins, in)
	}
	checkMDFixture(t, f, m, []string{"m0", "m1"}, ins)
	for _, in := range ins {
		if in.File == nil {
			t.Logf("%s read as raw", in.Path)
		}
	}
}

// setSum1 recomputes the checksum of the 1.x superblock at sb
// (md-raid.md §3.3).
func setSum1(sb []byte) {
	le := binary.LittleEndian
	l := 256 + 2*int(le.Uint32(sb[220:]))
	le.PutUint32(sb[216:], 0)
	var sum uint64
	for i := 0; i+4 <= l; i += 4 {
		sum += uint64(le.Uint32(sb[i:]))
	}
	if l%4 != 0 {
		sum += uint64(le.Uint16(sb[l-2:]))
	}
	le.PutUint32(sb[216:], uint32(sum&0xffffffff+sum>>32))
}

// A bad-block log entry on a member is a read error there: the range is
// rebuilt from parity, not read (the member's bytes there are garbage
// here), and the array's bytes are still the manifest's.
func TestMDBadBlocks(t *testing.T) {
	f := fixture.Load(t, "md-raid5")
	m := loadMD(t, f)
	imgs := map[string][]byte{}
	for _, im := range []string{"m0", "m1", "m2"} {
		imgs[im] = f.Image(t, im)
	}
	m0 := imgs["m0"]
	le := binary.LittleEndian
	sb := m0[4096:]
	dataOff := int64(le.Uint64(sb[128:])) // sectors
	logAt := 4096 + int64(int32(le.Uint32(sb[188:])))*512
	if le.Uint16(sb[186:]) == 0 {
		t.Fatal("the fixture's member has no bad-block log")
	}
	// Sectors 128..255 of the data area (chunk 1 of role 0): garbage on
	// the member, listed in its log.
	start := dataOff + 128
	le.PutUint64(m0[logAt:], uint64(start)<<10|128)
	le.PutUint64(m0[logAt+8:], ^uint64(0))
	for i := start * 512; i < (start+128)*512; i++ {
		m0[i] = 0xA5
	}
	le.PutUint32(sb[8:], le.Uint32(sb[8:])|0x8)
	setSum1(sb)
	var ins []*scan.Input
	for _, im := range []string{"m0", "m1", "m2"} {
		ins = append(ins, scan.NewInput(im+".img", bytes.NewReader(imgs[im]), int64(len(imgs[im]))))
	}
	res := Scan(ins, scan.Options{})
	n := mdNode(t, res)
	if n.Device() == nil {
		t.Fatalf("array not read: %v", n.Problems)
	}
	for _, mem := range n.Array.Members {
		if mem.Role == 0 && (len(mem.BadBlocks) != 1 || mem.BadBlocks[0].Start != start*512 || mem.BadBlocks[0].Len != 128*512) {
			t.Errorf("role 0 bad blocks %v, want [%d, +%d)", mem.BadBlocks, start*512, 128*512)
		}
	}
	if got := sha256hex(readDevice(t, n)); got != m.MDArrays[0].SHA256 {
		t.Errorf("array sha256 %s, want %s: the bad range was read", got, m.MDArrays[0].SHA256)
	}
	if _, err := n.Device().ReadAt(make([]byte, 64<<10), 3*64<<10); err != nil {
		t.Errorf("chunk 3: %v", err)
	}
	// Without the other members the range has no source: an error, not
	// the garbage.
	res = Scan([]*scan.Input{scan.NewInput("m0.img", bytes.NewReader(m0), int64(len(m0))),
		scan.NewInput("m2.img", bytes.NewReader(imgs["m2"]), int64(len(imgs["m2"])))}, scan.Options{})
	n = mdNode(t, res)
	// Role 0's device chunk row 1 is array chunk 3 (left-symmetric, 3
	// roles: stripe 1 has P on role 1, data on roles 2 and 0).
	buf := make([]byte, 64<<10)
	if _, err := n.Device().ReadAt(buf, 3*64<<10); err == nil {
		t.Error("a range in the bad-block log with its parity member missing was read")
	}
}

// A crafted array name (control bytes, slashes) does not become a device
// id: the array is named by its UUID.
func TestMDCraftedName(t *testing.T) {
	f := fixture.Load(t, "md-raid5")
	m := loadMD(t, f)
	var ins []*scan.Input
	for _, im := range []string{"m0", "m2"} {
		b := f.Image(t, im)
		sb := b[4096:]
		copy(sb[32:64], make([]byte, 32))
		copy(sb[32:64], "host:\x1b[31m../x")
		setSum1(sb)
		ins = append(ins, scan.NewInput(im+".img", bytes.NewReader(b), int64(len(b))))
	}
	n := mdNode(t, Scan(ins, scan.Options{}))
	if n.ID != "md:"+m.MDArrays[0].UUID {
		t.Errorf("id %q, want md:%s", n.ID, m.MDArrays[0].UUID)
	}
	if n.Device() == nil {
		t.Errorf("the array is not read: %v", n.Problems)
	}
}
