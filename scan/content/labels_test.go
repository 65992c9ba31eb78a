package content

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// The longest label and UUID Identify can return: a Btrfs label is 256
// bytes; an NTFS volume name is at most 128 UTF-16 code units, 3 bytes
// each in UTF-8 at most (a pair makes 4 bytes of 2 units, a lone
// surrogate U+FFFD, 3 bytes). The longest UUID is LUKS's 40-byte text.
const (
	maxLabel = 384
	maxUUID  = 40
)

// uuidShapes is the form of the UUID of every format whose tools always
// write one.
var uuidShapes = func() map[string]*regexp.Regexp {
	std := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	return map[string]*regexp.Regexp{
		"ext": std, "xfs": std, "btrfs": std, "swap": std, "luks1": std, "luks2": std, "gpt": std,
		"fat":     regexp.MustCompile(`^[0-9A-F]{4}-[0-9A-F]{4}$`),
		"ntfs":    regexp.MustCompile(`^[0-9A-F]{16}$`),
		"iso9660": regexp.MustCompile(`^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d\d$`),
		"lvm2":    regexp.MustCompile(`^[0-9A-Za-z]{6}(-[0-9A-Za-z]{4}){5}-[0-9A-Za-z]{6}$`),
		"mbr":     regexp.MustCompile(`^[0-9a-f]{8}$`),
	}
}()

// labelled are the labels and UUIDs testdata/make.sh gives the tools (and
// that blkid -p reports for the images it makes).
var labelled = map[string]struct{ label, uuid string }{
	"luks1.luks1-label.pieces": {"", "6f1d2c3b-4a59-4687-9a8b-7c6d5e4f3011"},
	"luks2.luks2-label.pieces": {"crypt root", "6f1d2c3b-4a59-4687-9a8b-7c6d5e4f3022"},
	"ext.ext2-label.pieces":    {"root fs", "0e9c3a4b-5d6e-4f70-8192-a3b4c5d6e7f8"},
	"ext.ext3-label.pieces":    {"home", "1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80"},
	"ext.ext4-label.pieces":    {"0123456789abcdef", "2c3d4e5f-6071-4829-9a3b-4c5d6e7f8091"}, // the whole field, no NUL
	"xfs.xfs-label.pieces":     {"xfs-data-vol", "3d4e5f60-7182-4930-8b4c-5d6e7f8091a2"},     // the whole field
	"btrfs.btrfs-label.pieces": {"btrfs pool ü", "4e5f6071-8293-4a41-9c5d-6e7f8091a2b3"},
	"fat.fat12-label.pieces":   {"DOS DISK", "1234-ABCD"},
	"fat.fat16-label.pieces":   {"FAT16 VOL", "0000-BEEF"},
	"fat.fat32-label.pieces":   {"ELEVENCHARS", "DEAD-BEEF"}, // the whole field
	"fat.fat32-nolabel.pieces": {"", "89AB-CDEF"},
	"swap.swap-label.pieces":   {"swap label", "5f607182-93a4-4b52-8d6e-7f8091a2b3c4"},
	"swap.swap-64k.pieces":     {"big pages label", "60718293-a4b5-4c63-9e7f-8091a2b3c4d5"}, // mkswap keeps 15 bytes and a NUL
	"ntfs.ntfs-label.pieces":   {"Données", "0123456789ABCDEF"},
	"iso9660.iso-label.pieces": {"LVMINSPECT TEST", "2024-01-02-03-04-05-06"},
	"gpt.sfdisk.pieces":        {"", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
	"mbr.sfdisk.pieces":        {"", "1a2b3c4d"},
	"lvm2.pvcreate.pieces":     {"", "AbCdEf-0123-4567-89ab-cdef-GhIj-KlMnOp"},
}

// openTestdata opens a testdata file: the bytes of a .head.gz, or the
// sparse image of a .pieces.gz (see testdata/keep.go).
func openTestdata(path string) (io.ReaderAt, int64, error) {
	b, err := fixture.Gunzip(path)
	if err != nil {
		return nil, 0, err
	}
	if !strings.HasSuffix(path, ".pieces.gz") {
		return bytes.NewReader(b), int64(len(b)), nil
	}
	return parsePieces(b)
}

func parsePieces(b []byte) (io.ReaderAt, int64, error) {
	if !bytes.HasPrefix(b, []byte("LVMIPCS1")) || len(b) < 16 {
		return nil, 0, errors.New("not a pieces file")
	}
	s := &sparse{size: int64(binary.LittleEndian.Uint64(b[8:]))}
	for b = b[16:]; len(b) > 0; {
		if len(b) < 16 {
			return nil, 0, errors.New("pieces: cut short")
		}
		off, n := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		if n > uint64(len(b)-16) || off+n > uint64(s.size) {
			return nil, 0, errors.New("pieces: bad part")
		}
		s.parts = append(s.parts, part{int64(off), b[16 : 16+n]})
		b = b[16+n:]
	}
	sort.Slice(s.parts, func(i, j int) bool { return s.parts[i].off < s.parts[j].off })
	return s, s.size, nil
}

type part struct {
	off int64
	b   []byte
}

// sparse reads its parts where they are and zeros elsewhere.
type sparse struct {
	size  int64
	parts []part
}

func (s *sparse) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	n := len(b)
	var err error
	if int64(n) > s.size-off {
		n, err = int(s.size-off), io.EOF
	}
	clear(b[:n])
	for _, p := range s.parts {
		lo, hi := max(off, p.off), min(off+int64(n), p.off+int64(len(p.b)))
		if lo < hi {
			copy(b[lo-off:hi-off], p.b[lo-p.off:hi-p.off])
		}
	}
	return n, err
}

