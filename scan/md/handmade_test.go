package md

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
)

// sparse is a device of size bytes, zero except for pieces.
type sparse struct {
	size   int64
	pieces map[int64][]byte
}

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > s.size-off {
		n = int(s.size - off)
	}
	clear(p[:n])
	for po, b := range s.pieces {
		lo, hi := max(off, po), min(off+int64(n), po+int64(len(b)))
		if lo < hi {
			copy(p[lo-off:hi-off], b[lo-po:hi-po])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sb1 describes a hand-made 1.x superblock; zero values take defaults.
type sb1 struct {
	minor      string // "0", "1", "2"
	sectors    int64  // member size
	level      int32
	layout     uint32
	chunk      uint32 // sectors
	raidDisks  uint32
	devNumber  uint32
	roles      []uint16
	maxDev     uint32
	events     uint64
	features   uint32
	size       uint64
	dataOffset uint64
	dataSize   uint64
	resync     uint64
	dirty      bool
	word96     uint32 // bitmap_offset or ppl offset/size
	bbOff      int32
	bbSize     uint16
	reshape    [5]uint32 // new_level, delta_disks, new_layout, new_chunk, new_offset
	reshapePos uint64
	recovery   uint64
	ctime      uint64
	uuid       byte
	devUUID    byte
	superOff   int64 // -1: the right one
}

func (o sb1) place() int64 {
	switch o.minor {
	case "1":
		return 0
	case "2":
		return 8
	}
	n := o.sectors
	return (n - 16) - (n-16)%8
}

func (o sb1) bytes() []byte {
	if o.sectors == 0 {
		o.sectors = 32768
	}
	if o.raidDisks == 0 {
		o.raidDisks = 2
	}
	if o.maxDev == 0 {
		o.maxDev = 128
	}
	if o.roles == nil {
		for i := range o.raidDisks {
			o.roles = append(o.roles, uint16(i))
		}
	}
	sec := o.place()
	if o.dataSize == 0 {
		if o.minor == "0" {
			o.dataSize = uint64(sec - 8)
		} else {
			o.dataOffset = 2048
			o.dataSize = uint64(o.sectors) - 2048
		}
	}
	le := binary.LittleEndian
	b := make([]byte, 256+2*int(o.maxDev))
	le.PutUint32(b, Magic)
	le.PutUint32(b[4:], 1)
	le.PutUint32(b[8:], o.features)
	for i := range 16 {
		b[16+i] = o.uuid + byte(i)
		b[168+i] = o.devUUID + byte(i)
	}
	copy(b[32:], "host:name")
	le.PutUint64(b[64:], 1796163036+o.ctime)
	le.PutUint32(b[72:], uint32(o.level))
	le.PutUint32(b[76:], o.layout)
	le.PutUint64(b[80:], o.size)
	le.PutUint32(b[88:], o.chunk)
	le.PutUint32(b[92:], o.raidDisks)
	le.PutUint32(b[96:], o.word96)
	le.PutUint32(b[100:], o.reshape[0])
	le.PutUint64(b[104:], o.reshapePos)
	le.PutUint32(b[112:], o.reshape[1])
	le.PutUint32(b[116:], o.reshape[2])
	le.PutUint32(b[120:], o.reshape[3])
	le.PutUint32(b[124:], o.reshape[4])
	le.PutUint64(b[128:], o.dataOffset)
	le.PutUint64(b[136:], o.dataSize)
	so := uint64(sec)
	if o.superOff != 0 {
		so = uint64(o.superOff)
	}
	le.PutUint64(b[144:], so)
	le.PutUint64(b[152:], o.recovery)
	le.PutUint32(b[160:], o.devNumber)
	if o.bbSize == 0 {
		o.bbSize, o.bbOff = 8, 16
		if o.minor == "0" {
			o.bbOff = -8
		}
	}
	le.PutUint16(b[186:], o.bbSize)
	le.PutUint32(b[188:], uint32(o.bbOff))
	le.PutUint64(b[192:], 1796163042)
	le.PutUint64(b[200:], o.events)
	if !o.dirty {
		o.resync = 1<<64 - 1
	}
	le.PutUint64(b[208:], o.resync)
	le.PutUint32(b[220:], o.maxDev)
	for i := range o.maxDev {
		v := uint16(0xFFFF)
		if int(i) < len(o.roles) {
			v = o.roles[i]
		}
		le.PutUint16(b[256+2*i:], v)
	}
	le.PutUint32(b[216:], checksum1(b))
	return b
}

func (o sb1) dev() (*sparse, int64) {
	if o.sectors == 0 {
		o.sectors = 32768
	}
	return &sparse{size: o.sectors * 512, pieces: map[int64][]byte{o.place() * 512: o.bytes()}}, o.sectors * 512
}

func (o sb1) probe(t *testing.T) *Superblock {
	t.Helper()
	d, n := o.dev()
	sb, err := Probe(d, n)
	if sb == nil {
		t.Fatalf("%+v: %v", o, err)
	}
	return sb
}

func TestPlacement(t *testing.T) {
	// md-raid.md §2.1 and §10.2: 1.0 of 8203 sectors at 8184, of 8211 at
	// 8192, of 32768 at 32752 (byte 16769024).
	for _, c := range []struct {
		sectors, at int64
	}{{8203, 8184}, {8211, 8192}, {32768, 32752}} {
		sb := sb1{minor: "0", sectors: c.sectors, level: 1}.probe(t)
		if sb.Version != "1.0" || sb.Offset != c.at*512 || sb.SuperOffset != c.at*512 || !sb.Valid() {
			t.Errorf("1.0 on %d sectors: %s at %d: %v", c.sectors, sb.Version, sb.Offset, sb.Err)
		}
	}
	sb := sb1{minor: "1", level: 0, layout: 1, chunk: 32, size: 0, dataSize: 30720, dataOffset: 2048}.probe(t)
	if sb.Version != "1.1" || sb.Offset != 0 || sb.LayoutName != "" || sb.LayoutError != "" || sb.Events != 0 || sb.BadBlocks.Offset != 16 {
		t.Errorf("1.1: %+v", sb)
	}
	sb = sb1{minor: "2", level: 1}.probe(t)
	if sb.Version != "1.2" || sb.Offset != 4096 {
		t.Errorf("1.2: %s at %d", sb.Version, sb.Offset)
	}
	// A superblock whose super_offset is not where it was found.
	sb = sb1{minor: "2", level: 1, superOff: 9}.probe(t)
	var fe *FormatError
	if sb.Valid() || !errorsAs(sb.Err, &fe) || fe.Field != "super_offset" || fe.Stored != "9" || fe.Computed != "8" {
		t.Errorf("super_offset: %v", sb.Err)
	}
	// 0.90 placement: 8203 sectors -> byte 4128768; 26214400 bytes -> 26148864.
	d0 := loadFx(t, "md-090-raid1").members[0]
	raw := d0.sb.raw
	for _, size := range []int64{8203 * 512, 26214400} {
		want := size - size%65536 - 65536
		sb, err := Probe(&sparse{size: size, pieces: map[int64][]byte{want: raw}}, size)
		if sb == nil || sb.Offset != want || sb.Version != "0.90" || (err != nil) != (size < 26148864) {
			t.Errorf("0.90 on %d bytes: %v at %d", size, err, sb.Offset)
		}
	}
}

func TestRaid6And10(t *testing.T) {
	// md-raid.md §10.2: 1.0 raid6 of four 16 MiB members.
	sb := sb1{minor: "0", sectors: 32768, level: 6, layout: 2, chunk: 128, size: 32640, raidDisks: 4, dataSize: 32736, devNumber: 2}.probe(t)
	if !sb.Valid() || sb.LevelName != "raid6" || sb.LayoutName != "left-symmetric" || sb.ChunkSize != 65536 || sb.Offset != 16769024 ||
		sb.DataOffset != 0 || sb.DataSize != 32736*512 || sb.Size != 32640*512 || sb.BadBlocks.Offset != -8 || sb.Role != 2 {
		t.Errorf("raid6: %+v", sb)
	}
	sb = sb1{minor: "2", level: 10, layout: 0x102, chunk: 64, size: 30720, raidDisks: 4}.probe(t)
	if !sb.Valid() || sb.LayoutName != "near=2" || sb.LevelName != "raid10" {
		t.Errorf("raid10: %+v", sb)
	}
	for _, c := range []struct {
		level  int32
		layout uint32
		n      uint32
		name   string
		bad    bool
	}{
		{10, 0x102, 4, "near=2", false},
		{10, 0x102, 3, "near=2", false},
		{10, 0x103, 3, "near=3", false},
		{10, 0x201, 3, "far=2", false},
		{10, 0x10201, 3, "offset=2", false},
		{10, 0x10301, 4, "offset=3", false},
		{10, 0x202, 4, "near=2, far=2", false},
		{10, 0x20201, 4, "far=2, far-sets mode 1", false},
		{10, 0x40201, 4, "far=2, far-sets mode 2", false},
		{10, 0x103, 2, "near=3", true},
		{10, 0x101, 2, "near=1", true},
		{10, 0x80102, 4, "layout 524546", true},
		{5, 2, 3, "left-symmetric", false},
		{5, 0, 3, "left-asymmetric", false},
		{5, 5, 3, "parity-last", false},
		{5, 6, 3, "layout 6", true},
		{6, 10, 5, "ddf-N-continue", false},
		{6, 18, 5, "left-symmetric-6", false},
		{6, 20, 5, "parity-first-6", false},
		{6, 7, 5, "layout 7", true},
		{4, 0, 3, "", false},
		{1, 0, 2, "", false},
		{-1, 0, 2, "", false},
		{3, 0, 2, "", true},
	} {
		name, bad := LayoutName(c.level, c.layout, 0, c.n)
		if name != c.name || (bad != "") != c.bad {
			t.Errorf("level %d layout %#x on %d: %q %q", c.level, c.layout, c.n, name, bad)
		}
	}
	if n, _ := LayoutName(0, 2, FeatureRaid0Layout, 3); n != "alternate" {
		t.Errorf("raid0 layout 2: %s", n)
	}
	if n, _ := LayoutName(0, 1, FeatureRaid0Layout, 3); n != "original" {
		t.Errorf("raid0 layout 1: %s", n)
	}
	if _, bad := LayoutName(0, 7, FeatureRaid0Layout, 3); bad == "" {
		t.Error("raid0 layout 7 accepted")
	}
}

func TestChecksumOddMaxDev(t *testing.T) {
	// md-raid.md §10.5: max_dev 3 takes the u16 tail.
	sb := sb1{minor: "2", level: 1, maxDev: 3}.probe(t)
	if !sb.Valid() || sb.Length != 262 || len(sb.DevRoles) != 3 {
		t.Errorf("max_dev 3: %+v", sb)
	}
	// The md-raid1 vector rewritten with max_dev 3.
	m := loadFx(t, "md-raid1").members[0]
	b := bytes.Clone(m.sb.raw[:262])
	binary.LittleEndian.PutUint32(b[220:], 3)
	if c := checksum1(b); c == m.sb.CsumStored {
		t.Errorf("max_dev 3: unchanged checksum %#x", c)
	}
	if c := checksum1(m.sb.raw); c != 0x1E721F61 {
		t.Errorf("md-raid1 m0 checksum %#x", c)
	}
	// max_dev too large for the 4 KiB read.
	o := sb1{minor: "2", level: 1}
	raw := o.bytes()
	binary.LittleEndian.PutUint32(raw[220:], 5000)
	sb, err := Probe(&sparse{size: 32768 * 512, pieces: map[int64][]byte{4096: raw}}, 32768*512)
	var fe *FormatError
	if sb == nil || sb.Valid() || !errorsAs(err, &fe) || fe.Field != "max_dev" || sb.DevRoles != nil {
		t.Errorf("max_dev 5000: %v", err)
	}
	_ = sb.Structure()
}

func swap090(b []byte) []byte {
	out := make([]byte, len(b))
	for i := 0; i+4 <= len(b); i += 4 {
		binary.BigEndian.PutUint32(out[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	// events and cp_events: a big-endian host stores the high word first.
	for _, o := range []int{156, 164, 176} {
		binary.BigEndian.PutUint64(out[o:], binary.LittleEndian.Uint64(b[o:]))
	}
	return out
}

func TestBigEndian090(t *testing.T) {
	d0 := loadFx(t, "md-090-raid1").members[0]
	be := swap090(d0.sb.raw)
	size := int64(26214400)
	sb, err := Probe(&sparse{size: size, pieces: map[int64][]byte{26148864: be}}, size)
	if err != nil || !sb.BigEndian || sb.CsumComputed != 0xD8F4D24B || sb.CsumStored != 0xD8F4D24B {
		t.Fatalf("big-endian: %v %+v", err, sb)
	}
	le := d0.sb
	if sb.UUIDText != le.UUIDText || sb.Events != le.Events || sb.CPEvents != le.CPEvents || sb.Size != le.Size ||
		sb.ThisDisk != le.ThisDisk || sb.Role != le.Role || !sb.CTime.Equal(le.CTime) || !sb.UTime.Equal(le.UTime) ||
		fmt.Sprint(sb.Disks) != fmt.Sprint(le.Disks) || len(sb.Warnings) != 1 || !strings.Contains(sb.Warnings[0], "big-endian") {
		t.Errorf("big-endian differs: %+v", sb)
	}
	st := sb.Structure()
	for _, f := range st.Fields {
		if f.Name == "events" && f.Value != "18" {
			t.Errorf("events field %s", f.Value)
		}
	}
	// A 0.90 array read in both orders assembles the same.
	a := Assemble([]Member{{"le", le}, {"be", sb}})
	if len(a) != 1 || a[0].Members[1].State != StateDuplicate {
		t.Errorf("le+be: %+v", a[0])
	}
}

func TestFolded090(t *testing.T) {
	d0 := loadFx(t, "md-090-raid1").members[0]
	b := bytes.Clone(d0.sb.raw)
	c := binary.LittleEndian.Uint32(b[152:])
	// Same 16-bit fold, other value: move 1 from the high half to the low.
	binary.LittleEndian.PutUint32(b[152:], c-0x10000+1)
	sb := decode090(b, 26148864, 26214400)
	if !sb.Valid() || !sb.ChecksumFolded || len(sb.Warnings) != 1 {
		t.Errorf("folded: %v %+v", sb.Err, sb.Warnings)
	}
	binary.LittleEndian.PutUint32(b[152:], c+1)
	if sb := decode090(b, 26148864, 26214400); sb.Valid() || sb.ChecksumFolded {
		t.Error("a wrong checksum accepted")
	}
}

func TestFeatures(t *testing.T) {
	base := sb1{minor: "2", level: 5, layout: 2, chunk: 64, raidDisks: 3, size: 30720, events: 20}
	// Reshape: raid5 1.2 growing 3 -> 4 (md-raid.md §10.4).
	o := base
	o.raidDisks, o.features, o.reshape, o.reshapePos = 4, FeatureReshape, [5]uint32{5, 1, 2, 32, 0}, 1728
	sb := o.probe(t)
	if sb.Reshape == nil || *sb.Reshape != (Reshape{Position: 1728, NewLevel: 5, DeltaDisks: 1, NewLayout: 2, NewChunk: 32 * 512}) {
		t.Errorf("reshape: %+v", sb.Reshape)
	}
	if a := Assemble([]Member{{"r", sb}})[0]; !strings.Contains(a.Refused, "reshape in progress") {
		t.Errorf("reshape not refused: %q", a.Refused)
	}
	// 0.90 minor 91.
	d0 := loadFx(t, "md-090-raid1").members[0]
	b := bytes.Clone(d0.sb.raw)
	binary.LittleEndian.PutUint32(b[8:], 91)
	binary.LittleEndian.PutUint64(b[176:], 1728)
	binary.LittleEndian.PutUint32(b[188:], 1)
	binary.LittleEndian.PutUint32(b[196:], 16384)
	fixChecksum(b, "0.90", binary.LittleEndian)
	sb090 := decode090(b, d0.sb.Offset, int64(len(d0.dev)))
	if !sb090.Valid() || sb090.Reshape == nil || sb090.Reshape.Position != 1728 || sb090.Reshape.DeltaDisks != 1 || sb090.Reshape.NewChunk != 16384 {
		t.Errorf("0.91: %v %+v", sb090.Err, sb090.Reshape)
	}
	if a := Assemble([]Member{{"r", sb090}})[0]; !strings.Contains(a.Refused, "reshape") {
		t.Errorf("0.91 not refused: %q", a.Refused)
	}
	// Bad-block log with entries, bitmap: decoded, not refused.
	o = base
	o.features, o.word96, o.bbOff, o.bbSize = FeatureBadBlocks|FeatureBitmap, 8, 24, 8
	sb = o.probe(t)
	if !sb.Bitmap || sb.BitmapOffset != 8 || sb.BadBlocks != (BadBlockLog{Offset: 24, Size: 8, HasEntries: true}) {
		t.Errorf("bitmap/bblog: %+v %+v", sb.BitmapOffset, sb.BadBlocks)
	}
	if a := Assemble([]Member{{"x", sb}})[0]; a.Refused != "" {
		t.Errorf("bitmap refused: %s", a.Refused)
	}
	o = sb1{minor: "0", level: 1, features: FeatureBitmap, word96: uint32(0xFFFFFFF0)}
	if sb := o.probe(t); !sb.Bitmap || sb.BitmapOffset != -16 {
		t.Errorf("1.0 bitmap: %d", sb.BitmapOffset)
	}
	b = bytes.Clone(d0.sb.raw)
	binary.LittleEndian.PutUint32(b[132:], 257)
	fixChecksum(b, "0.90", binary.LittleEndian)
	if sb := decode090(b, d0.sb.Offset, int64(len(d0.dev))); !sb.Valid() || !sb.Bitmap || !sb.Clean {
		t.Errorf("0.90 bitmap: %+v", sb)
	}
	// PPL: decoded; an unclean degraded array with a PPL is refused.
	o = base
	o.features, o.word96, o.dataOffset, o.dataSize, o.bbOff = FeatureMultiPPL, 2048<<16|8, 4096, 28672, 2056
	sb = o.probe(t)
	if !sb.PPL || sb.PPLOffset != 8 || sb.PPLSize != 2048 || sb.DataOffset != 4096*512 || sb.Bitmap {
		t.Errorf("ppl: %+v", sb)
	}
	if a := Assemble([]Member{{"p", sb}})[0]; a.Refused != "" || !a.Degraded {
		t.Errorf("clean ppl: %q", a.Refused)
	}
	o.dirty = true
	if a := Assemble([]Member{{"p", o.probe(t)}})[0]; !strings.Contains(a.Refused, "partial parity log") {
		t.Errorf("dirty degraded ppl: %q", a.Refused)
	}
	// Journal: clean is readable (its device missing is a warning); unclean is refused.
	o = base
	o.features = FeatureJournal
	if a := Assemble([]Member{{"j", o.probe(t)}})[0]; a.Refused != "" || !hasProblem(a, "journal device is missing") {
		t.Errorf("clean journal: %+v", a)
	}
	o.dirty, o.resync = true, 100
	a := Assemble([]Member{{"j", o.probe(t)}})[0]
	if !strings.Contains(a.Refused, "journal") {
		t.Errorf("unclean journal: %q", a.Refused)
	}
	// Unknown feature bit: a warning on the superblock, refused array.
	o = base
	o.features = 0x4000
	sb = o.probe(t)
	if !sb.Valid() || len(sb.Warnings) != 1 {
		t.Errorf("unknown bit: %v %v", sb.Err, sb.Warnings)
	}
	if a := Assemble([]Member{{"u", sb}})[0]; !strings.Contains(a.Refused, "unknown feature bits 0x4000") {
		t.Errorf("unknown bit: %q", a.Refused)
	}
	// Unknown layout: refused.
	o = base
	o.layout = 7
	if a := Assemble([]Member{{"u", o.probe(t)}})[0]; !strings.Contains(a.Refused, "unknown raid5 layout 7") {
		t.Errorf("unknown layout: %q", a.Refused)
	}
	// Dirty and degraded raid5 without a PPL: refused; dirty raid1: a warning.
	o = base
	o.dirty = true
	if a := Assemble([]Member{{"d", o.probe(t)}})[0]; !strings.Contains(a.Refused, "unclean and degraded") {
		t.Errorf("dirty degraded: %q", a.Refused)
	}
	o = sb1{minor: "2", level: 1, dirty: true}
	if a := Assemble([]Member{{"d", o.probe(t)}})[0]; a.Refused != "" || !hasProblem(a, "not clean") {
		t.Errorf("dirty raid1: %+v", a)
	}
	// Recovery: a member being rebuilt.
	o = sb1{minor: "2", level: 1, devNumber: 1, features: FeatureRecovery, recovery: 1024, events: 5}
	rb := o.probe(t)
	o = sb1{minor: "2", level: 1, devNumber: 0, events: 5, devUUID: 50}
	a = Assemble([]Member{{"ok", o.probe(t)}, {"rb", rb}})[0]
	if a.Members[1].State != StateRebuilding || a.Members[1].RecoveryOffset != 1024*512 || !a.Degraded ||
		fmt.Sprint(a.MissingRoles) != "[1]" || !hasProblem(a, "being rebuilt") {
		t.Errorf("rebuilding: %+v", a)
	}
}

func hasProblem(a *Array, s string) bool {
	for _, p := range a.Problems {
		if strings.Contains(p.Msg, s) {
			return true
		}
	}
	return false
}

func TestAssembleRoles(t *testing.T) {
	// raid5 with a spare: dev_number 3 is the spare, 4 holds role 2.
	roles := []uint16{0, 1, 0xFFFF, 0xFFFF, 2}
	mk := func(dev uint32, ev uint64) *Superblock {
		return sb1{minor: "2", level: 5, layout: 2, chunk: 64, raidDisks: 3, roles: roles, devNumber: dev, events: ev, devUUID: byte(dev * 20)}.probe(t)
	}
	a := Assemble([]Member{{"a", mk(0, 9)}, {"b", mk(1, 9)}, {"spare", mk(3, 9)}, {"c", mk(4, 9)}})[0]
	got := ""
	for _, m := range a.Members {
		got += fmt.Sprintf("%s:%d:%s ", m.Device, m.Role, m.State)
	}
	if got != "a:0:in_sync b:1:in_sync spare:-1:spare c:2:in_sync " || a.Degraded || len(a.Problems) != 0 {
		t.Errorf("spare: %s %+v", got, a.Problems)
	}
	// A removed member: stale, still claiming its role in its own table.
	old := sb1{minor: "2", level: 5, layout: 2, chunk: 64, raidDisks: 3, roles: []uint16{0, 1, 2}, devNumber: 2, events: 7, devUUID: 40}.probe(t)
	fresh := []uint16{0, 1, 0xFFFF}
	mkf := func(dev uint32) *Superblock {
		return sb1{minor: "2", level: 5, layout: 2, chunk: 64, raidDisks: 3, roles: fresh, devNumber: dev, events: 9, devUUID: byte(dev * 20)}.probe(t)
	}
	a = Assemble([]Member{{"a", mkf(0)}, {"b", mkf(1)}, {"old", old}})[0]
	if a.Members[2].State != StateStale || a.Members[2].Role != 2 || fmt.Sprint(a.MissingRoles) != "[2]" || a.Events != 9 {
		t.Errorf("removed: %+v", a)
	}
	// Two members claiming one role with equal events: both named.
	x := sb1{minor: "2", level: 1, devNumber: 0, devUUID: 1}.probe(t)
	y := sb1{minor: "2", level: 1, devNumber: 0, devUUID: 2}.probe(t)
	a = Assemble([]Member{{"x", x}, {"y", y}})[0]
	if len(a.Problems) != 1 || fmt.Sprint(a.Problems[0].Devices) != "[x y]" || !strings.Contains(a.Problems[0].Msg, "two members claim one role") ||
		a.Members[1].State != StateDuplicate || fmt.Sprint(a.MissingRoles) != "[1]" {
		t.Errorf("conflict: %+v", a)
	}
	// Same UUID, other geometry, equal events: not mixed.
	z := sb1{minor: "2", level: 5, layout: 2, chunk: 64, devNumber: 1, devUUID: 3}.probe(t)
	a = Assemble([]Member{{"x", x}, {"z", z}})[0]
	if a.Members[1].State != StateConflict || !hasProblem(a, "other geometry") {
		t.Errorf("geometry: %+v", a)
	}
	// Two arrays, and a 1.x and 0.90 never together.
	w := sb1{minor: "2", level: 1, uuid: 100}.probe(t)
	d0 := loadFx(t, "md-090-raid1").members[0].sb
	arr := Assemble([]Member{{"x", x}, {"w", w}, {"d0", d0}, {"none", nil}})
	if len(arr) != 3 || arr[2].Metadata != "0.90" || !arr[2].Degraded {
		t.Errorf("grouping: %d arrays", len(arr))
	}
	// raid0 missing a member, layout unset.
	r0 := sb1{minor: "1", level: 0, layout: 1, chunk: 32, dataOffset: 2048, dataSize: 30720}.probe(t)
	a = Assemble([]Member{{"r0", r0}})[0]
	if !a.Degraded || !hasProblem(a, "holes") || !hasProblem(a, "layout not recorded") {
		t.Errorf("raid0: %+v", a)
	}
}

func TestMultipleSuperblocks(t *testing.T) {
	// An old 0.90 superblock at the end and a newer 1.2 at 4 KiB.
	d0 := loadFx(t, "md-090-raid1").members[0]
	size := int64(len(d0.dev))
	new12 := sb1{minor: "2", level: 1, sectors: size / 512, ctime: 1000}.bytes()
	dev := &sparse{size: size, pieces: map[int64][]byte{d0.sb.Offset: d0.sb.raw, 4096: new12}}
	sb, err := Probe(dev, size)
	if err != nil || sb.Version != "1.2" || len(sb.Others) != 1 || sb.Others[0].Version != "0.90" {
		t.Errorf("newer 1.2: %v %+v", err, sb)
	}
	old12 := sb1{minor: "2", level: 1, sectors: size / 512, ctime: 0}.bytes()
	binary.LittleEndian.PutUint64(old12[64:], 1000)
	fixChecksum(old12, "1.2", nil)
	dev.pieces[4096] = old12
	if sb, _ := Probe(dev, size); sb.Version != "0.90" || len(sb.Others) != 1 {
		t.Errorf("older 1.2: %+v", sb)
	}
	// A damaged 1.2 does not hide the valid 0.90.
	old12[300] ^= 1
	if sb, err := Probe(dev, size); err != nil || sb.Version != "0.90" || sb.Others[0].Valid() {
		t.Errorf("damaged 1.2: %v", err)
	}
}

func TestHostileMembers(t *testing.T) {
	sb := sb1{minor: "2", level: 1, raidDisks: 1920, maxDev: 1920}.probe(t)
	ms := make([]Member, 5000)
	for i := range ms {
		ms[i] = Member{Name: fmt.Sprint("m", i), SB: sb}
	}
	a := Assemble(ms)
	if len(a) != 1 || len(a[0].Members) != maxMembersPerArray || a[0].Refused == "" || len(a[0].Problems) > maxProblems+2 ||
		len(a[0].MissingRoles) != 1919 {
		t.Errorf("hostile: %d members, %d problems, refused %q", len(a[0].Members), len(a[0].Problems), a[0].Refused)
	}
	// Absurd sizes and roles.
	o := sb1{minor: "2", level: 1, raidDisks: 100000, dataSize: 1 << 62, size: 1 << 62}
	sb = o.probe(t)
	if sb.Valid() {
		t.Error("absurd superblock accepted")
	}
	if a := Assemble([]Member{{"x", sb}}); a[0].Refused == "" {
		t.Error("absurd array not refused")
	}
}
