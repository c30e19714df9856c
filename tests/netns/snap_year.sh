#!/bin/sh
# lab snap run over a simulated year: an hourly run at every hour of 2026
# (--now), with real snapshots and prunes on a btrfs loop device, and
# exactly the survivors sanoid's counting gives: the newest 24 hourly,
# 7 daily, 4 weekly (Mondays) and 12 monthly, no yearly.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "snap year" "needs root"; exit 0; }
for t in mkfs.btrfs btrfs losetup; do
	have $t || { skip "snap year" "needs $t"; exit 0; }
done
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
loopfs "$work/m" 1G mkfs.btrfs -q || { fail "snap year: a btrfs file system on a loop device"; exit 0; }
"$LAB" snap subvol create "$work/m/data"
mkdir -p "$work/conf"
printf 'path = %s\nhourly = 24\ndaily = 7\nweekly = 4\nmonthly = 12\nyearly = 0\n' "$work/m/data" \
	>"$work/conf/data.conf"
t=$(date -u -d 2026-01-01T00:00:00Z +%s)
end=$(date -u -d 2026-12-31T23:00:00Z +%s)
runs=0 bad=0
while [ "$t" -le "$end" ]; do
	echo "x $t" >"$work/m/data/clock"
	"$LAB" snap run -c "$work/conf" --now "$(date -u -d @"$t" +%Y-%m-%dT%H:%M:%SZ)" >/dev/null || bad=$((bad + 1))
	runs=$((runs + 1))
	t=$((t + 3600))
done
[ $runs = 8760 ] && [ $bad = 0 ] && pass "8760 hourly runs over 2026" || fail "8760 hourly runs over 2026" "runs=$runs failed=$bad"
{
	for m in 01 02 03 04 05 06 07 08 09 10 11 12; do echo "2026-$m-01T00:00:00Z-monthly"; done
	for d in 07 14 21 28; do echo "2026-12-${d}T00:00:00Z-weekly"; done
	for d in 25 26 27 28 29 30 31; do echo "2026-12-${d}T00:00:00Z-daily"; done
	h=0
	while [ $h -lt 24 ]; do printf '2026-12-31T%02d:00:00Z-hourly\n' $h; h=$((h + 1)); done
} | LC_ALL=C sort >"$work/want"
"$LAB" snap ls "$work/m/data" >"$work/got"
if cmp -s "$work/want" "$work/got"; then
	pass "a year of hourly runs leaves exactly sanoid's survivors"
else
	fail "a year of hourly runs leaves exactly sanoid's survivors" "$(diff "$work/want" "$work/got" | head -20)"
fi
testing "every survivor is a snapshot on disk, nothing else is" \
	"ls $work/m/.snapshots/data | wc -l; btrfs subvolume list -s $work/m | wc -l" "47
47
" "" ""
