package md

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// fuzzDevice places data at the superblock location of the version
// chosen by where, in a device of a size that follows from it.
func fuzzDevice(data []byte, where uint8, extra uint16) (*sparse, int64) {
	var off, size int64
	switch where % 4 {
	case 0: // 1.1
		size = 8192 + int64(extra)
	case 1: // 1.2
		off, size = 4096, 12288+int64(extra)
	case 2: // 1.0
		size = 16*512 + int64(extra)*8
		n := size / 512
		off = ((n - 16) - (n-16)%8) * 512
	default: // 0.90
		size = 2*65536 + int64(extra)
		off = size - size%65536 - 65536
	}
	return &sparse{size: size, pieces: map[int64][]byte{off: data}}, size
}

func fuzzSeeds(f *testing.F) {
	for _, name := range fxNames {
		fx := loadFx(f, name)
		for _, m := range fx.members {
			where := uint8(1)
			if m.sb.Version == "0.90" {
				where = 3
			}
			f.Add(m.sb.raw, where, uint16(0))
		}
	}
	f.Add(sb1{minor: "1", level: 0, layout: 1, chunk: 32, sectors: 16}.bytes(), uint8(0), uint16(0))
	f.Add(sb1{minor: "0", level: 6, layout: 2, chunk: 128, raidDisks: 4, sectors: 16 + 4000}.bytes(), uint8(2), uint16(500))
	f.Add(sb1{minor: "2", level: 10, layout: 0x10201, raidDisks: 3, features: FeatureReshape | FeatureBitmap}.bytes(), uint8(1), uint16(0))
}

// FuzzSuperblock: Probe, Structure and JSON never panic and read a
// bounded amount.
func FuzzSuperblock(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, where uint8, extra uint16) {
		if len(data) > 8192 {
			return
		}
		// Fix the checksum half of the time so that the decoder gets past it.
		if where&4 != 0 && len(data) >= 256 {
			if where%4 == 3 && len(data) >= 4096 {
				if binary.BigEndian.Uint32(data) == Magic {
					fixChecksum(data, "0.90", binary.BigEndian)
				} else {
					fixChecksum(data, "0.90", binary.LittleEndian)
				}
			} else if md := binary.LittleEndian.Uint32(data[220:]); md <= MaxDev && 256+2*int(md) <= len(data) {
				fixChecksum(data, "1.2", nil)
			}
		}
		dev, size := fuzzDevice(data, where, extra)
		sb, _ := Probe(dev, size)
		for _, c := range append([]*Superblock{sb}, othersOf(sb)...) {
			if c == nil {
				continue
			}
			st := c.Structure()
			for _, fl := range st.Fields {
				if fl.Off < c.Offset || fl.Off+int64(fl.Len) > c.Offset+int64(c.Length) {
					t.Fatalf("field %s at %d+%d outside %d+%d", fl.Name, fl.Off, fl.Len, c.Offset, c.Length)
				}
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatal(err)
			}
			if c.Valid() && (len(c.DevRoles) > MaxDev || len(c.Disks) > sb090Disks) {
				t.Fatal("unbounded table")
			}
		}
		if sb != nil {
			a := Assemble([]Member{{"a", sb}, {"b", sb}})
			if _, err := json.Marshal(a); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func othersOf(sb *Superblock) []*Superblock {
	if sb == nil {
		return nil
	}
	return sb.Others
}

// FuzzAssemble: members made from up to four fuzzed 1.2 superblocks
// (checksums fixed), each repeated, never make Assemble panic.
func FuzzAssemble(f *testing.F) {
	fx := loadFx(f, "md-raid5")
	var all []byte
	for _, m := range fx.members {
		all = append(all, m.sb.raw...)
	}
	f.Add(all, uint8(1), uint16(3))
	f.Add(all[:len(fx.members[0].sb.raw)], uint8(3), uint16(0x0101))
	f.Fuzz(func(t *testing.T, data []byte, repeat uint8, mods uint16) {
		const n = 512
		var ms []Member
		for i := 0; i+n <= len(data) && i < 4*n; i += n {
			b := make([]byte, n)
			copy(b, data[i:i+n])
			// Keep the superblock decodable: magic, version, a small table.
			le := binary.LittleEndian
			le.PutUint32(b, Magic)
			le.PutUint32(b[4:], 1)
			le.PutUint32(b[220:], le.Uint32(b[220:])%128)
			le.PutUint64(b[144:], 8)
			if mods&1 != 0 {
				le.PutUint64(b[128:], 2048)
			}
			if mods&2 != 0 {
				copy(b[16:32], data[:min(16, len(data))])
			}
			fixChecksum(b, "1.2", nil)
			sb := Decode(b, 4096, "1.2", 1<<24)
			if sb == nil {
				t.Fatal("not decoded")
			}
			for range int(repeat%8) + 1 {
				ms = append(ms, Member{Name: "m", SB: sb})
			}
		}
		for _, a := range Assemble(ms) {
			if len(a.MissingRoles) > a.RaidDisks || len(a.Problems) > maxProblems+2 {
				t.Fatalf("unbounded: %+v", a)
			}
			for _, r := range a.RoleMembers {
				if r >= len(a.Members) {
					t.Fatal("role member out of range")
				}
			}
			if _, err := json.Marshal(a); err != nil {
				t.Fatal(err)
			}
		}
	})
}