// The disks of the LVM2 fixtures (made by the real LVM2 tools and
// partitioned with sgdisk and sfdisk): a bare PV, and the partition
// tables, whose PVs Identify names when handed the partition.
func TestIdentifyFixtures(t *testing.T) {
	for _, c := range []struct {
		fixture, image string
		off, size      int64 // a partition; size 0 for the whole image
		format, uuid   string
	}{
		{"banana", "pv0", 0, 0, "lvm2", "zOyPRb-qflr-3FM5-kMw3-Cx05-k5g2-UUeFM5"},
		{"gpt-disk", "disk0", 0, 0, "gpt", "1cde0485-5f79-4ade-aa3f-3fcc14dd07cd"}, // sgdisk: 1CDE0485-5F79-4ADE-AA3F-3FCC14DD07CD
		{"gpt-disk", "disk0", 10240 * 512, 71647 * 512, "lvm2", "QD31oI-2ZAC-h6Zl-4xxy-ZLHY-5zui-usNh41"},
		{"mbr-disk", "disk0", 0, 0, "mbr", "d89fbb89"}, // sfdisk: label-id: 0xd89fbb89
		{"mbr-disk", "disk0", 12288 * 512, 61440 * 512, "lvm2", "eQUJdO-SfLG-GwAo-OpVg-COEE-yFGB-Ge4fbk"},
	} {
		t.Run(fmt.Sprintf("%s@%d", c.fixture, c.off), func(t *testing.T) {
			b := fixture.Load(t, c.fixture).Image(t, c.image)
			if c.size != 0 {
				b = b[c.off : c.off+c.size]
			}
			info, ok := identify(b)
			if !ok || info.Format != c.format || info.UUID != c.uuid || info.Label != "" || info.MayHoldPV() {
				t.Errorf("got %#v %v, want %s %s", info, ok, c.format, c.uuid)
			}
		})
	}
	// The first partition of gpt-disk is an ext2 file system made by
	// mke2fs -L data (label and UUID as dumpe2fs and blkid show them).
	b := fixture.Load(t, "gpt-disk").Image(t, "disk0")[2048*512 : 10240*512]
	if info, ok := identify(b); !ok || info.Name != "ext2 file system" || info.Label != "data" || info.UUID != "85ab8303-6e62-451c-ac2c-630288d3de70" {
		t.Errorf("gpt-disk partition 1: %#v %v", info, ok)
	}
}

