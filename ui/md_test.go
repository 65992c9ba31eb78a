package ui

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// mdManifest is the part of an md fixture's manifest about its arrays.
type mdManifest struct {
	MDArrays []struct {
		Name    string `json:"name"`
		UUID    string `json:"uuid"`
		SHA256  string `json:"sha256"`
		Members []struct {
			Image      string `json:"image"`
			Role       int    `json:"role"`
			DeviceUUID string `json:"device_uuid"`
			DataOffset int64  `json:"data_offset_bytes"`
			Examine    map[string]string
		} `json:"members"`
	} `json:"md_arrays"`
}

func loadMDManifest(t *testing.T, name string) mdManifest {
	t.Helper()
	var m mdManifest
	if err := json.Unmarshal(fixture.Load(t, name).ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.MDArrays) != 1 {
		t.Fatalf("%s: %d md arrays in the manifest", name, len(m.MDArrays))
	}
	return m
}

// raid5Degraded is the inspector on md-raid5's m0 and m2: role 1 missing.
func raid5Degraded(t *testing.T, w, h int) *Model {
	t.Helper()
	return fixtureModelImages(t, "md-raid5", []string{"m0", "m2"}, w, h)
}

// imagesModel is the inspector on images in memory, named NAME.img.
func imagesModel(t *testing.T, names []string, imgs [][]byte, w, h int) *Model {
	t.Helper()
	var ins []*scan.Input
	for i, b := range imgs {
		ins = append(ins, scan.NewInput(names[i]+".img", bytesReaderAt(b), int64(len(b))))
	}
	m := New(Config{Result: safeScan(ins, scan.Options{})})
	start(t, m, w, h)
	return m
}

// patchSB1 changes the 1.2 superblock of a whole-disk member (at byte
// 4096) and writes its checksum again (md-raid.md §3.3): the sum of its
// little-endian 32-bit words, sb_csum taken as zero, folded to 32 bits.
func patchSB1(img []byte, patch func(sb []byte)) {
	le := binary.LittleEndian
	sb := img[4096:]
	patch(sb)
	n := 256 + 2*int(le.Uint32(sb[220:]))
	var sum uint64
	for i := 0; i+4 <= n; i += 4 {
		if i != 216 {
			sum += uint64(le.Uint32(sb[i:]))
		}
	}
	if n%4 == 2 {
		sum += uint64(le.Uint16(sb[n-2:]))
	}
	le.PutUint32(sb[216:], uint32(sum&0xFFFFFFFF)+uint32(sum>>32))
}

// kindNodes lists the tree's nodes of a kind, collapsed ones included.
func kindNodes(m *Model, k nodeKind) []*node {
	var out []*node
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == k {
			out = append(out, n)
		}
	}
	return out
}

// rowLine is a row as the tree writes it, whatever the pane's width:
// name and badge.
func rowLine(n *node) string {
	name, badge := rowText(n)
	return joinNonEmpty(" ", name, badge)
}

func childLines(n *node) []string {
	var out []string
	for _, c := range n.children {
		out = append(out, rowLine(c))
	}
	return out
}

