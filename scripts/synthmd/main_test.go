package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan/md"
)

// memFile is a member image in memory.
type memFile []byte

func (m memFile) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(m)) {
		return 0, fmt.Errorf("write of %d bytes at %d outside %d bytes", len(b), off, len(m))
	}
	return copy(m[off:], b), nil
}

// destripe reads the array back out of member images with Place.
func destripe(g *Geometry, members [][]byte) []byte {
	out := make([]byte, 0, g.ArraySize)
	roles := make([]int, g.D)
	for s := range g.Rows {
		g.Place(s, roles)
		for _, r := range roles {
			o := g.DataOffset + s*g.Unit
			out = append(out, members[r][o:o+g.Unit]...)
		}
	}
	return out
}

// writeMem runs Write into images in memory.
func writeMem(t *testing.T, p Params, g *Geometry, array []byte) [][]byte {
	t.Helper()
	mem := make([][]byte, g.N)
	dst := make([]io.WriterAt, g.N)
	for r := range mem {
		mem[r] = make([]byte, g.MemberSize)
		dst[r] = memFile(mem[r])
	}
	if err := Write(bytes.NewReader(array), p, g, dst); err != nil {
		t.Fatal(err)
	}
	return mem
}

// The placement pictures of segment-mapping.md 4.4 for 4 images, rows =
// stripes 0..3, one string per layout: the chunk on each image.
func TestPlacePictures(t *testing.T) {
	pics := []struct {
		level, layout int
		rows          []string
	}{
		{5, 2, []string{"D0 D1 D2 P", "D4 D5 P D3", "D8 P D6 D7", "P D9 D10 D11"}},
		{5, 3, []string{"P D0 D1 D2", "D5 P D3 D4", "D7 D8 P D6", "D9 D10 D11 P"}},
		{5, 0, []string{"D0 D1 D2 P", "D3 D4 P D5", "D6 P D7 D8", "P D9 D10 D11"}},
		{5, 1, []string{"P D0 D1 D2", "D3 P D4 D5", "D6 D7 P D8", "D9 D10 D11 P"}},
		{5, 4, []string{"P D0 D1 D2", "P D3 D4 D5", "P D6 D7 D8", "P D9 D10 D11"}},
		{5, 5, []string{"D0 D1 D2 P", "D3 D4 D5 P", "D6 D7 D8 P", "D9 D10 D11 P"}},
		{4, 0, []string{"D0 D1 D2 P", "D3 D4 D5 P", "D6 D7 D8 P", "D9 D10 D11 P"}},
		{0, 0, []string{"D0 D1 D2 D3", "D4 D5 D6 D7", "D8 D9 D10 D11", "D12 D13 D14 D15"}},
	}
	for _, pc := range pics {
		g, err := NewGeometry(Params{Level: pc.level, Layout: pc.layout, Members: 4, Chunk: 4096, Metadata: "1.2", DataOffset: 8192}, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		roles := make([]int, g.D)
		for s, want := range pc.rows {
			cells := make([]string, g.N)
			if p := g.Place(int64(s), roles); p >= 0 {
				cells[p] = "P"
			}
			for j, r := range roles {
				if cells[r] != "" {
					t.Fatalf("raid%d layout %d stripe %d: role %d holds two chunks", pc.level, pc.layout, s, r)
				}
				cells[r] = fmt.Sprintf("D%d", s*g.D+j)
			}
			if got := strings.Join(cells, " "); got != want {
				t.Errorf("raid%d layout %d stripe %d: %s, want %s", pc.level, pc.layout, s, got, want)
			}
		}
	}
}

// mdManifest is the md part of a fixture's manifest.json.
type mdManifest struct {
	MDArrays []struct {
		UUID       string `json:"uuid"`
		ArrayName  string `json:"array_name"`
		RaidDisks  int    `json:"raid_disks"`
		ChunkBytes int64  `json:"chunk_bytes"`
		LayoutNum  int    `json:"layout_number"`
		SizeBytes  int64  `json:"size_bytes"`
		SHA256     string `json:"sha256"`
		Members    []struct {
			Image string `json:"image"`
			Role  int    `json:"role"`
		} `json:"members"`
	} `json:"md_arrays"`
}

// fixtureArray loads an md fixture's members in role order, their
// superblocks and the manifest; it skips the test when the fixture is
// absent.
func fixtureArray(t *testing.T, name string) ([][]byte, []*md.Superblock, mdManifest) {
	t.Helper()
	dir := filepath.Join(fixture.TestdataDir(), "fixtures", name)
	var man mdManifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if os.IsNotExist(err) {
		t.Skipf("fixture %s is absent", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.MDArrays) != 1 {
		t.Fatalf("%s: %d md arrays in the manifest", name, len(man.MDArrays))
	}
	a := man.MDArrays[0]
	imgs := make([][]byte, a.RaidDisks)
	sbs := make([]*md.Superblock, a.RaidDisks)
	for _, m := range a.Members {
		p := filepath.Join(dir, m.Image+".img.gz")
		if _, err := os.Stat(p); os.IsNotExist(err) {
			t.Skipf("fixture %s: %s is absent", name, p)
		}
		img, err := fixture.Gunzip(p)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := md.Probe(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatalf("%s %s: %v", name, m.Image, err)
		}
		if sb.Role != m.Role || m.Role < 0 || m.Role >= a.RaidDisks || imgs[m.Role] != nil {
			t.Fatalf("%s %s: superblock role %d, manifest role %d", name, m.Image, sb.Role, m.Role)
		}
		imgs[m.Role], sbs[m.Role] = img, sb
	}
	return imgs, sbs, man
}

// paramsOf is what the fixture's superblocks say, as Params.
func paramsOf(sbs []*md.Superblock) Params {
	sb := sbs[0]
	p := Params{Level: int(sb.Level), Layout: int(sb.Layout), Members: int(sb.RaidDisks), Chunk: sb.ChunkSize,
		Metadata: sb.Version, DataOffset: sb.DataOffset, UUID: sb.UUID, Name: sb.Name,
		CTime: sb.CTime, UTime: sb.UTime, Events: sb.Events}
	for _, s := range sbs {
		p.DevUUIDs = append(p.DevUUIDs, s.DevUUID)
		p.DevNumbers = append(p.DevNumbers, int(s.DevNumber))
	}
	return p
}

// checkAgainst compares written members with the fixture's: data areas
// byte for byte, the decoded superblocks field by field, and the whole
// images (the superblock included, everything taken from the fixture's).
func checkAgainst(t *testing.T, g *Geometry, got, want [][]byte, sbs []*md.Superblock) {
	t.Helper()
	for r := range got {
		fsb := sbs[r]
		if int64(len(want[r])) < fsb.DataOffset+fsb.Size {
			t.Fatalf("role %d: fixture member of %d bytes, data area ends at %d", r, len(want[r]), fsb.DataOffset+fsb.Size)
		}
		a, b := got[r][g.DataOffset:g.DataOffset+g.MemberData], want[r][fsb.DataOffset:fsb.DataOffset+fsb.Size]
		if g.DataOffset != fsb.DataOffset || !bytes.Equal(a, b) {
			t.Errorf("role %d: data area differs from the fixture member's (first difference at data byte %d)", r, firstDiff(a, b))
		}
		sb, err := md.Probe(bytes.NewReader(got[r]), int64(len(got[r])))
		if err != nil {
			t.Fatalf("role %d: md.Probe: %v", r, err)
		}
		if !sb.ChecksumOK || !sb.Clean || len(sb.Warnings) != 0 || len(sb.Others) != 0 {
			t.Errorf("role %d: checksum ok %v, clean %v, warnings %q, %d other superblocks", r, sb.ChecksumOK, sb.Clean, sb.Warnings, len(sb.Others))
		}
		type fields struct {
			Version                                    string
			Level                                      int32
			Layout, RaidDisks, DevNumber, FeatureMap   uint32
			ChunkSize, Size, DataOffset, DataSize, Off int64
			SuperOffset                                int64
			Role                                       int
			UUID, DevUUID                              [16]byte
			Name                                       string
			CTime, UTime                               time.Time
			Events, ResyncOffset                       uint64
			BadBlocks                                  md.BadBlockLog
			DevRoles                                   string
		}
		f := func(s *md.Superblock) fields {
			return fields{s.Version, s.Level, s.Layout, s.RaidDisks, s.DevNumber, s.FeatureMap, s.ChunkSize, s.Size, s.DataOffset, s.DataSize, s.Offset,
				s.SuperOffset, s.Role, s.UUID, s.DevUUID, s.Name, s.CTime, s.UTime, s.Events, s.ResyncOffset, s.BadBlocks, fmt.Sprint(s.DevRoles)}
		}
		if f(sb) != f(fsb) {
			t.Errorf("role %d: superblock\n%+v\nwant (the fixture's)\n%+v", r, f(sb), f(fsb))
		}
		if len(got[r]) != len(want[r]) || !bytes.Equal(got[r], want[r]) {
			t.Errorf("role %d: member image of %d bytes differs from the fixture's %d bytes at byte %d", r, len(got[r]), len(want[r]), firstDiff(got[r], want[r]))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFixtureRAID5 de-stripes the md-raid5 fixture (made by mdadm) with
// Place, checks the array's sha256 against the manifest, writes the array
// again with the fixture's parameters and compares with mdadm's members.
func TestFixtureRAID5(t *testing.T) {
	imgs, sbs, man := fixtureArray(t, "md-raid5")
	a := man.MDArrays[0]
	p := paramsOf(sbs)
	if p.Level != 5 || p.Layout != 2 || p.Chunk != a.ChunkBytes || p.Members != 3 || p.Metadata != "1.2" {
		t.Fatalf("fixture: level %d layout %d chunk %d members %d metadata %s", p.Level, p.Layout, p.Chunk, p.Members, p.Metadata)
	}
	if p.Name != a.ArrayName || md.UUIDText1(p.UUID) != a.UUID {
		t.Fatalf("fixture: name %q uuid %s, manifest %q %s", p.Name, md.UUIDText1(p.UUID), a.ArrayName, a.UUID)
	}
	// The geometry of an input of exactly the array's size.
	g, err := NewGeometry(p, sbs[0].Size*int64(p.Members-1))
	if err != nil {
		t.Fatal(err)
	}
	if g.ArraySize != a.SizeBytes || g.MemberData != sbs[0].Size || g.MemberSize != int64(len(imgs[0])) {
		t.Fatalf("array %d bytes, members %d+%d bytes; fixture: array %d, member data %d, image %d",
			g.ArraySize, g.DataOffset, g.MemberData, a.SizeBytes, sbs[0].Size, len(imgs[0]))
	}
	array := destripe(g, imgs)
	if h := sha256.Sum256(array); hex.EncodeToString(h[:]) != a.SHA256 {
		t.Fatalf("de-striped array sha256 %x, manifest %s", h, a.SHA256)
	}
	checkAgainst(t, g, writeMem(t, p, g, array), imgs, sbs)
}

// TestFixtureRAID1 does the same with the md-raid1 fixture.
func TestFixtureRAID1(t *testing.T) {
	imgs, sbs, man := fixtureArray(t, "md-raid1")
	a := man.MDArrays[0]
	p := paramsOf(sbs)
	if p.Level != 1 || p.Members != 2 || p.Metadata != "1.2" {
		t.Fatalf("fixture: level %d members %d metadata %s", p.Level, p.Members, p.Metadata)
	}
	g, err := NewGeometry(p, sbs[0].Size)
	if err != nil {
		t.Fatal(err)
	}
	if g.ArraySize != a.SizeBytes || g.MemberSize != int64(len(imgs[0])) {
		t.Fatalf("array %d bytes, member %d; fixture: array %d, image %d", g.ArraySize, g.MemberSize, a.SizeBytes, len(imgs[0]))
	}
	array := destripe(g, imgs[:1])
	if h := sha256.Sum256(array); hex.EncodeToString(h[:]) != a.SHA256 {
		t.Fatalf("role 0's data area has sha256 %x, the manifest's array %s", h, a.SHA256)
	}
	checkAgainst(t, g, writeMem(t, p, g, array), imgs, sbs)
}

// TestRoundTrip writes random arrays of every level, layout and metadata
// version, probes every member and reads the array back: from all
// members, and for raid1/4/5 with each member left out (rebuilt from the
// others), which also checks the parity.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	defer func(b int64) { batchBytes = b }(batchBytes)
	batchBytes = 64 << 10 // many batches, the slots reused
	type tc struct{ level, layout, members int }
	var cases []tc
	for l := range 6 {
		cases = append(cases, tc{5, l, 4}, tc{5, l, 3})
	}
	cases = append(cases, tc{5, 2, 2}, tc{4, 0, 3}, tc{0, 0, 3}, tc{1, 0, 2}, tc{1, 0, 3})
	for _, c := range cases {
		for _, meta := range []string{"1.0", "1.1", "1.2"} {
			name := fmt.Sprintf("raid%d-layout%d-n%d-%s", c.level, c.layout, c.members, meta)
			t.Run(name, func(t *testing.T) {
				p := Params{Level: c.level, Layout: c.layout, Members: c.members, Chunk: 8192, Metadata: meta,
					Name: "test:" + name[:min(len(name), 20)], Events: 5, CTime: time.Unix(1796163036, 123456000)}
				p.UTime = p.CTime.Add(time.Second)
				fill(rng, p.UUID[:])
				if meta != "1.0" {
					p.DataOffset = 64 << 10
				}
				// enough rows for several batches, and a ragged tail
				in := make([]byte, 11*batchBytes+12345)
				fill(rng, in)
				g, err := NewGeometry(p, int64(len(in)))
				if err != nil {
					t.Fatal(err)
				}
				if want := int64(len(in)) / (int64(g.D) * g.Unit) * int64(g.D) * g.Unit; g.ArraySize != want {
					t.Fatalf("array %d bytes, want %d", g.ArraySize, want)
				}
				mem := writeMem(t, p, g, in)
				for r, m := range mem {
					sb, err := md.Probe(bytes.NewReader(m), int64(len(m)))
					if err != nil {
						t.Fatalf("role %d: %v", r, err)
					}
					if sb.Version != meta || sb.Level != int32(c.level) || sb.Layout != uint32(c.layout) || sb.RaidDisks != uint32(c.members) ||
						sb.Role != r || sb.DataOffset != g.DataOffset || sb.DataSize != g.MemberData || sb.Offset != g.SuperOffset ||
						sb.UUID != p.UUID || sb.Name != p.Name || !sb.Clean || !sb.CTime.Equal(p.CTime) || !sb.UTime.Equal(p.UTime) ||
						len(sb.Warnings) != 0 || sb.LayoutError != "" {
						t.Fatalf("role %d: superblock %+v", r, sb)
					}
					switch c.level {
					case 0:
						if sb.Size != 0 || sb.ChunkSize != p.Chunk {
							t.Fatalf("role %d: size %d chunk %d", r, sb.Size, sb.ChunkSize)
						}
					case 1:
						if sb.Size != g.MemberData || sb.ChunkSize != 0 {
							t.Fatalf("role %d: size %d chunk %d", r, sb.Size, sb.ChunkSize)
						}
					default:
						if sb.Size != g.MemberData || sb.ChunkSize != p.Chunk {
							t.Fatalf("role %d: size %d chunk %d", r, sb.Size, sb.ChunkSize)
						}
					}
				}
				if c.level == 1 {
					for r := range mem {
						if !bytes.Equal(mem[r][g.DataOffset:g.DataOffset+g.MemberData], in[:g.ArraySize]) {
							t.Fatalf("role %d: data area is not the array", r)
						}
					}
					return
				}
				if !bytes.Equal(destripe(g, mem), in[:g.ArraySize]) {
					t.Fatal("the members do not read back as the array")
				}
				if c.level == 0 {
					return
				}
				for miss := range mem {
					// rebuild role miss as the XOR of the others
					rebuilt := make([][]byte, len(mem))
					copy(rebuilt, mem)
					x := make([]byte, len(mem[miss]))
					for r, m := range mem {
						if r != miss {
							subtle.XORBytes(x, x, m)
						}
					}
					rebuilt[miss] = x
					if !bytes.Equal(destripe(g, rebuilt), in[:g.ArraySize]) {
						t.Fatalf("without role %d the parity does not rebuild the array", miss)
					}
				}
			})
		}
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func TestRefused(t *testing.T) {
	base := Params{Level: 5, Layout: 2, Members: 3, Chunk: 64 << 10, Metadata: "1.2", DataOffset: 1 << 20}
	if _, err := NewGeometry(base, 128<<10-1); err == nil {
		t.Error("an input smaller than one stripe row was accepted")
	}
	if g, err := NewGeometry(base, 128<<10); err != nil || g.Rows != 1 {
		t.Errorf("one stripe row: %v", err)
	}
	for name, mod := range map[string]func(*Params){
		"layout 6":         func(p *Params) { p.Layout = 6 },
		"level 6":          func(p *Params) { p.Level = 6 },
		"chunk 3 KiB":      func(p *Params) { p.Chunk = 3 << 10 },
		"chunk 96 KiB":     func(p *Params) { p.Chunk = 96 << 10 },
		"one member":       func(p *Params) { p.Members = 1 },
		"data offset 4096": func(p *Params) { p.DataOffset = 4096 },
		"data offset odd":  func(p *Params) { p.DataOffset = 1<<20 + 1 },
		"metadata 0.90":    func(p *Params) { p.Metadata = "0.90" },
		"1.0 data offset":  func(p *Params) { p.Metadata = "1.0" },
		"long name":        func(p *Params) { p.Name = strings.Repeat("x", 33) },
		"raid4 layout 2":   func(p *Params) { p.Level = 4 },
	} {
		p := base
		mod(&p)
		if _, err := NewGeometry(p, 64<<20); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestWriteError: a failing member output stops the write with its error
// (no deadlock with the other members' goroutines).
func TestWriteError(t *testing.T) {
	p := Params{Level: 5, Layout: 2, Members: 3, Chunk: 64 << 10, Metadata: "1.2", DataOffset: 1 << 20}
	in := make([]byte, 8*batchBytes)
	g, err := NewGeometry(p, int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	dst := []io.WriterAt{memFile(make([]byte, g.MemberSize)), memFile(make([]byte, g.MemberSize)), memFile(make([]byte, g.DataOffset+batchBytes))}
	if err := Write(bytes.NewReader(in), p, g, dst); err == nil || !strings.Contains(err.Error(), "member 2") {
		t.Fatalf("error %v, want one of member 2", err)
	}
	dst[2] = memFile(make([]byte, g.MemberSize))
	if err := Write(bytes.NewReader(in[:len(in)/2]), p, g, dst); err == nil || !strings.Contains(err.Error(), "reading the array") {
		t.Fatalf("short input: error %v", err)
	}
}
