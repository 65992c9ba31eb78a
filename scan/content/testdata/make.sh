#!/usr/bin/env bash
# make.sh: write the first 68 KiB of files made by the real tools, gzipped,
# as FORMAT.VARIANT.head.gz, for TestIdentifyRealFiles. FORMAT is what
# content.Identify must name them.
#
# The images made with a label and a UUID chosen here are kept as
# FORMAT.VARIANT.pieces.gz instead: the parts of the image Identify reads
# (the head, a FAT root directory, NTFS's $Volume record...), which keep.go
# records; the test knows the labels and UUIDs given below.
#
# Tools: gzip xz zstd bzip2 lz4 (their packages), qemu-img (qemu-utils),
# cryptsetup (cryptsetup-bin), mkfs.ext2/3/4 (e2fsprogs), mkfs.xfs
# (xfsprogs), mkfs.btrfs (btrfs-progs), mkfs.vfat (dosfstools), mkfs.ntfs
# (ntfs-3g, also ntfslabel), mkswap (util-linux), xorriso, sfdisk (fdisk),
# go. Formats whose tool is missing are skipped with a message. No root
# needed: everything is made in files, except the LVM2 PV (pvcreate, from
# lvm2, needs a loop device: made only as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

keep() { # name file [bytes]
	head -c "${3:-$((0x11000))}" "$2" | gzip -9n >"$1.head.gz"
	echo "wrote $1.head.gz"
}
have() { command -v "$1" >/dev/null 2>&1 || { echo "skipped $2: no $1" >&2; return 1; }; }

# Something to compress (what does not matter; zeros keep the heads small).
head -c 1048576 /dev/zero >"$work/data"
have gzip gzip && { gzip -c "$work/data" >"$work/x"; keep gzip.gzip "$work/x"; }
have xz xz && { xz -c "$work/data" >"$work/x"; keep xz.xz "$work/x"; }
have zstd zstd && { zstd -q -c "$work/data" >"$work/x"; keep zstd.zstd "$work/x"; }
have bzip2 bzip2 && { bzip2 -c "$work/data" >"$work/x"; keep bzip2.bzip2 "$work/x"; }
have lz4 lz4 && { lz4 -q -c "$work/data" >"$work/x"; keep lz4.lz4 "$work/x"; }