// Hand-made images for what the tools here cannot make (md superblocks:
// mdadm needs the kernel's md driver; APFS) and for the near misses: full
// fields without a NUL, NULs inside, garbage and zero UUIDs, pointers that
// lead nowhere.
func TestIdentifyLabels(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name               string
		b                  []byte
		format, label, uid string
	}{
		// md: the values are what blkid -p reports for these bytes.
		{"md-1.2", mdImage(8192, 4096, "myhost:array0"), "md", "myhost:array0", "00112233-4455-6677-8899-aabbccddeeff"},
		{"md-1.1", mdImage(8192, 0, "0123456789abcdef0123456789abcdef\xff"), "md", "0123456789abcdef0123456789abcdef", "00112233-4455-6677-8899-aabbccddeeff"},
		{"md-1.0", mdImage(mib+4096, mib-4096, "x"), "md", "x", "00112233-4455-6677-8899-aabbccddeeff"},
		{"md-0.90", md090Image(mib), "md", "", "00112233-4455-6677-8899-aabbccddeeff"},
		// ext: the whole 16-byte name, a NUL inside, garbage and zero
		// UUIDs.
		{"ext-full-label", extImage("0123456789abcdefXYZ", bytes.Repeat([]byte{0xff}, 16)), "ext", "0123456789abcdef", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
		{"ext-nul-inside", extImage("ab\x00cd", []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f")), "ext", "ab", "00010203-0405-0607-0809-0a0b0c0d0e0f"},
		{"ext-no-uuid", extImage("\x1b[31mred\xff", make([]byte, 16)), "ext", "\x1b[31mred\xff", ""},
		{"xfs", xfsImage("twelve-chars-and-more", "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0"), "xfs", "twelve-chars", "12345678-9abc-def0-1234-56789abcdef0"},
		{"btrfs-256", btrfsImage(strings.Repeat("b", 300)), "btrfs", strings.Repeat("b", 256), "01010101-0101-0101-0101-010101010101"},
		{"swap-v1", swapImage(4096, 1, "sixteen-chars-ok-and-more"), "swap", "sixteen-chars-ok", "02020202-0202-0202-0202-020202020202"},
		{"swap-v1-big-endian", swapImage(8192, 1<<24, "be"), "swap", "be", "02020202-0202-0202-0202-020202020202"},
		{"swap-version-2", swapImage(4096, 2, "nope"), "swap", "", ""},
		{"luks2-full-fields", luks2Image(strings.Repeat("L", 60), "U\x01"+strings.Repeat("u", 50)), "luks2", strings.Repeat("L", 48), "U\x01" + strings.Repeat("u", 38)},
		{"iso-creation-only", isoImage("VOL ID   ", "", "2001020304050607"), "iso9660", "VOL ID", "2001-02-03-04-05-06-07"},
		{"iso-bad-dates", isoImage(strings.Repeat("V", 40), "20x1020304050607", "0000000000000000"), "iso9660", strings.Repeat("V", 32), ""},
		{"apfs", apfsImage(), "apfs", "", "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"},
		// LVM2 PVs.
		{"lvm2", lvmImage(1, 32, "AbCdEf0123456789abcdefGhIjKlMnOp"), "lvm2", "", "AbCdEf-0123-4567-89ab-cdef-GhIj-KlMnOp"},
		{"lvm2-sector3", lvmImage(3, 32, "AbCdEf0123456789abcdefGhIjKlMnOp"), "lvm2", "", "AbCdEf-0123-4567-89ab-cdef-GhIj-KlMnOp"},
		{"lvm2-bad-uuid", lvmImage(0, 32, "AbCdEf0123456789abcdef-hIjKlMnOpQRS"), "lvm2", "", "AbCdEf0123456789abcdef-hIjKlMnOp"},
		{"lvm2-uuid-nul", lvmImage(0, 32, "AbC\x00"), "lvm2", "", "AbC"},
		{"lvm2-pv-header-outside", lvmImage(0, 0xfffffff0, "AbCdEf0123456789abcdefGhIjKlMnOp"), "lvm2", "", ""},
		// Partition tables.
		{"gpt-512", gptImage(512), "gpt", "", "33221100-5544-7766-8899-aabbccddeeff"},
		{"gpt-4096", gptImage(4096), "gpt", "", "33221100-5544-7766-8899-aabbccddeeff"},
		{"mbr", mbrImage(0x80, 0x83, 0xd89fbb89), "mbr", "", "d89fbb89"},
		{"mbr-no-disk-signature", mbrImage(0, 0x8e, 0), "mbr", "", ""},
		// What comes first: the md superblock of a RAID1 member holding
		// a PV; an ISO 9660 image with an MBR (isohybrid); a GPT disk's
		// protective MBR.
		{"md-1.0-over-pv", overlay(mdImage(mib+4096, mib-4096, "m"), lvmImage(1, 32, "AbCdEf0123456789abcdefGhIjKlMnOp")), "md", "m", "00112233-4455-6677-8899-aabbccddeeff"},
		{"isohybrid", overlay(isoImage("HYBRID", "2024010203040506", ""), mbrImage(0x80, 0x17, 1)), "iso9660", "HYBRID", "2024-01-02-03-04-05-06"},
		{"gpt-protective-mbr", overlay(gptImage(512), mbrImage(0, 0xee, 0)), "gpt", "", "33221100-5544-7766-8899-aabbccddeeff"},
	} {
		t.Run(c.name, func(t *testing.T) {
			info, ok := identify(c.b)
			if !ok || info.Format != c.format || info.Label != c.label || info.UUID != c.uid {
				t.Errorf("got %#v %v\nwant format %s label %q uuid %q", info, ok, c.format, c.label, c.uid)
			}
		})
	}
}

// FAT: the label in the root directory wins over the boot sector's (as in
// Windows and blkid); a root directory that cannot be read leaves the
// boot sector's; "NO NAME" is no label.
func TestIdentifyFATLabels(t *testing.T) {
	for _, c := range []struct {
		name         string
		b            []byte
		label, uuid  string
		fat32, short bool
	}{
		{"fat16-root", fatImage(false, "BOOT LABEL ", "ROOT LABEL ", 0x29, 0x1234abcd), "ROOT LABEL", "1234-ABCD", false, false},
		{"fat32-root", fatImage(true, "BOOT LABEL ", "ROOTLABEL32", 0x29, 0xdeadbeef), "ROOTLABEL32", "DEAD-BEEF", true, false},
		{"fat16-boot-only", fatImage(false, "BOOT LABEL ", "", 0x29, 1), "BOOT LABEL", "0000-0001", false, false},
		{"fat32-no-name", fatImage(true, "NO NAME    ", "", 0x29, 2), "", "0000-0002", true, false},
		{"fat16-serial-only", fatImage(false, "IGNORED    ", "", 0x28, 3), "", "0000-0003", false, false},
		{"fat16-no-ebr", fatImage(false, "IGNORED    ", "", 0, 3), "", "", false, false},
		{"fat16-e5-name", fatImage(false, "", "\x05BC        ", 0x29, 4), "\xe5BC", "0000-0004", false, false},
		{"fat16-root-beyond-end", fatImage(false, "BOOT LABEL ", "ROOT LABEL ", 0x29, 5)[:4096], "BOOT LABEL", "0000-0005", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			info, ok := identify(c.b)
			if !ok || info.Format != "fat" || info.Label != c.label || info.UUID != c.uuid {
				t.Errorf("got %#v %v, want label %q uuid %q", info, ok, c.label, c.uuid)
			}
		})
	}
	// Root directory fields that point nowhere are no label, and no
	// panic.
	for _, mod := range []func([]byte){
		func(b []byte) { b[11], b[12] = 0, 3 },                           // 768-byte sectors
		func(b []byte) { b[13] = 3 },                                     // 3 sectors a cluster
		func(b []byte) { b[16] = 0 },                                     // no FAT
		func(b []byte) { binary.LittleEndian.PutUint16(b[22:], 0xffff) }, // beyond the end
		func(b []byte) { binary.LittleEndian.PutUint32(b[44:], 0) },      // FAT32 root cluster 0
		func(b []byte) { binary.LittleEndian.PutUint32(b[44:], 0xffffffff) },
	} {
		b := fatImage(true, "BOOT LABEL ", "ROOT LABEL ", 0x29, 6)
		b[22], b[23] = 0, 0
		mod(b)
		if info, ok := identify(b); !ok || info.Label != "BOOT LABEL" {
			t.Errorf("got %#v %v, want the boot sector's label", info, ok)
		}
	}
}

// NTFS: the serial from the boot sector and the name from $Volume, with
// the update sequence undone (the name crosses the end of the first 512
// bytes of the record); damaged records give no name.
func TestIdentifyNTFSLabels(t *testing.T) {
	good := ntfsImage("Données 🙂 vol", 0x0123456789abcdef)
	if info, ok := identify(good); !ok || info.Format != "ntfs" || info.Label != "Données 🙂 vol" || info.UUID != "0123456789ABCDEF" {
		t.Errorf("got %#v %v", info, ok)
	}
	long := ntfsImage(strings.Repeat("\U0001F642", 100), 1) // 200 code units, cut at 128
	if info, _ := identify(long); info.Label != strings.Repeat("\U0001F642", 64) {
		t.Errorf("long name: %q", info.Label)
	}
	for _, c := range []struct {
		name string
		mod  func([]byte)
	}{
		{"torn", func(b []byte) { b[ntfsRec+510] ^= 1 }},
		{"no FILE", func(b []byte) { b[ntfsRec] = 'X' }},
		{"MFT beyond the end", func(b []byte) { binary.LittleEndian.PutUint64(b[0x30:], 1<<40) }},
		{"MFT at 0", func(b []byte) { binary.LittleEndian.PutUint64(b[0x30:], 0) }},
		{"record size 0", func(b []byte) { b[0x40] = 0 }},
		{"record size 2^-100", func(b []byte) { b[0x40] = 0x9c }},
		{"huge clusters", func(b []byte) { b[0x0d] = 0x81 }},
		{"odd sector size", func(b []byte) { binary.LittleEndian.PutUint16(b[0x0b:], 700) }},
		{"usa beyond the record", func(b []byte) { binary.LittleEndian.PutUint16(b[ntfsRec+4:], 1020) }},
		{"usa count huge", func(b []byte) { binary.LittleEndian.PutUint16(b[ntfsRec+6:], 0xffff) }},
		{"attribute length 0", func(b []byte) { binary.LittleEndian.PutUint32(b[ntfsRec+0x38+4:], 0) }},
		{"attribute beyond the record", func(b []byte) { binary.LittleEndian.PutUint32(b[ntfsRec+0x38+4:], 0x7fffffff) }},
		{"value beyond the attribute", func(b []byte) { binary.LittleEndian.PutUint32(b[ntfsRec+0x1d0+0x10:], 0x10000) }},
		{"non-resident", func(b []byte) { b[ntfsRec+0x1d0+8] = 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(good)
			c.mod(b)
			if info, ok := identify(b); !ok || info.Format != "ntfs" || info.Label != "" {
				t.Errorf("got %#v %v, want NTFS without a name", info, ok)
			}
		})
	}
	// The serial is the UUID whatever happens to $Volume.
	b := bytes.Clone(good)
	b[ntfsRec] = 0
	if info, _ := identify(b); info.UUID != "0123456789ABCDEF" {
		t.Errorf("serial %q", info.UUID)
	}
}

// What is not a PV or a partition table.
func TestIdentifyTableNearMisses(t *testing.T) {
	lvmNoType := lvmImage(1, 32, "AbCdEf0123456789abcdefGhIjKlMnOp")
	copy(lvmNoType[512+24:], "LVM1 001")
	lvmSector4 := make([]byte, 4096)
	copy(lvmSector4[2048:], lvmImage(0, 32, "AbCdEf0123456789abcdefGhIjKlMnOp")[:512])
	fatBPB := mbrImage(0x80, 0x83, 1) // a FAT boot sector without its type string
	copy(fatBPB, "\xeb\x3c\x90MSWIN4.1\x00\x02\x01\x01\x00\x02")
	exfat := mbrImage(0x80, 0x83, 1)
	copy(exfat[3:], "EXFAT   ")
	gptMoved := put(8192, 1024, "EFI PART")
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"lvm1-type", lvmNoType},
		{"lvm2-label-in-sector-4", lvmSector4},
		{"mbr-bad-status", mbrImage(0x7f, 0x83, 1)},
		{"mbr-no-entries", mbrImage(0x80, 0, 1)},
		{"mbr-without-signature", mbrImage(0x80, 0x83, 1)[:510]},
		{"fat-bpb", fatBPB},
		{"exfat", exfat},
		{"gpt-header-at-1024", gptMoved},
	} {
		t.Run(c.name, func(t *testing.T) {
			if info, ok := identify(c.b); ok {
				t.Errorf("matched %#v", info)
			}
		})
	}
}

