package md

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// fxMember is one member of a fixture array: its bytes and where they
// are in the image.
type fxMember struct {
	image   string // image name in the manifest
	record  string // name in md/ (m0, d0p1)
	dev     []byte // the member's bytes
	imgOff  int64
	sb      *Superblock
	examine map[string]string
	export  map[string]string
}

type fxArray struct {
	f       *fixture.Fixture
	members []*fxMember
	man     struct {
		MDArrays []struct {
			UUID       string `json:"uuid"`
			ArrayName  string `json:"array_name"`
			Level      string `json:"level"`
			Metadata   string `json:"metadata_version"`
			RaidDisks  int    `json:"raid_disks"`
			ChunkBytes int64  `json:"chunk_bytes"`
			Layout     string `json:"layout"`
			LayoutNum  uint32 `json:"layout_number"`
			Component  int64  `json:"component_size_bytes"`
			SizeBytes  int64  `json:"size_bytes"`
			Members    []struct {
				Image      string `json:"image"`
				Partition  int    `json:"partition"`
				Offset     int64  `json:"offset_bytes"`
				DevSize    int64  `json:"device_size_bytes"`
				Role       int    `json:"role"`
				State      string `json:"state"`
				DataOffset int64  `json:"data_offset_bytes"`
				DataSize   int64  `json:"data_size_bytes"`
				SuperOff   int64  `json:"super_offset_bytes"`
				DevUUID    string `json:"device_uuid"`
			} `json:"members"`
		} `json:"md_arrays"`
	}
}

var fxNames = []string{"md-raid1", "md-raid5", "md-090-raid1"}

func loadFx(t testing.TB, name string) *fxArray {
	t.Helper()
	f := fixture.Load(t, name)
	fx := &fxArray{f: f}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &fx.man); err != nil {
		t.Fatal(err)
	}
	if len(fx.man.MDArrays) != 1 {
		t.Fatalf("%s: %d md arrays in the manifest", name, len(fx.man.MDArrays))
	}
	for _, mm := range fx.man.MDArrays[0].Members {
		img := f.Image(t, mm.Image)
		m := &fxMember{image: mm.Image, record: mm.Image, dev: img}
		if mm.Partition != 0 {
			tab, err := partition.Read(bytes.NewReader(img), int64(len(img)))
			if err != nil {
				t.Fatalf("%s: partition table: %v", mm.Image, err)
			}
			var p *partition.Partition
			for i := range tab.Partitions {
				if tab.Partitions[i].Index == mm.Partition {
					p = &tab.Partitions[i]
				}
			}
			if p == nil || p.Type != "0xfd" {
				t.Fatalf("%s: no partition %d of type fd: %+v", mm.Image, mm.Partition, tab.Partitions)
			}
			m.dev = img[p.Start:p.End()]
			m.imgOff = p.Start
			m.record = fmt.Sprintf("%sp%d", mm.Image, mm.Partition)
		}
		sb, err := Probe(bytes.NewReader(m.dev), int64(len(m.dev)))
		if err != nil {
			t.Fatalf("%s %s: %v", name, m.record, err)
		}
		m.sb = sb
		m.examine = parseExamine(string(f.ReadFile(t, "md/md0.examine."+m.record+".txt")))
		m.export = parseExport(string(f.ReadFile(t, "md/md0.examine-export."+m.record+".txt")))
		fx.members = append(fx.members, m)
	}
	return fx
}

