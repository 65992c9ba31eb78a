#!/usr/bin/env bash
# bench-md.sh: time `lvminspect export` of an LV on an md raid5 array,
# straight from the member images, against dd copying the same bytes out of
# a plain PV image.
#
# Writes a PV image holding VG bench with LV data of LV_MIB MiB of random
# bytes (scripts/synthvg), turns it into the three members of an md raid5
# array (metadata 1.2, left-symmetric, chunk CHUNK_KIB; scripts/synthmd,
# since the md driver may be missing), then, with the page cache dropped
# before each run, times RUNS runs of each of
#   lvminspect export -o OUT bench/data m0 m1 m2   (all members)
#   lvminspect export -o OUT bench/data m0 m2      (m1 rebuilt from parity)
#   dd if=PV of=OUT bs=4M conv=fsync iflag=skip_bytes,count_bytes skip=LV_START count=LV_BYTES
# in rotating order, checks every output's sha256 against the LV's bytes,
# and prints the medians, the ratio dd/lvminspect (target >= 0.9) and
# lvminspect's peak RSS (target <= 64 MiB). Both sides have their output on
# disk at the end: lvminspect syncs its image before renaming it, dd is run
# with conv=fsync.
#
# Needs root (drop_caches). Installs time with apt-get if missing, and
# builds bin/lvminspect if it is not there.
#
# Environment: LV_MIB (default 2048, a multiple of 4), RUNS (default 5),
# CHUNK_KIB (default 512, mdadm's default), BENCH_DIR (where the work
# directory goes, default $TMPDIR or /tmp), LVMINSPECT (binary), KEEP=1
# (keep the work directory), BUILD_ONLY=1 (write the images, check the dd
# copy and stop before timing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
LV_MIB=${LV_MIB:-2048}
RUNS=${RUNS:-5}
CHUNK_KIB=${CHUNK_KIB:-512}

die() { echo "bench-md: $*" >&2; exit 1; }
log() { echo "bench-md: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (drop_caches)"
((LV_MIB >= 4 && LV_MIB % 4 == 0)) || die "LV_MIB must be a multiple of 4"
((RUNS >= 1)) || die "RUNS must be at least 1"
[[ -x /usr/bin/time ]] || { log "installing time"; apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
command -v sha256sum >/dev/null || die "sha256sum not found"
need_bin

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-md.XXXXXX")
LOOP="" CG="" LOOPS=()
bench_traps

PV=$WORK/pv.img
log "writing a PV with a ${LV_MIB} MiB LV of random data"
(cd "$ROOT" && go run ./scripts/synthvg -out "$PV" -random "$LV_MIB")
# synthvg puts the data area, and LV data's first extent, at 1 MiB
# (pe_start 2048 sectors); the export of the plain PV below confirms it.
LV_START=$((1 << 20))
LV_BYTES=$((LV_MIB << 20))
want=$(dd if="$PV" bs=4M iflag=skip_bytes,count_bytes skip="$LV_START" count="$LV_BYTES" status=none | sha256sum | cut -d' ' -f1)

# The array is the whole PV image: it must be whole stripe rows (two
# chunks) or synthmd leaves its tail out.
pv_size=$(stat -c %s "$PV")
((pv_size % (2 * CHUNK_KIB * 1024) == 0)) || die "the PV image ($pv_size bytes) is not a whole number of ${CHUNK_KIB} KiB stripe rows"
log "writing the three raid5 members (chunk ${CHUNK_KIB} KiB)"
(cd "$ROOT" && go run ./scripts/synthmd -in "$PV" -out "$WORK/m" -members 3 -level 5 -layout left-symmetric \
	-chunk "$CHUNK_KIB" -metadata 1.2 -name bench:0) >&2
M0=$WORK/m0.img M1=$WORK/m1.img M2=$WORK/m2.img

# check FILE WHAT: the file holds the LV's bytes.
check() {
	local got
	got=$(sha256sum <"$1" | cut -d' ' -f1)
	[[ $got == "$want" ]] || die "$2: the output has sha256 $got, the LV is $want"
}

OUT=$WORK/out.img
DD=(dd if="$PV" of="$OUT" bs=4M conv=fsync "iflag=skip_bytes,count_bytes" skip="$LV_START" count="$LV_BYTES" status=none)
"${DD[@]}"
check "$OUT" "dd"
rm -f "$OUT"
if [[ -n ${BUILD_ONLY:-} ]]; then
	log "images in $WORK (BUILD_ONLY: not timed)"
	KEEP=1
	exit 0
fi

# Confirm the LV's place in the plain PV (the dd baseline's offsets), then
# that this lvminspect assembles the array at all.
"$BIN" export --no-provenance -o "$OUT" bench/data "$PV" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; die "export from the plain PV failed"; }
check "$OUT" "lvminspect export from the plain PV"
rm -f "$OUT"
"$BIN" scan "$M0" "$M1" "$M2" >"$WORK/scan.txt" 2>&1 || true
grep -q '^VG bench ' "$WORK/scan.txt" || { cat "$WORK/scan.txt" >&2; die "$BIN does not find VG bench on the md members (no md assembly in this build?)"; }

SIDES=(all degraded dd)
declare -A T RSS
for side in "${SIDES[@]}"; do T[$side]="" RSS[$side]=0; done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#SIDES[@]}; k++)); do
		side=${SIDES[$(((i + k) % ${#SIDES[@]}))]} # rotate which runs first
		rm -f "$OUT"
		case $side in
		all) read -r s r < <(run_timed "$BIN" export --no-provenance -o "$OUT" bench/data "$M0" "$M1" "$M2") ;;
		degraded) read -r s r < <(run_timed "$BIN" export --no-provenance -o "$OUT" bench/data "$M0" "$M2") ;;
		dd) read -r s r < <(run_timed "${DD[@]}") ;;
		esac
		check "$OUT" "$side (run $((i + 1)))"
		T[$side]+="$s "
		((r > RSS[$side])) && RSS[$side]=$r
	done
done
rm -f "$OUT"

dm=$(echo "${T[dd]}" | median)
printf '%-34s %10s %10s %12s\n' "LV bench/data, ${LV_MIB} MiB" median dd/this "peak RSS MiB"
printf '%-34s %9.2fs %10s %12d\n' "lvminspect export m0 m1 m2" "$(echo "${T[all]}" | median)" "$(div "$dm" "$(echo "${T[all]}" | median)")" $((RSS[all] / 1024))
printf '%-34s %9.2fs %10s %12d\n' "lvminspect export m0 m2 (parity)" "$(echo "${T[degraded]}" | median)" "$(div "$dm" "$(echo "${T[degraded]}" | median)")" $((RSS[degraded] / 1024))
printf '%-34s %9.2fs %10s %12s\n' "dd of the plain PV" "$dm" 1.000 -
log "targets: dd/this >= 0.9, peak RSS <= 64 MiB"
for side in "${SIDES[@]}"; do log "$side runs: ${T[$side]}"; done
