#!/bin/sh
# lab snap on a btrfs file system made on a loop device here: subvolumes,
# snapshots by time, rollback, clone, rm and holds, group snapshots; send
# and receive against btrfs-progs both ways, full and incremental, with
# the trees compared by content and metadata; broken streams leaving
# nothing half-received; refusal on ext4 and on what is not a subvolume;
# policies over a simulated clock.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "snap" "needs root"; exit 0; }
for t in mkfs.btrfs btrfs mkfs.ext4 losetup setfattr getfattr; do
	have $t || { skip "snap" "needs $t"; exit 0; }
done
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
loopfs "$work/mntb" 1G mkfs.btrfs -q || { fail "snap: a btrfs file system on a loop device"; exit 0; }
M=$work/mntb
export LAB_SNAP_STATE=$work/state
S() { "$LAB" snap "$@"; }
D=$M/.snapshots/data

# ---- subvolumes and snapshots ----
check "subvol create" S subvol create "$M/data"
mkdir -p "$M/plain"
testing "a directory that is not a subvolume is refused" "S create $M/plain 2>&1; echo \$?" \
	"lab snap: $M/plain: not a btrfs subvolume (lab snap subvol create makes one)
1
" "" ""
echo one >"$M/data/file"
testing "create names the snapshot by time and label" \
	"S create $M/data --now 2026-11-24T19:00:00Z --label manual" \
	"$D/2026-11-24T19:00:00Z-manual
" "" ""
testing "the snapshot is a read-only subvolume with data as its parent" \
	"btrfs property get -ts $D/2026-11-24T19:00:00Z-manual ro; [ \"\$(btrfs subvolume show $D/2026-11-24T19:00:00Z-manual | awk '/Parent UUID/ {print \$3}')\" = \"\$(btrfs subvolume show $M/data | awk '/^[[:space:]]*UUID/ {print \$2}')\" ] && echo parent" \
	"ro=true
parent
" "" ""
testing "a snapshot of that name exists" \
	"S create $M/data --now 2026-11-24T19:00:00Z --label manual 2>&1; echo \$?" \
	"lab snap: $D/2026-11-24T19:00:00Z-manual: a snapshot of that name exists
1
" "" ""
S create "$M/data" --now 2026-11-23T08:00:00Z --label daily >/dev/null
S create "$M/data" --now 2026-11-24T20:00:00Z --label hourly >/dev/null
testing "ls sorts by time" "S ls $M/data" "2026-11-23T08:00:00Z-daily
2026-11-24T19:00:00Z-manual
2026-11-24T20:00:00Z-hourly
" "" ""
testing "ls --json" "S ls $M/data --json | jq -c '[.[] | [.label, .time]]'" \
	'[["daily",1795420800],["manual",1795546800],["hourly",1795550400]]
' "" ""

# ---- rollback and clone ----
echo two >"$M/data/file"
touch "$M/data/new"
S rollback "$M/data" "$D/2026-11-24T19:00:00Z-manual" >/dev/null 2>"$work/err"
testing "rollback puts the snapshot's content in place" \
	"cat $M/data/file; ls $M/data; btrfs property get -ts $M/data ro" "one
file
ro=false
" "" ""
testing "rollback keeps what was there as a snapshot" \
	"cat $D/*-pre-rollback/file; btrfs property get -ts $D/*-pre-rollback ro" "two
ro=true
" "" ""
check "clone makes a writable copy" sh -c "$LAB snap clone $D/2026-11-23T08:00:00Z-daily $M/copy >/dev/null && echo x >>$M/copy/file && grep -c x $M/copy/file"
testing "clone refuses what is not a snapshot" "S clone $M/data $M/copy2 2>&1; echo \$?" \
	"lab snap: $M/data: not a snapshot (not named TIME-LABEL)
1
" "" ""

# ---- rm and holds ----
echo "2026-11-23T08:00:00Z-daily backup1" >"$D/.holds"
testing "a held snapshot is not removed" "S rm $D/2026-11-23T08:00:00Z-daily 2>&1; echo \$?; S ls $M/data | grep -c daily" \
	"lab snap: $D/2026-11-23T08:00:00Z-daily: held for a replication target (see .holds; --force removes it anyway)
