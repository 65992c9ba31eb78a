#!/usr/bin/env bash
# bench-containers.sh: time `lvminspect export` of an LV straight out of a
# container against the conversion to raw a user needs today before any
# LVM tool can start: `qemu-img convert -O raw` for qcow2 and VMDK
# (streamOptimized), `ewfexport -f raw` for an E01 made by
# `ewfacquire -c fast`.
#
# Writes a PV image holding VG bench with LV data of LV_MIB MiB of random
# bytes (scripts/synthvg), converts it into each container with the real
# tools, then, with the page cache dropped before each run, times RUNS runs
# of each command in alternating order and prints the medians, the ratio
# peer/lvminspect (targets: >= 1 against qemu-img, >= 1.5 against
# ewfexport) and lvminspect's peak RSS (target <= 64 MiB). Both sides write
# a raw file of the same size and have it on disk at the end (lvminspect
# syncs its image; the peer is followed by sync of its output, counted).
# Every output's sha256 is checked against the LV's bytes.
#
# Needs root (drop_caches). Installs qemu-utils, ewf-tools and time with
# apt-get if missing, and builds bin/lvminspect if it is not there.
#
# Environment: LV_MIB (default 2048), RUNS (default 5), BENCH_DIR,
# LVMINSPECT (binary), KEEP=1, FORMATS (default "qcow2 vmdk e01").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
LV_MIB=${LV_MIB:-2048}
RUNS=${RUNS:-5}
FORMATS=${FORMATS:-qcow2 vmdk e01}

die() { echo "bench-containers: $*" >&2; exit 1; }
log() { echo "bench-containers: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (drop_caches)"
need_pkg qemu-img qemu-utils
need_pkg ewfacquire ewf-tools
[[ -x /usr/bin/time ]] || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
need_bin

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-containers.XXXXXX")
LOOP="" CG="" LOOPS=()
bench_traps

log "writing a PV with a ${LV_MIB} MiB LV of random data"
(cd "$ROOT" && go run ./scripts/synthvg -out "$WORK/pv.img" -random "$LV_MIB")
# The LV's bytes: the data area starts at 1 MiB (pe_start 2048 sectors).
want=$(dd if="$WORK/pv.img" bs=1M skip=1 count="$LV_MIB" status=none | sha256sum | cut -d' ' -f1)

for f in $FORMATS; do
	case $f in
	qcow2) qemu-img convert -f raw -O qcow2 "$WORK/pv.img" "$WORK/pv.qcow2" ;;
	vmdk) qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$WORK/pv.img" "$WORK/pv.vmdk" ;;
	e01) ewfacquire -u -q -t "$WORK/pv" -f encase6 -c deflate:fast -S 8GiB -C bench -D bench -E bench -e bench -N bench -m fixed -M physical "$WORK/pv.img" >/dev/null ;;
	*) die "unknown format $f" ;;
	esac
done
rm -f "$WORK/pv.img"

peer() { # format: the peer's conversion, synced
	case $1 in
	qcow2) qemu-img convert -f qcow2 -O raw "$WORK/pv.qcow2" "$WORK/peer.raw" && sync "$WORK/peer.raw" ;;
	vmdk) qemu-img convert -f vmdk -O raw "$WORK/pv.vmdk" "$WORK/peer.raw" && sync "$WORK/peer.raw" ;;
	e01) ewfexport -q -u -f raw -t "$WORK/peer" "$WORK/pv.E01" && sync "$WORK/peer.raw" ;;
	esac
}
container() {
	case $1 in qcow2) echo "$WORK/pv.qcow2" ;; vmdk) echo "$WORK/pv.vmdk" ;; e01) echo "$WORK/pv.E01" ;; esac
}
peer_name() { case $1 in e01) echo "ewfexport -f raw" ;; *) echo "qemu-img convert -O raw" ;; esac; }

printf '%-6s %12s %12s %10s %12s\n' format lvminspect peer peer/lvmi "lvmi RSS MiB"
for f in $FORMATS; do
	src=$(container "$f")
	lt=() pt=() rss=()
	for ((i = 0; i < RUNS; i++)); do
		for side in a b; do
			# alternate which runs first
			if [[ $side == a && $((i % 2)) == 0 || $side == b && $((i % 2)) == 1 ]]; then
				rm -f "$WORK/out.img" "$WORK/out.img.json"
				read -r s r < <(run_timed "$BIN" export --no-provenance -o "$WORK/out.img" bench/data "$src")
				lt+=("$s") rss+=("$r")
			else
				rm -f "$WORK/peer.raw"
				read -r s _ < <(run_timed bash -c "$(declare -f peer); WORK=$WORK; peer $f")
				pt+=("$s")
			fi
		done
	done
	got=$(sha256sum <"$WORK/out.img" | cut -d' ' -f1)
	[[ $got == "$want" ]] || die "$f: lvminspect exported $got, the LV is $want"
	pgot=$(dd if="$WORK/peer.raw" bs=1M skip=1 count="$LV_MIB" status=none | sha256sum | cut -d' ' -f1)
	[[ $pgot == "$want" ]] || die "$f: the peer's raw holds $pgot at the LV, want $want"
	lm=$(printf '%s\n' "${lt[@]}" | median) pm=$(printf '%s\n' "${pt[@]}" | median)
	rm_=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
	printf '%-6s %11.2fs %11.2fs %10s %12d   (%s)\n' "$f" "$lm" "$pm" "$(div "$pm" "$lm")" $((rm_ / 1024)) "$(peer_name "$f")"
	log "$f runs: lvminspect ${lt[*]}; peer ${pt[*]}"
	rm -f "$WORK/out.img" "$WORK/peer.raw"
done
