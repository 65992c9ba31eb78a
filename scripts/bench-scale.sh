#!/usr/bin/env bash
# bench-scale.sh: lvminspect against LVM's own tools on VGs of many LVs.
#
# For each case (CASES, default "10000 290000" LVs) it builds, on one
# loop-attached sparse image, a VG of N linear LVs of one 1 MiB extent and
# an LV "target" of 4 MiB holding random data: with LVM itself, by
# restoring a metadata backup written here (vgcfgrestore --force; nothing
# is activated, no device-mapper is needed). Then, alternating which goes
# first, RUNS times each, it times with /usr/bin/time and compares the
# medians and peak RSS of
#   lvminspect scan --json DEV       vs  lvs -a --reportformat json VG
#   lvminspect history DEV           vs  pvck --dump metadata_all -f F DEV
#   lvminspect export -o OUT VG/target DEV (provenance record included;
#                                         target: under 0.2 s)
# and checks the exported sha256 against the bytes written.
#
# A case of more than LVM_MAX_LVS LVs (default 100000), or one LVM does
# not build within LVM_TIMEOUT seconds (default 600; vgcfgrestore ignores
# SIGTERM, so it is killed 10 s later), is written by scripts/synthvg
# instead (internal/synth: the same VG as a metadata text of its own, in
# a 128 MiB metadata area): restoring 290,000 LVs with vgcfgrestore ran
# 23 minutes here without finishing. LVM's lvs and pvck still read that
# image and are timed on it; the table says which tool made the VG.
#
# Needs root (losetup). Installs lvm2 and time with apt-get if missing and
# builds bin/lvminspect if it is not there. Page cache warm: these are
# metadata-bound runs.
#
# Environment: CASES, RUNS (default 5), LVM_TIMEOUT, LVM_MAX_LVS, BENCH_DIR (where the
# work directory goes, default $TMPDIR or /tmp), LVMINSPECT (binary),
# KEEP=1 (keep the work directory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
CASES=${CASES:-10000 290000}
RUNS=${RUNS:-5}
LVM_TIMEOUT=${LVM_TIMEOUT:-600}
LVM_MAX_LVS=${LVM_MAX_LVS:-100000}

die() { echo "bench-scale: $*" >&2; exit 1; }
log() { echo "bench-scale: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (losetup)"
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

if [[ ! -x $BIN ]]; then
	log "building $BIN"
	(cd "$ROOT" && go build -o "$BIN" ./cmd/lvminspect) || die "cannot build $BIN"
fi

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-scale.XXXXXX")
SYNTHVG=$WORK/synthvg
(cd "$ROOT" && go build -o "$SYNTHVG" ./scripts/synthvg) || die "cannot build scripts/synthvg"
LOOP=""
LOOPS=()
bench_traps

# lean_lvs N: the logical_volumes section of the bench VG, one line per
# key as a metadata backup may write it (internal/synth's Bench is the
# same VG).
lean_lvs() {
	awk -v n="$1" '
	function uuid(i,   s) {
		s = sprintf("LV%030d", i)
		return substr(s, 1, 6) "-" substr(s, 7, 4) "-" substr(s, 11, 4) "-" substr(s, 15, 4) "-" substr(s, 19, 4) "-" substr(s, 23, 4) "-" substr(s, 27, 6)
	}
	function lv(name, i, start, count) {
		printf "%s{id=\"%s\"\nstatus=[\"READ\",\"WRITE\",\"VISIBLE\"]\nsegment_count=1\nsegment1{start_extent=0\nextent_count=%d\ntype=\"striped\"\nstripe_count=1\nstripes=[\"pv0\",%d]}}\n", name, uuid(i), count, start
	}
	BEGIN {
		print "logical_volumes {"
		for (i = 0; i < n; i++) lv("lv" i, i, i, 1)
		lv("target", n, n, 4)
		print "}"
	}'
}

# build_lvm N VG IMG: the VG made by LVM on IMG through a loop device;
# fails (status 1) when LVM does not finish within LVM_TIMEOUT.
build_lvm() {
	local n=$1 vg=$2 img=$3 mda=16m
	((n > 20000)) && mda=128m
	truncate -s $(((n + 4) * 1048576 + 256 * 1048576)) "$img"
	LOOP=$(losetup -f --show "$img")
	lvm_private_config "$WORK/lvm" "$LOOP"
	pvcreate -y --metadatasize "$mda" "$LOOP" >"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "pvcreate failed"; }
	vgcreate -s 1m "$vg" "$LOOP" >>"$WORK/lvm.log" 2>&1 || { cat "$WORK/lvm.log" >&2; die "vgcreate failed"; }
	vgcfgbackup -f "$WORK/base.txt" "$vg" >>"$WORK/lvm.log" 2>&1 || die "vgcfgbackup failed"
	# The LVs go before the VG section's closing brace.
	lean_lvs "$n" >"$WORK/lvs.txt"
	awk -v lvs="$WORK/lvs.txt" '/^}$/ && !done { while ((getline l < lvs) > 0) print l; done = 1 } { print }' \
		"$WORK/base.txt" >"$WORK/full.txt"
	local t0 t1
	t0=$(now)
	if ! timeout -k 10 "$LVM_TIMEOUT" vgcfgrestore --force -f "$WORK/full.txt" "$vg" >>"$WORK/lvm.log" 2>&1; then
		log "LVM did not restore $n LVs within $LVM_TIMEOUT s"
		losetup -d "$LOOP"
		LOOP=""
		return 1
	fi
	t1=$(now)
	log "vgcfgrestore of $n LVs: $(div $((t1 - t0)) 1000000000) s"
	return 0
}

# run_timed NAME CMD...: one timed run; appends "seconds peak_kib
# cpu_seconds" to $WORK/t.NAME.
run_timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/time.out" "$@" >"$WORK/out.$name" 2>"$WORK/err.$name" || {
		local rc=$?
		# lvminspect's exit status 3 is "found, with error-level
		# problems": the timing counts.
		if [[ $rc -ne 3 ]]; then cat "$WORK/err.$name" "$WORK/time.out" >&2; die "$name failed ($rc): $*"; fi
	}
	tail -n1 "$WORK/time.out" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >>"$WORK/t.$name"
}