1
1
" "" ""
check "rm removes a snapshot" sh -c "$LAB snap rm $D/2026-11-24T20:00:00Z-hourly && ! btrfs subvolume show $D/2026-11-24T20:00:00Z-hourly >/dev/null 2>&1"
rm -f "$D/.holds"

# ---- a group ----
S subvol create "$M/db" && echo dbdata >"$M/db/x"
testing "a group snapshot: one name for every path" \
	"S create --group nightly --now 2026-11-25T03:00:00Z $M/data $M/db; cat $work/state/groups/2026-11-25T03:00:00Z-nightly" \
	"$D/2026-11-25T03:00:00Z-nightly
$M/.snapshots/db/2026-11-25T03:00:00Z-nightly
$D/2026-11-25T03:00:00Z-nightly
$M/.snapshots/db/2026-11-25T03:00:00Z-nightly
" "" ""

# ---- send and receive against btrfs-progs ----
T=$M/tree
S subvol create "$T"
mkdir -p "$T/dir/sub" "$T/empty"
head -c 300000 /dev/urandom >"$T/big"
printf 'small\n' >"$T/dir/small"
ln "$T/dir/small" "$T/dir/hardlink"
ln -s ../big "$T/dir/sub/link"
ln -s /nowhere "$T/dangling"
mkfifo "$T/fifo"
mknod "$T/null" c 1 3
truncate -s 5M "$T/sparse" && printf 'end' >>"$T/sparse"
chmod 0750 "$T/dir" && chmod 4755 "$T/big"
chown 1234:5678 "$T/dir/small"
setfattr -n user.lab -v hello "$T/dir/small"
touch -h -d 2020-02-02T02:02:02Z "$T/dir/sub/link"
touch -d 2021-01-01T00:00:00Z "$T/empty" "$T/big"
S create "$T" --now 2026-01-01T00:00:00Z --label s1 >/dev/null
S1=$M/.snapshots/tree/2026-01-01T00:00:00Z-s1
# a second state: changed, renamed, removed, new, cloned data
echo more >>"$T/dir/small"
mv "$T/dir/sub" "$T/moved"
rm "$T/fifo"
cp --reflink=always "$T/big" "$T/big-clone"
head -c 1000 /dev/urandom | dd of="$T/big" bs=1 seek=5000 conv=notrunc 2>/dev/null
setfattr -x user.lab "$T/dir/small" 2>/dev/null
setfattr -n user.other -v 2 "$T/dir/hardlink"
S create "$T" --now 2026-01-02T00:00:00Z --label s2 >/dev/null
S2=$M/.snapshots/tree/2026-01-02T00:00:00Z-s2

# walk: type, mode, owner, size, mtime (not of the root), link target,
# xattrs and content of every entry
walk() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum &&
		getfattr -R -d -h . 2>/dev/null | grep -v '^$' | LC_ALL=C sort)
}
walk "$S1" >"$work/s1.walk"
walk "$S2" >"$work/s2.walk"
mkdir -p "$M/r-progs" "$M/r-lab"
compare() {	# NAME DIR WANT
	walk "$2" >"$work/got.walk"
	if cmp -s "$3" "$work/got.walk"; then pass "$1"; else fail "$1" "$(diff "$3" "$work/got.walk" | head -20)"; fi
}
if S send "$S1" | btrfs receive "$M/r-progs" >"$work/out" 2>&1; then
	compare "lab snap send | btrfs receive: the same tree" "$M/r-progs/2026-01-01T00:00:00Z-s1" "$work/s1.walk"
else
	fail "lab snap send | btrfs receive: the same tree" "$(cat "$work/out")"
fi
if btrfs send -q "$S1" | S receive "$M/r-lab" >"$work/out" 2>&1; then
	compare "btrfs send | lab snap receive: the same tree" "$M/r-lab/2026-01-01T00:00:00Z-s1" "$work/s1.walk"
else
	fail "btrfs send | lab snap receive: the same tree" "$(cat "$work/out")"
fi
testing "a received subvolume is read-only and records its sender's uuid" \
	"btrfs property get -ts $M/r-lab/2026-01-01T00:00:00Z-s1 ro; [ \"\$(btrfs subvolume show $M/r-lab/2026-01-01T00:00:00Z-s1 | awk '/Received UUID/ {print \$3}')\" = \"\$(btrfs subvolume show $S1 | awk '/^[[:space:]]*UUID/ {print \$2}')\" ] && echo same" \
	"ro=true
