package partition

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

const fixtures = "../../testdata/fixtures"

func loadGz(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type manifest struct {
	PVs []struct {
		GuestDevice string `json:"guest_device"`
		OffsetBytes int64  `json:"offset_bytes"`
		DevSize     int64  `json:"device_size_bytes"`
	} `json:"pvs"`
}

func loadManifest(t *testing.T, dir string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.PVs) == 0 {
		t.Fatal("manifest has no pvs")
	}
	return m
}

func readTable(t *testing.T, img []byte) (*Table, error) {
	t.Helper()
	tab, err := Read(bytes.NewReader(img), int64(len(img)))
	if tab != nil {
		checkFields(t, tab, int64(len(img)))
	}
	return tab, err
}

// checkFields verifies that every structure and field lies inside the
// image and every field inside its structure.
func checkFields(t testing.TB, tab *Table, size int64) {
	t.Helper()
	for _, s := range tab.Fields {
		if s.Name == "" || s.Off < 0 || s.Len <= 0 || s.Off+int64(s.Len) > size {
			t.Errorf("structure %q range %d+%d outside image of %d bytes", s.Name, s.Off, s.Len, size)
		}
		for _, f := range s.Fields {
			if f.Name == "" || f.Len <= 0 || f.Off < s.Off || f.Off+int64(f.Len) > s.Off+int64(s.Len) {
				t.Errorf("field %q/%q range %d+%d outside structure %d+%d", s.Name, f.Name, f.Off, f.Len, s.Off, s.Len)
			}
		}
	}
	for _, p := range tab.Partitions {
		if p.Index <= 0 || p.Start < 0 || p.Size < 0 {
			t.Errorf("bad partition %+v", p)
		}
	}
}

func partByIndex(tab *Table, idx int) *Partition {
	for i := range tab.Partitions {
		if tab.Partitions[i].Index == idx {
			return &tab.Partitions[i]
		}
	}
	return nil
}

func field(tab *Table, structure, name string) *struct {
	Value string
	OK    *bool
} {
	for _, s := range tab.Fields {
		if s.Name != structure {
			continue
		}
		for _, f := range s.Fields {
			if f.Name == name {
				r := &struct {
					Value string
					OK    *bool
				}{Value: f.Value}
				if f.Check != nil {
					ok := f.Check.OK
					r.OK = &ok
				}
				return r
			}
		}
	}
	return nil
}

func hasProblem(tab *Table, substr string) bool {
	for _, p := range tab.Problems {
		if strings.Contains(p, substr) {
			return true
		}
	}
	return false
}

func devIndex(t *testing.T, dev string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+)$`).FindString(dev)
	n, err := strconv.Atoi(m)
	if err != nil {
		t.Fatalf("device %q: %v", dev, err)
	}
	return n
}

func TestFixtureMBR(t *testing.T) {
	dir := filepath.Join(fixtures, "mbr-disk")
	img := loadGz(t, filepath.Join(dir, "disk0.img.gz"))
	tab, err := readTable(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Kind != "mbr" || tab.SectorSize != 512 {
		t.Fatalf("kind %q sector size %d", tab.Kind, tab.SectorSize)
	}
	if len(tab.Problems) != 0 {
		t.Errorf("problems: %q", tab.Problems)
	}

	// Oracle: sfdisk dump.
	f, err := os.Open(filepath.Join(dir, "partitions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^(\S+)\s*:\s*start=\s*(\d+),\s*size=\s*(\d+),\s*type=([0-9a-fA-F]+)`)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "label-id: "); ok {
			if v := field(tab, "MBR", "disk signature"); v == nil || v.Value != id {
				t.Errorf("disk signature %v, want %s", v, id)
			}
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		idx := devIndex(t, m[1])
		start, _ := strconv.ParseInt(m[2], 10, 64)
		size, _ := strconv.ParseInt(m[3], 10, 64)
		typ, _ := strconv.ParseUint(m[4], 16, 8)
		p := partByIndex(tab, idx)
		if p == nil {
			t.Errorf("partition %d missing", idx)
			continue
		}
		if p.Start != start*512 || p.Size != size*512 || p.Type != fmt.Sprintf("0x%02x", typ) {
			t.Errorf("partition %d = start %d size %d type %s, want %d %d 0x%02x", idx, p.Start, p.Size, p.Type, start*512, size*512, typ)
		}
		if p.Extended != isExtendedType(byte(typ)) || p.Logical != (idx > 4) {
			t.Errorf("partition %d: extended %v logical %v", idx, p.Extended, p.Logical)
		}
	}
	if n == 0 || n != len(tab.Partitions) {
		t.Errorf("oracle has %d partitions, got %d: %+v", n, len(tab.Partitions), tab.Partitions)
	}
	if p := partByIndex(tab, 5); p == nil || p.TypeName != "Linux LVM" {
		t.Errorf("partition 5: %+v", p)
	}
	if p := partByIndex(tab, 2); p == nil || p.TypeName != "Extended" {
		t.Errorf("partition 2: %+v", p)
	}
	for _, pv := range loadManifest(t, dir).PVs {
		p := partByIndex(tab, devIndex(t, pv.GuestDevice))
		if p == nil || p.Start != pv.OffsetBytes || p.Size != pv.DevSize || p.Extended {
			t.Errorf("PV %s at %d (%d bytes): partition %+v", pv.GuestDevice, pv.OffsetBytes, pv.DevSize, p)
		}
	}
	for _, name := range []string{"MBR entry 1", "EBR 1 (LBA 10240)", "EBR 1 entry 1", "EBR 2 entry 1"} {
		found := false
		for _, s := range tab.Fields {
			found = found || s.Name == name
		}
		if !found {
			t.Errorf("structure %q missing", name)
		}
	}
}

