// Package content names what an input or a partition holds: a compressed
// file, a virtual-disk or evidence container, an encrypted volume, a RAID
// member, a file system, an LVM2 physical volume or a partition table,
// with the label and UUID the format stores where it has them.
//
// An examiner handed an unknown image and told "no LVM2 physical volume
// found" needs to know why: the image may be an E01 or a qcow2 that must be
// converted first, the PV may sit inside a LUKS volume or an md RAID
// array, or the partition may simply hold a file system. Identify reads a
// few signature bytes (the first 68 KiB and a few sectors near the end)
// and says which, and for the formats that can hide a PV, what to do next.
// The label and UUID tell one file system or array member from another
// (they are what blkid and /dev/disk/by-uuid show).
//
// The signatures are the published magic numbers of each format; beyond
// them only the fixed fields that hold the label and UUID are read (and,
// for the FAT volume label in the root directory and the NTFS volume name
// in $Volume, one more small read each).
//
// Text from the disk is untrusted: labels are kept byte for byte (callers
// escape them for a terminal), cut at the field's length and at the first
// NUL; whatever sizes and offsets the disk claims, no read is longer than
// 64 KiB and none goes past the end.
package content

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/lvminspect/lvminspect/model"
)

// Info is what Identify found.
type Info struct {
	// Format is a short stable identifier: "gzip", "xz", "zstd", "bzip2",
	// "lz4", "qcow", "vmdk", "vhdx", "vhd", "vdi", "ewf", "ewf2", "luks1",
	// "luks2", "md", "bitlocker", "ext", "xfs", "btrfs", "swap", "ntfs",
	// "fat", "iso9660", "apfs", "hfsplus", "lvm2", "gpt", "mbr".
	Format string `json:"format"`
	// Name describes it for people ("QEMU qcow2 disk image").
	Name string `json:"name"`
	// Off is where the signature is, from the start of what was probed.
	Off int64 `json:"offset"`
	// Hint says how to reach an LVM2 PV that may be inside, for the
	// formats that can hold one; empty for file systems, and for PVs and
	// partition tables (which the scan reads itself).
	Hint string `json:"hint,omitempty"`
	// Label is the volume's name as stored (file system label, md array
	// name, LUKS2 label, ISO 9660 volume identifier): untrusted bytes,
	// not escaped. Empty when the format has none or it is not set.
	Label string `json:"label,omitempty"`
	// UUID identifies the volume as blkid prints it: a 16-byte UUID as
	// lower-case 8-4-4-4-12 text; FAT's volume serial as XXXX-XXXX and
	// NTFS's as 16 hex digits (upper case, as Windows and blkid show
	// them); LUKS's as the text it stores; an LVM2 PV UUID in LVM's
	// 6-4-4-4-4-4-6 form; the GPT disk GUID; the MBR disk signature as 8
	// hex digits; for ISO 9660 the volume's modification (or creation)
	// time as YYYY-MM-DD-HH-MM-SS-CC. Empty when the format has none.
	UUID string `json:"uuid,omitempty"`
}

// MayHoldPV reports whether an LVM2 PV can be inside (compressed data,
// containers, encryption, RAID members) rather than the format excluding
// one (file systems, swap) or being one (a PV, a partition table).
func (i Info) MayHoldPV() bool { return i.Hint != "" }

func (i Info) String() string {
	if i.Hint == "" {
		return i.Name
	}
	return i.Name + ": " + i.Hint
}

// headLen is how much of the start is read: enough for the whole btrfs
// superblock at 64 KiB (its label ends at 0x1022b).
const headLen = 0x11000

// maxRead bounds every read beyond the head (a FAT root directory, an
// NTFS MFT record, an md superblock near the end).
const maxRead = 64 << 10

// Identify names what r (size bytes) holds, or reports false when no known
// signature matches. Read errors count as no match: the caller reports
// I/O problems of its own.
//
// The formats are tried in the order: compression and containers,
// encryption and RAID, file systems, md superblocks near the end, then
// LVM2 PVs and partition tables. A RAID1 member holding a PV is named
// md, and a PV or a partition table is named only when nothing else is
// recognised (a scan looks for those before it asks Identify).
func Identify(r io.ReaderAt, size int64) (Info, bool) {
	if size <= 0 {
		return Info{}, false
	}
	head := make([]byte, min(size, headLen))
	n, _ := r.ReadAt(head, 0)
	p := &probe{head: head[:n], r: r, size: size}
	for _, s := range signatures {
		if info, ok := s(p); ok {
			return info, true
		}
	}
	if info, ok := mdAtEnd(p); ok {
		return info, true
	}
	for _, s := range tables {
		if info, ok := s(p); ok {
			return info, true
		}
	}
	return Info{}, false
}