// labelSeeds are the hand-made images for the fuzzer to start from.
func labelSeeds() [][]byte {
	return [][]byte{
		mdImage(8192, 4096, "myhost:array0"),
		md090Image(128 << 10),
		extImage("label", bytes.Repeat([]byte{0xff}, 16)),
		xfsImage("x", "0123456789abcdef"),
		swapImage(4096, 1, "s"),
		luks2Image("l", "u"),
		isoImage("V", "2024010203040506", ""),
		lvmImage(1, 32, "AbCdEf0123456789abcdefGhIjKlMnOp"),
		gptImage(512),
		mbrImage(0x80, 0x83, 1),
		fatImage(false, "BOOT LABEL ", "ROOT LABEL ", 0x29, 1),
		fatImage(true, "BOOT LABEL ", "ROOT LABEL ", 0x29, 1),
		ntfsImage("n", 1),
	}
}

var testUUID = []byte("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff")

// overlay writes the non-zero bytes of top over b (as far as b goes).
func overlay(b, top []byte) []byte {
	for i, c := range top[:min(len(top), len(b))] {
		if c != 0 {
			b[i] = c
		}
	}
	return b
}

// mdImage is n bytes with an md 1.x superblock at off: set_uuid
// testUUID, set_name name (cut at 32 bytes).
func mdImage(n, off int, name string) []byte {
	b := make([]byte, n)
	binary.LittleEndian.PutUint32(b[off:], mdMagic)
	binary.LittleEndian.PutUint32(b[off+4:], 1)
	copy(b[off+0x10:], testUUID)
	copy(b[off+0x20:off+0x40], name)
	return b
}

