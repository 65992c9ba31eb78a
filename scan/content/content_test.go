package content

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// put returns a zeroed buffer of n bytes with sig written at off.
func put(n, off int, sig string) []byte {
	b := make([]byte, n)
	copy(b[off:], sig)
	return b
}

func identify(b []byte) (Info, bool) { return Identify(bytes.NewReader(b), int64(len(b))) }

// Hand-made signatures, one per format and variant, each with the near
// misses that must not match.
func TestIdentifySignatures(t *testing.T) {
	md := func(n, off int, major uint32) []byte {
		b := make([]byte, n)
		binary.LittleEndian.PutUint32(b[off:], mdMagic)
		binary.LittleEndian.PutUint32(b[off+4:], major)
		return b
	}
	ext := func(compat, incompat uint32) []byte {
		b := put(4096, 1080, "\x53\xef")
		binary.LittleEndian.PutUint32(b[1024+0x5c:], compat)
		binary.LittleEndian.PutUint32(b[1024+0x60:], incompat)
		return b
	}
	vdi := make([]byte, 512)
	binary.LittleEndian.PutUint32(vdi[0x40:], 0xbeda107f)
	fat := put(512, 82, "FAT32   ")
	copy(fat[510:], "\x55\xaa")
	const mib = 1 << 20
	for _, c := range []struct {
		name, format, desc string
		b                  []byte
		hint               bool
	}{
		{"gzip", "gzip", "gzip-compressed data", put(512, 0, "\x1f\x8b\x08\x00"), true},
		{"xz", "xz", "xz-compressed data", put(512, 0, "\xfd7zXZ\x00"), true},
		{"zstd", "zstd", "zstd-compressed data", put(512, 0, "\x28\xb5\x2f\xfd"), true},
		{"bzip2", "bzip2", "bzip2-compressed data", put(512, 0, "BZh91AY&SY"), true},
		{"lz4", "lz4", "lz4-compressed data", put(512, 0, "\x04\x22\x4d\x18"), true},
		{"qcow2", "qcow", "QEMU qcow2 disk image", put(512, 0, "QFI\xfb\x00\x00\x00\x02"), true},
		{"qcow2v3", "qcow", "QEMU qcow2 (version 3) disk image", put(512, 0, "QFI\xfb\x00\x00\x00\x03"), true},
		{"vmdk", "vmdk", "VMware VMDK sparse extent", put(512, 0, "KDMV"), true},
		{"vmdk-descriptor", "vmdk", "VMware VMDK descriptor", put(512, 0, "# Disk DescriptorFile\n"), true},
		{"vhdx", "vhdx", "Hyper-V VHDX", put(512, 0, "vhdxfile"), true},
		{"vhd", "vhd", "Virtual PC VHD", put(512, 0, "conectix"), true},
		{"vdi", "vdi", "VirtualBox VDI", vdi, true},
		{"e01", "ewf", "Expert Witness (EWF/E01)", put(512, 0, "EVF\x09\x0d\x0a\xff\x00"), true},
		{"ex01", "ewf2", "Expert Witness 2", put(512, 0, "EVF2\x0d\x0a\x81\x00"), true},
		{"luks1", "luks1", "LUKS1 encrypted volume", put(4096, 0, "LUKS\xba\xbe\x00\x01"), true},
		{"luks2", "luks2", "LUKS2 encrypted volume", put(4096, 0, "LUKS\xba\xbe\x00\x02"), true},
		{"md-1.1", "md", "superblock 1.1", md(8192, 0, 1), true},
		{"md-1.2", "md", "superblock 1.2", md(8192, 4096, 1), true},
		{"md-0.90", "md", "superblock 0.90", md(mib, mib-64<<10, 0), true},
		{"md-1.0", "md", "superblock 1.0", md(mib+4096, mib-4096, 1), true},
		{"bitlocker", "bitlocker", "BitLocker", put(512, 3, "-FVE-FS-"), false},
		{"ext2", "ext", "ext2 file system", ext(0, 0), false},
		{"ext3", "ext", "ext3 file system", ext(0x4, 0), false},
		{"ext4", "ext", "ext4 file system", ext(0x4, 0x40), false},
		{"xfs", "xfs", "XFS file system", put(512, 0, "XFSB"), false},
		{"btrfs", "btrfs", "Btrfs file system", put(0x11000, 0x10040, "_BHRfS_M"), false},
		{"swap", "swap", "Linux swap area", put(4096, 4086, "SWAPSPACE2"), false},
		{"ntfs", "ntfs", "NTFS file system", put(512, 3, "NTFS    "), false},
		{"fat", "fat", "FAT file system", fat, false},
		{"iso", "iso9660", "ISO 9660", put(34816, 32769, "CD001"), false},
		{"apfs", "apfs", "APFS container", put(4096, 32, "NXSB"), false},
		{"hfsplus", "hfsplus", "HFS+ file system", put(4096, 1024, "H+\x00\x04"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			info, ok := identify(c.b)
			if !ok || info.Format != c.format || !strings.Contains(info.Name, c.desc) {
				t.Fatalf("got %+v %v, want format %s (%s)", info, ok, c.format, c.desc)
			}
			if info.MayHoldPV() != c.hint {
				t.Errorf("MayHoldPV %v, want %v (hint %q)", info.MayHoldPV(), c.hint, info.Hint)
			}
			if c.hint && !strings.Contains(info.String(), info.Hint) {
				t.Errorf("String() %q leaves out the hint", info.String())
			}
		})
	}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"zeros", make([]byte, 1<<20)},
		{"gzip-not-deflate", put(512, 0, "\x1f\x8b\x07")},
		{"bzip2-bad-digit", put(512, 0, "BZh01AY&SY")},
		{"bzip2-no-block", put(512, 0, "BZh9xxxxxx")},
		{"luks3", put(4096, 0, "LUKS\xba\xbe\x00\x03")},
		{"luks-short", []byte("LUKS\xba\xbe")},
		{"md-1.2-major-2", md(8192, 4096, 2)},
		{"md-0.90-misplaced", md(mib, mib-60<<10, 0)},
		{"fat-without-boot-signature", put(512, 82, "FAT32   ")},
		{"btrfs-cut-short", put(0x10040+4, 0x10040, "_BHR")},
		{"text", []byte("hello, world\n")},
	} {
		t.Run("not-"+c.name, func(t *testing.T) {
			if info, ok := identify(c.b); ok {
				t.Errorf("matched %+v", info)
			}
		})
	}
}

