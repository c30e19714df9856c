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
# the new pid 1 may not have its bus yet: systemctl can only wait once it has
i=0
until V exec "$d" test -S /run/dbus/system_bus_socket 2>/dev/null || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
testing "a reboot inside starts it again" \
	"[ \"$P2\" != \"$P1\" ] && [ \"$P2\" != 0 ] && V exec $d systemctl is-system-running --wait" "running
" "" ""

# ---- lab deploy converging a real systemd: host = local inside the guest ----
inv=$work/inv
"$LAB" deploy init "$inv" >/dev/null
printf '[machine g]\nhost = local\n' >"$inv/inventory"
mkdir -p "$inv/machines/g"
echo hello >"$inv/machines/g/layers"
rm -rf "$inv/machines/example" "$inv/facts/example.json"
G() { V exec "$d" "$@"; }
G sh -c 'cat >/usr/local/bin/lab && chmod 755 /usr/local/bin/lab' <"$LAB"
# the guest's copy of the inventory follows ours (its .lab cache stays)
deploy_in() {
	tar -C "$inv" --exclude=./.lab -cf - . |
		G sh -c 'mkdir -p /root/inv && cd /root/inv && find . -mindepth 1 -maxdepth 1 ! -name .lab -exec rm -rf {} + && tar -xf -'
	G /usr/local/bin/lab deploy -C /root/inv --json 2>/dev/null
}
mainpid() { G systemctl show -p MainPID --value hello.service; }
out=$(deploy_in)
testing "deploy: a new enabled unit is started" \
	"echo '$out' | jq -r '.[0].ok, .[0].units'; G systemctl is-active hello.service" "true
hello.service
active
" "" ""
testing "deploy: the hardening drop-in is in force" \
	"G systemctl show -p ProtectSystem -p DropInPaths --value hello.service" "strict
/etc/systemd/system/hello.service.d/10-lab.conf
" "" ""
p1=$(mainpid)
out=$(deploy_in)
testing "deploy: a no-op restarts nothing" \
	"echo '$out' | jq -r '.[0].noop, .[0].units'; [ \"\$(mainpid)\" = $p1 ] && echo same" "true

same
" "" ""
printf '{ "greeting": "changed" }\n' >"$inv/facts/g.json"
out=$(deploy_in)
p2=$(mainpid)
testing "deploy: a changed /usr/local/opt/UNIT file restarts the unit" \
	"echo '$out' | jq -r '.[0].units'; [ $p2 != $p1 ] && [ $p2 != 0 ] && echo restarted; G cat /usr/local/opt/hello/run | grep -c changed" "hello.service
restarted
1
" "" ""
echo "# a change" >>"$inv/layers/_/usr/local/etc/lab/deployed.tpl"
out=$(deploy_in)
testing "deploy: restart-on globs restart the unit" \
	"echo '$out' | jq -r '.[0].units'; [ \"\$(mainpid)\" != $p2 ] && echo restarted" "hello.service
restarted
" "" ""
echo "# no layers but _" >"$inv/machines/g/layers"
out=$(deploy_in)
testing "deploy: a unit that leaves the tree is stopped and forgotten" \
	"echo '$out' | jq -r '.[0].ok'; G systemctl is-active hello.service; G test -e /etc/systemd/system/hello.service || echo gone; G systemctl cat hello.service >/dev/null 2>&1 || echo unknown" "true
inactive
gone
unknown
" "" ""
G /usr/local/bin/lab deploy -C /root/inv --rollback >/dev/null 2>&1
testing "deploy: rollback brings the unit back and starts it" \
	"G systemctl is-active hello.service; G grep -c changed /usr/local/opt/hello/run" "active
1
" "" ""

check "stop" V stop "$d"
testing "stop halted it cleanly (SIGRTMIN+3)" \
	"V logs $d | tail -2; V ls | awk '\$1==\"$d\" {print \$2, \$3}'" "[lab] halted
[lab] stopped
exited (0)
" "" ""
check "rm" V rm "$d"