same
" "" ""
if S send "$S2" --parent "$S1" | btrfs receive "$M/r-progs" >"$work/out" 2>&1; then
	compare "incremental: lab snap send --parent | btrfs receive" "$M/r-progs/2026-01-02T00:00:00Z-s2" "$work/s2.walk"
else
	fail "incremental: lab snap send --parent | btrfs receive" "$(cat "$work/out")"
fi
if btrfs send -q -p "$S1" "$S2" | S receive "$M/r-lab" >"$work/out" 2>&1; then
	compare "incremental: btrfs send -p | lab snap receive" "$M/r-lab/2026-01-02T00:00:00Z-s2" "$work/s2.walk"
else
	fail "incremental: btrfs send -p | lab snap receive" "$(cat "$work/out")"
fi
# lab to lab, through a file
S send "$S1" >"$work/full.stream" && mkdir -p "$M/r-ll" &&
	S receive "$M/r-ll" <"$work/full.stream" >/dev/null &&
	compare "lab snap send | lab snap receive" "$M/r-ll/2026-01-01T00:00:00Z-s1" "$work/s1.walk"

# ---- broken streams: refused, nothing half-received ----
mkdir -p "$M/r-bad"
size=$(stat -c %s "$work/full.stream")
head -c $((size / 2)) "$work/full.stream" >"$work/trunc.stream"
testing "a truncated stream is refused and leaves nothing" \
	"S receive $M/r-bad <$work/trunc.stream 2>&1 | sed 's/offset [0-9]*/offset N/'; ls $M/r-bad | wc -l" \
	"lab snap: receive into $M/r-bad: offset N: truncated write command
0
" "" ""
cp "$work/full.stream" "$work/bad.stream"
printf 'X' | dd of="$work/bad.stream" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
testing "a corrupt command (crc) is refused and leaves nothing" \
	"S receive $M/r-bad <$work/bad.stream 2>&1 | grep -c 'crc mismatch'; ls $M/r-bad | wc -l" "1
0
" "" ""
testing "an incremental stream without its parent is refused" \
	"btrfs send -q -p $S1 $S2 | S receive $M/r-bad 2>&1 | grep -c 'its parent (uuid .*) is not in this directory'; ls $M/r-bad | wc -l" "1
0
" "" ""
testing "not a stream" "echo hello | S receive $M/r-bad 2>&1; echo \$?" \
	"lab snap: receive into $M/r-bad: offset 6: not a btrfs send stream
1
" "" ""
testing "send refuses a writable subvolume" "S send $M/data 2>&1 >/dev/null; echo \$?" \
	"lab snap: $M/data: not read-only (only a snapshot can be sent)
1
" "" ""

# ---- no space, no privilege ----
if loopfs "$work/mntsmall" 200M mkfs.btrfs -q -M; then
	mkdir -p "$work/mntsmall/r"
	S subvol create "$M/huge"
	head -c 300M /dev/urandom >"$M/huge/blob" 2>/dev/null
	S create "$M/huge" --label big --now 2026-02-01T00:00:00Z >/dev/null
	testing "a stream that does not fit: refused, nothing half-received" \
		"S send $M/.snapshots/huge/2026-02-01T00:00:00Z-big | S receive $work/mntsmall/r 2>&1 | grep -c 'No space left on device'; ls $work/mntsmall/r | wc -l; btrfs subvolume list $work/mntsmall | wc -l" \
		"1
0
0
" "" ""
	S rm "$M/.snapshots/huge/2026-02-01T00:00:00Z-big"
	S subvol rm "$M/huge"
else
	fail "snap: a small btrfs file system on a loop device"
fi
chmod 755 "$work" "$M"
testing "no privilege: one line, exit 1, no snapshot" \
	"setpriv --reuid=nobody --regid=nogroup --clear-groups \"\$LAB\" snap create $M/data --label nope 2>&1 | grep -c 'no privilege\\|Permission denied'; ls $D | grep -c nope" \
	"1
0
" "" ""

