#!/usr/bin/env bash
# bench-export.sh: time `lvminspect export` against dd on real LVM2 volumes.
#
# Builds a VG on a loop-attached image file (LVs are never activated: this
# works without device-mapper), writes a dense LV of random data and a
# sparse LV with 1% of it written straight into the image at the LVs' PV
# offsets, then, with the page cache dropped before each run, times
#   lvminspect export -o OUT VG/LV IMAGE
# and dd of the same bytes, checks the exported sha256 against the bytes in
# the image, and prints dd_time/export_time (target >= 0.9), the export's
# peak RSS (target <= 64 MiB) and sparse_time/dense_time (target <= 0.15),
# with the lowest sparse/dense the CPU's SHA-256 speed allows.
#
# Needs root (losetup, drop_caches). Installs lvm2 and time with apt-get if
# missing, and builds bin/lvminspect if it is not there.
#
# Environment: LV_MIB (size of each LV, default 2048), BENCH_DIR (where the
# work directory goes, default $TMPDIR or /tmp), LVMINSPECT (binary path),
# KEEP=1 (keep the work directory with the image, for a closer look),
# RUNS (timed runs of each command, default 5; the median is reported),
# READ_MBPS (limit reads from the disk holding the image to this many MB/s
# with a blkio/io cgroup throttle, for both lvminspect and dd: the figures
# of a slower evidence disk, such as a USB hard disk at 100-200 MB/s).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
LV_MIB=${LV_MIB:-2048}
VG=lvibench$$