// md-raid5 with m1 left out: the inputs, then the array with its members
// by role, the missing role and its PV, then the VG on it; the inputs say
// which array they are members of. The rows say what scan says (ids,
// roles, states, events, missing roles).
func TestMDRaid5DegradedTree(t *testing.T) {
	m := raid5Degraded(t, 120, 40)
	var roots []string
	for _, r := range m.tree.roots {
		roots = append(roots, r.name)
	}
	if got := strings.Join(roots, ", "); got != "m0.img, m2.img, md0, VG md5vg" {
		t.Fatalf("roots: %s", got)
	}
	if h := m.header(); !strings.Contains(h, "2 inputs · 1 PV · 1 VG · 3 LVs") {
		t.Errorf("header %q: the array is not an input given", h)
	}
	a := m.tree.roots[2]
	if a.kind != kMD || a.dev.ID != "md:md0" {
		t.Fatalf("md0's row: kind %d device %v", a.kind, a.dev)
	}
	if got := rowLine(a); got != "md0 raid5 left-symmetric 30.00 MiB degraded !" {
		t.Errorf("md0's row %q", got)
	}
	if a.damaged {
		t.Error("a degraded array that is read is marked damaged")
	}
	kids := childLines(a)
	want := []string{"role 0 in1 in_sync, events 18", "role 2 in2 in_sync, events 18", "role 1 MISSING"}
	if len(kids) != 4 || strings.Join(kids[:3], "|") != strings.Join(want, "|") || !strings.HasPrefix(kids[3], "PV q1UD3Z") {
		t.Errorf("md0's rows:\n%s", strings.Join(kids, "\n"))
	}
	// The same as the scan's array: every member and missing role.
	arr := m.s.res.MDNodes[0].Array
	for i, mm := range arr.Members {
		if got, w := kids[i], fmt.Sprintf("role %d %s %s, events %d", mm.Role, mm.Device, mm.State, mm.Events); got != w {
			t.Errorf("member row %q, the scan says %q", got, w)
		}
	}
	if len(arr.MissingRoles) != 1 || arr.MissingRoles[0] != 1 {
		t.Errorf("missing roles %v", arr.MissingRoles)
	}
	for i, r := range []string{"member of md:md0, role 0 in_sync · csum ✓", "member of md:md0, role 2 in_sync · csum ✓"} {
		in := m.tree.roots[i]
		if len(in.children) != 1 || rowLine(in.children[0]) != r || in.children[0].kind != kMDSuper {
			t.Errorf("%s's rows: %q", in.name, childLines(in))
		}
	}
	// The VG on the array is where it is for any PV's device.
	if rowOf(m, "VG md5vg", "fs") < 0 {
		t.Errorf("no row fs under VG md5vg:\n%s", plain(m.tree.View()))
	}
	// Search finds the members (their superblocks) and the array by its
	// UUID, and the array by its label.
	var found []string
	press(t, m, "/4514b514:0c1c", "enter")
	for i := 0; i < 3; i++ {
		found = append(found, ancestry(m.selected()))
		press(t, m, "n")
	}
	if got := strings.Join(found, " | "); got != "m0.img → member of md:md0, role 0 | m2.img → member of md:md0, role 2 | md0" {
		t.Errorf("search by UUID found %s", got)
	}
	press(t, m, "g", "/md array md0", "enter")
	if n := m.selected(); n != a {
		t.Errorf("search by label selected %q", ancestry(n))
	}
}