// md090Image is n bytes (a multiple of 64 KiB) with an md 0.90
// superblock whose UUID words are 0x00112233, 0x44556677, 0x8899aabb,
// 0xccddeeff.
func md090Image(n int) []byte {
	b := make([]byte, n)
	off := n&^(64<<10-1) - 64<<10
	binary.LittleEndian.PutUint32(b[off:], mdMagic)
	binary.LittleEndian.PutUint32(b[off+8:], 90)
	for i, o := range []int{0x14, 0x34, 0x38, 0x3c} {
		binary.LittleEndian.PutUint32(b[off+o:], binary.BigEndian.Uint32(testUUID[4*i:]))
	}
	return b
}

func extImage(label string, uuid []byte) []byte {
	b := put(4096, 1080, "\x53\xef")
	copy(b[1024+0x68:], uuid)
	copy(b[1024+0x78:1024+0x88], label)
	return b
}

func xfsImage(label, uuid string) []byte {
	b := put(4096, 0, "XFSB")
	copy(b[32:48], uuid)
	copy(b[108:120], label)
	return b
}

func btrfsImage(label string) []byte {
	b := put(0x11000, 0x10040, "_BHRfS_M")
	copy(b[0x10020:0x10030], bytes.Repeat([]byte{1}, 16))
	copy(b[0x1012b:0x1022b], label)
	return b
}