# ---- not btrfs ----
if loopfs "$work/mnte" 64M mkfs.ext4 -q; then
	mkdir -p "$work/mnte/x"
	testing "ext4 is refused, by name" "S create $work/mnte/x 2>&1; echo \$?" \
		"lab snap: $work/mnte/x: on ext4, which has neither btrfs snapshots nor reflinks: not snapshotting by copying
1
" "" ""
else
	fail "snap: an ext4 file system on a loop device"
fi

# ---- xfs: reflink copies ----
if have mkfs.xfs && loopfs "$work/mntx" 512M mkfs.xfs -q -f -m reflink=1; then
	X=$work/mntx
	mkdir -p "$X/site"
	head -c 1M /dev/urandom >"$X/site/blob"
	echo v1 >"$X/site/page"
	testing "xfs: a snapshot is a reflink copy" \
		"S create $X/site --now 2026-05-01T00:00:00Z; cmp $X/site/blob $X/.snapshots/site/2026-05-01T00:00:00Z-manual/blob && echo same" \
		"$X/.snapshots/site/2026-05-01T00:00:00Z-manual
same
" "" ""
	if have filefrag; then
		testing "xfs: the copy shares its extents" \
			"filefrag -v $X/.snapshots/site/2026-05-01T00:00:00Z-manual/blob | grep -c shared" "1
" "" ""
	fi
	echo v2 >"$X/site/page"
	S rollback "$X/site" "$X/.snapshots/site/2026-05-01T00:00:00Z-manual" >/dev/null
	testing "xfs: rollback and the old content kept" \
		"cat $X/site/page $X/.snapshots/site/*-pre-rollback/page" "v1
v2
" "" ""
	check "xfs: rm" S rm "$X/.snapshots/site/2026-05-01T00:00:00Z-manual"
else
	skip "snap on xfs" "needs mkfs.xfs with reflink"
fi

# ---- policies over a simulated clock ----
P=$M/pol
S subvol create "$P"
mkdir -p "$work/conf"
cat >"$work/conf/pol.conf" <<EOF
# a policy per path
path = $P
hourly = 3
daily = 2
weekly = 1
monthly = 1
yearly = 0
EOF
testing "run --dry-run says what it would do and does nothing" \
	"S run -c $work/conf --dry-run --now 2026-03-02T10:00:00Z | sed 's|$M/||'; S ls $P | wc -l" \
	"would take .snapshots/pol/2026-03-02T10:00:00Z-monthly
would take .snapshots/pol/2026-03-02T10:00:00Z-weekly
would take .snapshots/pol/2026-03-02T10:00:00Z-daily
would take .snapshots/pol/2026-03-02T10:00:00Z-hourly
0
" "" ""
# two days of hourly runs from Sunday 2026-03-01 20:00
t=$(date -u -d 2026-03-01T20:00:00Z +%s)
end=$((t + 48 * 3600))
ok=1
while [ $t -le $end ]; do
	S run -c "$work/conf" --now "$(date -u -d @$t +%Y-%m-%dT%H:%M:%SZ)" >/dev/null || ok=0
	t=$((t + 3600))
done
[ $ok = 1 ] && pass "48 hourly runs" || fail "48 hourly runs"
testing "the survivors: 3 hourly, 2 daily, 1 weekly (a Monday), 1 monthly" "S ls $P" \
	"2026-03-01T20:00:00Z-monthly
2026-03-02T00:00:00Z-daily
2026-03-02T00:00:00Z-weekly
2026-03-03T00:00:00Z-daily
2026-03-03T18:00:00Z-hourly
2026-03-03T19:00:00Z-hourly
2026-03-03T20:00:00Z-hourly
" "" ""
# a replication target's parent is never pruned
echo "2026-03-03T18:00:00Z-hourly replicate:far" >"$M/.snapshots/pol/.holds"
S run -c "$work/conf" --now 2026-03-03T21:00:00Z >/dev/null
S run -c "$work/conf" --now 2026-03-03T22:00:00Z >/dev/null
testing "a held snapshot outlives its policy" "S ls $P | grep hourly" \
	"2026-03-03T18:00:00Z-hourly  (held)
