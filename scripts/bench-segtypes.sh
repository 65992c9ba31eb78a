#!/usr/bin/env bash
# bench-segtypes.sh: time `lvminspect export` of a raid5 LV (all images
# present, and rebuilding one missing image from parity) and of a fully
# provisioned thin LV, against dd copying the same number of bytes, in one
# run.
#
# This machine has no device-mapper, so LVM cannot create raid or thin LVs
# itself. The script makes linear LVs with LVM (on loop devices, never
# activated), then rewrites the VG metadata with vgcfgrestore so that they
# become the images of a raid5 LV and the data/metadata of a thin pool,
# fills the images with random data (parity is not consistent: the timing
# does not depend on it), and writes thin-pool metadata made by
# thin_restore (thin-provisioning-tools) from an XML mapping every block.
#
# Needs root. Environment: IMAGE_MIB (size of each raid image, default 512,
# so the raid5 LV is 3 x that), THIN_MIB (thin LV size, default 1536),
# LVMINSPECT (binary), KEEP=1 (keep the work directory), RUNS (timed runs
# of each command, default 5; medians are reported).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
IMAGE_MIB=${IMAGE_MIB:-512}
THIN_MIB=${THIN_MIB:-1536}
VG=lvisegs$$

die() { echo "bench-segtypes: $*" >&2; exit 1; }
log() { echo "bench-segtypes: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"
[[ $(id -u) -eq 0 ]] || die "must run as root (losetup, drop_caches)"
for c in pvcreate:lvm2 thin_restore:thin-provisioning-tools python3:python3; do
	command -v "${c%%:*}" >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${c##*:}" >/dev/null
	}
done
[[ -x /usr/bin/time ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
[[ -x $BIN ]] || (cd "$ROOT" && go build -o "$BIN" ./cmd/lvminspect)

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-segtypes.XXXXXX")
LOOPS=()
bench_traps

# pv0..pv3: one raid image and its 4 MiB metadata LV each; pv4: the pool.
for i in 0 1 2 3; do truncate -s $(((IMAGE_MIB + 16) * 1048576)) "$WORK/pv$i.img"; done
truncate -s $(((THIN_MIB + 32) * 1048576)) "$WORK/pv4.img"
for i in 0 1 2 3 4; do LOOPS+=("$(losetup -f --show "$WORK/pv$i.img")"); done
lvm_private_config "$WORK/lvm" "${LOOPS[@]}"
lvm() { "$@" >>"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "$* failed"; }; }
lvm pvcreate -y "${LOOPS[@]}"
lvm vgcreate -s 4m "$VG" "${LOOPS[@]}"
for i in 0 1 2 3; do
	lvm lvcreate --driverloaded n -an -Zn -y -n "m$i" -l 1 "$VG" "${LOOPS[$i]}"
	lvm lvcreate --driverloaded n -an -Zn -y -n "i$i" -L "${IMAGE_MIB}m" "$VG" "${LOOPS[$i]}"
done
lvm lvcreate --driverloaded n -an -Zn -y -n tm -L 8m "$VG" "${LOOPS[4]}"
lvm lvcreate --driverloaded n -an -Zn -y -n td -L "${THIN_MIB}m" "$VG" "${LOOPS[4]}"

# Offsets of the linear LVs in their images, before the rename.
PE_START=$(pvs --noheadings --nosuffix --units b -o pe_start "${LOOPS[0]}" | head -n1 | tr -d ' ')
EXTENT=$(vgs --noheadings --nosuffix --units b -o vg_extent_size "$VG" | tr -d ' ')
offset() { # LV -> byte offset in its image
	local r
	r=$(lvs --noheadings -o seg_pe_ranges "$VG/$1" | tr -d ' ')
	[[ $r =~ :([0-9]+)-([0-9]+)$ ]] || die "cannot read the PE range of $1: $r"
	echo $((PE_START + BASH_REMATCH[1] * EXTENT))
}
declare -A OFF
for lv in i0 i1 i2 i3 tm td; do OFF[$lv]=$(offset $lv); done

lvm vgcfgbackup -f "$WORK/vg.txt" "$VG"
python3 - "$WORK/vg.txt" "$IMAGE_MIB" "$THIN_MIB" <<'PY'
import re, sys
path, image_mib, thin_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = open(path).read()
names = {f"m{i}": f"r5_rmeta_{i}" for i in range(4)}
names.update({f"i{i}": f"r5_rimage_{i}" for i in range(4)})
names.update({"tm": "pool_tmeta", "td": "pool_tdata"})
for old, new in names.items():
    s = re.sub(r"(\n\t+)%s( \{)" % old, r"\1%s\2" % new, s)
s = s.replace('status = ["READ", "WRITE", "VISIBLE"]', 'status = ["READ", "WRITE"]')
ext = 4  # MiB
lvs = '''
r5 {
id = "Bnch00-r5r5-r5r5-r5r5-r5r5-r5r5-r5r5r5"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = %d
type = "raid5"
device_count = 4
stripe_size = 128
region_size = 4096
raids = ["r5_rmeta_0", "r5_rimage_0", "r5_rmeta_1", "r5_rimage_1", "r5_rmeta_2", "r5_rimage_2", "r5_rmeta_3", "r5_rimage_3"]
}
}
pool {
id = "Bnch00-pool-pool-pool-pool-pool-poolpo"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = %d
type = "thin-pool"
metadata = "pool_tmeta"
pool = "pool_tdata"
transaction_id = 1
chunk_size = 128
discards = "passdown"
zero_new_blocks = 0
}
}
thin1 {
id = "Bnch00-thin-thin-thin-thin-thin-thinth"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1
segment1 {
start_extent = 0
extent_count = %d
type = "thin"
thin_pool = "pool"
transaction_id = 0
device_id = 1
}
}
''' % (3 * image_mib // ext, thin_mib // ext, thin_mib // ext)
i = s.index("logical_volumes {\n") + len("logical_volumes {\n")
open(path + ".new", "w").write(s[:i] + lvs + s[i:])
PY
lvm vgcfgrestore --force -f "$WORK/vg.txt.new" "$VG"

# Thin-pool metadata: device 1 maps every 64 KiB block of the pool.
blocks=$((THIN_MIB * 16))
cat >"$WORK/thin.xml" <<XML
<superblock uuid="" time="0" transaction="1" flags="0" version="2" data_block_size="128" nr_data_blocks="$blocks">
  <device dev_id="1" mapped_blocks="$blocks" transaction="0" creation_time="0" snap_time="0">
    <range_mapping origin_begin="0" data_begin="0" length="$blocks" time="0"/>
  </device>
</superblock>
XML
truncate -s 8M "$WORK/tmeta.bin"
thin_restore -q -i "$WORK/thin.xml" -o "$WORK/tmeta.bin" >>"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "thin_restore failed"; }
for l in "${LOOPS[@]}"; do losetup -d "$l"; done
LOOPS=()

fill() { # image offset bytes
	dd if=/dev/urandom of="$1" bs=4M count=$(($3 / 4194304)) seek="$2" oflag=seek_bytes iflag=fullblock conv=notrunc status=none
}
for i in 0 1 2 3; do fill "$WORK/pv$i.img" "${OFF[i$i]}" $((IMAGE_MIB * 1048576)); done
fill "$WORK/pv4.img" "${OFF[td]}" $((THIN_MIB * 1048576))
dd if="$WORK/tmeta.bin" of="$WORK/pv4.img" bs=1M seek="${OFF[tm]}" oflag=seek_bytes conv=notrunc status=none
sync

declare -A TS RSS
run_export() { # name lv inputs...
	local name=$1 lv=$2
	shift 2
	drop_caches
	local t0 t1 rss
	t0=$(now)
	/usr/bin/time -v -o "$WORK/time.$name" "$BIN" export -o "$WORK/$name.img" "$VG/$lv" "$@" >"$WORK/out.$name" 2>&1 ||
		{ cat "$WORK/out.$name" >&2; die "export $name failed"; }
	t1=$(now)
	TS[$name]+=" $(div $((t1 - t0)) 1000000000)"
	rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/time.$name")
	(( rss > ${RSS[$name]:-0} )) && RSS[$name]=$rss
	rm -f "$WORK/$name.img" "$WORK/$name.img.json"
}
run_dd() { # name image offset bytes
	drop_caches
	local t0 t1
	t0=$(now)
	dd if="$2" of="$WORK/dd.img" bs=4M skip="$3" count="$4" iflag=skip_bytes,count_bytes conv=fsync status=none
	t1=$(now)
	TS[$1]+=" $(div $((t1 - t0)) 1000000000)"
	rm -f "$WORK/dd.img"
}
# dd copies the same number of bytes: the raid5 LV's size, read from the
# images (three of them, one after the other), and the thin LV's size.
run_dd_raid5() {
	drop_caches
	local t0 t1
	t0=$(now)
	for i in 0 1 2; do
		dd if="$WORK/pv$i.img" of="$WORK/dd$i.img" bs=4M skip="${OFF[i$i]}" count=$((IMAGE_MIB * 1048576)) \
			iflag=skip_bytes,count_bytes conv=fsync status=none
	done
	t1=$(now)
	TS[dd-raid5]+=" $(div $((t1 - t0)) 1000000000)"
	rm -f "$WORK"/dd?.img
}
R5_BYTES=$((3 * IMAGE_MIB * 1048576))
THIN_BYTES=$((THIN_MIB * 1048576))
# RUNS timed runs of each; the order of lvminspect and dd alternates (a
# virtual disk's host may still cache what the guest dropped, which favours
# the second reader) and the medians are compared.
RUNS=${RUNS:-5}
for ((run = 1; run <= RUNS; run++)); do
	exports() {
		run_export raid5 r5 "$WORK"/pv[0-3].img
		run_export raid5-degraded r5 "$WORK/pv0.img" "$WORK/pv1.img" "$WORK/pv3.img"
		run_export thin thin1 "$WORK/pv4.img"
	}
	dds() {
		run_dd_raid5
		run_dd dd-thin "$WORK/pv4.img" "${OFF[td]}" "$THIN_BYTES"
	}
	if ((run % 2)); then exports; dds; else dds; exports; fi
done
declare -A T
for k in raid5 raid5-degraded thin dd-raid5 dd-thin; do
	T[$k]=$(median <<<"${TS[$k]# }")
	log "$k: runs ${TS[$k]# } s"
done

printf '\nlvminspect export of layered LVs against dd of the same byte count (median of %d runs)\n' "$RUNS"
printf '%-16s %10s %10s %8s %8s %s\n' LV MiB export_s dd_s dd/exp RSS_MiB
printf '%-16s %10d %10s %8s %8s %s\n' raid5 $((R5_BYTES >> 20)) "${T[raid5]}" "${T[dd-raid5]}" "$(div "${T[dd-raid5]}" "${T[raid5]}")" "${RSS[raid5]}"
printf '%-16s %10d %10s %8s %8s %s\n' raid5-1-missing $((R5_BYTES >> 20)) "${T[raid5-degraded]}" "${T[dd-raid5]}" "$(div "${T[dd-raid5]}" "${T[raid5-degraded]}")" "${RSS[raid5-degraded]}"
printf '%-16s %10d %10s %8s %8s %s\n' thin $((THIN_BYTES >> 20)) "${T[thin]}" "${T[dd-thin]}" "$(div "${T[dd-thin]}" "${T[thin]}")" "${RSS[thin]}"