func swapImage(page int, version uint32, label string) []byte {
	b := put(page, page-10, "SWAPSPACE2")
	binary.LittleEndian.PutUint32(b[1024:], version)
	copy(b[1036:1052], bytes.Repeat([]byte{2}, 16))
	copy(b[1052:1068], label)
	return b
}

func luks2Image(label, uuid string) []byte {
	b := put(4096, 0, "LUKS\xba\xbe\x00\x02")
	copy(b[24:72], label)
	copy(b[168:208], uuid)
	return b
}

func isoImage(volID, modified, created string) []byte {
	b := put(36864, 32768, "\x01CD001\x01")
	copy(b[32768+40:32768+72], volID)
	copy(b[32768+813:], created)
	copy(b[32768+830:], modified)
	return b
}

func apfsImage() []byte {
	b := put(4096, 32, "NXSB")
	copy(b[72:], "\xa1\xa2\xa3\xa4\xb1\xb2\xc1\xc2\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8")
	return b
}

// lvmImage is 8 KiB with an LVM2 label in sector s whose pv_header, at
// offset_xl, starts with uuid.
func lvmImage(s int, offsetXL uint32, uuid string) []byte {
	b := make([]byte, 8192)
	l := b[s*512:]
	copy(l, "LABELONE")
	binary.LittleEndian.PutUint64(l[8:], uint64(s))
	binary.LittleEndian.PutUint32(l[20:], offsetXL)
	copy(l[24:], "LVM2 001")
	if offsetXL < 512 {
		copy(l[offsetXL:offsetXL+32], uuid)
	}
	return b
}