if have qemu-img "virtual disks"; then
	for f in qcow:qcow2 qcow:qcow vmdk:vmdk vhdx:vhdx vhd:vpc vdi:vdi; do
		want=${f%%:*} fmt=${f#*:}
		rm -f "$work/d"
		qemu-img create -q -f "$fmt" "$work/d" 64M
		keep "$want.$fmt" "$work/d"
	done
	# A VMDK made of a descriptor and a separate extent file.
	qemu-img create -q -f vmdk -o subformat=monolithicFlat "$work/flat.vmdk" 64M
	keep vmdk.descriptor "$work/flat.vmdk"
fi

if have cryptsetup LUKS; then
	for v in 1 2; do
		truncate -s 32M "$work/luks$v"
		echo -n lvminspect-test | cryptsetup luksFormat -q --type "luks$v" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--key-file - "$work/luks$v"
		keep "luks$v.luks$v" "$work/luks$v" 4096 # the rest is key material
	done
fi

# pieces name file [bytes]: the parts of file (of its first bytes) that
# Identify reads (see keep.go).
keeper=
if have go "labelled images"; then
	go build -o "$work/keep" keep.go && keeper=$work/keep
fi
pieces() { # name file [bytes]
	[ -n "$keeper" ] || return 0
	"$keeper" "$2" ${3:+"$3"} | gzip -9n >"$1.pieces.gz"
	echo "wrote $1.pieces.gz"
}

# mkfs want name tool args...: a file system of $fssize (320M) in a file,
# kept by $save (keep, or pieces).
mkfs() {
	local want=$1 name=$2 tool=$3
	shift 3
	have "$tool" "$name" || return 0
	rm -f "$work/fs"
	truncate -s "${fssize:-320M}" "$work/fs"
	"$tool" "$@" "$work/fs" >/dev/null 2>&1 || { echo "skipped $name: $tool failed" >&2; return 0; }
	"${save:-keep}" "$want.$name" "$work/fs"
}
mkfs ext ext2 mkfs.ext2 -q -F
mkfs ext ext3 mkfs.ext3 -q -F
mkfs ext ext4 mkfs.ext4 -q -F
mkfs xfs xfs mkfs.xfs -q -f
mkfs btrfs btrfs mkfs.btrfs -q -f
mkfs fat vfat mkfs.vfat -F 32
mkfs ntfs ntfs mkfs.ntfs -q -F -f
mkfs swap swap mkswap
if have xorriso iso9660; then
	mkdir -p "$work/tree" && echo hello >"$work/tree/hello"
	xorriso -as mkisofs -quiet -o "$work/iso" "$work/tree" 2>/dev/null
	keep iso9660.iso "$work/iso"
fi

# With labels and UUIDs (TestIdentifyLabels knows them). The labels use
# the whole field where the tool allows (no NUL after them), and bytes
# beyond ASCII.
if have cryptsetup "labelled LUKS"; then
	for v in 1 2; do
		rm -f "$work/luks$v" && truncate -s 32M "$work/luks$v"
		label=() && [ $v = 2 ] && label=(--label "crypt root")
		echo -n lvminspect-test | cryptsetup luksFormat -q --type "luks$v" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--uuid "6f1d2c3b-4a59-4687-9a8b-7c6d5e4f30$v$v" "${label[@]}" --key-file - "$work/luks$v"
		pieces "luks$v.luks$v-label" "$work/luks$v" 4096
	done
fi
save=pieces mkfs ext ext2-label mkfs.ext2 -q -F -L "root fs" -U 0e9c3a4b-5d6e-4f70-8192-a3b4c5d6e7f8
save=pieces mkfs ext ext3-label mkfs.ext3 -q -F -L "home" -U 1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80
save=pieces mkfs ext ext4-label mkfs.ext4 -q -F -L "0123456789abcdef" -U 2c3d4e5f-6071-4829-9a3b-4c5d6e7f8091
save=pieces mkfs xfs xfs-label mkfs.xfs -q -f -L "xfs-data-vol" -m uuid=3d4e5f60-7182-4930-8b4c-5d6e7f8091a2
save=pieces mkfs btrfs btrfs-label mkfs.btrfs -q -f -L "btrfs pool ü" -U 4e5f6071-8293-4a41-9c5d-6e7f8091a2b3
fssize=16M save=pieces mkfs fat fat12-label mkfs.vfat -F 12 -n "DOS DISK" -i 1234ABCD
fssize=64M save=pieces mkfs fat fat16-label mkfs.vfat -F 16 -n "FAT16 VOL" -i 0000BEEF
save=pieces mkfs fat fat32-label mkfs.vfat -F 32 -n "ELEVENCHARS" -i DEADBEEF
fssize=64M save=pieces mkfs fat fat32-nolabel mkfs.vfat -F 32 -i 89ABCDEF
fssize=16M save=pieces mkfs swap swap-label mkswap -L "swap label" -U 5f607182-93a4-4b52-8d6e-7f8091a2b3c4
fssize=16M save=pieces mkfs swap swap-64k mkswap -p 65536 -L "big pages label" -U 60718293-a4b5-4c63-9e7f-8091a2b3c4d5
if have mkntfs "labelled ntfs" && have ntfslabel "labelled ntfs"; then
	rm -f "$work/fs" && truncate -s 64M "$work/fs"
	mkntfs -q -F -f -L "Données" "$work/fs" >/dev/null 2>&1
	ntfslabel --new-serial=0123456789ABCDEF "$work/fs" >/dev/null
	pieces ntfs.ntfs-label "$work/fs"
fi
if have xorriso "labelled iso9660"; then
	xorriso -as mkisofs -quiet -V "LVMINSPECT TEST" --modification-date=2024010203040506 -o "$work/iso2" "$work/tree" 2>/dev/null
	pieces iso9660.iso-label "$work/iso2"
fi
if have sfdisk "partition tables"; then
	rm -f "$work/disk" && truncate -s 16M "$work/disk"
	printf 'label: gpt\nlabel-id: 3F2504E0-4F89-41D3-9A0C-0305E82C3301\nstart=2048, size=4096, type=L\n' | sfdisk -q "$work/disk" >/dev/null
	pieces gpt.sfdisk "$work/disk"
	rm -f "$work/disk" && truncate -s 16M "$work/disk"
	printf 'label: dos\nlabel-id: 0x1a2b3c4d\nstart=2048, size=4096, type=83\n' | sfdisk -q "$work/disk" >/dev/null
	pieces mbr.sfdisk "$work/disk"
fi
if [ "$(id -u)" != 0 ]; then
	echo "skipped lvm2: pvcreate needs a loop device (root)" >&2
elif have pvcreate lvm2 && have losetup lvm2; then
	rm -f "$work/pv" && truncate -s 16M "$work/pv"
	loop=$(losetup --find --show "$work/pv")
	ok=1
	pvcreate -q --norestorefile --config 'devices { use_devicesfile=0 }' \
		--uuid "AbCdEf-0123-4567-89ab-cdef-GhIj-KlMnOp" "$loop" >/dev/null 2>&1 || ok=
	losetup -d "$loop"
	if [ -n "$ok" ]; then pieces lvm2.pvcreate "$work/pv"; else echo "skipped lvm2: pvcreate failed" >&2; fi
fi