// gdiskCodes maps the sgdisk type codes of the fixture to GUIDs.
var gdiskCodes = map[string]string{
	"8300": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
	"8E00": "E6D6D379-F507-44C2-A23C-238F2A3DF928",
	"EF00": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
}

func TestFixtureGPT(t *testing.T) {
	dir := filepath.Join(fixtures, "gpt-disk")
	img := loadGz(t, filepath.Join(dir, "disk0.img.gz"))
	tab, err := readTable(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Kind != "gpt" || tab.SectorSize != 512 {
		t.Fatalf("kind %q sector size %d", tab.Kind, tab.SectorSize)
	}
	if len(tab.Problems) != 0 {
		t.Errorf("problems: %q", tab.Problems)
	}
	f, err := os.Open(filepath.Join(dir, "partitions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+([0-9A-F]{4})\s+(.*)$`)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if g, ok := strings.CutPrefix(line, "Disk identifier (GUID): "); ok {
			if !strings.EqualFold(tab.DiskGUID, g) {
				t.Errorf("disk GUID %s, want %s", tab.DiskGUID, g)
			}
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		idx, _ := strconv.Atoi(m[1])
		first, _ := strconv.ParseInt(m[2], 10, 64)
		last, _ := strconv.ParseInt(m[3], 10, 64)
		p := partByIndex(tab, idx)
		if p == nil {
			t.Errorf("partition %d missing", idx)
			continue
		}
		want := gdiskCodes[m[4]]
		if p.Start != first*512 || p.Size != (last-first+1)*512 || !strings.EqualFold(p.Type, want) || p.Name != strings.TrimSpace(m[5]) {
			t.Errorf("partition %d = %+v, want start %d size %d type %s name %q", idx, p, first*512, (last-first+1)*512, want, m[5])
		}
		if p.UUID == "" || p.Extended || p.Logical {
			t.Errorf("partition %d: %+v", idx, p)
		}
	}
	if n == 0 || n != len(tab.Partitions) {
		t.Errorf("oracle has %d partitions, got %d", n, len(tab.Partitions))
	}
	if p := partByIndex(tab, 2); p == nil || p.TypeName != "Linux LVM" {
		t.Errorf("partition 2: %+v", p)
	}
	if p := partByIndex(tab, 1); p == nil || p.TypeName != "Linux filesystem" {
		t.Errorf("partition 1: %+v", p)
	}
	for _, pv := range loadManifest(t, dir).PVs {
		p := partByIndex(tab, devIndex(t, pv.GuestDevice))
		if p == nil || p.Start != pv.OffsetBytes || p.Size != pv.DevSize {
			t.Errorf("PV %s at %d (%d bytes): partition %+v", pv.GuestDevice, pv.OffsetBytes, pv.DevSize, p)
		}
	}
	for _, s := range []string{"GPT header (primary, LBA 1)", "GPT header (backup, LBA 81919)"} {
		for _, name := range []string{"header CRC32", "partition entry array CRC32"} {
			if v := field(tab, s, name); v == nil || v.OK == nil || !*v.OK {
				t.Errorf("%s %s: %+v", s, name, v)
			}
		}
	}
	if field(tab, "GPT entry 2", "partition name") == nil {
		t.Error("GPT entry 2 structure missing")
	}
}

func TestFixtureDamagedGPTPrimary(t *testing.T) {
	img := loadGz(t, filepath.Join(fixtures, "gpt-disk", "disk0.img.gz"))
	img[512+60] ^= 0xff // inside the disk GUID: header CRC now wrong
	tab, err := readTable(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Partitions) != 2 || tab.Partitions[1].Start != 5242880 || !hasProblem(tab, "using the backup header") {
		t.Fatalf("%+v %q", tab.Partitions, tab.Problems)
	}
	if v := field(tab, "GPT header (primary, LBA 1)", "header CRC32"); v == nil || v.OK == nil || *v.OK {
		t.Errorf("primary header CRC check: %+v", v)
	}
}

func TestNoTableLVMPV(t *testing.T) {
	img := loadGz(t, filepath.Join(fixtures, "banana", "pv0.img.gz"))
	tab, err := Read(bytes.NewReader(img), int64(len(img)))
	if !errors.Is(err, ErrNoTable) || tab != nil {
		t.Fatalf("got %+v, %v", tab, err)
	}
	// The same PV with a 0x55AA signature added to sector 0.
	img[510], img[511] = 0x55, 0xAA
	tab, err = Read(bytes.NewReader(img), int64(len(img)))
	if !errors.Is(err, ErrNoTable) || tab != nil {
		t.Fatalf("with signature: got %+v, %v", tab, err)
	}
}

func TestTiny(t *testing.T) {
	for _, n := range []int{0, 1, 511} {
		if tab, err := Read(bytes.NewReader(make([]byte, n)), int64(n)); !errors.Is(err, ErrNoTable) || tab != nil {
			t.Errorf("%d bytes: %+v %v", n, tab, err)
		}
	}
	if _, err := Read(nil, 4096); !errors.Is(err, ErrNoTable) {
		t.Error(err)
	}
}

// --- hand-made MBR images ---

func putEntry(img []byte, off int, status, typ byte, start, sectors uint32) {
	e := img[off : off+16]
	e[0] = status
	e[4] = typ
	binary.LittleEndian.PutUint32(e[8:], start)
	binary.LittleEndian.PutUint32(e[12:], sectors)
}

func putSig(img []byte, sector int64) {
	img[sector*512+510], img[sector*512+511] = 0x55, 0xAA
}

func primary(img []byte, slot int, status, typ byte, start, sectors uint32) {
	putEntry(img, 446+16*(slot-1), status, typ, start, sectors)
	putSig(img, 0)
}

// ebr writes an EBR at LBA lba: logical partition (relative to lba) and a
// link (relative to the extended start).
func ebr(img []byte, lba int64, typ byte, rel, sectors uint32, linkRel, linkSectors uint32) {
	off := int(lba * 512)
	putEntry(img, off+446, 0, typ, rel, sectors)
	if linkSectors != 0 {
		putEntry(img, off+446+16, 0, 0x05, linkRel, linkSectors)
	}
	putSig(img, lba)
}

func TestMBRPrimaries(t *testing.T) {
	img := make([]byte, 4096*512)
	primary(img, 1, 0x80, 0x83, 2048, 1024)
	primary(img, 3, 0x00, 0x8e, 3072, 1024)
	tab, err := readTable(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Partitions) != 2 || tab.Partitions[0].Index != 1 || tab.Partitions[1].Index != 3 ||
		tab.Partitions[1].Start != 3072*512 || tab.Partitions[1].Size != 1024*512 || tab.Partitions[1].Type != "0x8e" {
		t.Fatalf("%+v", tab.Partitions)
	}
	if len(tab.Problems) != 0 {
		t.Errorf("problems %q", tab.Problems)
	}
}

func TestEBRLoop(t *testing.T) {
	img := make([]byte, 2048*512)
	primary(img, 1, 0, 0x05, 100, 1000)
	ebr(img, 100, 0x83, 10, 50, 200, 100) // -> EBR at 300
	ebr(img, 300, 0x8e, 10, 50, 0, 100)   // -> back to EBR at 100
	tab, err := readTable(t, img)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("err %v", err)
	}
	if tab == nil || len(tab.Partitions) != 3 || !hasProblem(tab, "loops") {
		t.Fatalf("%+v", tab)
	}
	if p := partByIndex(tab, 6); p == nil || p.Start != 310*512 || !p.Logical || p.Type != "0x8e" {
		t.Errorf("partition 6: %+v", p)
	}

	// Self loop.
	img = make([]byte, 2048*512)
	primary(img, 1, 0, 0x0f, 100, 1000)
	ebr(img, 100, 0x83, 10, 50, 0, 100)
	tab, err = readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 || !hasProblem(tab, "loops") {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestEBRLongChain(t *testing.T) {
	// A chain longer than the limit, each EBR linking to the next sector.
	n := maxEBRs + 10
	img := make([]byte, (n+200)*512)
	primary(img, 1, 0, 0x05, 100, uint32(n+50))
	for i := 0; i < n; i++ {
		ebr(img, int64(100+i), 0, 0, 0, uint32(i+1), 1)
	}
	tab, err := readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || !hasProblem(tab, "longer than") {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestEntryBeyondImage(t *testing.T) {
	img := make([]byte, 1024*512)
	primary(img, 1, 0, 0x83, 2048, 1024) // starts past the end
	primary(img, 2, 0, 0x8e, 512, 1024)  // ends past the end
	tab, err := readTable(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Partitions) != 2 || !hasProblem(tab, "partition 1 starts at byte") || !hasProblem(tab, "partition 2 ends at byte") {
		t.Fatalf("%+v %q", tab.Partitions, tab.Problems)
	}

	// Extended partition whose first EBR is past the end of the image.
	img = make([]byte, 1024*512)
	primary(img, 1, 0, 0x83, 1, 100)
	primary(img, 2, 0, 0x05, 5000, 100)
	tab, err = readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 || !hasProblem(tab, "cannot be read") {
		t.Fatalf("%+v %v", tab, err)
	}

	// EBR link pointing past the image.
	img = make([]byte, 1024*512)
	primary(img, 1, 0, 0x05, 100, 0xffffff)
	ebr(img, 100, 0x83, 10, 50, 0xfffff0, 10)
	tab, err = readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 || !hasProblem(tab, "outside the extended partition or the image") {
		t.Fatalf("%+v %v", tab, err)
	}

	// EBR without signature.
	img = make([]byte, 1024*512)
	primary(img, 1, 0, 0x05, 100, 500)
	ebr(img, 100, 0x83, 10, 50, 100, 50)
	tab, err = readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 || !hasProblem(tab, "no 0x55AA") {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestImplausibleMBR(t *testing.T) {
	cases := map[string]struct {
		build  func(img []byte)
		reason string // of the *RejectedError; "" for a plain ErrNoTable
	}{
		"bad status": {func(img []byte) {
			primary(img, 1, 0x01, 0x83, 2048, 1024)
		}, "entry 1 has status byte 0x01"},
		"zero size": {func(img []byte) {
			primary(img, 2, 0, 0x83, 2048, 0)
		}, "no entry describes a partition"},
		"empty": {func(img []byte) { putSig(img, 0) }, "no entry describes a partition"},
		"no signature": {func(img []byte) {
			primary(img, 1, 0, 0x83, 2048, 1024)
			img[511] = 0
		}, ""},
	}
	for name, tc := range cases {
		img := make([]byte, 8192*512)
		tc.build(img)
		tab, err := Read(bytes.NewReader(img), int64(len(img)))
		var rej *RejectedError
		switch {
		case !errors.Is(err, ErrNoTable) || tab != nil:
			t.Errorf("%s: %+v %v", name, tab, err)
		case tc.reason == "" && errors.As(err, &rej):
			t.Errorf("%s: rejected a table: %v", name, err)
		case tc.reason != "" && (!errors.As(err, &rej) || !strings.Contains(rej.Reason, tc.reason)):
			t.Errorf("%s: %v, want a rejection because %q", name, err, tc.reason)
		}
	}
}

// TestOddMBRUsed reads MBRs Linux uses although they are odd: the table
// is used and the oddity reported (they gave ErrNoTable, nothing said).
func TestOddMBRUsed(t *testing.T) {
	cases := map[string]struct {
		build   func(img []byte)
		parts   int
		problem string
	}{
		"zero start": {func(img []byte) {
			primary(img, 1, 0, 0x83, 0, 1024)
		}, 1, "starts at sector 0"},
		"zero size entry": {func(img []byte) {
			primary(img, 1, 0, 0x83, 2048, 1024)
			primary(img, 2, 0, 0x83, 4096, 0)
		}, 1, "entry 2 (type 0x83) has size 0: ignored"},
		"overlap": {func(img []byte) {
			primary(img, 1, 0, 0x83, 2048, 1024)
			primary(img, 2, 0, 0x8e, 3000, 1024)
		}, 2, "as Linux uses them (it does not check overlaps)"},
		"extended at sector 0": {func(img []byte) {
			primary(img, 1, 0, 0x83, 2048, 1024)
			primary(img, 2, 0, 0x05, 0, 8192)
		}, 1, "extended partition starting at sector 0"},
	}
	for name, tc := range cases {
		img := make([]byte, 8192*512)
		tc.build(img)
		tab, err := Read(bytes.NewReader(img), int64(len(img)))
		if err != nil || tab == nil || len(tab.Partitions) != tc.parts || !hasProblem(tab, tc.problem) {
			t.Errorf("%s: %v, %+v", name, err, tab)
		}
	}
}

// fatBootSector returns a FAT32-style boot sector: jump, OEM name, BPB,
// "FAT32   " at 82, boot code and a message running over the partition
// table area, and the 0x55AA signature.
func fatBootSector() []byte {
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x58, 0x90})
	copy(s[3:], "mkfs.fat")
	binary.LittleEndian.PutUint16(s[11:], 512)
	s[13] = 8
	binary.LittleEndian.PutUint16(s[14:], 32)
	s[16] = 2
	s[21] = 0xF8
	copy(s[71:], "NO NAME    FAT32   ")
	for i := 90; i < 420; i++ {
		s[i] = byte(i*7 + 3)
	}
	copy(s[420:], "This is not a bootable disk.  Please insert a bootable floppy and\r\npress any key to try again ... \r\n")
	s[510], s[511] = 0x55, 0xAA
	return s
}

func TestFilesystemBootSector(t *testing.T) {
	img := make([]byte, 4096*512)
	copy(img, fatBootSector())
	if tab, err := Read(bytes.NewReader(img), int64(len(img))); !errors.Is(err, ErrNoTable) || tab != nil {
		t.Errorf("FAT with text: %+v %v", tab, err)
	}
	// The same boot sector with entries that would pass as a table.
	clear(img[446:510])
	primary(img, 1, 0, 0x0c, 2048, 1024)
	if tab, err := Read(bytes.NewReader(img), int64(len(img))); !errors.Is(err, ErrNoTable) || tab != nil {
		t.Errorf("FAT with plausible entries: %+v %v", tab, err)
	}
	// NTFS.
	img = make([]byte, 4096*512)
	copy(img, []byte{0xEB, 0x52, 0x90})
	copy(img[3:], "NTFS    ")
	primary(img, 1, 0, 0x07, 2048, 1024)
	if tab, err := Read(bytes.NewReader(img), int64(len(img))); !errors.Is(err, ErrNoTable) || tab != nil {
		t.Errorf("NTFS: %+v %v", tab, err)
	}
	// ext: boot block of garbage with a signature, superblock at 1024.
	img = make([]byte, 4096*512)
	for i := 0; i < 510; i++ {
		img[i] = byte(i*131 + 17)
	}
	putSig(img, 0)
	binary.LittleEndian.PutUint16(img[1024+56:], 0xEF53)
	if tab, err := Read(bytes.NewReader(img), int64(len(img))); !errors.Is(err, ErrNoTable) || tab != nil {
		t.Errorf("garbage with signature: %+v %v", tab, err)
	}
}

// --- hand-made GPT images ---

func guidBytes(s string) []byte {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		panic("bad guid " + s)
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:], binary.BigEndian.Uint32(h[0:]))
	binary.LittleEndian.PutUint16(b[4:], binary.BigEndian.Uint16(h[4:]))
	binary.LittleEndian.PutUint16(b[6:], binary.BigEndian.Uint16(h[6:]))
	copy(b[8:], h[8:])
	return b
}

const (
	lvmGUID  = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
	linGUID  = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	diskGUID = "11223344-5566-7788-99AA-BBCCDDEEFF00"
)

type gptPart struct {
	typ, uuid   string
	first, last uint64
	name        string
}

type gptImage struct {
	img              []byte
	ss               int
	primOff, backOff int // header offsets
	primEnt, backEnt int // entry array offsets
}

// buildGPT makes an image of sectors sectors of ss bytes with a protective
// MBR, primary and backup headers and 128-entry arrays.
func buildGPT(ss int, sectors uint64, parts []gptPart) *gptImage {
	g := &gptImage{img: make([]byte, sectors*uint64(ss)), ss: ss}
	pm := sectors - 1
	if pm > 0xffffffff {
		pm = 0xffffffff
	}
	primary(g.img, 1, 0, 0xEE, 1, uint32(pm))
	ent := make([]byte, 128*128)
	for i, p := range parts {
		e := ent[i*128:]
		copy(e, guidBytes(p.typ))
		copy(e[16:], guidBytes(p.uuid))
		binary.LittleEndian.PutUint64(e[32:], p.first)
		binary.LittleEndian.PutUint64(e[40:], p.last)
		for j, c := range utf16.Encode([]rune(p.name)) {
			binary.LittleEndian.PutUint16(e[56+2*j:], c)
		}
	}
	entSectors := uint64(len(ent) / ss)
	last := sectors - 1
	backEnt := last - entSectors
	firstUse, lastUse := 2+entSectors, backEnt-1
	g.primOff, g.backOff = ss, int(last)*ss
	g.primEnt, g.backEnt = 2*ss, int(backEnt)*ss
	copy(g.img[g.primEnt:], ent)
	copy(g.img[g.backEnt:], ent)
	g.header(g.primOff, 1, last, firstUse, lastUse, 2)
	g.header(g.backOff, last, 1, firstUse, lastUse, backEnt)
	return g
}

func (g *gptImage) header(off int, my, alt, firstUse, lastUse, entLBA uint64) {
	h := g.img[off : off+92]
	le := binary.LittleEndian
	copy(h, "EFI PART")
	le.PutUint32(h[8:], 0x00010000)
	le.PutUint32(h[12:], 92)
	le.PutUint64(h[24:], my)
	le.PutUint64(h[32:], alt)
	le.PutUint64(h[40:], firstUse)
	le.PutUint64(h[48:], lastUse)
	copy(h[56:], guidBytes(diskGUID))
	le.PutUint64(h[72:], entLBA)
	le.PutUint32(h[80:], 128)
	le.PutUint32(h[84:], 128)
	g.fixCRCs(off)
}

// fixCRCs recomputes the entry array CRC and the header CRC of the header
// at off.
func (g *gptImage) fixCRCs(off int) {
	h := g.img[off : off+92]
	le := binary.LittleEndian
	entOff := int(le.Uint64(h[72:])) * g.ss
	n := int(le.Uint32(h[80:])) * int(le.Uint32(h[84:]))
	if entOff+n <= len(g.img) && n <= 1<<20 {
		le.PutUint32(h[88:], crc32.ChecksumIEEE(g.img[entOff:entOff+n]))
	}
	g.fixHeaderCRC(off)
}

func (g *gptImage) fixHeaderCRC(off int) {
	h := g.img[off : off+92]
	clear(h[16:20])
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h))
}

var testParts = []gptPart{
	{linGUID, "AAAAAAAA-0000-0000-0000-000000000001", 40, 59, "boot"},
	{lvmGUID, "AAAAAAAA-0000-0000-0000-000000000002", 60, 99, "pv ünïcødé"},
}

func checkTestParts(t *testing.T, tab *Table, ss int) {
	t.Helper()
	if tab.Kind != "gpt" || tab.SectorSize != ss || tab.DiskGUID != diskGUID || len(tab.Partitions) != 2 {
		t.Fatalf("table %+v", tab)
	}
	for i, want := range testParts {
		p := tab.Partitions[i]
		if p.Index != i+1 || p.Type != want.typ || p.UUID != want.uuid || p.Name != want.name ||
			p.Start != int64(want.first)*int64(ss) || p.Size != int64(want.last-want.first+1)*int64(ss) {
			t.Errorf("partition %d = %+v, want %+v", i+1, p, want)
		}
	}
	if tab.Partitions[1].TypeName != "Linux LVM" {
		t.Errorf("type name %q", tab.Partitions[1].TypeName)
	}
}

func TestGPTClean(t *testing.T) {
	g := buildGPT(512, 160, testParts)
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	checkTestParts(t, tab, 512)
	if len(tab.Problems) != 0 {
		t.Errorf("problems %q", tab.Problems)
	}
}

func TestGPT4K(t *testing.T) {
	g := buildGPT(4096, 64, []gptPart{
		{linGUID, testParts[0].uuid, 10, 19, "boot"},
		{lvmGUID, testParts[1].uuid, 20, 49, "pv ünïcødé"},
	})
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	if tab.SectorSize != 4096 || len(tab.Partitions) != 2 || tab.Partitions[1].Start != 20*4096 || tab.Partitions[1].Size != 30*4096 {
		t.Fatalf("%+v", tab)
	}
	if len(tab.Problems) != 0 {
		t.Errorf("problems %q", tab.Problems)
	}
	// And with the primary header destroyed: found through the backup.
	clear(g.img[g.primOff : g.primOff+92])
	tab, err = readTable(t, g.img)
	if err != nil || tab.SectorSize != 4096 || len(tab.Partitions) != 2 || !hasProblem(tab, "primary GPT header missing") {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestGPTBadHeaderCRC(t *testing.T) {
	g := buildGPT(512, 160, testParts)
	g.img[g.primOff+40] ^= 1 // first usable LBA, CRC not updated
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	checkTestParts(t, tab, 512)
	if !hasProblem(tab, "primary GPT header at LBA 1 is damaged") || !hasProblem(tab, "using the backup header at LBA 159") {
		t.Errorf("problems %q", tab.Problems)
	}
	// Both headers damaged: partial result and an error.
	g.img[g.backOff+40] ^= 1
	tab, err = readTable(t, g.img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 0 || tab.Kind != "gpt" {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestGPTBadEntryCRC(t *testing.T) {
	g := buildGPT(512, 160, testParts)
	g.img[g.primEnt+56] = 'X' // name of entry 1 in the primary array
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	checkTestParts(t, tab, 512)
	if !hasProblem(tab, "entry array CRC32 mismatch") || !hasProblem(tab, "using the backup entry array") {
		t.Errorf("problems %q", tab.Problems)
	}
	if v := field(tab, "GPT header (primary, LBA 1)", "partition entry array CRC32"); v == nil || v.OK == nil || *v.OK {
		t.Errorf("check %+v", v)
	}
	// Backup array damaged too: the primary entries are returned with an
	// error.
	g.img[g.backEnt+56] = 'Y'
	tab, err = readTable(t, g.img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 || tab.Partitions[0].Name != "Xoot" {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestGPTBackupProblems(t *testing.T) {
	// Missing backup.
	g := buildGPT(512, 160, testParts)
	clear(g.img[g.backOff:])
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	checkTestParts(t, tab, 512)
	if !hasProblem(tab, "backup GPT header missing") {
		t.Errorf("problems %q", tab.Problems)
	}
	// Backup differing from the primary.
	g = buildGPT(512, 160, testParts)
	binary.LittleEndian.PutUint64(g.img[g.backOff+48:], 120)
	g.fixHeaderCRC(g.backOff)
	tab, err = readTable(t, g.img)
	if err != nil || !hasProblem(tab, "backup GPT header differs from the primary: last usable LBA") {
		t.Errorf("%q %v", tab.Problems, err)
	}
	// Truncated image: backup beyond the end.
	g = buildGPT(512, 160, testParts)
	trunc := g.img[:120*512]
	tab, err = readTable(t, trunc)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(tab, "past the last LBA of the image") || !hasProblem(tab, "backup GPT header missing") {
		t.Errorf("problems %q", tab.Problems)
	}
}

func TestGPTOddities(t *testing.T) {
	g := buildGPT(512, 160, append(append([]gptPart{}, testParts...),
		gptPart{lvmGUID, "AAAAAAAA-0000-0000-0000-000000000003", 90, 130, "overlap"},
		gptPart{lvmGUID, "AAAAAAAA-0000-0000-0000-000000000004", 100, 90, "reversed"},
	))
	primary(g.img, 2, 0x80, 0x83, 40, 20) // hybrid MBR
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"partitions 2 and 3 overlap", "before first LBA", "outside the usable LBAs", "hybrid MBR"} {
		if !hasProblem(tab, want) {
			t.Errorf("no problem %q in %q", want, tab.Problems)
		}
	}
	if len(tab.Partitions) != 3 {
		t.Errorf("%+v", tab.Partitions)
	}
}

func TestGPTHugeEntryArray(t *testing.T) {
	g := buildGPT(512, 160, testParts)
	for _, off := range []int{g.primOff, g.backOff} {
		binary.LittleEndian.PutUint32(g.img[off+80:], 0xffffffff)
		binary.LittleEndian.PutUint32(g.img[off+84:], 0x80000000)
		g.fixHeaderCRC(off)
	}
	tab, err := readTable(t, g.img)
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 0 || !hasProblem(tab, "exceeds") {
		t.Fatalf("%+v %v", tab, err)
	}
	// A reader that claims an enormous size must not cause big reads.
	tab, err = Read(limitedReader{g.img}, 1<<62)
	if tab == nil || err == nil {
		t.Fatalf("%+v %v", tab, err)
	}
}

// limitedReader serves img and fails beyond it, like a truncated device.
type limitedReader struct{ img []byte }

func (l limitedReader) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > 1<<20+4096 {
		panic(fmt.Sprintf("read of %d bytes", len(p)))
	}
	return bytes.NewReader(l.img).ReadAt(p, off)
}

func TestGPTWithoutProtectiveMBR(t *testing.T) {
	g := buildGPT(512, 160, testParts)
	clear(g.img[:512])
	tab, err := readTable(t, g.img)
	if err != nil {
		t.Fatal(err)
	}
	checkTestParts(t, tab, 512)
	if !hasProblem(tab, "no protective MBR") {
		t.Errorf("problems %q", tab.Problems)
	}
	// A plausible MBR wins over a GPT without a protective entry.
	primary(g.img, 1, 0, 0x83, 40, 60)
	tab, err = readTable(t, g.img)
	if err != nil || tab.Kind != "mbr" || len(tab.Partitions) != 1 || !hasProblem(tab, "GPT is ignored") {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestProtectiveWithoutGPT(t *testing.T) {
	img := make([]byte, 160*512)
	primary(img, 1, 0, 0xEE, 1, 159)
	tab, err := readTable(t, img)
	if !errors.Is(err, ErrDamaged) || tab == nil || tab.Kind != "gpt" || len(tab.Partitions) != 0 {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestIOError(t *testing.T) {
	img := loadGz(t, filepath.Join(fixtures, "mbr-disk", "disk0.img.gz"))
	// Only the first 64 KiB are readable: the EBRs are not.
	tab, err := Read(limitedReader{img[:65536]}, int64(len(img)))
	if !errors.Is(err, ErrDamaged) || tab == nil || len(tab.Partitions) != 2 {
		t.Fatalf("%+v %v", tab, err)
	}
	if _, err := Read(limitedReader{nil}, 1<<20); err == nil || errors.Is(err, ErrNoTable) {
		t.Fatalf("sector 0 unreadable: %v", err)
	}
}

// mbrFixtureWith loads the mbr-disk image and changes it with set.
func mbrFixtureWith(t *testing.T, set func(img []byte)) []byte {
	img := loadGz(t, filepath.Join(fixtures, "mbr-disk", "disk0.img.gz"))
	set(img)
	return img
}

// setPrimary sets MBR entry i (0-based) of a fixture image.
func setPrimary(img []byte, i int, typ byte, start, sectors uint32) {
	clear(img[446+16*i : 446+16*i+16])
	putEntry(img, 446+16*i, 0, typ, start, sectors)
}

// TestFixtureOddMBRs alters the mbr-disk fixture as the probe
// did: the PV's logical partition 5 must still be listed, once, and the
// oddity reported (each gave ErrNoTable, hence no PV and no problem).
func TestFixtureOddMBRs(t *testing.T) {
	const pvStart = 12288 * 512
	cases := map[string]struct {
		set     func(img []byte)
		problem string
	}{
		"extra entry overlapping partition 1": {func(img []byte) { setPrimary(img, 2, 0x83, 2048+8, 16) },
			"it does not check overlaps"},
		"four extended entries": {func(img []byte) {
			for i := 0; i < 4; i++ {
				setPrimary(img, i, 0x05, 10240, 71680)
			}
		}, "its logical partitions are listed once"},
		"extended entry at sector 0": {func(img []byte) { setPrimary(img, 2, 0x05, 0, 81920) },
			"extended partition starting at sector 0"},
	}
	for name, tc := range cases {
		img := mbrFixtureWith(t, tc.set)
		tab, err := readTable(t, img)
		if err != nil || tab == nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		n := 0
		for _, p := range tab.Partitions {
			if p.Start == pvStart && !p.Extended {
				n++
			}
		}
		if n != 1 || !hasProblem(tab, tc.problem) {
			t.Errorf("%s: %d partitions at the PV, problems %q", name, n, tab.Problems)
		}
	}
}

// TestFixtureGPTInvalidPrimaryEntry breaks entry 2 (the PV's) of the
// primary GPT entry array, with its CRCs recomputed: the backup entry is
// used and the damage reported (the PV was lost).
func TestFixtureGPTInvalidPrimaryEntry(t *testing.T) {
	for _, bad := range []string{"reversed", "past the end"} {
		img := loadGz(t, filepath.Join(fixtures, "gpt-disk", "disk0.img.gz"))
		e := img[2*512+128:]
		if bad == "reversed" {
			binary.LittleEndian.PutUint64(e[40:], 5) // last LBA before first
		} else {
			binary.LittleEndian.PutUint64(e[32:], 1<<40)
			binary.LittleEndian.PutUint64(e[40:], 1<<40+100)
		}
		h := img[512:1024]
		le := binary.LittleEndian
		le.PutUint32(h[88:], crc32.ChecksumIEEE(img[1024:1024+128*128]))
		le.PutUint32(h[16:], 0)
		le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		tab, err := readTable(t, img)
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		if len(tab.Partitions) != 2 || tab.Partitions[1].Start != 5242880 || !hasProblem(tab, "in the primary entry array") ||
			!hasProblem(tab, "the backup entry is used") {
			t.Errorf("%s: %+v %q", bad, tab.Partitions, tab.Problems)
		}
	}
}