// gptImage has a GPT header at off whose disk GUID is testUUID as stored
// (so 33221100-5544-7766-8899-aabbccddeeff).
func gptImage(off int) []byte {
	b := put(8192, off, "EFI PART")
	copy(b[off+56:], testUUID)
	return b
}

// mbrImage is a sector with one partition entry (status, type) and the
// disk signature sig.
func mbrImage(status, typ byte, sig uint32) []byte {
	b := put(36864, 510, "\x55\xaa")
	binary.LittleEndian.PutUint32(b[440:], sig)
	e := b[446:]
	e[0], e[4] = status, typ
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], 4096)
	return b
}

// fatImage is a FAT16 (or FAT32) volume of 64 KiB with the extended boot
// record signature ebr, the serial and the boot sector label, and the
// root directory label root (none when ""), after a deleted entry and a
// long name part.
func fatImage(fat32 bool, boot, root string, ebr byte, serial uint32) []byte {
	b := make([]byte, 64<<10)
	copy(b, "\xeb\x3c\x90mkfs.fat")
	binary.LittleEndian.PutUint16(b[11:], 512)
	b[13] = 1                                 // sectors a cluster
	binary.LittleEndian.PutUint16(b[14:], 32) // reserved sectors
	b[16] = 2                                 // FATs
	var rootOff, e int
	if fat32 {
		binary.LittleEndian.PutUint32(b[36:], 16) // sectors a FAT
		binary.LittleEndian.PutUint32(b[44:], 3)  // root cluster
		rootOff = (32+2*16)*512 + 512
		e = 0x42
		copy(b[82:], "FAT32   ")
	} else {
		binary.LittleEndian.PutUint16(b[17:], 512) // root entries
		binary.LittleEndian.PutUint16(b[22:], 8)   // sectors a FAT
		rootOff = (32 + 2*8) * 512
		e = 0x26
		copy(b[54:], "FAT16   ")
	}
	b[e] = ebr
	binary.LittleEndian.PutUint32(b[e+1:], serial)
	copy(b[e+5:e+16], boot)
	copy(b[510:], "\x55\xaa")
	d := b[rootOff:]
	copy(d, "\xe5OLD    LBL") // a deleted label
	d[11] = 0x08
	copy(d[32:], "Ax\x00y\x00z\x00")
	d[32+11] = 0x0f // a long name part
	if root != "" {
		copy(d[64:], root)
		d[64+11] = 0x08 | 0x20 // label, archive
	}
	return b
}

