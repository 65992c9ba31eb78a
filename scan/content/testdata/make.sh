#!/usr/bin/env bash
# make.sh: write the first 66 KiB of files made by the real tools, gzipped,
# as FORMAT.VARIANT.head.gz, for TestIdentifyRealFiles. FORMAT is what
# content.Identify must name them.
#
# Tools: gzip xz zstd bzip2 lz4 (their packages), qemu-img (qemu-utils),
# cryptsetup (cryptsetup-bin), mkfs.ext2/3/4 (e2fsprogs), mkfs.xfs
# (xfsprogs), mkfs.btrfs (btrfs-progs), mkfs.vfat (dosfstools), mkfs.ntfs
# (ntfs-3g), mkswap (util-linux), xorriso. Formats whose tool is missing
# are skipped with a message. No root needed: everything is made in files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

keep() { # name file [bytes]
	head -c "${3:-$((0x10040 + 64))}" "$2" | gzip -9n >"$1.head.gz"
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

mkfs() { # want name tool args...
	local want=$1 name=$2 tool=$3
	shift 3
	have "$tool" "$name" || return 0
	rm -f "$work/fs"
	truncate -s 320M "$work/fs"
	"$tool" "$@" "$work/fs" >/dev/null 2>&1 || { echo "skipped $name: $tool failed" >&2; return 0; }
	keep "$want.$name" "$work/fs"
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
