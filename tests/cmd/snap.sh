#!/bin/sh
# lab snap without a btrfs file system: usage, policy errors, refusals, and
# the embedded snap layer's units as systemd reads them.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

testcmd "snap without a subcommand" "snap 2>&1; echo \$?" \
	"lab snap: a subcommand: create, ls, rm, rollback, clone, subvol, run, send, receive, replicate (see 'lab snap -h')
2
" "" ""
testcmd "snap create needs a path" "snap create 2>&1; echo \$?" \
	"lab snap: create PATH... (see 'lab snap -h')
2
" "" ""
testcmd "snap create: several paths are a group" "snap create /a /b 2>&1; echo \$?" \
	"lab snap: create: several paths make a group: --group NAME (see 'lab snap -h')
2
" "" ""
testcmd "snap create: a bad --now" "snap create /a --now yesterday 2>&1; echo \$?" \
	"lab snap: --now yesterday: expected 2026-11-24T19:00:00Z (see 'lab snap -h')
2
" "" ""
mkdir -p "$work/plain"
testing "snap create refuses a file system without snapshots or reflinks" \
	"\"\$LAB\" snap create $work/plain 2>&1 | grep -c 'which has neither btrfs snapshots nor reflinks: not snapshotting by copying'" \
	"1
" "" ""
mkdir -p "$work/conf"
printf 'path = /srv/x\nhourly = 24\nfortnightly = 2\n' >"$work/conf/a.conf"
testcmd "snap run: an unknown key names file and line" "snap run -c $work/conf --dry-run 2>&1; echo \$?" \
	"lab snap: $work/conf/a.conf:3: unknown key \"fortnightly\"
1
" "" ""
printf 'hourly = 24\n' >"$work/conf/a.conf"
testcmd "snap run: a policy needs a path" "snap run -c $work/conf --dry-run 2>&1; echo \$?" \
	"lab snap: $work/conf/a.conf:0: no path
1
" "" ""
testcmd "snap rm refuses what is not a snapshot" "snap rm $work/plain 2>&1; echo \$?" \
	"lab snap: $work/plain: not a snapshot (not named TIME-LABEL)
1
" "" ""
testcmd "snap receive wants a stream" "snap receive $work </dev/null 2>&1; echo \$?" \
	"lab snap: receive into $work: $work: not on btrfs
1
" "" ""
"$LAB" deploy init "$work/inv" >/dev/null
if have systemd-analyze; then
	testing "the embedded snap layer's timer and service are valid units" \
		"systemd-analyze verify $work/inv/layers/snap/etc/systemd/system/lab-snap.timer $work/inv/layers/snap/etc/systemd/system/lab-snap.service 2>&1 | grep -v 'is not executable' ; echo done" \
		"done
" "" ""
fi
testing "the snap layer enables its timer" "cat $work/inv/layers/snap/.lab/links | grep -v '^#'" \
	"etc/systemd/system/timers.target.wants/lab-snap.timer ../lab-snap.timer
" "" ""
