#!/usr/bin/env bash
# hostile.sh: time lvminspect on the crafted inputs of issue 11.
#
# Builds bin/lvminspect once (go build -o), writes the crafted PV images
# with scripts/hostile (sparse files, about 1 GiB of disk in all) and runs
#   lvminspect scan IMAGE; scan --json IMAGE; history --json IMAGE
# on each (with --carve for the carving cases), printing wall time, peak
# RSS (/usr/bin/time -f '%e s %M KiB'), the exit status and the first
# problem or error line of the text output.
#
# Usage: scripts/hostile.sh [CASE...]   (scripts/hostile -list names them)
# Environment: WORK (where the images go, default $TMPDIR/lvminspect-hostile),
# LVMINSPECT (use this binary instead of building one), TIMEOUT (seconds
# per run, default 120), MAXMEM_MIB (address-space limit per run, default
# 8192, so that an old binary cannot take the machine down), KEEP=1 (keep
# the images).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/lvminspect-hostile}
TIMEOUT=${TIMEOUT:-120}
MAXMEM_MIB=${MAXMEM_MIB:-8192}
[[ -x /usr/bin/time ]] || { echo "hostile: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

mkdir -p "$WORK"
BIN=${LVMINSPECT:-}
if [[ -z $BIN ]]; then
	BIN=$ROOT/bin/lvminspect
	(cd "$ROOT" && go build -o "$BIN" ./cmd/lvminspect)
fi
cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
	mapfile -t cases < <(cd "$ROOT" && go run ./scripts/hostile -list | awk '{print $1}')
fi
missing=()
for c in "${cases[@]}"; do
	[[ -e $WORK/$c.img ]] || missing+=("$c")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	(cd "$ROOT" && go run ./scripts/hostile -out "$WORK" -fixtures "$ROOT/testdata/fixtures" "${missing[@]}")
fi
[[ ${KEEP:-} == 1 ]] || trap 'for c in "${cases[@]}"; do rm -f "$WORK/$c.img"; done' EXIT

run() { # case label args...
	local c=$1 label=$2
	shift 2
	local out=$WORK/out.$$ tm=$WORK/time.$$ rc=0
	( ulimit -v $((MAXMEM_MIB * 1024)); exec timeout "$TIMEOUT" /usr/bin/time -o "$tm" -f '%e s %M KiB' "$BIN" "$@" >"$out" 2>&1 ) || rc=$?
	local t
	t=$(tail -n 1 "$tm" 2>/dev/null || true)
	[[ $rc -eq 124 ]] && t="timeout after ${TIMEOUT} s"
	local note
	note=$(grep -m1 -iE 'error|warning|problem|more than|no lvm2|no volume|refus|limit' "$out" | cut -c1-150 || true)
	printf '%-22s %-16s %-24s rc=%-3s %s\n' "$c" "$label" "$t" "$rc" "$note"
	rm -f "$out" "$tm"
}

printf '%-22s %-16s %-24s %-6s %s\n' case command "time / peak RSS" exit "first problem line"
for c in "${cases[@]}"; do
	img=$WORK/$c.img
	flags=()
	case $c in carve-* | sparse-*) flags=(--carve) ;; esac
	run "$c" "scan" scan "${flags[@]}" "$img"
	run "$c" "scan --json" scan --json "${flags[@]}" "$img"
	run "$c" "history --json" history --json "${flags[@]}" "$img"
done