// probe is what the signatures look at: the first headLen bytes, and the
// reader for the few fields beyond them.
type probe struct {
	head []byte
	r    io.ReaderAt
	size int64
}

// read returns the n bytes at off, or nil when they are not all there.
// The result may share memory with the head: do not modify it.
func (p *probe) read(off int64, n int) []byte {
	if off < 0 || n < 0 || n > maxRead || off > p.size-int64(n) {
		return nil
	}
	if off+int64(n) <= int64(len(p.head)) {
		return p.head[off : off+int64(n)]
	}
	b := make([]byte, n)
	if got, _ := p.r.ReadAt(b, off); got < n {
		return nil
	}
	return b
}

// at reports whether b holds sig at off.
func at(b []byte, off int, sig string) bool {
	return off >= 0 && len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
}

func le16(b []byte, off int) (uint16, bool) {
	if off < 0 || len(b) < off+2 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b[off:]), true
}

func le32(b []byte, off int) (uint32, bool) {
	if off < 0 || len(b) < off+4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[off:]), true
}

func le64(b []byte, off int) (uint64, bool) {
	if off < 0 || len(b) < off+8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[off:]), true
}

func be32(b []byte, off int) (uint32, bool) {
	if off < 0 || len(b) < off+4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[off:]), true
}

// field returns the n bytes at off of b ("" when b is shorter), cut at
// the first NUL: a fixed-length text field as stored.
func field(b []byte, off, n int) []byte {
	if off < 0 || n < 0 || len(b) < off+n {
		return nil
	}
	f := b[off : off+n]
	if i := bytes.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	return f
}

// text is field as a string.
func text(b []byte, off, n int) string { return string(field(b, off, n)) }

// padded is a text field padded with spaces (FAT, ISO 9660): the padding
// is not part of the name.
func padded(b []byte, off, n int) string {
	return string(bytes.TrimRight(field(b, off, n), " "))
}