// The details of the array, of a member row, of the missing role and of
// a member input: what scan --json says, the members table, the problems.
func TestMDRaid5DegradedDetails(t *testing.T) {
	mf := loadMDManifest(t, "md-raid5").MDArrays[0]
	m := raid5Degraded(t, 140, 60)
	a := kindNodes(m, kMD)[0]
	pick(t, m, a)
	d := plain(m.View())
	wantAll(t, "md0's details", d, "md array md0", "device         md:md0", "level          raid5", "layout         left-symmetric",
		"chunk size     64.00 KiB", "array size     30.00 MiB", "member size    15.00 MiB", "roles          3",
		"UUID           "+mf.UUID, "name           fixtures:0", "metadata       1.2", "state          clean", "events         18",
		"degraded       yes: role 1 missing", "Members (2 of 3 roles)",
		"device  role    state    events  data offset  bad blocks  bitmap",
		"in1     role 0  in_sync  18      1.00 MiB     none        none",
		"in2     role 2  in_sync  18      1.00 MiB     none        none",
		"-       role 1  MISSING",
		"Problems (1)", "! warning: md array md0: degraded: role 1 missing", "e: export the array as a device")
	if strings.Contains(d, "refused") {
		t.Errorf("a readable array said refused:\n%s", d)
	}

	for _, n := range kindNodes(m, kMDMember) {
		mm := n.arrayMember()
		var man *struct {
			Image      string `json:"image"`
			Role       int    `json:"role"`
			DeviceUUID string `json:"device_uuid"`
			DataOffset int64  `json:"data_offset_bytes"`
			Examine    map[string]string
		}
		for i := range mf.Members {
			if mf.Members[i].Role == mm.Role {
				man = &mf.Members[i]
			}
		}
		pick(t, m, n)
		d := plain(m.View())
		var csum uint32
		if _, err := fmt.Sscanf(man.Examine["Checksum"], "%x", &csum); err != nil {
			t.Fatalf("manifest's checksum %q", man.Examine["Checksum"])
		}
		wantAll(t, n.name+"'s details", d, "Member "+mm.Device+" of md:md0", fmt.Sprintf("role           %d", mm.Role),
			"state          in_sync (used for its role)", "events         18", fmt.Sprintf("data offset    %d", man.DataOffset),
			"device         "+man.Image+".img", "Superblock 1.2", "at             4096 (0x1000) of the member",
			fmt.Sprintf("checksum       ✓ ok %#08x", csum), "device UUID    "+man.DeviceUUID, "array UUID     "+mf.UUID,
			"x: hex view of the member at its superblock")
	}

	pick(t, m, kindNodes(m, kMDMissing)[0])
	wantAll(t, "role 1's details", plain(m.View()), "Role 1 of md:md0: missing", "✗ no member given holds this role",
		"rebuilt from parity")

	pick(t, m, m.tree.roots[1])
	wantAll(t, "m2.img's details", plain(m.View()), "Input m2.img", "md member", "member of md:md0, role 2",
		"array          md:md0 (raid5 left-symmetric 30.00 MiB clean degraded)", "state          in_sync, events 18",
		"superblock     1.2 at 4096 (0x1000), checksum ✓ ok")
	pick(t, m, m.tree.roots[1].children[0])
	wantAll(t, "m2.img's superblock row", plain(m.View()), "md superblock 1.2 of in2", "array          md:md0", "role           2",
		"checksum       ✓ ok")
}

// x on a member shows the member's bytes at its superblock, every field
// named and the checksum checked; on the input the superblock's fields
// are there too, at the same offsets.
func TestMDMemberHex(t *testing.T) {
	m := raid5Degraded(t, 120, 40)
	for _, n := range []*node{kindNodes(m, kMDMember)[1], m.tree.roots[1].children[0]} {
		pick(t, m, n)
		press(t, m, "x")
		x := m.hexP()
		if m.right != paneHex || x.src == nil {
			t.Fatalf("x on %s: no hex view (%q)", ancestry(n), m.status())
		}
		h := plain(m.View())
		wantAll(t, "hex of "+ancestry(n), h, "md member in2 of md:md0 (m2.img)  member offsets", "00001000 [fc 4e 2b a9]",
			"▶ magic @0x1000+4 = 0xa92b4efc", "1010 set_uuid = 4514b514:0c1c3b97")
		for i := 0; i < 60 && !strings.Contains(plain(m.View()), "▶ sb_csum"); i++ {
			press(t, m, "n")
		}
		wantAll(t, "hex of "+ancestry(n)+" at sb_csum", plain(m.View()), "▶ sb_csum @0x10d8+4 = 0x08a52f92 ✓ checksum ok")
		names := map[string]bool{}
		for _, f := range x.src.fields {
			names[f.Name] = true
		}
		for _, f := range []string{"magic", "feature_map", "set_uuid", "set_name", "level", "layout", "size", "chunksize", "raid_disks",
			"data_offset", "data_size", "super_offset", "dev_number", "device_uuid", "events", "resync_offset", "sb_csum", "max_dev",
			"dev_roles[0]", "dev_roles[3]"} {
			if !names[f] {
				t.Errorf("hex of %s: no field %s", ancestry(n), f)
			}
		}
		press(t, m, "esc")
	}
	pick(t, m, m.tree.roots[0])
	press(t, m, "x", "o", "4096", "enter")
	wantAll(t, "hex of m0.img at 4096", plain(m.View()), "m0.img  input offsets", "▶ magic @0x1000+4 = 0xa92b4efc")
}

