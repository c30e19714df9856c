#!/bin/sh
# bench/vm.sh: lab vm against bwrap and systemd-nspawn, in one run on this
# machine, with one busybox root (busybox-static) for everything.
#   1. new to ready: `lab vm new` of a busybox-init instance, returning
#      when init is exec'd, on btrfs (a loop file system) and on overlayfs
#      (the scratch directory), with a bridge and address, and without
#      network
#   2. exec: `lab vm exec NAME true` into a running instance
#   3. one-shot: `lab vm run --rm IMG -- /bin/true` against
#      `bwrap --unshare-all` and `systemd-nspawn` running /bin/true in the
#      same root (each in new namespaces, network included)
# Prints medians (ms) and ratios peer/lab (> 1: lab is faster). Root only;
# runs in a network namespace of its own. NEW=20, EXEC=100, RUN=50.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/vm.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
NEW=${NEW:-20}
EXEC=${EXEC:-100}
RUN=${RUN:-50}
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	exec env LAB_BENCH_INNER=1 LAB="$LAB" NEW="$NEW" EXEC="$EXEC" RUN="$RUN" unshare -n sh "$0" "$@"
fi
. "$top/tests/lib.sh"
trap - EXIT INT TERM
tmp=$(mktemp -d)
loop=""
cleanup_bench() {
	for st in "$tmp"/rt/*/vm/*/state; do
		[ -f "$st" ] || continue
		kill -9 "$(sed -n 's/^init=//p' "$st")" "$(sed -n 's/^supervisor=//p' "$st")" 2>/dev/null || true
	done
	sleep 0.2
	for r in "$tmp/ovl" "$tmp/btrfs"; do
		for d in "$r"/vm/*; do
			[ -d "$d" ] && LAB_VM_ROOT=$r "$LAB" vm rm --force "${d##*/}" >/dev/null 2>&1 || true
		done
	done
	mountpoint -q "$tmp/btrfs" && umount -l "$tmp/btrfs"
	mountpoint -q "$tmp/rt" && umount -l "$tmp/rt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$tmp"
}
trap cleanup_bench EXIT
ip link set lo up
# run-time state on a tmpfs, as /run is on a usual host
mkdir -p "$tmp/rt"
mount -t tmpfs -o mode=0755 tmpfs "$tmp/rt"
export LAB_DNS_CONF="$tmp/none" LAB_SYSTEMD_DIR="$tmp/systemd"
busybox_root "$tmp/root" || { echo "bench/vm.sh: needs busybox-static" >&2; exit 1; }

now() { date +%s%N; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e6}'; }
# timeit FILE CMD...: append the run time of CMD (ns) to FILE
timeit() {
	f=$1
	shift
	t0=$(now)
	"$@" >/dev/null 2>&1 || { echo "bench/vm.sh: failed: $*" >&2; exit 1; }
	t1=$(now)
	echo $((t1 - t0)) >>"$f"
}

# ---- 1. new to ready ----
bench_new() {	# bench_new ROOT LABEL NETOPT
	export LAB_VM_ROOT=$1 LAB_RUN_DIR=$tmp/rt/$2
	"$LAB" vm image import bb "$tmp/root" >/dev/null
	: >"$tmp/new-$2"
	i=0
	while [ $i -lt "$NEW" ]; do
		timeit "$tmp/new-$2" "$LAB" vm new "n$i" --image bb $3
		i=$((i + 1))
	done
	i=0
	while [ $i -lt "$NEW" ]; do
		"$LAB" vm stop --timeout 0 "n$i" >/dev/null 2>&1
		"$LAB" vm rm "n$i" >/dev/null
		i=$((i + 1))
	done
	"$LAB" vm image rm bb
}
mkdir -p "$tmp/ovl"
LAB_VM_ROOT="$tmp/ovl" "$LAB" vm info --json | grep -q '"backend": "overlay"' ||
	echo "bench/vm.sh: note: the scratch directory is not an overlay store" >&2