median_of() { awk '{ print $1 }' "$WORK/t.$1" | median; }
cpu_of() { awk '{ print $3 }' "$WORK/t.$1" | median; }
peak_mib() { awk '$2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$WORK/t.$1"; }

ROWS=()
MADE=()
for n in $CASES; do
	vg=scale$n
	img=$WORK/$vg.img
	rm -f "$WORK"/t.*
	made="LVM (vgcfgrestore)"
	if ((n > LVM_MAX_LVS)) || ! build_lvm "$n" "$vg" "$img"; then
		made="scripts/synthvg"
		rm -f "$img"
		log "writing the $n-LV VG with scripts/synthvg"
		"$SYNTHVG" -bench "$n" -vg "$vg" -out "$img" -mda $((128 << 20)) || die "synthvg failed"
		LOOP=$(losetup -f --show "$img")
		lvm_private_config "$WORK/lvm" "$LOOP"
	fi
	dev=$LOOP
	# The target LV's bytes: 4 MiB of random data at its PV offset.
	pe_start=$("$BIN" pvs --noheadings --nosuffix --units b -o pe_start "$dev" | tr -d ' ')
	off=$((pe_start + n * 1048576))
	dd if=/dev/urandom of="$dev" bs=1M count=4 seek="$off" oflag=seek_bytes iflag=fullblock conv=notrunc,fsync status=none
	want=$(dd if="$dev" bs=1M count=4 skip="$off" iflag=skip_bytes status=none | sha256sum | cut -d' ' -f1)
	"$BIN" scan --json "$dev" >"$WORK/scan.json" 2>/dev/null || true
	text=$(awk -F'[:,]' '/"committed":/ { c = 1 } c && /"size":/ { gsub(/ /, "", $2); print $2; exit }' "$WORK/scan.json")
	log "case $n LVs: $dev, metadata text $text bytes, target at byte $off"

	for ((run = 1; run <= RUNS; run++)); do
		first=(lvminspect lvm)
		((run % 2)) || first=(lvm lvminspect)
		for who in "${first[@]}"; do
			if [[ $who == lvminspect ]]; then
				run_timed scan "$BIN" scan --json "$dev"
				run_timed history "$BIN" history "$dev"
				rm -rf "$WORK/export"
				mkdir "$WORK/export"
				run_timed export "$BIN" export -o "$WORK/export/target.img" "$vg/target" "$dev"
				got=$(sha256sum "$WORK/export/target.img" | cut -d' ' -f1)
				[[ $got == "$want" ]] || die "case $n: the export hashes $got, the LV holds $want"
				[[ -s $WORK/export/target.img.json ]] || die "case $n: no provenance record"
			else
				run_timed lvs lvs -a --reportformat json "$vg"
				rm -f "$WORK/pvck.txt"
				run_timed pvck pvck --dump metadata_all -f "$WORK/pvck.txt" "$dev"
			fi
		done
	done
	for c in scan history export; do log "$n LVs: lvminspect $c runs: $(awk '{ printf "%s ", $1 }' "$WORK/t.$c")s"; done
	for c in lvs pvck; do log "$n LVs: $c runs: $(awk '{ printf "%s ", $1 }' "$WORK/t.$c")s"; done
	ROWS+=("$n|scan --json|$(median_of scan)|$(cpu_of scan)|$(peak_mib scan)|lvs -a --reportformat json|$(median_of lvs)|$(cpu_of lvs)|$(peak_mib lvs)|$(div "$(median_of scan)" "$(median_of lvs)")")
	ROWS+=("$n|history|$(median_of history)|$(cpu_of history)|$(peak_mib history)|pvck --dump metadata_all|$(median_of pvck)|$(cpu_of pvck)|$(peak_mib pvck)|$(div "$(median_of history)" "$(median_of pvck)")")
	exp=$(median_of export)
	verdict=$(awk -v t="$exp" 'BEGIN { print (t < 0.2) ? "ok" : "SLOW" }')
	ROWS+=("$n|export 4 MiB|$exp|$(cpu_of export)|$(peak_mib export)|(target < 0.2 s: $verdict)|-|-|-|-")
	MADE+=("$n LVs: VG made by $made, metadata text $text bytes")
	losetup -d "$LOOP"
	LOOP=""
	rm -f "$img"
done

printf '\n%-7s %-13s %7s %6s %6s   %-27s %7s %6s %6s %6s\n' LVs lvminspect wall_s cpu_s MiB LVM wall_s cpu_s MiB ratio
for r in "${ROWS[@]}"; do
	IFS='|' read -r n c t u m lc lt lu lm ratio <<<"$r"
	printf '%-7s %-13s %7s %6s %6s   %-27s %7s %6s %6s %6s\n' "$n" "$c" "$t" "$u" "$m" "$lc" "$lt" "$lu" "$lm" "$ratio"
done
printf '%s\n' "${MADE[@]}"
echo "(medians of $RUNS runs each, alternating, page cache warm; wall and user+system CPU seconds, peak RSS;"
echo " ratio: lvminspect's wall median over LVM's, at most 1 is no slower)"