// md-090-raid1: the members are partitions (0.90 superblocks at their
// end); the partition rows say so, the array holds VG oldmd. The
// superblock's offsets count from the partition's start: read through
// the partition for its own row, shifted by the partition's start in the
// hex view of the whole disk.
func TestMD090Raid1(t *testing.T) {
	m := fixtureModel(t, "md-090-raid1", false, 120, 40)
	var roots []string
	for _, r := range m.tree.roots {
		roots = append(roots, r.name)
	}
	if got := strings.Join(roots, ", "); got != "d0.img, d1.img, md0, VG oldmd" {
		t.Fatalf("roots: %s", got)
	}
	a := m.tree.roots[2]
	if got := rowLine(a); got != "md0 raid1 <24.94 MiB" {
		t.Errorf("md0's row %q", got)
	}
	kids := childLines(a)
	if len(kids) != 3 || kids[0] != "role 0 in1.p1 in_sync, events 18" || kids[1] != "role 1 in2.p1 in_sync, events 18" ||
		!strings.HasPrefix(kids[2], "PV 2E66bs") {
		t.Errorf("md0's rows: %q", kids)
	}
	var sup *node
	for _, n := range kindNodes(m, kMDSuper) {
		if n.dev.ID == "in2.p1" {
			sup = n
		}
	}
	if sup == nil || sup.parent.kind != kPartition || sup.parent.part.Index != 1 || rowLine(sup) != "member of md:md0, role 1 in_sync · csum ✓" {
		t.Fatalf("in2.p1's superblock row: %v", sup)
	}
	if p2 := sup.parent.parent.children[1]; len(p2.children) != 0 {
		t.Errorf("partition 2 (ext2) has rows %q", childLines(p2))
	}
	pick(t, m, a)
	wantAll(t, "md0's details", plain(m.View()), "md array md0", "level          raid1", "metadata       0.90", "state          clean",
		"degraded       no", "in1.p1  role 0  in_sync  18", "in2.p1  role 1  in_sync  18")
	if d := plain(m.View()); strings.Contains(d, "chunk size") || strings.Contains(d, "MISSING") {
		t.Errorf("raid1 details:\n%s", d)
	}
	pick(t, m, sup.parent)
	wantAll(t, "partition 1's details", plain(m.View()), "Partition 1", "device         in2.p1", "member of md:md0, role 1",
		"superblock     0.90 at")
	pick(t, m, sup)
	wantAll(t, "in2.p1's superblock", plain(m.View()), "md superblock 0.90 of in2.p1", "this disk      number 1, raid_disk 1",
		"checksum       ✓ ok")

	sb := sup.dev.MD
	press(t, m, "x")
	x := m.hexP()
	if x.src == nil || x.src.end != sup.dev.Size || x.field < 0 || x.src.fields[x.field].Name != "md_magic" || x.src.fields[x.field].Off != sb.Offset {
		t.Fatalf("hex of in2.p1's superblock: %+v", x.src)
	}
	h := plain(m.View())
	wantAll(t, "hex of in2.p1's superblock", h, "md member in2.p1 of md:md0", "member offsets", "[fc 4e 2b a9]",
		fmt.Sprintf("▶ md_magic @%#x+4 = 0xa92b4efc", sb.Offset))
	for i := 0; i < 60 && !strings.Contains(plain(m.View()), "▶ sb_csum"); i++ {
		press(t, m, "n")
	}
	wantAll(t, "hex at sb_csum", plain(m.View()), "✓ checksum ok")
	press(t, m, "esc")

	// The whole disk's hex view has the superblock at the partition's
	// start plus its offset, and the bytes there are its magic.
	pick(t, m, sup.parent)
	press(t, m, "x")
	x = m.hexP()
	at := sup.parent.part.Start + sb.Offset
	found := false
	for _, f := range x.src.fields {
		if f.Name == "md_magic" && f.Off == at {
			found = true
		}
	}
	buf, _, err := x.src.read(at, 4)
	if !found || err != nil || binary.LittleEndian.Uint32(buf) != 0xa92b4efc {
		t.Errorf("d1.img's hex view: md_magic at %d %v, bytes there %x (%v)", at, found, buf, err)
	}
}

