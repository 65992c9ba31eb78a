#!/usr/bin/env bash
# bench-luks.sh: time `lvminspect export` of an LV inside LUKS2 against
# the export of the same LV from the unencrypted PV, in the same run.
#
# Writes a PV image holding VG bench with LV data of LV_MIB MiB of random
# bytes (scripts/synthvg), copies it and encrypts the copy in place with
# `cryptsetup reencrypt --encrypt` (LUKS2, aes-xts-plain64, 512-bit key,
# PBKDF2 so that opening costs little), then, with the page cache dropped
# before each run, times RUNS runs of each of
#   lvminspect export -o OUT --key-file PASS bench/data LUKS.img
#   lvminspect export -o OUT bench/data PV.img
# in alternating order, checks every output's sha256 against the LV's
# bytes, and prints the medians, the ratio plain/LUKS (target >= 0.8) and
# the peak RSS (target <= 64 MiB). It also prints what
# `cryptsetup benchmark -c aes-xts-plain64 -s 512` measures (one core)
# beside lvminspect's own decryption rate (the crypt package's Go
# benchmark, one core and all cores).
#
# Needs root (drop_caches). Installs cryptsetup and time with apt-get if
# missing, and builds bin/lvminspect if it is not there.
#
# Environment: LV_MIB (default 2048), RUNS (default 5), BENCH_DIR,
# LVMINSPECT (binary), KEEP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LVMINSPECT:-$ROOT/bin/lvminspect}
LV_MIB=${LV_MIB:-2048}
RUNS=${RUNS:-5}

die() { echo "bench-luks: $*" >&2; exit 1; }
log() { echo "bench-luks: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (drop_caches)"
need_pkg cryptsetup cryptsetup
[[ -x /usr/bin/time ]] || need_pkg /usr/bin/time time
need_bin

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-luks.XXXXXX")
LOOP="" CG="" LOOPS=()
bench_traps

PV=$WORK/pv.img ENC=$WORK/luks.img PASS=$WORK/pass
log "writing a PV with a ${LV_MIB} MiB LV of random data"
(cd "$ROOT" && go run ./scripts/synthvg -out "$PV" -random "$LV_MIB")
LV_START=$((1 << 20))
LV_BYTES=$((LV_MIB << 20))
want=$(dd if="$PV" bs=4M iflag=skip_bytes,count_bytes skip="$LV_START" count="$LV_BYTES" status=none | sha256sum | cut -d' ' -f1)

log "encrypting a copy in place (LUKS2, aes-xts-plain64, 512-bit key)"
printf 'benchmark passphrase' >"$PASS"
# reencrypt --encrypt moves the data 32 MiB along to make room for the
# header, so the file grows by that much first.
cp --sparse=always "$PV" "$ENC"
truncate -s +32M "$ENC"
cryptsetup reencrypt --encrypt --type luks2 --batch-mode --cipher aes-xts-plain64 --key-size 512 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --reduce-device-size 32M --key-file "$PASS" "$ENC" >/dev/null

check() {
	local got
	got=$(sha256sum <"$1" | cut -d' ' -f1)
	[[ $got == "$want" ]] || die "$2: the output has sha256 $got, the LV is $want"
}

OUT=$WORK/out.img
SIDES=(luks plain)
declare -A T RSS
for side in "${SIDES[@]}"; do T[$side]="" RSS[$side]=0; done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#SIDES[@]}; k++)); do
		side=${SIDES[$(((i + k) % ${#SIDES[@]}))]}
		rm -f "$OUT"
		case $side in
		luks) read -r s r < <(run_timed "$BIN" export --no-provenance --no-prompt --key-file "$PASS" -o "$OUT" bench/data "$ENC") ;;
		plain) read -r s r < <(run_timed "$BIN" export --no-provenance -o "$OUT" bench/data "$PV") ;;
		esac
		check "$OUT" "$side (run $((i + 1)))"
		T[$side]+="$s "
		((r > RSS[$side])) && RSS[$side]=$r
	done
done
rm -f "$OUT"

pm=$(echo "${T[plain]}" | median)
lm=$(echo "${T[luks]}" | median)
printf '%-40s %9s %12s %12s\n' "LV bench/data, ${LV_MIB} MiB" median plain/this "peak RSS MiB"
printf '%-40s %8.2fs %12s %12d\n' "lvminspect export, inside LUKS2" "$lm" "$(div "$pm" "$lm")" $((RSS[luks] / 1024))
printf '%-40s %8.2fs %12s %12d\n' "lvminspect export, unencrypted PV" "$pm" 1.000 $((RSS[plain] / 1024))
log "targets: plain/this >= 0.8, peak RSS <= 64 MiB"
for side in "${SIDES[@]}"; do log "$side runs: ${T[$side]}"; done

log "decryption rate: cryptsetup benchmark (one core) against the crypt package (one core, then all)"
if ! cryptsetup benchmark -c aes-xts-plain64 -s 512 2>/dev/null | tail -n 1; then
	log "cryptsetup benchmark needs the kernel's crypto API (AF_ALG), not available here; OpenSSL's AES-256-XTS on one core instead:"
	command -v openssl >/dev/null && openssl speed -elapsed -seconds 2 -bytes 4096 -evp aes-256-xts 2>/dev/null | tail -n 1
fi
(cd "$ROOT" && go test ./scan/luks/crypt -run '^$' -bench 'BenchmarkDevice512' -cpu 1,"$(nproc)" -benchtime 2s 2>/dev/null | grep -E '^Benchmark') || true
