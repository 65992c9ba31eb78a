package raid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/md"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// mdFixture is an md fixture's array: its members' bytes and superblocks,
// and the manifest's oracle.
type mdFixture struct {
	devs   map[string][]byte // member name -> member bytes
	array  *md.Array
	sha256 string
	size   int64
	names  []string // member names in manifest order
}

func loadMDFixture(t *testing.T, name string) *mdFixture {
	t.Helper()
	f := fixture.Load(t, name)
	var man struct {
		MDArrays []struct {
			SHA256    string `json:"sha256"`
			SizeBytes int64  `json:"size_bytes"`
			Members   []struct {
				Image     string `json:"image"`
				Partition int    `json:"partition"`
				Offset    int64  `json:"offset_bytes"`
				DevSize   int64  `json:"device_size_bytes"`
			} `json:"members"`
		} `json:"md_arrays"`
	}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &man); err != nil {
		t.Fatal(err)
	}
	if len(man.MDArrays) != 1 {
		t.Fatalf("%s: %d md arrays in the manifest", name, len(man.MDArrays))
	}
	ma := man.MDArrays[0]
	fx := &mdFixture{devs: map[string][]byte{}, sha256: ma.SHA256, size: ma.SizeBytes}
	var members []md.Member
	for _, mm := range ma.Members {
		dev := f.Image(t, mm.Image)
		name := mm.Image
		if mm.Partition != 0 {
			tab, err := partition.Read(bytes.NewReader(dev), int64(len(dev)))
			if err != nil {
				t.Fatalf("%s: partition table: %v", mm.Image, err)
			}
			var p *partition.Partition
			for i := range tab.Partitions {
				if tab.Partitions[i].Index == mm.Partition {
					p = &tab.Partitions[i]
				}
			}
			if p == nil || p.Start != mm.Offset || p.Size != mm.DevSize {
				t.Fatalf("%s: partition %d not as the manifest says: %+v", mm.Image, mm.Partition, tab.Partitions)
			}
			dev = dev[p.Start:p.End()]
			name = fmt.Sprintf("%sp%d", mm.Image, mm.Partition)
		}
		sb, err := md.Probe(bytes.NewReader(dev), int64(len(dev)))
		if err != nil || !sb.Valid() {
			t.Fatalf("%s %s: superblock: %v", fx.sha256, name, err)
		}
		fx.devs[name] = dev
		fx.names = append(fx.names, name)
		members = append(members, md.Member{Name: name, SB: sb})
	}
	arrays := md.Assemble(members)
	if len(arrays) != 1 || arrays[0].Refused != "" {
		t.Fatalf("%s: assembled %d arrays: %+v", name, len(arrays), arrays)
	}
	fx.array = arrays[0]
	return fx
}

// spec describes the array for OpenMD without the members in without.
func (fx *mdFixture) spec(without map[string]bool) MDArray {
	a := fx.array
	s := MDArray{Name: "md0", Level: a.LevelNumber, Layout: a.LayoutNumber, ChunkBytes: a.ChunkSize, Size: a.Size,
		Roles: make([]MDMember, a.RaidDisks), ResyncFrom: math.MaxInt64}
	for r := range s.Roles {
		s.Roles[r] = MDMember{Name: fmt.Sprintf("role %d", r)}
		j := a.RoleMembers[r]
		if j < 0 {
			continue
		}
		m := a.Members[j]
		if without[m.Device] {
			continue
		}
		dev := fx.devs[m.Device]
		s.Roles[r] = MDMember{Name: m.Device, Src: export.NewDeviceSource(device.Reader{R: bytes.NewReader(dev), N: int64(len(dev))}, m.Device),
			DataOffset: m.DataOffset, DataSize: m.DataSize}
	}
	return s
}

// The fixtures' arrays, made by mdadm and hashed by the kernel, read to
// the manifest's sha256: whole, and with each member left out.
func TestOpenMDFixtures(t *testing.T) {
	for _, name := range []string{"md-raid5", "md-raid1", "md-090-raid1"} {
		fx := loadMDFixture(t, name)
		if len(fx.names) < 2 {
			t.Fatalf("%s: %d members", name, len(fx.names))
		}
		variants := []map[string]bool{{}}
		for _, n := range fx.names {
			variants = append(variants, map[string]bool{n: true})
		}
		for _, without := range variants {
			src, err := OpenMD(fx.spec(without))
			if err != nil {
				t.Fatalf("%s without %v: %v", name, without, err)
			}
			if src.Size() != fx.size {
				t.Fatalf("%s: array size %d, manifest %d", name, src.Size(), fx.size)
			}
			sum, runs := sourcetest.Hash(t, src, 4<<20)
			if m := sourcetest.Missing(runs); len(m) != 0 {
				t.Fatalf("%s without %v: missing %+v", name, without, m)
			}
			if sum != fx.sha256 {
				t.Errorf("%s without %v: sha256 %s, manifest %s", name, without, sum, fx.sha256)
			}
			red, err := src.Redundant(0, src.Size())
			if err != nil {
				t.Fatal(err)
			}
			// Left out, the last raid1 member is not missed: the first
			// one is read.
			if (len(without) == 0) != (len(red) == 0) && !(without[fx.names[len(fx.names)-1]] && fx.array.LevelNumber == 1) {
				t.Errorf("%s without %v: %d ranges read from redundancy", name, without, len(red))
			}
		}
	}
}

// md-raid5 with two members left out: the bytes of the missing roles are
// reported missing and cannot be read; the rest still reads.
func TestOpenMDFixtureRaid5TwoMissing(t *testing.T) {
	fx := loadMDFixture(t, "md-raid5")
	src, err := OpenMD(fx.spec(map[string]bool{fx.names[0]: true, fx.names[2]: true}))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := src.Runs(0, src.Size())
	if err != nil {
		t.Fatal(err)
	}
	var miss, data int64
	for _, r := range runs {
		switch r.Kind {
		case export.RunMissing:
			miss += r.Len
			if _, err := src.ReadAt(make([]byte, min(r.Len, 4096)), r.Off); err == nil {
				t.Fatalf("ReadAt of missing [%d, %d) did not fail", r.Off, r.End())
			}
		case export.RunData:
			data += r.Len
		}
	}
	// The member left holds P in one stripe of three and a data chunk
	// (of two) in the others: a third of the array.
	if miss != src.Size()/3*2 || data != src.Size()/3 {
		t.Errorf("missing %d, data %d of %d bytes", miss, data, src.Size())
	}
}
