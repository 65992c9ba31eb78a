// Package content names what an input or a partition holds when it is not
// an LVM2 physical volume: a compressed file, a virtual-disk or evidence
// container, an encrypted volume, a RAID member or a file system.
//
// An examiner handed an unknown image and told "no LVM2 physical volume
// found" needs to know why: the image may be an E01 or a qcow2 that must be
// converted first, the PV may sit inside a LUKS volume or an md RAID
// array, or the partition may simply hold a file system. Identify reads a
// few signature bytes (at most the first 66 KiB and the last 64 KiB) and
// says which, and for the formats that can hide a PV, what to do next.
//
// The signatures are the published magic numbers of each format; nothing
// here parses the formats beyond telling them apart.
package content

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Info is what Identify found.
type Info struct {
	// Format is a short stable identifier: "gzip", "xz", "zstd", "bzip2",
	// "lz4", "qcow", "vmdk", "vhdx", "vhd", "vdi", "ewf", "ewf2", "luks1",
	// "luks2", "md", "bitlocker", "ext", "xfs", "btrfs", "swap", "ntfs",
	// "fat", "iso9660", "apfs", "hfsplus".
	Format string `json:"format"`
	// Name describes it for people ("QEMU qcow2 disk image").
	Name string `json:"name"`
	// Off is where the signature is, from the start of what was probed.
	Off int64 `json:"offset"`
	// Hint says how to reach an LVM2 PV that may be inside, for the
	// formats that can hold one; empty for file systems.
	Hint string `json:"hint,omitempty"`
}

// MayHoldPV reports whether an LVM2 PV can be inside (compressed data,
// containers, encryption, RAID members) rather than the format excluding
// one (file systems, swap).
func (i Info) MayHoldPV() bool { return i.Hint != "" }

func (i Info) String() string {
	if i.Hint == "" {
		return i.Name
	}
	return i.Name + ": " + i.Hint
}

// headLen is how much of the start is read: enough for the btrfs
// superblock at 64 KiB.
const headLen = 0x10040 + 64

// Identify names what r (size bytes) holds, or reports false when no known
// signature matches. Read errors count as no match: the caller reports
// I/O problems of its own.
func Identify(r io.ReaderAt, size int64) (Info, bool) {
	if size <= 0 {
		return Info{}, false
	}
	head := make([]byte, min(size, headLen))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	for _, s := range signatures {
		if info, ok := s(head); ok {
			return info, true
		}
	}
	if info, ok := mdAtEnd(r, size); ok {
		return info, true
	}
	return Info{}, false
}

// at reports whether b holds sig at off.
func at(b []byte, off int, sig string) bool {
	return off >= 0 && len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
}

func le32(b []byte, off int) (uint32, bool) {
	if len(b) < off+4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[off:]), true
}

func be32(b []byte, off int) (uint32, bool) {
	if len(b) < off+4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[off:]), true
}

const (
	hintDecompress = "lvminspect reads raw disks and images: decompress it first (%s) and open the result"
	hintConvert    = "lvminspect reads raw disks and images: convert it first (qemu-img convert -O raw FILE disk.raw), or attach it read-only (qemu-nbd --read-only -c /dev/nbd0 FILE) and open the device"
	hintEWF        = "lvminspect reads raw disks and images: mount it with ewfmount (libewf) and open the ewf1 file it presents, or write a raw image with ewfexport"
	hintLUKS       = "an LVM2 PV may be inside: open it read-only (cryptsetup open --readonly DEVICE name) and scan /dev/mapper/name"
	hintMDStart    = "an LVM2 PV may be on the assembled array: assemble it read-only (mdadm --assemble --readonly) and scan /dev/mdN; a RAID1 member holds the whole array after its superblock, which scan --carve finds"
	hintMDEnd      = "an LVM2 PV may be on the assembled array: assemble it read-only (mdadm --assemble --readonly) and scan /dev/mdN; a RAID1 member with this superblock holds the array from byte 0"
)