// e on the array's row exports it as export --device md:md0 would: the
// array rebuilt from parity, with the manifest's sha256; the provenance
// record lists the two images given as its inputs, not the array.
func TestMDArrayExport(t *testing.T) {
	mf := loadMDManifest(t, "md-raid5").MDArrays[0]
	t.Chdir(t.TempDir())
	m := raid5Degraded(t, 120, 40)
	pick(t, m, kindNodes(m, kMD)[0])
	if !enabledKey(m, "e") {
		t.Fatal("e is not offered on the array's row")
	}
	press(t, m, "e")
	if m.mode != modeForm {
		t.Fatalf("no export form (status %q)", m.status())
	}
	if got := m.exportP().path.Value(); got != "md_md0.img" {
		t.Errorf("output %q", got)
	}
	form := strings.ReplaceAll(plain(m.View()), "\n", " ")
	wantAll(t, "the export form", form, "Export device md:md0", "same as: lvminspect export --device md:md0 -o", "md array md0")
	drain(t, m, press(t, m, "enter"), nil)
	if m.mode != modeBrowse || !strings.Contains(m.status(), mf.SHA256) {
		t.Fatalf("mode %d status %q", m.mode, m.status())
	}
	if got := fileSHA(t, "md_md0.img"); got != mf.SHA256 {
		t.Errorf("md0 exported to sha256 %s, the manifest's is %s", got, mf.SHA256)
	}
	b, err := os.ReadFile("md_md0.img.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Inputs []struct{ Path string }
		Device []struct{ ID string }
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	var ins, devs []string
	for _, in := range rec.Inputs {
		ins = append(ins, in.Path)
	}
	for _, d := range rec.Device {
		devs = append(devs, d.ID)
	}
	if got := strings.Join(ins, ", "); got != "m0.img, m2.img" {
		t.Errorf("record inputs: %s", got)
	}
	if got := strings.Join(devs, ", "); !strings.Contains(got, "md:md0") {
		t.Errorf("record's device chain: %s", got)
	}
}

// A member whose events are behind is stale: its row says so, marked, and
// its role is missing; the array is degraded.
func TestMDStaleMember(t *testing.T) {
	f := fixture.Load(t, "md-raid1")
	r0, r1 := f.Image(t, "m0"), bytes.Clone(f.Image(t, "m1")) // the fixture's images are shared
	patchSB1(r1, func(sb []byte) {
		binary.LittleEndian.PutUint64(sb[200:], binary.LittleEndian.Uint64(sb[200:])-2)
	})
	m := imagesModel(t, []string{"m0", "m1"}, [][]byte{r0, r1}, 120, 40)
	a := kindNodes(m, kMD)[0]
	kids := childLines(a)
	if len(kids) < 3 || kids[0] != "role 0 in1 in_sync, events 17" || kids[1] != "role 1 in2 stale, events 15" || kids[2] != "role 1 MISSING" {
		t.Errorf("md0's rows: %q", kids)
	}
	if !a.children[1].damaged || !a.children[2].damaged || a.children[0].damaged {
		t.Error("the stale member and the missing role are not marked")
	}
	if got := rowLine(a); got != "md0 raid1 23.00 MiB degraded !" {
		t.Errorf("md0's row %q", got)
	}
	pick(t, m, a)
	wantAll(t, "md0's details", plain(m.View()), "in2     role 1  stale    15", "-       role 1  MISSING", "degraded       yes: role 1 missing")
	pick(t, m, a.children[1])
	wantAll(t, "the stale member's details", plain(m.View()), "✗ stale (its events are behind the freshest member's: not used)",
		"events         15")
	if got := rowLine(m.tree.roots[1].children[0]); got != "member of md:md0, role 1 stale · csum ✓" {
		t.Errorf("m1.img's row %q", got)
	}
}

// An array md refuses to read (raid5, degraded and not clean) is a root
// marked damaged, with its members and missing role, the reason in its
// details, and nothing to export or show in hex; an array read with two
// roles of a raid5 missing has an error and is marked too.
func TestMDRefusedAndBroken(t *testing.T) {
	f := fixture.Load(t, "md-raid5")
	m0, m2 := bytes.Clone(f.Image(t, "m0")), bytes.Clone(f.Image(t, "m2")) // the fixture's images are shared
	for _, img := range [][]byte{m0, m2} {
		patchSB1(img, func(sb []byte) { binary.LittleEndian.PutUint64(sb[208:], 0) })
	}
	m := imagesModel(t, []string{"m0", "m2"}, [][]byte{m0, m2}, 120, 40)
	a := kindNodes(m, kMD)[0]
	if a.dev.Device() != nil || !a.damaged || a.in != nil {
		t.Fatalf("refused array: device %v damaged %v", a.dev.Device(), a.damaged)
	}
	if got := rowLine(a); got != "md0 raid5 left-symmetric ✗ NOT READ !" {
		t.Errorf("md0's row %q", got)
	}
	if kids := childLines(a); strings.Join(kids, "|") != "role 0 in1 in_sync, events 18|role 2 in2 in_sync, events 18|role 1 MISSING" {
		t.Errorf("md0's rows: %q", kids)
	}
	pick(t, m, a)
	d := plain(m.View())
	wantAll(t, "the refused array's details", d, "state          ✗ refused: unclean and degraded", "✗ error: md array md0: not read: unclean and degraded")
	if strings.Contains(d, "array size") || enabledKey(m, "e") || enabledKey(m, "x") {
		t.Errorf("a refused array offers its bytes:\n%s", d)
	}

	m = imagesModel(t, []string{"m0"}, [][]byte{f.Image(t, "m0")}, 120, 40)
	a = kindNodes(m, kMD)[0]
	if !a.damaged || a.in == nil {
		t.Errorf("raid5 with two roles missing: damaged %v, read %v", a.damaged, a.in != nil)
	}
	if kids := childLines(a); len(kids) < 3 || kids[1] != "role 1 MISSING" || kids[2] != "role 2 MISSING" {
		t.Errorf("md0's rows: %q", kids)
	}
}

// On every row of the md fixtures, and in the views x and e open, no two
// bindings share a key, the help lists what works, and nothing fails.
func TestMDRowsKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	for name, mk := range map[string]func() *Model{
		"md-raid5 m0 m2": func() *Model { return raid5Degraded(t, 100, 30) },
		"md-090-raid1":   func() *Model { return fixtureModel(t, "md-090-raid1", false, 100, 30) },
	} {
		m := mk()
		for i := range m.tree.rows {
			m.tree.moveTo(i)
			settle(t, m, m.moved())
			m.after()
			n := m.selected()
			checkKeys(t, name+": tree on "+ancestry(n), m)
			for _, k := range []string{"x", "e"} {
				if !enabledKey(m, k) {
					continue
				}
				press(t, m, k)
				if strings.HasPrefix(m.status(), "✗") {
					t.Errorf("%s: %s on %s: %s", name, k, ancestry(n), m.status())
				}
				checkKeys(t, name+": "+k+" on "+ancestry(n), m)
				press(t, m, "esc")
				m.focus = focusTree
				settle(t, m, m.moved())
			}
		}
	}
}

