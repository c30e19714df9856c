#!/bin/sh
# lab vm with a real init: a debootstrapped Debian 12 (minbase + systemd)
# boots as an instance and reports READY=1 over NOTIFY_SOCKET; stop halts
# it through SIGRTMIN+3, and a reboot from inside brings it back.
#
# The root is built once with debootstrap from Debian's archive and kept in
# /var/cache/lab-test (delete it to rebuild). Where the archive cannot be
# reached, the test is skipped.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

for t in debootstrap nsenter jq; do
	have $t || { skip "vm systemd guest" "needs $t"; exit 0; }
done
cache=/var/cache/lab-test/debian-bookworm-systemd
if [ ! -x "$cache/lib/systemd/systemd" ]; then
	mkdir -p /var/cache/lab-test
	rm -rf "$cache.new"
	if ! timeout 900 debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
		bookworm "$cache.new" http://deb.debian.org/debian >/var/cache/lab-test/debootstrap.log 2>&1; then
		rm -rf "$cache.new"
		skip "vm systemd guest" "debootstrap could not fetch Debian packages (see /var/cache/lab-test/debootstrap.log)"
		exit 0
	fi
	mv "$cache.new" "$cache"
fi
work=$(mktemp -d)
chmod 755 "$work"
ns_add h || { fail "vm systemd: namespace"; exit 0; }
H=/run/netns/${NS_PREFIX}h
export LAB_VM_ROOT="$work/store" LAB_RUN_DIR="$work/run" LAB_DNS_CONF="$work/none"
unset LAB_VM_BACKEND LAB_DNS_KEY LAB_DNS_SERVER
V() { nsenter --net="$H" "$LAB" vm "$@"; }
d=sd$$
vm_cleanup() {
	for st in "$work"/run/vm/*/state; do
		[ -f "$st" ] || continue
		kill -9 "$(sed -n 's/^init=//p' "$st")" "$(sed -n 's/^supervisor=//p' "$st")" 2>/dev/null
	done
	sleep 0.2
	"$LAB" vm rm --force "$d" >/dev/null 2>&1
	rm -rf "$work"
}
trap 'vm_cleanup; cleanup' EXIT

check "import the debootstrapped root" V image import debian "$cache"
check "new returns once systemd sent READY=1" V new "$d" --image debian
testing "the supervisor saw READY=1" "V logs $d | grep -c 'ready (READY=1)'" "1
" "" ""
testing "systemd is pid 1 and the system is running" \
	"V exec $d cat /proc/1/comm; V exec $d systemctl is-system-running --wait" "systemd
running
" "" ""
testing "no failed units" "V exec $d systemctl --failed --no-legend --plain | wc -l" "0
" "" ""
ADDR=$(V ls --json | jq -r ".[] | select(.name==\"$d\") | .ipv4")
testing "networkd gets the instance's address" \
	"V exec $d grep -c 'Address=$ADDR/24' /etc/systemd/network/80-lab.network" "1
" "" ""
testing "the guest sees a cgroup2 file system of its own" \
	"V exec $d sh -c 'stat -f -c %T /sys/fs/cgroup; cat /proc/self/cgroup | grep -c \"^0::/\"'" "cgroup2fs
1
" "" ""
P1=$(V ls --json | jq -r ".[] | select(.name==\"$d\") | .pid")
V exec "$d" systemctl reboot >/dev/null 2>&1
i=0
while [ $i -lt 100 ]; do
	P2=$(V ls --json | jq -r ".[] | select(.name==\"$d\") | .pid")
	[ -n "$P2" ] && [ "$P2" != 0 ] && [ "$P2" != "$P1" ] && break
	sleep 0.2
	i=$((i + 1))
done
testing "a reboot inside starts it again" \
	"[ \"$P2\" != \"$P1\" ] && [ \"$P2\" != 0 ] && V exec $d systemctl is-system-running --wait" "running
" "" ""
check "stop" V stop "$d"
testing "stop halted it cleanly (SIGRTMIN+3)" \
	"V logs $d | tail -2; V ls | awk '\$1==\"$d\" {print \$2, \$3}'" "[lab] halted
[lab] stopped
exited (0)
" "" ""
check "rm" V rm "$d"