// signatures are tried in order on the first headLen bytes: containers and
// compression first (their payload could contain anything), then
// encryption and RAID, then file systems.
var signatures = []func([]byte) (Info, bool){
	sig(0, "\x1f\x8b\x08", "gzip", "gzip-compressed data", fmt.Sprintf(hintDecompress, "gunzip -k FILE")), // ID1 ID2, deflate
	sig(0, "\xfd7zXZ\x00", "xz", "xz-compressed data", fmt.Sprintf(hintDecompress, "xz -dk FILE")),
	sig(0, "\x28\xb5\x2f\xfd", "zstd", "zstd-compressed data", fmt.Sprintf(hintDecompress, "zstd -dk FILE")),
	func(b []byte) (Info, bool) {
		// "BZh", the block size digit, then the block magic (BCD pi).
		if at(b, 0, "BZh") && len(b) > 3 && b[3] >= '1' && b[3] <= '9' && at(b, 4, "\x31\x41\x59\x26\x53\x59") {
			return Info{Format: "bzip2", Name: "bzip2-compressed data", Hint: fmt.Sprintf(hintDecompress, "bunzip2 -k FILE")}, true
		}
		return Info{}, false
	},
	sig(0, "\x04\x22\x4d\x18", "lz4", "lz4-compressed data", fmt.Sprintf(hintDecompress, "lz4 -d FILE disk.raw")),
	func(b []byte) (Info, bool) {
		if !at(b, 0, "QFI\xfb") {
			return Info{}, false
		}
		name := "QEMU qcow disk image"
		switch v, _ := be32(b, 4); v {
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
	sig(0, "EVF2\x0d\x0a\x81\x00", "ewf2", "Expert Witness 2 (Ex01) evidence file", hintEWF),
	func(b []byte) (Info, bool) {
		if !at(b, 0, "LUKS\xba\xbe") || len(b) < 8 {
			return Info{}, false
		}
		switch v := binary.BigEndian.Uint16(b[6:]); v {
		case 1, 2:
			return Info{Format: fmt.Sprintf("luks%d", v), Name: fmt.Sprintf("LUKS%d encrypted volume", v), Hint: hintLUKS}, true
		}
		return Info{}, false
	},
	func(b []byte) (Info, bool) {
		// md superblock 1.1 at the start, 1.2 at 4 KiB.
		for _, off := range []int{0, 4096} {
			if m, ok := le32(b, off); ok && m == mdMagic {
				if v, _ := le32(b, off+4); v == 1 {
					minor := map[int]string{0: "1.1", 4096: "1.2"}[off]
					return Info{Format: "md", Name: "Linux md RAID member (superblock " + minor + ")", Off: int64(off), Hint: hintMDStart}, true
				}
			}
		}
		return Info{}, false
	},
	sig(3, "-FVE-FS-", "bitlocker", "BitLocker encrypted volume", ""),
	// File systems an LVM disk usually sits beside (or an exported LV
	// holds).
	extFS,
	sig(0, "XFSB", "xfs", "XFS file system", ""),
	sig(0x10040, "_BHRfS_M", "btrfs", "Btrfs file system", ""),
	sig(4086, "SWAPSPACE2", "swap", "Linux swap area", ""),
	sig(4086, "SWAP-SPACE", "swap", "Linux swap area", ""),
	sig(3, "NTFS    ", "ntfs", "NTFS file system", ""),
	fatFS,
	sig(32769, "CD001", "iso9660", "ISO 9660 file system", ""),
	sig(32, "NXSB", "apfs", "APFS container", ""),
	sig(1024, "H+\x00\x04", "hfsplus", "HFS+ file system", ""),
	sig(1024, "HX\x00\x05", "hfsplus", "HFS+ file system", ""),
}

// sig matches magic at off.
func sig(off int, magic, format, name, hint string) func([]byte) (Info, bool) {
	return func(b []byte) (Info, bool) {
		if at(b, off, magic) {
			return Info{Format: format, Name: name, Off: int64(off), Hint: hint}, true
		}
		return Info{}, false
	}
}

// mdMagic is the md superblock magic, stored little-endian.
const mdMagic = 0xa92b4efc

// mdAtEnd finds md superblocks kept near the end of the device: 0.90 in
// the last 64 KiB-aligned 64 KiB, 1.0 between 8 and 12 KiB from the end,
// 4 KiB aligned.
func mdAtEnd(r io.ReaderAt, size int64) (Info, bool) {
	if size < 128<<10 {
		return Info{}, false
	}
	probe := func(off int64, wantMajor uint32) bool {
		var b [8]byte
		if n, _ := r.ReadAt(b[:], off); n < len(b) {
			return false
		}
		return binary.LittleEndian.Uint32(b[:]) == mdMagic && binary.LittleEndian.Uint32(b[4:]) == wantMajor
	}
	if off := size&^(64<<10-1) - 64<<10; probe(off, 0) {
		return Info{Format: "md", Name: "Linux md RAID member (superblock 0.90)", Off: off, Hint: hintMDEnd}, true
	}
	if off := (size>>9 - 16) &^ 7 << 9; probe(off, 1) {
		return Info{Format: "md", Name: "Linux md RAID member (superblock 1.0)", Off: off, Hint: hintMDEnd}, true
	}
	return Info{}, false
}

// extFS recognises ext2/3/4 by s_magic in the superblock at 1 KiB; the
// journal and extents feature bits tell the generations apart.
func extFS(b []byte) (Info, bool) {
	if !at(b, 1080, "\x53\xef") {
		return Info{}, false
	}
	name := "ext2 file system"
	compat, _ := le32(b, 1024+0x5c)
	incompat, _ := le32(b, 1024+0x60)
	switch {
	case incompat&0x40 != 0: // extents
		name = "ext4 file system"
	case compat&0x4 != 0: // has_journal
		name = "ext3 file system"
	}
	return Info{Format: "ext", Name: name, Off: 1080}, true
}

// fatFS recognises a FAT boot sector: its type string and the boot
// signature.
func fatFS(b []byte) (Info, bool) {
	if at(b, 510, "\x55\xaa") && (at(b, 82, "FAT32   ") || at(b, 54, "FAT16   ") || at(b, 54, "FAT12   ")) {
		return Info{Format: "fat", Name: "FAT file system"}, true
	}
	return Info{}, false
}