// TestMDGolden compares the screens of the md layer with
// testdata/TestMDGolden/*.golden (go test ./ui -run TestMDGolden -update
// rewrites them): md-raid5 degraded with the array selected, a member,
// its superblock in the hex view; md-090-raid1 with the array and a
// partition member's superblock.
func TestMDGolden(t *testing.T) {
	at := func(m *Model, k nodeKind, i int) *node { return kindNodes(m, k)[i] }
	for _, c := range []struct {
		name string
		m    func() *Model
		sel  func(m *Model) *node
		keys []string
	}{
		{"raid5-degraded-array", func() *Model { return raid5Degraded(t, 120, 40) }, func(m *Model) *node { return at(m, kMD, 0) }, nil},
		{"raid5-degraded-member", func() *Model { return raid5Degraded(t, 120, 40) }, func(m *Model) *node { return at(m, kMDMember, 0) }, nil},
		{"raid5-degraded-missing", func() *Model { return raid5Degraded(t, 120, 40) }, func(m *Model) *node { return at(m, kMDMissing, 0) }, nil},
		{"raid5-degraded-superblock-hex", func() *Model { return raid5Degraded(t, 120, 40) }, func(m *Model) *node { return at(m, kMDMember, 1) },
			[]string{"x"}},
		{"raid5-degraded-array-80x24", func() *Model { return raid5Degraded(t, 80, 24) }, func(m *Model) *node { return at(m, kMD, 0) }, nil},
		{"raid5-degraded-array-80x24-members", func() *Model { return raid5Degraded(t, 80, 24) }, func(m *Model) *node { return at(m, kMD, 0) },
			[]string{"tab", "pgdown"}},
		{"090-raid1-array", func() *Model { return fixtureModel(t, "md-090-raid1", false, 120, 40) }, func(m *Model) *node { return at(m, kMD, 0) }, nil},
		{"090-raid1-partition-member", func() *Model { return fixtureModel(t, "md-090-raid1", false, 120, 40) },
			func(m *Model) *node { return at(m, kMDSuper, 0) }, nil},
		{"090-raid1-superblock-hex", func() *Model { return fixtureModel(t, "md-090-raid1", false, 120, 40) },
			func(m *Model) *node { return at(m, kMDSuper, 1) }, []string{"x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m()
			pick(t, m, c.sel(m))
			press(t, m, c.keys...)
			m.after()
			golden.RequireEqual(t, []byte(plain(m.View())))
		})
	}
}