bench_new "$tmp/ovl" overlay-bridge ""
bench_new "$tmp/ovl" overlay-none "--net none"
have_btrfs=0
if command -v mkfs.btrfs >/dev/null; then
	truncate -s 1G "$tmp/btrfs.img"
	mkfs.btrfs -q "$tmp/btrfs.img" >/dev/null
	loop=$(losetup -f --show "$tmp/btrfs.img")
	mkdir -p "$tmp/btrfs"
	mount "$loop" "$tmp/btrfs"
	bench_new "$tmp/btrfs" btrfs-bridge ""
	bench_new "$tmp/btrfs" btrfs-none "--net none"
	have_btrfs=1
fi

# ---- 2. exec ----
export LAB_VM_ROOT="$tmp/ovl" LAB_RUN_DIR="$tmp/rt/exec"
"$LAB" vm image import bb "$tmp/root" >/dev/null
"$LAB" vm new e1 --image bb --net none >/dev/null
: >"$tmp/exec"
i=0
while [ $i -lt "$EXEC" ]; do
	timeit "$tmp/exec" "$LAB" vm exec -T e1 true
	i=$((i + 1))
done
"$LAB" vm stop --timeout 0 e1 >/dev/null 2>&1

# ---- 3. one-shot: lab run --rm, bwrap, systemd-nspawn ----
: >"$tmp/run-lab"
: >"$tmp/run-lab-bridge"
: >"$tmp/run-bwrap"
: >"$tmp/run-nspawn"
R="$tmp/ovl/images/bb/rootfs"
nspawn_ok=0
if command -v systemd-nspawn >/dev/null &&
	SYSTEMD_NSPAWN_TMPFS_TMP=0 systemd-nspawn -q --keep-unit --register=no --private-network -D "$R" /bin/true >/dev/null 2>&1; then
	nspawn_ok=1
fi
bwrap_ok=0
command -v bwrap >/dev/null && bwrap_ok=1
i=0
while [ $i -lt "$RUN" ]; do
	timeit "$tmp/run-lab" "$LAB" vm run --rm --net none bb -- /bin/true
	timeit "$tmp/run-lab-bridge" "$LAB" vm run --rm bb -- /bin/true
	[ $bwrap_ok = 1 ] && timeit "$tmp/run-bwrap" bwrap --unshare-all --die-with-parent \
		--ro-bind "$R" / --proc /proc --dev /dev --tmpfs /tmp /bin/true
	[ $nspawn_ok = 1 ] && timeit "$tmp/run-nspawn" systemd-nspawn -q --keep-unit --register=no \
		--private-network -D "$R" /bin/true
	i=$((i + 1))
done

# ---- report ----
echo "lab vm bench, $(uname -r), $(nproc) cores; medians in ms"
printf '%-44s %10s\n' "new to ready, overlayfs, bridge + address" "$(median "$tmp/new-overlay-bridge")"
printf '%-44s %10s\n' "new to ready, overlayfs, no network" "$(median "$tmp/new-overlay-none")"
if [ $have_btrfs = 1 ]; then
	printf '%-44s %10s\n' "new to ready, btrfs, bridge + address" "$(median "$tmp/new-btrfs-bridge")"
	printf '%-44s %10s\n' "new to ready, btrfs, no network" "$(median "$tmp/new-btrfs-none")"
fi
printf '%-44s %10s\n' "exec NAME true" "$(median "$tmp/exec")"
lr=$(median "$tmp/run-lab")
printf '%-44s %10s\n' "run --rm /bin/true (lab, --net none)" "$lr"
printf '%-44s %10s\n' "run --rm /bin/true (lab, bridge + address)" "$(median "$tmp/run-lab-bridge")"
if [ $bwrap_ok = 1 ]; then
	br=$(median "$tmp/run-bwrap")
	printf '%-44s %10s   bwrap/lab %.2f\n' "bwrap --unshare-all /bin/true" "$br" \
		"$(echo "$br $lr" | awk '{print $1 / $2}')"
fi
if [ $nspawn_ok = 1 ]; then
	nr=$(median "$tmp/run-nspawn")
	printf '%-44s %10s   nspawn/lab %.2f\n' "systemd-nspawn --private-network /bin/true" "$nr" \
		"$(echo "$nr $lr" | awk '{print $1 / $2}')"
else
	echo "systemd-nspawn: not run (missing, or it cannot start a container here)"
fi