// uuid formats the 16 bytes at off of b as 8-4-4-4-12 lower-case hex, in
// the order they are stored; "" when b is shorter or they are all zero
// (no UUID set).
func uuid(b []byte, off int) string {
	if off < 0 || len(b) < off+16 {
		return ""
	}
	u := b[off : off+16]
	if allZero(u) {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// guid formats the 16 bytes at off of b as a Microsoft GUID: the first
// three fields stored little-endian.
func guid(b []byte, off int) string {
	if off < 0 || len(b) < off+16 {
		return ""
	}
	u := b[off : off+16]
	if allZero(u) {
		return ""
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(u), binary.LittleEndian.Uint16(u[4:]),
		binary.LittleEndian.Uint16(u[6:]), u[8:10], u[10:16])
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

const (
	hintDecompress = "lvminspect reads raw disks and images: decompress it first (%s) and open the result"
	hintConvert    = "lvminspect opens this format itself and scans the disk inside; this one could not be opened: the problem above says why (a damaged header, a missing extent, parent or backing file, an encrypted image)"
	hintEWF        = "lvminspect opens E01 evidence files itself (with their other segment files beside them) and scans the media inside; this one could not be opened: the problem above says why"
	hintEWF2       = "Ex01 (EWF2) is not read yet: write a raw image with ewfexport (libewf) and open that"
	hintLUKS       = "an LVM2 PV may be inside: open it read-only (cryptsetup open --readonly DEVICE name) and scan /dev/mapper/name"
	hintMDStart    = "an LVM2 PV may be on the assembled array: assemble it read-only (mdadm --assemble --readonly) and scan /dev/mdN; a RAID1 member holds the whole array after its superblock, which scan --carve finds"
	hintMDEnd      = "an LVM2 PV may be on the assembled array: assemble it read-only (mdadm --assemble --readonly) and scan /dev/mdN; a RAID1 member with this superblock holds the array from byte 0"
)

// signatures are tried in order on the first headLen bytes: containers and
// compression first (their payload could contain anything), then
// encryption and RAID, then file systems.
var signatures = []func(*probe) (Info, bool){
	sig(0, "\x1f\x8b\x08", "gzip", "gzip-compressed data", fmt.Sprintf(hintDecompress, "gunzip -k FILE")), // ID1 ID2, deflate
	sig(0, "\xfd7zXZ\x00", "xz", "xz-compressed data", fmt.Sprintf(hintDecompress, "xz -dk FILE")),
	sig(0, "\x28\xb5\x2f\xfd", "zstd", "zstd-compressed data", fmt.Sprintf(hintDecompress, "zstd -dk FILE")),
	func(p *probe) (Info, bool) {
		// "BZh", the block size digit, then the block magic (BCD pi).
		b := p.head
		if at(b, 0, "BZh") && len(b) > 3 && b[3] >= '1' && b[3] <= '9' && at(b, 4, "\x31\x41\x59\x26\x53\x59") {
			return Info{Format: "bzip2", Name: "bzip2-compressed data", Hint: fmt.Sprintf(hintDecompress, "bunzip2 -k FILE")}, true
		}
		return Info{}, false
	},
	sig(0, "\x04\x22\x4d\x18", "lz4", "lz4-compressed data", fmt.Sprintf(hintDecompress, "lz4 -d FILE disk.raw")),
	func(p *probe) (Info, bool) {
		if !at(p.head, 0, "QFI\xfb") {
			return Info{}, false
		}
		name := "QEMU qcow disk image"
		switch v, _ := be32(p.head, 4); v {
		case 1:
			name = "QEMU qcow (version 1) disk image"
		case 2:
			name = "QEMU qcow2 disk image"
		case 3:
			name = "QEMU qcow2 (version 3) disk image"
		}
		return Info{Format: "qcow", Name: name, Hint: hintConvert}, true
	},
	sig(0, "KDMV", "vmdk", "VMware VMDK sparse extent", hintConvert),
	sig(0, "# Disk DescriptorFile", "vmdk", "VMware VMDK descriptor (the data is in the extent files it names)", hintConvert),
	sig(0, "vhdxfile", "vhdx", "Hyper-V VHDX disk image", hintConvert),
	// A dynamic or differencing VHD starts with a copy of its footer; a
	// fixed VHD is raw data with the footer at the end only, and is read
	// as it is.
	sig(0, "conectix", "vhd", "Virtual PC VHD disk image (dynamic)", hintConvert),
	sig(0x40, "\x7f\x10\xda\xbe", "vdi", "VirtualBox VDI disk image", hintConvert), // 0xbeda107f little-endian
	sig(0, "EVF\x09\x0d\x0a\xff\x00", "ewf", "Expert Witness (EWF/E01) evidence file", hintEWF),
	sig(0, "EVF2\x0d\x0a\x81\x00", "ewf2", "Expert Witness 2 (Ex01) evidence file", hintEWF2),
	luks,
	mdAtStart,
	sig(3, "-FVE-FS-", "bitlocker", "BitLocker encrypted volume", ""),
	// File systems an LVM disk usually sits beside (or an exported LV
	// holds).
	extFS,
	xfsFS,
	btrfsFS,
	swap,
	ntfsFS,
	fatFS,
	iso9660,
	apfs,
	sig(1024, "H+\x00\x04", "hfsplus", "HFS+ file system", ""),
	sig(1024, "HX\x00\x05", "hfsplus", "HFS+ file system", ""),
}

// tables are tried after everything else: an LVM2 PV, then a partition
// table (GPT before MBR, whose protective entry a GPT disk also has).
var tables = []func(*probe) (Info, bool){lvm2PV, gpt, mbr}

// sig matches magic at off.
func sig(off int, magic, format, name, hint string) func(*probe) (Info, bool) {
	return func(p *probe) (Info, bool) {
		if at(p.head, off, magic) {
			return Info{Format: format, Name: name, Off: int64(off), Hint: hint}, true
		}
		return Info{}, false
	}
}

// luks recognises the LUKS1 and LUKS2 headers (both with the UUID as
// text at 168; LUKS2 with a label at 24).
func luks(p *probe) (Info, bool) {
	b := p.head
	if !at(b, 0, "LUKS\xba\xbe") || len(b) < 8 {
		return Info{}, false
	}
	v := binary.BigEndian.Uint16(b[6:])
	if v != 1 && v != 2 {
		return Info{}, false
	}
	info := Info{Format: fmt.Sprintf("luks%d", v), Name: fmt.Sprintf("LUKS%d encrypted volume", v), Hint: hintLUKS,
		UUID: text(b, 168, 40)}
	if v == 2 {
		info.Label = text(b, 24, 48)
	}
	return info, true
}

// mdMagic is the md superblock magic, stored little-endian.
const mdMagic = 0xa92b4efc

// md1 fills the array UUID (set_uuid, 16 bytes at 0x10) and name
// (set_name, 32 bytes at 0x20) of an md 1.x superblock.
func md1(info Info, sb []byte) Info {
	info.UUID = uuid(sb, 0x10)
	info.Label = text(sb, 0x20, 32)
	return info
}

// mdAtStart finds the md superblocks 1.1 (at the start) and 1.2 (at 4
// KiB).
func mdAtStart(p *probe) (Info, bool) {
	for _, off := range []int{0, 4096} {
		if m, ok := le32(p.head, off); ok && m == mdMagic {
			if v, _ := le32(p.head, off+4); v == 1 {
				minor := map[int]string{0: "1.1", 4096: "1.2"}[off]
				info := Info{Format: "md", Name: "Linux md RAID member (superblock " + minor + ")", Off: int64(off), Hint: hintMDStart}
				return md1(info, p.head[off:]), true
			}
		}
	}
	return Info{}, false
}

// mdAtEnd finds md superblocks kept near the end of the device: 0.90 in
// the last 64 KiB-aligned 64 KiB, 1.0 between 8 and 12 KiB from the end,
// 4 KiB aligned.
func mdAtEnd(p *probe) (Info, bool) {
	if p.size < 128<<10 {
		return Info{}, false
	}
	probe := func(off int64, wantMajor uint32) []byte {
		sb := p.read(off, 0x40)
		if sb == nil || binary.LittleEndian.Uint32(sb) != mdMagic || binary.LittleEndian.Uint32(sb[4:]) != wantMajor {
			return nil
		}
		return sb
	}
	off := p.size&^(64<<10-1) - 64<<10
	if sb := probe(off, 0); sb != nil {
		// 0.90: the UUID is four 32-bit words, the first at 0x14 and
		// the other three at 0x34, each printed as a number.
		u := make([]byte, 16)
		for i, o := range []int{0x14, 0x34, 0x38, 0x3c} {
			binary.BigEndian.PutUint32(u[4*i:], binary.LittleEndian.Uint32(sb[o:]))
		}
		return Info{Format: "md", Name: "Linux md RAID member (superblock 0.90)", Off: off, Hint: hintMDEnd, UUID: uuid(u, 0)}, true
	}
	off = (p.size>>9 - 16) &^ 7 << 9
	if sb := probe(off, 1); sb != nil {
		info := Info{Format: "md", Name: "Linux md RAID member (superblock 1.0)", Off: off, Hint: hintMDEnd}
		return md1(info, sb), true
	}
	return Info{}, false
}

// extFS recognises ext2/3/4 by s_magic in the superblock at 1 KiB; the
// journal and the ext4-only feature bits tell the generations apart. The
// UUID is s_uuid (0x68) and the label s_volume_name (0x78, 16 bytes).
func extFS(p *probe) (Info, bool) {
	b := p.head
	if !at(b, 1080, "\x53\xef") {
		return Info{}, false
	}
	const (
		compatJournal    = 0x4
		incompatJournDev = 0x8
		// extents, 64bit, mmp, flex_bg, ea_inode, dirdata, csum_seed,
		// largedir, inline_data, encrypt, casefold.
		incompatExt4 = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000
		// huge_file, gdt_csum, dir_nlink, extra_isize, quota, bigalloc,
		// metadata_csum, project, verity.
		roExt4 = 0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x8000
	)
	name := "ext2 file system"
	compat, _ := le32(b, 1024+0x5c)
	incompat, _ := le32(b, 1024+0x60)
	ro, _ := le32(b, 1024+0x64)
	switch {
	case incompat&incompatJournDev != 0:
		name = "ext3/ext4 external journal"
	case incompat&incompatExt4 != 0 || ro&roExt4 != 0:
		name = "ext4 file system"
	case compat&compatJournal != 0:
		name = "ext3 file system"
	}
	return Info{Format: "ext", Name: name, Off: 1080, UUID: uuid(b, 1024+0x68), Label: text(b, 1024+0x78, 16)}, true
}

// xfsFS recognises the XFS superblock: sb_uuid at 32, sb_fname (12
// bytes) at 108.
func xfsFS(p *probe) (Info, bool) {
	if !at(p.head, 0, "XFSB") {
		return Info{}, false
	}
	return Info{Format: "xfs", Name: "XFS file system", UUID: uuid(p.head, 32), Label: text(p.head, 108, 12)}, true
}

// btrfsFS recognises the Btrfs superblock at 64 KiB by its magic at 0x40:
// fsid at 0x20, label (256 bytes) at 0x12b.
func btrfsFS(p *probe) (Info, bool) {
	const sb = 0x10000
	if !at(p.head, sb+0x40, "_BHRfS_M") {
		return Info{}, false
	}
	return Info{Format: "btrfs", Name: "Btrfs file system", Off: sb + 0x40, UUID: uuid(p.head, sb+0x20), Label: text(p.head, sb+0x12b, 256)}, true
}

// swap recognises the Linux swap signature in the last 10 bytes of the
// first page (4 KiB, or larger on machines with larger pages). A version
// 1 header ("SWAPSPACE2", version 1 at 1024) has the UUID at 1036 and
// the label (16 bytes) at 1052.
func swap(p *probe) (Info, bool) {
	for _, page := range []int{4096, 8192, 16384, 32768, 65536} {
		off := page - 10
		switch {
		case at(p.head, off, "SWAPSPACE2"):
			info := Info{Format: "swap", Name: "Linux swap area", Off: int64(off)}
			// The header is in the byte order of the machine that
			// wrote it.
			if v, _ := le32(p.head, 1024); v == 1 || v == 1<<24 {
				info.UUID = uuid(p.head, 1036)
				info.Label = text(p.head, 1052, 16)
			}
			return info, true
		case at(p.head, off, "SWAP-SPACE"):
			return Info{Format: "swap", Name: "Linux swap area", Off: int64(off)}, true
		}
	}
	return Info{}, false
}

// iso9660 recognises the first volume descriptor at 32 KiB. When it is
// the primary one, its volume identifier (32 characters at 40) is the
// label and its modification or creation time the UUID, as blkid has it.
func iso9660(p *probe) (Info, bool) {
	const vd = 32768
	if !at(p.head, vd+1, "CD001") {
		return Info{}, false
	}
	info := Info{Format: "iso9660", Name: "ISO 9660 file system", Off: vd + 1}
	if p.head[vd] == 1 {
		info.Label = padded(p.head, vd+40, 32)
		// Modification time at 830, creation at 813: 16 digits
		// (YYYYMMDDHHMMSSCC) and a time zone byte.
		for _, off := range []int{vd + 830, vd + 813} {
			if d := field(p.head, off, 16); len(d) == 16 && digits(d) && string(d) != "0000000000000000" {
				info.UUID = fmt.Sprintf("%s-%s-%s-%s-%s-%s-%s", d[0:4], d[4:6], d[6:8], d[8:10], d[10:12], d[12:14], d[14:16])
				break
			}
		}
	}
	return info, true
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// apfs recognises an APFS container superblock (nx_magic at 32) and takes
// the container UUID (nx_uuid, at 72). The volume names are in the
// volume superblocks, reached through the container's object map: not
// read.
func apfs(p *probe) (Info, bool) {
	if !at(p.head, 32, "NXSB") {
		return Info{}, false
	}
	return Info{Format: "apfs", Name: "APFS container", Off: 32, UUID: uuid(p.head, 72)}, true
}

// lvm2PV recognises an LVM2 label: "LABELONE" at the start of one of the
// first four sectors with the type "LVM2 001" at 24. The pv_header it
// points to (offset_xl at 20) starts with the PV UUID, 32 characters.
func lvm2PV(p *probe) (Info, bool) {
	for s := range 4 {
		off := s * 512
		if !at(p.head, off, "LABELONE") || !at(p.head, off+24, "LVM2 001") {
			continue
		}
		info := Info{Format: "lvm2", Name: "LVM2 physical volume", Off: int64(off)}
		if x, _ := le32(p.head, off+20); x >= 32 && x <= 512-32 {
			id := text(p.head, off+int(x), 32)
			if model.ValidUUID(id) {
				id = model.DashedUUID(id)
			}
			info.UUID = id
		}
		return info, true
	}
	return Info{}, false
}

// gpt recognises a GPT header ("EFI PART") in the second sector, for
// 512- or 4096-byte sectors; the UUID is the disk GUID (at 56).
func gpt(p *probe) (Info, bool) {
	for _, off := range []int{512, 4096} {
		if at(p.head, off, "EFI PART") {
			return Info{Format: "gpt", Name: "GPT partition table", Off: int64(off), UUID: guid(p.head, off+56)}, true
		}
	}
	return Info{}, false
}

// mbr recognises an MBR partition table: the boot signature, four entries
// whose status bytes are valid, at least one of them in use, and no boot
// sector of a file system (whose boot code is where the entries would
// be). The UUID is the disk signature at 440, as 8 hex digits.
func mbr(p *probe) (Info, bool) {
	b := p.head
	if !at(b, 510, "\x55\xaa") || at(b, 3, "NTFS    ") || at(b, 3, "EXFAT   ") || bootSector(b) {
		return Info{}, false
	}
	used := false
	for i := range 4 {
		e := b[446+16*i : 446+16*(i+1)]
		if e[0] != 0 && e[0] != 0x80 {
			return Info{}, false
		}
		start, count := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
		if e[4] != 0 && start != 0 && count != 0 {
			used = true
		}
	}
	if !used {
		return Info{}, false
	}
	info := Info{Format: "mbr", Name: "MBR (DOS) partition table"}
	if id, _ := le32(b, 440); id != 0 {
		info.UUID = fmt.Sprintf("%08x", id)
	}
	return info, true
}

// bootSector reports whether b starts with a FAT BIOS parameter block:
// a jump, a power-of-two sector size and cluster size, reserved sectors
// and one or two FATs.
func bootSector(b []byte) bool {
	if len(b) < 512 || (b[0] != 0xeb && b[0] != 0xe9) {
		return false
	}
	bps := binary.LittleEndian.Uint16(b[11:])
	spc := b[13]
	res := binary.LittleEndian.Uint16(b[14:])
	return (bps == 512 || bps == 1024 || bps == 2048 || bps == 4096) && spc != 0 && spc&(spc-1) == 0 && res != 0 && (b[16] == 1 || b[16] == 2)
}

// fatFS recognises a FAT boot sector by its type string and the boot
// signature. The volume serial and label are in the extended boot record
// (at 0x27 and 0x2b, or 0x43 and 0x47 for FAT32) when its signature
// (0x29) says so; the label in the root directory, which the tools set
// too and Windows shows, is preferred when there is one.
func fatFS(p *probe) (Info, bool) {
	b := p.head
	fat32 := at(b, 82, "FAT32   ")
	if !at(b, 510, "\x55\xaa") || !(fat32 || at(b, 54, "FAT16   ") || at(b, 54, "FAT12   ")) {
		return Info{}, false
	}
	info := Info{Format: "fat", Name: "FAT file system"}
	ebr := 0x26
	if fat32 {
		ebr = 0x42
	}
	if b[ebr] == 0x29 || b[ebr] == 0x28 { // 0x28: a serial without a label
		serial := binary.LittleEndian.Uint32(b[ebr+1:])
		info.UUID = fmt.Sprintf("%04X-%04X", serial>>16, serial&0xffff)
		if b[ebr] == 0x29 {
			info.Label = fatLabel(padded(b, ebr+5, 11))
		}
	}
	if l, ok := fatRootLabel(p, fat32); ok {
		info.Label = fatLabel(l)
	}
	return info, true
}

// fatLabel drops the name the tools write when there is no label.
func fatLabel(l string) string {
	if l == "NO NAME" {
		return ""
	}
	return l
}

// fatRootLabel finds the volume label entry in the root directory (its
// first 16 KiB: the tools write the label first).
func fatRootLabel(p *probe, fat32 bool) (string, bool) {
	b := p.head
	bps := int64(binary.LittleEndian.Uint16(b[11:]))
	spc := int64(b[13])
	res := int64(binary.LittleEndian.Uint16(b[14:]))
	nfats := int64(b[16])
	rootEnts := int64(binary.LittleEndian.Uint16(b[17:]))
	fatSize := int64(binary.LittleEndian.Uint16(b[22:]))
	if fatSize == 0 {
		v, _ := le32(b, 36)
		fatSize = int64(v)
	}
	if bps != 512 && bps != 1024 && bps != 2048 && bps != 4096 || spc == 0 || spc&(spc-1) != 0 || res == 0 || nfats == 0 {
		return "", false
	}
	root := (res + nfats*fatSize) * bps // no overflow: at most 2^16+2^8·2^32 sectors of 2^12 bytes
	n := rootEnts * 32
	if fat32 {
		c, _ := le32(b, 44)
		if c < 2 {
			return "", false
		}
		root += rootEnts*32 + (int64(c)-2)*spc*bps
		n = spc * bps
	}
	dir := p.read(root, int(min(n, 16<<10, p.size-root)))
	for e := 0; e+32 <= len(dir); e += 32 {
		switch ent := dir[e : e+32]; {
		case ent[0] == 0: // the end
			return "", false
		case ent[0] == 0xe5: // deleted
		case ent[11]&0x3f == 0x0f: // a long name part
		case ent[11]&0x18 == 0x08: // the volume label
			l := []byte(padded(ent, 0, 11))
			if len(l) > 0 && l[0] == 0x05 { // a name starting with 0xe5
				l[0] = 0xe5
			}
			return string(l), true
		}
	}
	return "", false
}

// ntfsFS recognises an NTFS boot sector. The volume serial number (8
// bytes at 0x48) is the UUID; the volume name is the $VOLUME_NAME
// attribute of $Volume, MFT record 3.
func ntfsFS(p *probe) (Info, bool) {
	b := p.head
	if !at(b, 3, "NTFS    ") {
		return Info{}, false
	}
	info := Info{Format: "ntfs", Name: "NTFS file system", Off: 3}
	if s, ok := le64(b, 0x48); ok && s != 0 {
		info.UUID = fmt.Sprintf("%016X", s)
	}
	info.Label = ntfsVolumeName(p)
	return info, true
}

// ntfsVolumeName reads MFT record 3 ($Volume) where the boot sector says
// the MFT is, undoes its update sequence and returns its resident
// $VOLUME_NAME (UTF-16LE, at most 128 characters), as UTF-8.
func ntfsVolumeName(p *probe) string {
	b := p.head
	if len(b) < 512 {
		return ""
	}
	bps := int64(binary.LittleEndian.Uint16(b[0x0b:]))
	spc := int64(b[0x0d])
	if spc > 0x80 { // large clusters: 2 to the negated power
		if 256-spc > 16 {
			return ""
		}
		spc = 1 << (256 - spc)
	}
	if bps < 256 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 {
		return ""
	}
	cluster := bps * spc
	var rec int64
	switch c := int8(b[0x40]); {
	case c > 0:
		rec = int64(c) * cluster
	case c < 0 && c >= -16:
		rec = 1 << -c
	}
	if rec < 256 || rec > maxRead {
		return ""
	}
	lcn := binary.LittleEndian.Uint64(b[0x30:])
	if lcn == 0 || lcn > uint64(p.size/cluster) {
		return ""
	}
	r := p.read(int64(lcn)*cluster+3*rec, int(rec))
	if r == nil || !at(r, 0, "FILE") {
		return ""
	}
	r = bytes.Clone(r)
	// The last two bytes of each 512-byte stride are in the update
	// sequence array; in their place is the update sequence number.
	usa := int(binary.LittleEndian.Uint16(r[4:]))
	cnt := int(binary.LittleEndian.Uint16(r[6:]))
	if cnt < 1 || usa+2*cnt > len(r) || (cnt-1)*512 > len(r) {
		return ""
	}
	for i := 1; i < cnt; i++ {
		end := i*512 - 2
		if r[end] != r[usa] || r[end+1] != r[usa+1] {
			return "" // torn write
		}
		copy(r[end:end+2], r[usa+2*i:])
	}
	off, _ := le16(r, 0x14)
	for a := int(off); a+16 <= len(r); {
		typ := binary.LittleEndian.Uint32(r[a:])
		n := int(binary.LittleEndian.Uint32(r[a+4:]))
		if typ == 0xffffffff || n < 16 || n > len(r)-a {
			return ""
		}
		if typ == 0x60 && r[a+8] == 0 && n >= 0x18 { // $VOLUME_NAME, resident
			vlen := int(binary.LittleEndian.Uint32(r[a+0x10:]))
			voff := int(binary.LittleEndian.Uint16(r[a+0x14:]))
			if voff > n || vlen > n-voff {
				return ""
			}
			return utf16le(r[a+voff : a+voff+min(vlen, 256)])
		}
		a += n
	}
	return ""
}

// utf16le decodes UTF-16LE text up to its first NUL.
func utf16le(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