// A member with a write-intent bitmap (written here into md-raid1's m0:
// feature bit 0, bitmap_offset +8 sectors, a header and three dirty
// bits) has a row for it; x shows its header's fields, and the array's
// members table and the member's details give the dirty count.
func TestMDBitmap(t *testing.T) {
	f := fixture.Load(t, "md-raid1")
	r0 := bytes.Clone(f.Image(t, "m0"))
	le := binary.LittleEndian
	var sectors uint64
	patchSB1(r0, func(sb []byte) {
		le.PutUint32(sb[8:], le.Uint32(sb[8:])|1) // feature_map: bitmap
		le.PutUint32(sb[96:], 8)                  // bitmap_offset: 8 sectors after the superblock
		sectors = le.Uint64(sb[136:])             // data_size
	})
	bm := r0[4096+8*512:]
	le.PutUint32(bm[0:], 0x6D746962) // "bitm"
	le.PutUint32(bm[4:], 4)
	copy(bm[8:24], r0[4096+16:4096+32]) // the array's UUID
	le.PutUint64(bm[24:], 17)
	le.PutUint64(bm[32:], 17)
	le.PutUint64(bm[40:], sectors)
	le.PutUint32(bm[52:], 64<<10)
	bm[256] = 0b1011 // chunks 0, 1 and 3 dirty
	m := imagesModel(t, []string{"m0", "m1"}, [][]byte{r0, f.Image(t, "m1")}, 120, 40)
	in := m.tree.roots[0]
	if kids := childLines(in); len(kids) != 2 || kids[1] != "md write-intent bitmap 3 dirty" {
		t.Fatalf("m0.img's rows: %q", kids)
	}
	pick(t, m, in.children[1])
	wantAll(t, "the bitmap's details", plain(m.View()), "md write-intent bitmap of in1", "at             8192 (0x2000) of the member",
		"dirty          3 of ", "region         64.00 KiB per bit")
	press(t, m, "x")
	wantAll(t, "the bitmap's hex view", plain(m.View()), "md member in1 of md:md0", "▶ magic @0x2000+4 = 0x6d746962",
		"2034 chunksize = 65536 bytes per b")
	press(t, m, "esc")
	pick(t, m, kindNodes(m, kMD)[0])
	wantAll(t, "md0's details", plain(m.View()), "in1     role 0  in_sync  17      1.00 MiB     none        3 dirty",
		"write-intent bitmap: 3 of")
}