die() { echo "bench-export: $*" >&2; exit 1; }
log() { echo "bench-export: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (losetup, drop_caches)"
(( LV_MIB >= 64 && LV_MIB % 4 == 0 )) || die "LV_MIB must be a multiple of 4, at least 64"

need_pkg() { # command package
	if ! command -v "$1" >/dev/null 2>&1; then
		log "installing $2"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
}
need_pkg pvcreate lvm2
need_pkg losetup mount
[[ -x /usr/bin/time ]] || { log "installing time"; apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
command -v sha256sum >/dev/null || die "sha256sum not found"

if [[ ! -x $BIN ]]; then
	log "building $BIN"
	(cd "$ROOT" && go build -o "$BIN" ./cmd/lvminspect) || die "cannot build $BIN"
fi

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-export.XXXXXX")
LOOP=""
CG=""
LOOPS=()
bench_traps

IMG=$WORK/pv.img
LV_BYTES=$((LV_MIB * 1024 * 1024))
truncate -s $((2 * LV_BYTES + 64 * 1024 * 1024)) "$IMG"
LOOP=$(losetup -f --show "$IMG")
log "image $IMG on $LOOP"

lvm_private_config "$WORK/lvm" "$LOOP"

pvcreate -y "$LOOP" >"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "pvcreate failed"; }
vgcreate "$VG" "$LOOP" >"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "vgcreate failed"; }
for lv in dense sparse; do
	# -an -Zn: create without activating or zeroing (no device-mapper).
	lvcreate --driverloaded n -an -Zn -y -L "${LV_MIB}m" -n "$lv" "$VG" >"$WORK/lvcreate.log" 2>&1 ||
		{ cat "$WORK/lvcreate.log" >&2; die "lvcreate $VG/$lv failed"; }
done

PE_START=$(pvs --noheadings --nosuffix --units b -o pe_start "$LOOP" | tr -d ' ')
EXTENT=$(vgs --noheadings --nosuffix --units b -o vg_extent_size "$VG" | tr -d ' ')
declare -A OFF
for lv in dense sparse; do
	ranges=$(lvs --noheadings --segments -o seg_pe_ranges "$VG/$lv" | tr -d ' ')
	[[ $(wc -l <<<"$ranges") -eq 1 && $ranges =~ ^[^:]+:([0-9]+)-([0-9]+)$ ]] ||
		die "LV $lv is not one contiguous segment: $ranges"
	first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
	(( (last - first + 1) * EXTENT == LV_BYTES )) || die "LV $lv has $((last - first + 1)) extents of $EXTENT bytes"
	OFF[$lv]=$((PE_START + first * EXTENT))
	log "$VG/$lv: PEs $first-$last, image bytes ${OFF[$lv]}+$LV_BYTES"
done
losetup -d "$LOOP"
LOOP=""

# Dense LV: random data throughout.
dd if=/dev/urandom of="$IMG" bs=4M count=$((LV_BYTES / 4194304)) seek="${OFF[dense]}" \
	oflag=seek_bytes iflag=fullblock conv=notrunc status=none
# Sparse LV: 64 KiB of random data at 1% of the places, scattered; the
# rest stays a hole of the image.
piece=65536
pieces=$((LV_BYTES / 100 / piece))
stride=$((LV_BYTES / pieces))
for ((i = 0; i < pieces; i++)); do
	jitter=$(((i * 2654435761) % (stride - piece) / 4096 * 4096))
	dd if=/dev/urandom of="$IMG" bs=$piece count=1 seek=$((OFF[sparse] + i * stride + jitter)) \
		oflag=seek_bytes iflag=fullblock conv=notrunc status=none
done
sync

declare -A WANT
for lv in dense sparse; do
	WANT[$lv]=$(dd if="$IMG" bs=4M skip="${OFF[$lv]}" count=$LV_BYTES iflag=skip_bytes,count_bytes status=none |
		sha256sum | cut -d' ' -f1)
done


# With READ_MBPS, every timed command runs in a cgroup whose reads from
# the image's disk are throttled.
THROTTLE=()
if [[ -n ${READ_MBPS:-} ]]; then
	(( READ_MBPS > 0 )) || die "READ_MBPS must be a positive number"
	src=$(df -P "$WORK" | awk 'NR==2 { print $1 }')
	parent=$(lsblk -no PKNAME "$src" 2>/dev/null | head -n1 || true)
	[[ -n $parent ]] && src=/dev/$parent
	majmin=$(lsblk -dno MAJ:MIN "$src" 2>/dev/null | tr -d ' ') || die "READ_MBPS: cannot find the disk of $WORK"
	if [[ -d /sys/fs/cgroup/blkio ]]; then
		CG=/sys/fs/cgroup/blkio/lvibench$$
		mkdir "$CG"
		echo "$majmin $((READ_MBPS * 1000000))" >"$CG/blkio.throttle.read_bps_device"
	elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		CG=/sys/fs/cgroup/lvibench$$
		mkdir "$CG"
		echo "$majmin rbps=$((READ_MBPS * 1000000))" >"$CG/io.max" || die "READ_MBPS: cannot set io.max (is +io in cgroup.subtree_control?)"
	else
		die "READ_MBPS: this system has neither a blkio nor an io cgroup controller"
	fi
	THROTTLE=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG")
	log "reads from $src ($majmin) limited to $READ_MBPS MB/s"
fi

# Each LV is timed RUNS times; the runs alternate whether lvminspect or dd
# goes first (a virtual disk's host may still cache what the guest just
# dropped, which favours the second reader), and the medians are compared.

time_export() { # lv
	local lv=$1 out=$WORK/$1.img t0 t1 got file_sum rss
	drop_caches
	t0=$(now)
	"${THROTTLE[@]}" /usr/bin/time -v -o "$WORK/time.$lv" "$BIN" export -o "$out" "$VG/$lv" "$IMG" >"$WORK/out.$lv" 2>"$WORK/err.$lv" ||
		{ cat "$WORK/err.$lv" "$WORK/time.$lv" >&2; die "lvminspect export $VG/$lv failed"; }
	t1=$(now)
	TE[$lv]+=" $(div $((t1 - t0)) 1000000000)"
	got=$(grep -ohE '\b[0-9a-f]{64}\b' "$WORK/out.$lv" "$WORK/err.$lv" | head -n1 || true)
	[[ $got == "${WANT[$lv]}" ]] || die "$lv: export printed sha256 '$got', the image holds ${WANT[$lv]}"
	file_sum=$(sha256sum "$out" | cut -d' ' -f1)
	[[ $file_sum == "${WANT[$lv]}" ]] || die "$lv: exported file hashes $file_sum, want ${WANT[$lv]}"
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.$lv")
	(( rss > ${RSS[$lv]:-0} )) && RSS[$lv]=$rss
	rm -f "$out" "$out.json"
}

time_dd() { # lv
	local lv=$1 t0 t1
	drop_caches
	t0=$(now)
	"${THROTTLE[@]}" dd if="$IMG" of="$WORK/dd.$lv.img" bs=4M skip="${OFF[$lv]}" count=$LV_BYTES \
		iflag=skip_bytes,count_bytes conv=fsync status=none
	t1=$(now)
	TD[$lv]+=" $(div $((t1 - t0)) 1000000000)"
	rm -f "$WORK/dd.$lv.img"
}

RUNS=${RUNS:-5}
declare -A TE TD RSS T_EXPORT T_DD
for ((run = 1; run <= RUNS; run++)); do
	for lv in dense sparse; do
		if ((run % 2)); then time_export "$lv"; time_dd "$lv"; else time_dd "$lv"; time_export "$lv"; fi
	done
done
for lv in dense sparse; do
	T_EXPORT[$lv]=$(median <<<"${TE[$lv]# }")
	T_DD[$lv]=$(median <<<"${TD[$lv]# }")
	log "$lv: export runs ${TE[$lv]# } s, dd runs ${TD[$lv]# } s"
done

peak_kib=$(( RSS[dense] > RSS[sparse] ? RSS[dense] : RSS[sparse] ))
ratio_dense=$(div "${T_DD[dense]}" "${T_EXPORT[dense]}")
ratio_sparse=$(div "${T_DD[sparse]}" "${T_EXPORT[sparse]}")
sparse_dense=$(div "${T_EXPORT[sparse]}" "${T_EXPORT[dense]}")
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }

printf '\nlvminspect export benchmark: two %d MiB LVs, image %s, median of %d runs\n' "$LV_MIB" "$(df -P "$WORK" | awk 'NR==2 { print $1 }')" "$RUNS"
[[ -n ${READ_MBPS:-} ]] && printf 'reads from that disk throttled to %d MB/s (READ_MBPS)\n' "$READ_MBPS"
printf '%-8s %12s %12s %14s %10s\n' LV export_s dd_s dd/export peak_RSS_MiB
for lv in dense sparse; do
	printf '%-8s %12s %12s %14s %10s\n' "$lv" "${T_EXPORT[$lv]}" "${T_DD[$lv]}" "$(div "${T_DD[$lv]}" "${T_EXPORT[$lv]}")" "$((RSS[$lv] / 1024))"
done
printf '\n'
printf 'dd_time/export_time (dense)  %s  target >= 0.9   %s\n' "$ratio_dense" "$(verdict "$ratio_dense" 0.9 '>=')"
printf 'dd_time/export_time (sparse) %s  (for information)\n' "$ratio_sparse"
printf 'peak RSS of export            %s MiB  target <= 64   %s\n' "$((peak_kib / 1024))" "$(verdict $((peak_kib / 1024)) 64 '<=')"
printf 'sparse_time/dense_time       %s  target <= 0.15  %s\n' "$sparse_dense" "$(verdict "$sparse_dense" 0.15 '<=')"

# The sparse export must still hash every byte of the LV, zeros included
# (the sha256 is of the whole image), and SHA-256 is one sequential chain:
# no number of cores makes it faster. So the sparse time cannot drop below
# the time this CPU takes to hash LV_BYTES, measured here with OpenSSL's
# SHA-256 (which uses the CPU's SHA instructions where it has them, as Go's
# crypto/sha256 does).
if command -v openssl >/dev/null 2>&1; then
	rate=$(openssl speed -evp sha256 -bytes 4194304 -seconds 3 2>/dev/null |
		awk '$1 == "sha256" || $1 == "SHA256" { v = $NF; sub(/k$/, "", v); print v * 1000 }')
	if [[ -n $rate ]]; then
		floor=$(div "$LV_BYTES" "$rate")
		printf 'SHA-256 on this CPU           %.0f MB/s (openssl speed): hashing %d MiB takes >= %s s\n' \
			"$(div "$rate" 1000000)" "$LV_MIB" "$floor"
		printf 'lowest sparse/dense possible  %s (that hash time / the dense export time)\n' "$(div "$floor" "${T_EXPORT[dense]}")"
	fi
fi