2026-03-03T20:00:00Z-hourly
2026-03-03T21:00:00Z-hourly
2026-03-03T22:00:00Z-hourly
" "" ""
printf 'path = %s\nhourly = x\n' "$P" >"$work/conf/bad.conf"
testing "a bad policy names its file and line" "S run -c $work/conf --dry-run --now 2026-03-03T20:30:00Z 2>&1 >/dev/null; echo \$?" \
	"lab snap: $work/conf/bad.conf:2: hourly: a count from 0 to 100000
1
" "" ""

# ---- replication over SSH to a real sshd (lab snap receive at the far end) ----
if [ -x /usr/sbin/sshd ] && have ssh-keygen && ns_add far; then
	n far ip link set lo up
	mkdir -p "$work/ssh/home" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/id"
	ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/hostkey"
	cp "$work/ssh/id.pub" "$work/ssh/authorized_keys"
	cat >"$work/ssh/sshd_config" <<C
ListenAddress 127.0.0.1
HostKey $work/ssh/hostkey
PidFile $work/ssh/sshd.pid
AuthorizedKeysFile $work/ssh/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
C
	n far unshare -m sh -c "mount --bind '$work/ssh/home' /root && exec /usr/sbin/sshd -f '$work/ssh/sshd_config'"
	sleep 0.3
	mkdir -p "$M/replica"
	unset SSH_AUTH_SOCK
	R() { n far "$LAB" snap replicate "$T" "root@127.0.0.1:$M/replica" --identity "$work/ssh/id" \
		--known-hosts "$work/ssh/known_hosts" --remote-lab "$LAB" "$@"; }
	walk "$S2" >"$work/s2.walk"
	testing "replicate: the first time, in full" "R --accept-new 2>&1" \
		"root@127.0.0.1:$M/replica: 2026-01-02T00:00:00Z-s2 sent in full
" "" ""
	compare "replicate: the replica is the snapshot" "$M/replica/2026-01-02T00:00:00Z-s2" "$work/s2.walk"
	testing "replicate: the snapshot sent is held for the target" "cat $M/.snapshots/tree/.holds" \
		"2026-01-02T00:00:00Z-s2 replicate:root@127.0.0.1:22:$M/replica
" "" ""
	echo three >"$T/dir/small"
	rm "$T/dangling"
	S create "$T" --now 2026-01-03T00:00:00Z --label s3 >/dev/null
	walk "$M/.snapshots/tree/2026-01-03T00:00:00Z-s3" >"$work/s3.walk"
	testing "replicate: then incrementally, after the one sent last" "R 2>&1" \
		"root@127.0.0.1:$M/replica: 2026-01-03T00:00:00Z-s3 sent after 2026-01-02T00:00:00Z-s2
" "" ""
	compare "replicate: the incremental replica is the snapshot" "$M/replica/2026-01-03T00:00:00Z-s3" "$work/s3.walk"
	testing "replicate: on the far side, a snapshot of the replica before it" \
		"[ \"\$(btrfs subvolume show $M/replica/2026-01-03T00:00:00Z-s3 | awk '/Parent UUID/ {print \$3}')\" = \"\$(btrfs subvolume show $M/replica/2026-01-02T00:00:00Z-s2 | awk '/^[[:space:]]*UUID/ {print \$2}')\" ] && echo chained; cat $M/.snapshots/tree/.holds" \
		"chained
2026-01-03T00:00:00Z-s3 replicate:root@127.0.0.1:22:$M/replica
" "" ""
	testing "replicate: nothing newer, nothing sent" "R 2>&1" \
		"root@127.0.0.1:$M/replica: 2026-01-03T00:00:00Z-s3 is there already
" "" ""
	btrfs subvolume delete -c "$M/replica/2026-01-03T00:00:00Z-s3" >/dev/null
	S create "$T" --now 2026-01-04T00:00:00Z --label s4 >/dev/null
	testing "replicate: a target without the parent refuses the stream" \
		"R 2>&1 | grep -c 'receive failed (exit 1).*its parent (uuid .*) is not in this directory'; ls $M/replica" \
		"1
2026-01-02T00:00:00Z-s2
" "" ""
	testing "replicate --full starts the chain again" "R --full 2>&1" \
		"root@127.0.0.1:$M/replica: 2026-01-04T00:00:00Z-s4 sent in full
" "" ""
else
	skip "snap replicate" "needs sshd (openssh-server) and ssh-keygen"
fi