func parseExport(s string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// parseExamine reads "Key : value" lines of mdadm --examine, and the
// descriptor table of 0.90 as "this" and "disk N".
func parseExamine(s string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	row := regexp.MustCompile(`^\s*(this|\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*?)\s+/dev/\S+$`)
	for sc.Scan() {
		l := sc.Text()
		if m := row.FindStringSubmatch(l); m != nil {
			k := "this"
			if m[1] != "this" {
				k = "disk " + m[1]
			}
			out[k] = strings.Join(m[2:7], " ")
			continue
		}
		if k, v, ok := strings.Cut(l, " : "); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func (fx *fxArray) assemble(skip int) []*Array {
	var ms []Member
	for i, m := range fx.members {
		if i != skip {
			ms = append(ms, Member{Name: m.record, SB: m.sb})
		}
	}
	return Assemble(ms)
}

// arraySize is md-raid.md §5.5 for the levels of the fixtures.
func arraySize(sb *Superblock) int64 {
	switch sb.Level {
	case 1:
		return sb.Size
	case 5:
		return sb.Size / sb.ChunkSize * sb.ChunkSize * int64(sb.RaidDisks-1)
	}
	return -1
}

func mdadmTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse("Mon Jan _2 15:04:05 2006", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestFixtureExamineExport checks every field mdadm --examine --export
// printed, for every member.
func TestFixtureExamineExport(t *testing.T) {
	for _, name := range fxNames {
		fx := loadFx(t, name)
		for _, m := range fx.members {
			sb, e := m.sb, m.export
			t.Run(name+"/"+m.record, func(t *testing.T) {
				want := map[string]string{
					"MD_LEVEL":   sb.LevelName,
					"MD_DEVICES": fmt.Sprint(sb.RaidDisks),
					"MD_UUID":    sb.UUIDText,
					"MD_EVENTS":  fmt.Sprint(sb.Events),
				}
				if sb.Version == "0.90" {
					// mdadm prints the creation time here for 0.90.
					want["MD_UPDATE_TIME"] = fmt.Sprint(sb.CTime.Unix())
				} else {
					want["MD_UPDATE_TIME"] = fmt.Sprint(sb.UTime.Unix())
					want["MD_NAME"] = sb.Name
					want["MD_DEV_UUID"] = sb.DevUUIDText
					want["MD_ARRAY_SIZE"] = fmt.Sprintf("%.2fMB", float64(arraySize(sb))/1e6)
				}
				for k, v := range e {
					if _, ok := want[k]; !ok {
						t.Errorf("%s=%s in the record is not checked", k, v)
					}
				}
				for k, v := range want {
					if e[k] != v {
						t.Errorf("%s: decoded %q, mdadm %q", k, v, e[k])
					}
				}
			})
		}
	}
}

// TestFixtureExamine checks the plain mdadm --examine text and the
// manifest's member records.
func TestFixtureExamine(t *testing.T) {
	for _, name := range fxNames {
		fx := loadFx(t, name)
		arr := fx.assemble(-1)
		if len(arr) != 1 {
			t.Fatalf("%s: %d arrays", name, len(arr))
		}
		state := ""
		for r := range arr[0].RaidDisks {
			if arr[0].RoleMembers[r] >= 0 {
				state += "A"
			} else {
				state += "."
			}
		}
		man := fx.man.MDArrays[0]
		for i, m := range fx.members {
			sb, x := m.sb, m.examine
			mm := man.Members[i]
			t.Run(name+"/"+m.record, func(t *testing.T) {
				eq := func(what string, got, want any) {
					t.Helper()
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: decoded %v, want %v", what, got, want)
					}
				}
				eq("Magic", fmt.Sprintf("%x", Magic), x["Magic"])
				eq("Checksum", fmt.Sprintf("%x - correct", sb.CsumStored), x["Checksum"])
				eq("checksum computed", sb.CsumComputed, sb.CsumStored)
				eq("Events", sb.Events, x["Events"])
				eq("Raid Level", sb.LevelName, x["Raid Level"])
				eq("Raid Devices", sb.RaidDisks, x["Raid Devices"])
				eq("Creation Time", sb.CTime, mdadmTime(t, x["Creation Time"]))
				eq("Update Time", sb.UTime, mdadmTime(t, x["Update Time"]))
				eq("State", map[bool]string{true: "clean", false: "active"}[sb.Clean], x["State"])
				if _, ok := x["Layout"]; ok || sb.LayoutName != "" {
					eq("Layout", sb.LayoutName, x["Layout"])
				}
				if _, ok := x["Chunk Size"]; ok || sb.ChunkSize != 0 {
					eq("Chunk Size", fmt.Sprintf("%dK", sb.ChunkSize/1024), x["Chunk Size"])
				}
				// the manifest
				eq("manifest level", sb.LevelName, man.Level)
				eq("manifest metadata", sb.Version, man.Metadata)
				eq("manifest uuid", sb.UUIDText, man.UUID)
				eq("manifest name", sb.Name, man.ArrayName)
				eq("manifest chunk", sb.ChunkSize, man.ChunkBytes)
				eq("manifest layout", sb.Layout, man.LayoutNum)
				eq("manifest component size", sb.Size, man.Component)
				eq("manifest array size", arraySize(sb), man.SizeBytes)
				eq("manifest data offset", sb.DataOffset, mm.DataOffset)
				eq("manifest data size", sb.DataSize, mm.DataSize)
				eq("manifest super offset", sb.SuperOffset, mm.SuperOff)
				eq("manifest super offset (found)", sb.Offset, mm.SuperOff)
				eq("manifest device size", len(m.dev), mm.DevSize)
				eq("manifest member offset", m.imgOff, mm.Offset)
				eq("manifest role", sb.Role, mm.Role)
				eq("assembled role", arr[0].Members[i].Role, mm.Role)
				eq("assembled state", arr[0].Members[i].State, mm.State)
				if sb.Version == "0.90" {
					eq("Version", "0.90.00", x["Version"])
					eq("UUID", sb.UUIDText+" (local to host fixtures)", x["UUID"])
					eq("Used Dev Size", sb.Size/1024, strings.Fields(x["Used Dev Size"])[0])
					eq("Array Size", arraySize(sb)/1024, strings.Fields(x["Array Size"])[0])
					eq("Total Devices", sb.NrDisks, x["Total Devices"])
					eq("Preferred Minor", sb.MDMinor, x["Preferred Minor"])
					eq("Active Devices", sb.ActiveDisks, x["Active Devices"])
					eq("Working Devices", sb.WorkingDisks, x["Working Devices"])
					eq("Failed Devices", sb.FailedDisks, x["Failed Devices"])
					eq("Spare Devices", sb.SpareDisks, x["Spare Devices"])
					eq("BigEndian", sb.BigEndian, false)
					d := sb.ThisDisk
					eq("this", fmt.Sprintf("%d %d %d %d active sync", d.Number, d.Major, d.Minor, d.RaidDisk), x["this"])
					eq("this state", d.State, DiskActive|DiskSync)
					for n := range sb.RaidDisks {
						d := sb.Disks[n]
						eq(fmt.Sprintf("disk %d", n), fmt.Sprintf("%d %d %d %d active sync", d.Number, d.Major, d.Minor, d.RaidDisk), x[fmt.Sprintf("disk %d", n)])
					}
					eq("data offset", sb.DataOffset, 0)
					eq("data size", sb.DataSize, sb.Offset)
					eq("not reshaping", sb.Reshape == nil && sb.Minor == 90, true)
				} else {
					eq("Version", sb.Version, x["Version"])
					eq("Feature Map", fmt.Sprintf("%#x", sb.FeatureMap), x["Feature Map"])
					eq("Array UUID", sb.UUIDText, x["Array UUID"])
					eq("Name", sb.Name+"  (local to host fixtures)", x["Name"])
					eq("Device UUID", sb.DevUUIDText, x["Device UUID"])
					eq("manifest device uuid", sb.DevUUIDText, mm.DevUUID)
					eq("Avail Dev Size", fmt.Sprintf("%d sectors", sb.DataSize/512), strings.Split(x["Avail Dev Size"], " (")[0])
					eq("Array Size", fmt.Sprintf("%d KiB", arraySize(sb)/1024), strings.Split(x["Array Size"], " (")[0])
					eq("Data Offset", fmt.Sprintf("%d sectors", sb.DataOffset/512), x["Data Offset"])
					eq("Super Offset", fmt.Sprintf("%d sectors", sb.SuperOffset/512), x["Super Offset"])
					// "Unused Space" is mdadm's own reckoning (before=1968 with data
					// at 2048 and the bad-block log ending at sector 32): not checked.
					eq("after", (int64(len(m.dev))-sb.DataOffset-sb.DataSize)/512, strings.TrimSuffix(strings.Split(x["Unused Space"], "after=")[1], " sectors"))
					eq("Bad Block Log", fmt.Sprintf("%d entries available at offset %d sectors",
						int(sb.BadBlocks.Size)*512/8, sb.BadBlocks.Offset), x["Bad Block Log"])
					eq("Device Role", fmt.Sprintf("Active device %d", sb.Role), x["Device Role"])
					eq("Array State", state+" ('A' == active, '.' == missing, 'R' == replacing)", x["Array State"])
					eq("bitmap", sb.Bitmap, false)
					eq("reshape", sb.Reshape == nil, true)
					eq("max_dev", sb.MaxDev, 128)
					eq("resync", sb.ResyncOffset, uint64(1<<64-1))
				}
				if len(sb.Others) != 0 || len(sb.Warnings) != 0 {
					t.Errorf("others %v, warnings %v", sb.Others, sb.Warnings)
				}
			})
		}
	}
}

// TestDocVectors checks the decoded values md-raid.md §10.2 gives that
// mdadm does not print.
func TestDocVectors(t *testing.T) {
	r1 := loadFx(t, "md-raid1").members[0].sb
	if r1.DevNumber != 0 || r1.CTime.Unix() != 1796163036 || r1.UTime.Unix() != 1796163042 ||
		r1.BadBlocks != (BadBlockLog{Offset: 16, Size: 8}) || r1.CsumStored != 0x1E721F61 ||
		fmt.Sprint(r1.DevRoles[:3]) != "[0 1 65535]" || r1.Size != 47104*512 {
		t.Errorf("md-raid1 m0: %+v", r1)
	}
	r5 := loadFx(t, "md-raid5").members
	if r5[0].sb.Layout != 2 || r5[0].sb.ChunkSize != 128*512 || r5[0].sb.CsumStored != 0xC7ABBCD7 {
		t.Errorf("md-raid5 m0: %+v", r5[0].sb)
	}
	// The fixture's table is 0, 1, 0xFFFF, 2: m2 has device number 3.
	if got := fmt.Sprint(r5[2].sb.DevRoles[:5]); r5[2].sb.DevNumber != 3 || got != "[0 1 65535 2 65535]" {
		t.Errorf("md-raid5 m2: dev_number %d, dev_roles %s", r5[2].sb.DevNumber, got)
	}
	d0 := loadFx(t, "md-090-raid1").members[0].sb
	if d0.Offset != 26148864 || d0.CsumStored != 0xD8F4D24B || d0.CPEvents != 18 || d0.ResyncOffset != 0xFFFFFFFF ||
		d0.State != 1 || d0.Size != 25536*1024 || d0.CTime.Unix() != 1796163302 || d0.UTime.Unix() != 1796163309 ||
		fmt.Sprintf("% X", d0.UUID[8:16]) != "17 05 45 45 C5 BC 7D 63" || d0.Disks[1] != (Disk{1, 254, 17, 1, 6}) {
		t.Errorf("md-090-raid1 d0p1: %+v", d0)
	}
}

// TestFixtureStructure checks the hex-view fields against the bytes.
func TestFixtureStructure(t *testing.T) {
	for _, name := range fxNames {
		fx := loadFx(t, name)
		for _, m := range fx.members {
			sb := m.sb
			st := sb.Structure()
			if st.Off != sb.Offset || st.Len != sb.Length || len(st.Fields) < 30 {
				t.Fatalf("%s %s: structure %s at %d+%d with %d fields", name, m.record, st.Name, st.Off, st.Len, len(st.Fields))
			}
			byName := map[string]int{}
			end := st.Off
			for i, f := range st.Fields {
				if f.Off < end || f.Off+int64(f.Len) > st.Off+int64(st.Len) {
					t.Errorf("%s %s: field %s at %d+%d out of order or range", name, m.record, f.Name, f.Off, f.Len)
				}
				end = f.Off + int64(f.Len)
				byName[f.Name] = i
			}
			get := func(n string) (string, []byte) {
				i, ok := byName[n]
				if !ok {
					t.Fatalf("%s %s: no field %s", name, m.record, n)
				}
				f := st.Fields[i]
				return f.Value, m.dev[f.Off : f.Off+int64(f.Len)]
			}
			cs := st.Fields[byName["sb_csum"]]
			if cs.Check == nil || !cs.Check.OK || cs.Check.Stored != fmt.Sprintf("%#08x", sb.CsumStored) {
				t.Errorf("%s %s: sb_csum %+v", name, m.record, cs.Check)
			}
			v, b := get("events")
			if v != fmt.Sprint(sb.Events) || sb.order.Uint64(b) != sb.Events {
				t.Errorf("%s %s: events %s %x", name, m.record, v, b)
			}
			if sb.Version == "0.90" {
				if v, b := get("this_disk.raid_disk"); v != fmt.Sprint(sb.ThisDisk.RaidDisk) || binary.LittleEndian.Uint32(b) != sb.ThisDisk.RaidDisk {
					t.Errorf("%s %s: this_disk.raid_disk %s", name, m.record, v)
				}
				continue
			}
			if v, b := get("set_uuid"); v != sb.UUIDText || !bytes.Equal(b, sb.UUID[:]) {
				t.Errorf("%s %s: set_uuid %s", name, m.record, v)
			}
			if v, _ := get(fmt.Sprintf("dev_roles[%d]", sb.DevNumber)); !strings.Contains(v, fmt.Sprintf("role %d", sb.Role)) {
				t.Errorf("%s %s: dev_roles entry %s", name, m.record, v)
			}
			if v, _ := get("level"); !strings.Contains(v, sb.LevelName) {
				t.Errorf("level %s", v)
			}
		}
	}
}

// TestFixtureAssemble: every array is found whole, and leaving out each
// member in turn gives the degraded array without its role.
func TestFixtureAssemble(t *testing.T) {
	for _, name := range fxNames {
		fx := loadFx(t, name)
		man := fx.man.MDArrays[0]
		arr := fx.assemble(-1)
		if len(arr) != 1 {
			t.Fatalf("%s: %d arrays", name, len(arr))
		}
		a := arr[0]
		if a.UUID != man.UUID || a.Level != man.Level || a.RaidDisks != man.RaidDisks || a.Metadata != man.Metadata ||
			a.ChunkSize != man.ChunkBytes || a.Layout != man.Layout && !(a.Layout == "left-symmetric" && man.Layout == "left-symmetric") ||
			a.Degraded || len(a.MissingRoles) != 0 || a.Refused != "" || len(a.Problems) != 0 || len(a.Members) != len(fx.members) {
			t.Errorf("%s: %+v", name, a)
		}
		for i, am := range a.Members {
			if am.Role != man.Members[i].Role || am.State != StateInSync || a.RoleMembers[am.Role] != i ||
				am.DataOffset != man.Members[i].DataOffset || am.DataSize != man.Members[i].DataSize {
				t.Errorf("%s member %d: %+v", name, i, am)
			}
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{`"uuid":`, `"name":`, `"level":"` + man.Level, `"layout":`, `"chunk_size":`, `"raid_disks":`,
			`"metadata":"` + man.Metadata, `"degraded":false`, `"members":[{"device":"`, `"role":0`, `"state":"in_sync"`, `"events":`, `"missing_roles":[]`} {
			if !strings.Contains(string(js), k) {
				t.Errorf("%s: JSON lacks %s: %s", name, k, js)
			}
		}
		for skip := range fx.members {
			arr := fx.assemble(skip)
			a := arr[0]
			role := man.Members[skip].Role
			if len(arr) != 1 || !a.Degraded || fmt.Sprint(a.MissingRoles) != fmt.Sprintf("[%d]", role) ||
				a.RoleMembers[role] != -1 || a.Refused != "" || len(a.Members) != len(fx.members)-1 {
				t.Errorf("%s without %s: %+v", name, fx.members[skip].record, a)
			}
		}
	}
}

// withSB returns a copy of member m's bytes with its superblock patched
// by fn, the checksum fixed when fix is set, and the superblock probed.
func withSB(t *testing.T, m *fxMember, fix bool, fn func(b []byte, order binary.ByteOrder)) *Superblock {
	t.Helper()
	dev := bytes.Clone(m.dev)
	b := dev[m.sb.Offset : m.sb.Offset+int64(m.sb.Length)]
	fn(b, m.sb.order)
	if fix {
		fixChecksum(b, m.sb.Version, m.sb.order)
	}
	sb, _ := Probe(bytes.NewReader(dev), int64(len(dev)))
	if sb == nil {
		t.Fatal("patched superblock not found")
	}
	return sb
}

func fixChecksum(b []byte, version string, order binary.ByteOrder) {
	if version == "0.90" {
		order.PutUint32(b[152:], checksum090(b, order))
		return
	}
	binary.LittleEndian.PutUint32(b[216:], checksum1(b[:256+2*int(binary.LittleEndian.Uint32(b[220:]))]))
}

func TestFixtureStaleAndChecksum(t *testing.T) {
	for _, name := range fxNames {
		fx := loadFx(t, name)
		for i, m := range fx.members {
			evOff := 200
			if m.sb.Version == "0.90" {
				evOff = 156
			}
			lowered := withSB(t, m, true, func(b []byte, o binary.ByteOrder) { o.PutUint64(b[evOff:], m.sb.Events-1) })
			if !lowered.Valid() || lowered.Events != m.sb.Events-1 {
				t.Fatalf("%s %s: lowered events: %v", name, m.record, lowered.Err)
			}
			var ms []Member
			for j, o := range fx.members {
				sb := o.sb
				if j == i {
					sb = lowered
				}
				ms = append(ms, Member{Name: o.record, SB: sb})
			}
			a := Assemble(ms)[0]
			role := fx.man.MDArrays[0].Members[i].Role
			if a.Members[i].State != StateStale || !a.Degraded || fmt.Sprint(a.MissingRoles) != fmt.Sprintf("[%d]", role) ||
				len(a.Problems) != 1 || !strings.Contains(a.Problems[0].Msg, "stale") || a.Problems[0].Devices[0] != m.record {
				t.Errorf("%s %s stale: %+v", name, m.record, a)
			}

			// A damaged checksum: reported, not used.
			bad := withSB(t, m, false, func(b []byte, o binary.ByteOrder) { b[250] ^= 0x40 })
			var fe *FormatError
			if bad.Valid() || bad.ChecksumOK || !errorsAs(bad.Err, &fe) || fe.Field != "sb_csum" ||
				fe.Stored != fmt.Sprintf("%#08x", m.sb.CsumStored) || fe.Off != m.sb.Offset+int64(map[bool]int{true: 152, false: 216}[m.sb.Version == "0.90"]) {
				t.Errorf("%s %s: damaged checksum: %v", name, m.record, bad.Err)
			}
			if cs := bad.Structure().Fields; !hasBadCheck(cs) {
				t.Errorf("%s %s: structure shows no failed check", name, m.record)
			}
			ms[i].SB = bad
			a = Assemble(ms)[0]
			if a.Members[i].State != StateInvalid || !a.Degraded || len(a.Problems) != 1 || !strings.Contains(a.Problems[0].Msg, "checksum") {
				t.Errorf("%s %s bad checksum: %+v", name, m.record, a)
			}
		}
	}
}

func hasBadCheck(fs []modelField) bool {
	for _, f := range fs {
		if f.Name == "sb_csum" && f.Check != nil && !f.Check.OK {
			return true
		}
	}
	return false
}

// TestFixtureDuplicate: the same member given twice is reported with both
// names, and one copy is used.
func TestFixtureDuplicate(t *testing.T) {
	fx := loadFx(t, "md-raid1")
	m := fx.members[0]
	a := Assemble([]Member{{"m0", m.sb}, {"m0-copy", m.sb}, {"m1", fx.members[1].sb}})[0]
	if a.Degraded || a.Members[1].State != StateDuplicate || len(a.Problems) != 1 ||
		fmt.Sprint(a.Problems[0].Devices) != "[m0 m0-copy]" || !strings.Contains(a.Problems[0].Msg, "same device UUID") {
		t.Errorf("%+v", a)
	}
}

// TestProbeShortAndEmpty: no superblock on short or empty devices.
func TestProbeShortAndEmpty(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 4096, 4352, 8192, 65536, 200000} {
		sb, err := Probe(bytes.NewReader(make([]byte, n)), int64(n))
		if sb != nil || err != ErrNoSuperblock {
			t.Errorf("%d zero bytes: %v %v", n, sb, err)
		}
	}
	// A reader shorter than the size it claims: a read error.
	_, err := Probe(bytes.NewReader(make([]byte, 100)), 1<<20)
	if err == nil || err == ErrNoSuperblock || !strings.Contains(err.Error(), io.ErrUnexpectedEOF.Error()) {
		t.Errorf("short reader: %v", err)
	}
}

type modelField = model.Field

func errorsAs(err error, target any) bool { return errors.As(err, target) }
