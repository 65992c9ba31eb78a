# bench.sh: helpers shared by scripts/bench-export.sh,
# scripts/bench-segtypes.sh and scripts/bench-scale.sh. Source it after
# defining log() and die(); set LOOPS=() (or LOOP) and WORK before
# bench_traps.

# lvm_private_config DIR DEVICE...: an LVM configuration in DIR that sees
# only DEVICEs (no udev, no devices file, no metadata backups in /etc/lvm),
# and the environment that makes the LVM tools use it.
lvm_private_config() {
	local dir=$1 filter
	shift
	filter=$(printf '"a|^%s$|", ' "$@")
	mkdir -p "$dir"
	cat >"$dir/lvm.conf" <<CONF
devices {
	filter = [ ${filter}"r|.*|" ]
	global_filter = [ ${filter}"r|.*|" ]
	use_devicesfile = 0
	obtain_device_list_from_udev = 0
	hints = "none"
}
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
	export LVM_SYSTEM_DIR=$dir LVM_SUPPRESS_FD_WARNINGS=1
}

# drop_caches empties the page cache (warning once when it cannot).
drop_caches() {
	sync
	if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		[[ -n ${DROP_WARNED:-} ]] || log "cannot drop caches: timings are with a warm page cache"
		DROP_WARNED=1
	fi
}

now() { date +%s%N; }

# div A B prints A/B with three decimals ("inf" for B = 0).
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.3f", a / b }'; }

# median reads numbers separated by spaces or newlines and prints their
# median (empty fields, such as a trailing space, are not numbers).
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_cleanup: detach the loop devices in LOOPS (and LOOP), remove the
# cgroup CG if one was made, and remove WORK unless KEEP is set. The bench
# scripts install it with bench_traps; it may run more than once.
bench_cleanup() {
	if [[ -n ${CG:-} ]]; then
		rmdir "$CG" 2>/dev/null || log "could not remove cgroup $CG"
		CG=""
	fi
	local l
	for l in ${LOOP:-} "${LOOPS[@]}"; do
		[[ -n $l ]] || continue
		losetup -d "$l" 2>/dev/null || log "could not detach $l"
	done
	LOOP="" LOOPS=()
	if [[ -n ${WORK:-} ]]; then
		if [[ -n ${KEEP:-} ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	fi
}

# bench_traps: bench_cleanup on exit, and the shell's exit statuses for an
# interrupt (130) and a termination (143), so the clean-up runs for both.
bench_traps() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# need_pkg COMMAND PACKAGE installs PACKAGE with apt-get when COMMAND is
# missing.
need_pkg() {
	if ! command -v "$1" >/dev/null 2>&1; then
		log "installing $2"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
}

# need_bin builds BIN (lvminspect) when it is not there.
need_bin() {
	if [[ ! -x $BIN ]]; then
		log "building $BIN"
		(cd "$ROOT" && go build -o "$BIN" ./cmd/lvminspect) || die "cannot build $BIN"
	fi
}

# run_timed CMD... runs CMD with the page cache dropped and prints
# "seconds peak_rss_kib" (WORK holds its stderr and the RSS figure).
run_timed() {
	drop_caches
	local t0 t1
	t0=$(now)
	/usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; die "failed: $*"; }
	t1=$(now)
	echo "$(div $((t1 - t0)) 1000000000) $(cat "$WORK/rss")"
}
