#!/bin/sh
# bench/snap.sh: lab snap against btrfs-progs on one btrfs file system (a
# loop device on a sparse file): snapshot creation, pruning 1000
# snapshots, and full and incremental send/receive of a 1 GiB subvolume.
# Prints medians in ms, throughput, and ratios (peer / lab: above 1, lab is
# faster). Root. REPS=21 snapshots per figure; SIZE_MB=1024.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/snap.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
REPS=${REPS:-21}
SIZE_MB=${SIZE_MB:-1024}
for t in mkfs.btrfs btrfs losetup; do
	command -v $t >/dev/null || { echo "bench/snap.sh: needs $t (apt-get install btrfs-progs)" >&2; exit 1; }
done
w=$(mktemp -d)
loop=""
trap 'mountpoint -q "$w/m" && umount "$w/m"; [ -z "$loop" ] || losetup -d "$loop"; rm -rf "$w"' EXIT
truncate -s $((SIZE_MB * 5 + 2048))M "$w/img"
loop=$(losetup -f --show "$w/img")
mkfs.btrfs -q "$loop" >/dev/null 2>&1
mkdir -p "$w/m"
mount "$loop" "$w/m"
M=$w/m

ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'; }
row() { printf '%-58s %10s %s\n' "$1" "$2" "${3:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "lab snap bench, $(uname -r), $(nproc) cores, btrfs-progs $(btrfs --version | awk '{print $2}'); medians"

# ---- snapshot creation: a subvolume of 1000 small files ----
"$LAB" snap subvol create "$M/s"
i=0
while [ $i -lt 1000 ]; do
	echo "file $i" >"$M/s/f$i"
	i=$((i + 1))
done
sync
mkdir -p "$M/progs"
k=0
while [ $k -lt "$REPS" ]; do
	a=$(ns)
	"$LAB" snap create "$M/s" --label "b$k" >/dev/null
	b=$(ns)
	btrfs subvolume snapshot -r "$M/s" "$M/progs/p$k" >/dev/null
	c=$(ns)
	echo "$((b - a)) $((c - b))"
	k=$((k + 1))
done >"$w/snaps"
ls_=$(awk '{ print $1 }' "$w/snaps" | median)
ps_=$(awk '{ print $2 }' "$w/snaps" | median)
row "snapshot, lab snap create (whole command)" "$ls_ ms"
row "snapshot, btrfs subvolume snapshot -r (whole command)" "$ps_ ms" "btrfs/lab $(ratio "$ps_" "$ls_")"

# ---- pruning 1000 snapshots by policy ----
"$LAB" snap subvol create "$M/p"
echo x >"$M/p/x"
t=$(date -u -d 2026-01-01T00:00:00Z +%s)
i=0
while [ $i -lt 1000 ]; do
	"$LAB" snap create "$M/p" --label hourly --now "$(date -u -d @$((t + i * 3600)) +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
	i=$((i + 1))
done
mkdir -p "$w/conf"
printf 'path = %s\nhourly = 0\n' "$M/p" >"$w/conf/p.conf"
a=$(ns)
"$LAB" snap run -c "$w/conf" >/dev/null
b=$(ns)
row "prune 1000 snapshots, lab snap run (hourly = 0)" "$(awk -v d=$((b - a)) 'BEGIN { printf "%.1f", d / 1e6 }') ms"
# the same with btrfs-progs, one command for 1000 paths
mkdir -p "$M/pp"
"$LAB" snap subvol create "$M/p2"
i=0
while [ $i -lt 1000 ]; do
	btrfs subvolume snapshot -r "$M/p2" "$M/pp/$i" >/dev/null
	i=$((i + 1))
done
a=$(ns)
btrfs subvolume delete "$M"/pp/* >/dev/null
b=$(ns)
row "delete 1000 snapshots, btrfs subvolume delete (one command)" "$(awk -v d=$((b - a)) 'BEGIN { printf "%.1f", d / 1e6 }') ms"
btrfs subvolume sync "$M" >/dev/null 2>&1 || true

# ---- send and receive, SIZE_MB of data ----
"$LAB" snap subvol create "$M/big"
i=0
while [ $i -lt $((SIZE_MB / 16)) ]; do
	head -c 16M /dev/urandom >"$M/big/f$i"
	i=$((i + 1))
done
sync
"$LAB" snap create "$M/big" --label one --now 2026-01-01T00:00:00Z >/dev/null
S1=$M/.snapshots/big/2026-01-01T00:00:00Z-one
# a tenth of the files rewritten in part, then the second snapshot
i=0
while [ $i -lt $((SIZE_MB / 16)) ]; do
	head -c 1M /dev/urandom | dd of="$M/big/f$i" bs=1M seek=3 conv=notrunc 2>/dev/null
	i=$((i + 10))
done
sync
"$LAB" snap create "$M/big" --label two --now 2026-01-02T00:00:00Z >/dev/null
S2=$M/.snapshots/big/2026-01-02T00:00:00Z-two
"$LAB" snap send "$S1" >"$w/full.stream"
"$LAB" snap send "$S2" --parent "$S1" >"$w/incr.stream"
fmb=$(($(stat -c %s "$w/full.stream") / 1048576))
imb=$(($(stat -c %s "$w/incr.stream") / 1048576))
mkdir -p "$M/rl" "$M/rp"
echo 3 >/proc/sys/vm/drop_caches
# receive from a stream file (its pages cached: what is measured is the receiver)
cat "$w/full.stream" "$w/incr.stream" >/dev/null
timed() {	# NAME CMD...
	a=$(ns)
	"$@" >/dev/null 2>&1
	sync
	b=$(ns)
	echo $((b - a))
}
lf=$(timed sh -c "'$LAB' snap receive '$M/rl' <'$w/full.stream'")
pf=$(timed sh -c "btrfs receive -q '$M/rp' <'$w/full.stream'")
# incremental: small, so five of each, alternating, medians
k=0
while [ $k -lt 5 ]; do
	a=$(timed sh -c "'$LAB' snap receive '$M/rl' <'$w/incr.stream'")
	btrfs subvolume delete -c "$M/rl/2026-01-02T00:00:00Z-two" >/dev/null
	btrfs subvolume sync "$M" >/dev/null	# the cleaner done, not left to the next run
	b=$(timed sh -c "btrfs receive -q '$M/rp' <'$w/incr.stream'")
	btrfs subvolume delete -c "$M/rp/2026-01-02T00:00:00Z-two" >/dev/null
	btrfs subvolume sync "$M" >/dev/null
	echo "$a $b"
	k=$((k + 1))
done >"$w/incr"
li=$(awk '{ print $1 }' "$w/incr" | sort -n | sed -n 3p)
pi=$(awk '{ print $2 }' "$w/incr" | sort -n | sed -n 3p)
mbs() { awk -v mb="$1" -v ns="$2" 'BEGIN { printf "%.0f MB/s", mb / (ns / 1e9) }'; }
msf() { awk -v ns="$1" 'BEGIN { printf "%.0f ms", ns / 1e6 }'; }
row "full receive of ${fmb} MiB, lab snap receive" "$(msf "$lf")" "$(mbs $fmb "$lf")"
row "full receive of ${fmb} MiB, btrfs receive" "$(msf "$pf")" "$(mbs $fmb "$pf")  btrfs/lab $(ratio "$pf" "$lf")"
row "incremental receive of ${imb} MiB, lab snap receive" "$(msf "$li")" "$(mbs $imb "$li")"
row "incremental receive of ${imb} MiB, btrfs receive" "$(msf "$pi")" "$(mbs $imb "$pi")  btrfs/lab $(ratio "$pi" "$li")"
# send into a pipe: the kernel makes the stream for both; lab has it write
# into the pipe it is given, btrfs-progs copies it from a pipe of its own
# (each from a cold page cache: the first to run would pay for both)
echo 3 >/proc/sys/vm/drop_caches
ls1=$(timed sh -c "'$LAB' snap send '$S1' | cat >/dev/null")
echo 3 >/proc/sys/vm/drop_caches
ps1=$(timed sh -c "btrfs send -q '$S1' | cat >/dev/null")
row "full send, lab snap send" "$(msf "$ls1")" "$(mbs $fmb "$ls1")"
row "full send, btrfs send" "$(msf "$ps1")" "$(mbs $fmb "$ps1")  btrfs/lab $(ratio "$ps1" "$ls1")"