// A reader that fails is not a match, and never a panic.
func TestIdentifyReadErrors(t *testing.T) {
	if info, ok := Identify(failing{}, 1<<30); ok {
		t.Errorf("failing reader matched %+v", info)
	}
	if _, ok := Identify(bytes.NewReader(nil), -5); ok {
		t.Error("negative size matched")
	}
}

type failing struct{}

func (failing) ReadAt([]byte, int64) (int, error) { return 0, io.ErrUnexpectedEOF }

// The starts of files made by the real tools (gzip, xz, zstd, bzip2, lz4,
// qemu-img for each of its formats, cryptsetup, mkfs.*, mkswap; see
// testdata/make.sh), cut to their first 68 KiB, and the parts Identify
// reads of the images made with labels and UUIDs: what each tool writes
// must be named as that format, and the labelled ones with the label and
// UUID make.sh gave (TestIdentifyLabels).
func TestIdentifyRealFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.head.gz")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/*.pieces.gz")
	if len(paths) == 0 || len(more) == 0 {
		t.Fatal("no testdata/*.head.gz or *.pieces.gz: run testdata/make.sh")
	}
	for _, p := range append(paths, more...) {
		// name: FORMAT.VARIANT.head.gz or FORMAT.VARIANT.pieces.gz
		base := filepath.Base(p)
		want := base[:strings.IndexByte(base, '.')]
		variant := strings.Split(base, ".")[1]
		t.Run(strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".head"), func(t *testing.T) {
			r, size, err := openTestdata(p)
			if err != nil {
				t.Fatal(err)
			}
			info, ok := Identify(r, size)
			if !ok || info.Format != want {
				t.Fatalf("got %#v %v, want %s", info, ok, want)
			}
			// mkfs.ext2/3/4 must be told apart by name.
			if gen, _, _ := strings.Cut(variant, "-"); want == "ext" && !strings.HasPrefix(info.Name, gen+" ") {
				t.Errorf("%s named %q", variant, info.Name)
			}
			// Every one of these formats gets a UUID from its tool.
			if pat, ok := uuidShapes[want]; ok && !pat.MatchString(info.UUID) {
				t.Errorf("UUID %q is not of the form %s", info.UUID, pat)
			}
			if l, ok := labelled[strings.TrimSuffix(base, ".gz")]; ok {
				if info.Label != l.label || info.UUID != l.uuid {
					t.Errorf("label %q uuid %q, want %q %q", info.Label, info.UUID, l.label, l.uuid)
				}
			} else if strings.HasSuffix(base, ".pieces.gz") {
				t.Errorf("no label and UUID to compare with: add %s to labelled", base)
			}
		})
	}
}

func FuzzIdentify(f *testing.F) {
	f.Add([]byte("\x1f\x8b\x08"))
	f.Add([]byte("QFI\xfb\x00\x00\x00\x03"))
	f.Add(put(8192, 4096, "\xfc\x4e\x2b\xa9\x01\x00\x00\x00"))
	f.Add(put(4096, 1080, "\x53\xef"))
	f.Add(put(4096, 0, "LUKS\xba\xbe\x00\x02"))
	for _, b := range labelSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, ok := identify(b)
		again, ok2 := identify(b)
		if ok != ok2 || info != again {
			t.Fatalf("not deterministic: %+v %v, %+v %v", info, ok, again, ok2)
		}
		if ok && (info.Format == "" || info.Name == "") {
			t.Fatalf("match without a name: %+v", info)
		}
		if info.Off < 0 || (ok && info.Off >= int64(max(len(b), 1))) {
			t.Fatalf("signature offset %d outside %d bytes", info.Off, len(b))
		}
		if !ok && (info.Label != "" || info.UUID != "") {
			t.Fatalf("no match with a label or UUID: %#v", info)
		}
		if len(info.Label) > maxLabel || len(info.UUID) > maxUUID {
			t.Fatalf("label of %d bytes or UUID of %d: %#v", len(info.Label), len(info.UUID), info)
		}
	})
}

// Images other projects publish, as an examiner would be handed them: the
// dfVFS LVM test disks are qcow2 (version 3), util-linux's blkid sample is
// xz-compressed.
func TestIdentifyExternalImages(t *testing.T) {
	for path, want := range map[string]string{
		"dfvfs/lvm.qcow2":              "qcow",
		"dfvfs/lvmtest.qcow2":          "qcow",
		"util-linux-blkid/lvm2.img.xz": "xz",
	} {
		b, err := os.ReadFile(filepath.Join(fixture.TestdataDir(), "external", path))
		if err != nil {
			t.Fatal(err)
		}
		if info, ok := identify(b); !ok || info.Format != want || !info.MayHoldPV() {
			t.Errorf("%s: %+v %v, want %s", path, info, ok, want)
		}
	}
}