// ntfsRec is where ntfsImage puts MFT record 3: the MFT at cluster 2 of
// 4 KiB, records of 1 KiB.
const ntfsRec = 2*4096 + 3*1024

// ntfsImage is an NTFS boot sector and $Volume record with the name and
// serial, the name placed across the first 512-byte stride of the record
// so that the update sequence must be undone to read it.
func ntfsImage(name string, serial uint64) []byte {
	b := make([]byte, 16<<10)
	copy(b, "\xeb\x52\x90NTFS    ")
	binary.LittleEndian.PutUint16(b[0x0b:], 512)
	b[0x0d] = 8
	binary.LittleEndian.PutUint64(b[0x30:], 2)
	b[0x40] = 0xf6 // 2^10
	binary.LittleEndian.PutUint64(b[0x48:], serial)
	copy(b[510:], "\x55\xaa")
	r := b[ntfsRec : ntfsRec+1024]
	copy(r, "FILE")
	binary.LittleEndian.PutUint16(r[4:], 0x30) // update sequence array
	binary.LittleEndian.PutUint16(r[6:], 3)    // its count: the number and 2 strides
	binary.LittleEndian.PutUint16(r[0x14:], 0x38)
	// An attribute to skip ($STANDARD_INFORMATION), then $VOLUME_NAME
	// at 0x1d0, its value at 0x1e8.
	binary.LittleEndian.PutUint32(r[0x38:], 0x10)
	binary.LittleEndian.PutUint32(r[0x38+4:], 0x1d0-0x38)
	u := utf16Encode(name)
	a := r[0x1d0:]
	binary.LittleEndian.PutUint32(a, 0x60)
	vlen := min(len(u), 1024-0x1d0-0x18-8)
	binary.LittleEndian.PutUint32(a[4:], uint32(0x18+vlen+7)&^7)
	binary.LittleEndian.PutUint32(a[0x10:], uint32(vlen))
	binary.LittleEndian.PutUint16(a[0x14:], 0x18)
	copy(a[0x18:0x18+vlen], u)
	if end := 0x1d0 + (0x18+vlen+7)&^7; end+4 <= 1024-2 {
		binary.LittleEndian.PutUint32(r[end:], 0xffffffff)
	}
	// The update sequence: number 0x0707 at the end of each stride, the
	// bytes it replaces in the array.
	copy(r[0x30:], "\x07\x07")
	for i := 1; i <= 2; i++ {
		copy(r[0x30+2*i:], r[i*512-2:i*512])
		copy(r[i*512-2:], "\x07\x07")
	}
	return b
}

func utf16Encode(s string) []byte {
	var b []byte
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			b = binary.LittleEndian.AppendUint16(b, uint16(0xd800+r>>10))
			r = 0xdc00 + r&0x3ff
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}
