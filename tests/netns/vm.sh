#!/bin/sh
# lab vm: instances of a busybox root (busybox-static) in a throwaway
# network namespace h, which plays the host: the bridge lab0, the
# instances' veths, table inet lab and a lab dns all live there.
#
#   h: lab0 (gateway of the allocated /24) --- a1, a2, ... (eth0 each)
#      lab dns on 0.0.0.0:53, zone lab0.labt.home.arpa
#
# Storage and run-time state go to a scratch directory ($LAB_VM_ROOT,
# $LAB_RUN_DIR); cgroups are the host's, under lab/ with names that end
# in this test's pid.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

for t in ip dig nsenter jq; do
	have $t || { skip "vm" "needs $t"; exit 0; }
done
work=$(mktemp -d)
chmod 755 "$work"
busybox_root "$work/root" || { skip "vm" "needs a static busybox (busybox-static)"; exit 0; }
ns_add h || { fail "vm: namespace"; exit 0; }
H=/run/netns/${NS_PREFIX}h
export LAB_VM_ROOT="$work/store" LAB_RUN_DIR="$work/run" LAB_DNS_CONF="$work/dns.conf"
export LAB_SYSTEMD_DIR="$work/systemd"
unset LAB_VM_BACKEND LAB_DNS_KEY LAB_DNS_SERVER
V() { nsenter --net="$H" "$LAB" vm "$@"; }
inh() { nsenter --net="$H" "$@"; }
s=$$	# suffix of every instance name: cgroups are shared with the host

vm_cleanup() {
	for st in "$work"/run/vm/*/state "$work"/btrfs/run/vm/*/state; do
		[ -f "$st" ] || continue
		p=$(sed -n 's/^init=//p' "$st")
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
		p=$(sed -n 's/^supervisor=//p' "$st")
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	sleep 0.2
	for root in "$work/store" "$work/btrfs" "$work/xfs"; do
		for d in "$root"/vm/*; do
			[ -d "$d" ] && LAB_VM_ROOT=$root "$LAB" vm rm --force "${d##*/}" >/dev/null 2>&1
		done
	done
	[ -n "${DNSPID:-}" ] && kill "$DNSPID" 2>/dev/null
	for m in "$work/btrfs" "$work/xfs"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	for l in ${LOOPS:-}; do losetup -d "$l" 2>/dev/null; done
	rm -rf "$work"
}
trap 'vm_cleanup; cleanup' EXIT

# ---- images ----
check "image import from a directory" V image import bb "$work/root"
testing "image ls" "V image ls --json | jq -r '.[] | .name + \" \" + .backend'" "bb overlay
" "" ""
testing "image import refuses a taken name" "V image import bb '$work/root' 2>&1; echo \$?" \
	"lab vm: image bb exists (lab vm image rm bb first)
1
" "" ""
(cd "$work/root" && tar czf "$work/root.tar.gz" .)
check "image import from a tar.gz" V image import bbtar "$work/root.tar.gz"
testing "the tar.gz image has the links and modes" \
	"stat -c '%A %N' '$work/store/images/bbtar/rootfs/tmp' '$work/store/images/bbtar/rootfs/sbin/init'" \
	"drwxrwxrwt '$work/store/images/bbtar/rootfs/tmp'
lrwxrwxrwx '$work/store/images/bbtar/rootfs/sbin/init' -> '/bin/busybox'
" "" ""
yes 'this is not a tar archive' | head -c 2048 >"$work/bad.tar"
testing "a bad archive: one line, exit 1, nothing left" \
	"V image import bad '$work/bad.tar'; echo \$?; ls -A '$work/store/images'" \
	"lab vm: $work/bad.tar: header checksum mismatch (not a tar archive?)
1
bb
bbtar
" "" ""

# hostile archives: nothing lands outside the image
mkdir -p "$work/h/a" "$work/h/b/evil"
ln -s "$work/outside" "$work/h/a/evil"
echo pwned >"$work/h/b/evil/x"
echo x >"$work/h/x"
tar cf "$work/h/t1.tar" -C "$work/h/a" evil && tar rf "$work/h/t1.tar" -C "$work/h/b" evil/x
tar cf "$work/h/t2.tar" -C "$work/h" --transform 's,^,../../,' x 2>/dev/null
testing "an archive writing through its own symlink stays inside" \
	"V image import h1 '$work/h/t1.tar' 2>&1 | sed 's|.*: ||'; ls '$work/outside' 2>&1 | grep -c 'No such'; ls -A '$work/store/images'" \
	"No such file or directory
1
bb
bbtar
" "" ""
testing "an archive with ../ names is refused" "V image import h2 '$work/h/t2.tar'; echo \$?" \
	"lab vm: $work/h/t2.tar: ../../x: path leaves the target directory
1
" "" ""

# ---- lab dns for the bridge's zone ----
have busybox || true
SUB=$(inh env LAB_RUN_DIR="$work/run" "$LAB" net alloc subnet lab0 --json | jq -r .subnet)
KEY="hmac-sha256:labtest:$(head -c 32 /dev/urandom | base64)"
cat >"$work/dns.conf" <<C
[server]
listen = 0.0.0.0
host = labt
recurse = no
key = $KEY
state = $work/dnsstate
user = root

[interface lab0]
subnet = $SUB
C
inh "$LAB" dns serve -d -c "$work/dns.conf" 2>"$work/dns.log" &
DNSPID=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	dig +short +time=1 +tries=1 @127.0.0.1 labt.home.arpa SOA >/dev/null 2>&1 && break
	inh dig +short +time=1 +tries=1 @127.0.0.1 labt.home.arpa SOA 2>/dev/null | grep -q . && break
	sleep 0.3
done

# ---- instances ----
check "new a1 (busybox init)" V new "a$s" --image bb
check "new a2 from the tar image" V new "b$s" --image bbtar
testcmd "hostname inside" "vm exec a$s hostname" "a$s
" "" ""
testcmd "its init is pid 1 of its own namespace" "vm exec a$s cat /proc/1/comm" \
	"init
" "" ""
testcmd "the console log" "vm logs a$s" "[lab] starting /sbin/init
lab-test booted
" "" ""
A1=$(V ls --json | jq -r ".[] | select(.name==\"a$s\") | .ipv4")
A2=$(V ls --json | jq -r ".[] | select(.name==\"b$s\") | .ipv4")
GW=$(V exec "a$s" ip route | sed -n 's/^default via \([^ ]*\).*/\1/p')
testing "ls: running, with an address" \
	"V ls | awk '\$1==\"a$s\" {print \$2, (\$3==\"$A1\"), \$4}'" "running 1 bb
" "" ""
check "ping from an instance to another" V exec "a$s" ping -c 1 -W 2 "$A2"
check "ping from the host to an instance" inh busybox ping -c 1 -W 2 "$A1"
check "ping from an instance to the host" V exec "b$s" ping -c 1 -W 2 "$GW"
A1V6=$(V ls --json | jq -r ".[] | select(.name==\"a$s\") | .ipv6")
check "ping over IPv6 between instances" V exec "b$s" ping -6 -c 1 -W 2 "$A1V6"
testing "the name resolves through lab dns" \
	"inh dig +short @127.0.0.1 a$s.lab0.labt.home.arpa A" "$A1
" "" ""
testing "and its address back to the name" "inh dig +short @127.0.0.1 -x $A1" \
	"a$s.lab0.labt.home.arpa.
" "" ""
testing "the instance resolves its neighbour through the bridge's lab dns" \
	"V exec a$s nslookup b$s.lab0.labt.home.arpa | sed -n 's/^Address: \\([0-9.]*\\)$/\\1/p'" "$A2
" "" ""
testing "the AAAA record too" "inh dig +short @127.0.0.1 a$s.lab0.labt.home.arpa AAAA" "$A1V6
" "" ""
testing "exec passes the exit status through" "V exec a$s sh -c 'exit 7'; echo \$?" "7
" "" ""
testing "exec joins the instance's cgroup (the root of its namespace)" \
	"V exec a$s cat /proc/self/cgroup | grep -vc ':/$'" "0
" "" ""
if have script; then
	testing "exec gives a tty when stdin is one" \
		"script -qec \"nsenter --net=$H $LAB vm exec a$s tty\" /dev/null | tr -d '\\r'" \
		"/dev/pts/0
" "" ""
fi
testing "the guest is confined: no_new_privs, seccomp, bounded capabilities" \
	"V exec a$s sh -c 'grep -E \"^(NoNewPrivs|Seccomp|CapBnd):\" /proc/self/status'" \
	"CapBnd:	00000000a80425fb
NoNewPrivs:	1
Seccomp:	2
" "" ""
testing "a denied system call fails with EPERM (swapoff)" \
	"V exec a$s swapoff /dev/null 2>&1 | grep -c 'not permitted'" "1
" "" ""
testing "/sys is read-only" "V exec a$s sh -c 'echo x > /sys/kernel/uevent_helper' 2>&1 | grep -c Read-only" "1
" "" ""

# limits, ssh key, restart, logs -f
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItestkey lab@test" >"$work/key.pub"
check "new with --cpus, --pids and --ssh-key" V new "l$s" --image bb --cpus 0.5 --pids 12 \
	--ssh-key "$work/key.pub"
testing "the cgroup carries the CPU and process limits" \
	"cat /sys/fs/cgroup/cpu/lab/l$s/cpu.cfs_quota_us /sys/fs/cgroup/pids/lab/l$s/pids.max 2>/dev/null || cat /sys/fs/cgroup/lab/l$s/cpu.max /sys/fs/cgroup/lab/l$s/pids.max" \
	"50000
12
" "" ""
testing "the process limit holds inside" \
	"V exec l$s sh -c 'i=0; while [ \$i -lt 30 ]; do sleep 3 & i=\$((i+1)); done 2>&1' | grep -c 'fork'" "1
" "" ""
testcmd "root's authorized_keys" "vm exec l$s stat -c '%a %U' /root/.ssh /root/.ssh/authorized_keys" \
	"700 root
600 root
" "" ""
testcmd "and its content" "vm exec l$s cat /root/.ssh/authorized_keys" \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItestkey lab@test
" "" ""
V logs -f "l$s" >"$work/follow.log" 2>&1 &
FOLLOW=$!
sleep 0.3
V exec "l$s" sh -c 'echo to-the-console > /dev/console'
OLDPID=$(V ls --json | jq -r ".[] | select(.name==\"l$s\") | .pid")
check "restart" V restart "l$s" --timeout 5
( sleep 10; kill $FOLLOW 2>/dev/null ) &
WATCH=$!
wait $FOLLOW
FOLLOW_RC=$?
kill $WATCH 2>/dev/null
testing "logs -f followed the console and ended with the instance" \
	"echo $FOLLOW_RC; grep -c to-the-console '$work/follow.log'; tail -1 '$work/follow.log'" \
	"0
1
[lab] stopped
" "" ""
testing "restart gave a new init and kept the address" \
	"V ls --json | jq -r '.[] | select(.name==\"l$s\") | (.pid != $OLDPID), .state, .ipv4' | sed 's/^[0-9.]*$/addr/'" \
	"true
running
addr
" "" ""
V rm --force "l$s"

# macvlan on a link of the host, to a peer namespace behind it
ns_add peer
ip -n "${NS_PREFIX}h" link add up0 type veth peer name eth0 netns "${NS_PREFIX}peer"
ip -n "${NS_PREFIX}h" link set up0 up
ip -n "${NS_PREFIX}peer" link set eth0 up
ip -n "${NS_PREFIX}peer" addr add 10.77.0.1/24 dev eth0
check "new --net macvlan" V new "v$s" --image bb --net macvlan:up0 --ip 10.77.0.2/24
check "a macvlan instance reaches the peer" V exec "v$s" ping -c 1 -W 2 10.77.0.1
V rm --force "v$s"

# --ro
check "new --ro" V new "r$s" --image bb --ro --tmpfs /var/cache
testing "a read-only root refuses writes" "V exec r$s touch /etc/x 2>&1" \
	"touch: /etc/x: Read-only file system
" "" ""
testing "/tmp, /run and --tmpfs stay writable" \
	"V exec r$s sh -c 'touch /tmp/x /run/x /var/cache/x && echo ok'" "ok
" "" ""
V rm --force "r$s"

# --memory
check "new --memory 32M" V new "m$s" --image bb --memory 32M
testing "a process over the memory limit is killed" \
	"V exec m$s dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo \$?" "137
" "" ""
testing "the kill was the cgroup's OOM killer" \
	"grep -c '^oom_kill [1-9]' /sys/fs/cgroup/memory/lab/m$s/memory.oom_control 2>/dev/null || grep -c '^oom_kill [1-9]' /sys/fs/cgroup/lab/m$s/memory.events" \
	"1
" "" ""
testing "and the instance goes on" "V exec m$s echo alive" "alive
" "" ""
V rm --force "m$s"

# --bind, --env, --gpu with stand-in devices
mkdir -p "$work/share" "$work/gpu"
echo shared >"$work/share/f"
mknod "$work/gpu/nvidia0" c 195 0
mknod "$work/gpu/nvidiactl" c 195 255
check "new with binds, env and (stand-in) GPU nodes" env LAB_GPU_DEV_DIR="$work/gpu" \
	nsenter --net="$H" "$LAB" vm new "g$s" --image bb --bind "$work/share:/mnt/share:ro" \
	--env GREETING=hello --gpu
testcmd "a read-only bind" "vm exec g$s sh -c 'cat /mnt/share/f; touch /mnt/share/g 2>&1'" \
	"shared
touch: /mnt/share/g: Read-only file system
" "" ""
testcmd "the environment" "vm exec g$s sh -c 'echo \$GREETING \$container'" "hello lab
" "" ""
testcmd "the GPU nodes are there" "vm exec g$s stat -c '%n %t:%T' /dev/nvidia0 /dev/nvidiactl" \
	"/dev/nvidia0 c3:0
/dev/nvidiactl c3:ff
" "" ""
if [ -f "/sys/fs/cgroup/devices/lab/g$s/devices.list" ]; then
	testing "the devices controller allows them, and nothing unlisted" \
		"grep -c '^c 195:\(0\|255\) rwm' /sys/fs/cgroup/devices/lab/g$s/devices.list; V exec g$s sh -c 'cat /dev/nvidia0 2>&1; mknod /dev/other c 195 1 && cat /dev/other 2>&1' | sed 's/.*: //'" \
		"2
No such device or address
Operation not permitted
" "" ""
fi
V rm --force "g$s"

# stop: SIGTERM, a grace period, SIGKILL only after it
check "new with a shell that traps SIGTERM" V new "t$s" --image bb \
	--cmd "/bin/sh -c 'trap \"echo got-term; sleep 1; echo clean-exit; exit 0\" TERM; while :; do sleep 0.1; done'"
check "stop" V stop "t$s" --timeout 10
testing "the guest had its grace period and exited by itself" \
	"V logs t$s | grep -v '^\[lab\] starting'; V ls | awk '\$1==\"t$s\" {print \$2, \$3}'" \
	"got-term
clean-exit
[lab] exited with status 0
[lab] stopped
exited (0)
" "" ""
check "new with a shell that ignores SIGTERM" V new "k$s" --image bb --stop-timeout 1 \
	--cmd "/bin/sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'"
testing "stop kills it after the timeout" \
	"V stop k$s --timeout 1 2>&1; V ls | awk '\$1==\"k$s\" {print \$2, \$3}'" \
	"lab vm: k$s: still running after 1 s, SIGKILL
exited (137)
" "" ""
check "start again" V start "k$s"
testcmd "it runs again with the same address" "vm exec k$s true; echo \$?" "0
" "" ""
V rm --force "k$s" 2>/dev/null
V rm "t$s"

# run --rm
testcmd "run --rm passes output and exit status" \
	"vm run --rm --net none bb -- sh -c 'echo out; exit 3'; echo \$?" "out
3
" "" ""
testing "run --rm with a network and a name" \
	"V run --rm --name once$s bb -- sh -c 'hostname; ip -4 -o addr show eth0 | wc -l'" "once$s
1
" "" ""
testing "run --rm leaves nothing" "ls -A '$work/run/vm'; grep -c once$s '$work/run/ip/lab0.leases'; ls /sys/fs/cgroup/memory/lab | grep -c once$s" \
	"a$s
b$s
0
0
" "" ""

nsenter --net="$H" "$LAB" vm run --rm --name dead$s bb -- sleep 100 </dev/null >/dev/null 2>&1 &
DEAD=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -f "$work/run/vm/dead$s/state" ] && break; sleep 0.2; done
kill -9 $DEAD
wait $DEAD 2>/dev/null
testing "rm cleans up after a one-shot instance whose lab was killed" \
	"V rm dead$s; echo \$?; ls '$work/run/vm' | grep -c dead$s; grep -c dead$s '$work/run/ip/lab0.leases'; ls -d /sys/fs/cgroup/*/lab/dead$s 2>/dev/null | wc -l" \
	"0
0
0
0
" "" ""

# pin, enable
check "pin" V pin "a$s"
testing "rm refuses a pinned instance" "V rm --force a$s; echo \$?" \
	"lab vm: a$s: pinned (lab vm unpin a$s first)
1
" "" ""
check "unpin" V unpin "a$s"
check "enable writes a unit" V enable "a$s"
testing "the unit starts and stops it through lab" \
	"grep -E '^(Type|ExecStart|ExecStop)=' '$work/systemd/lab-vm-a$s.service' | sed 's|=.* vm |= vm |'; readlink '$work/systemd/multi-user.target.wants/lab-vm-a$s.service' | sed 's|.*/||'" \
	"Type=forking
ExecStart= vm start a$s
ExecStop= vm stop a$s
lab-vm-a$s.service
" "" ""
if have systemd-analyze; then
	testing "systemd-analyze accepts the unit" \
		"systemd-analyze verify '$work/systemd/lab-vm-a$s.service' 2>&1 | grep -v -e 'Failed to open\\|No such file\\|not found\\|Cannot add dependency' | grep 'lab-vm-a$s' ; echo done" \
		"done
" "" ""
fi

# errors
testing "unknown image" "V new x$s --image nope; echo \$?" \
	"lab vm: nope: no such image (lab vm image ls)
1
" "" ""
testing "name taken" "V new a$s --image bb; echo \$?" \
	"lab vm: a$s: the name is taken (lab vm ls)
1
" "" ""
testing "invalid name" "V new Bad_Name --image bb; echo \$?" \
	"lab vm: Bad_Name: invalid name: a DNS label (a-z, 0-9, '-', at most 63)
1
" "" ""
if have setpriv; then
	testing "no privilege" "setpriv --reuid=65534 --regid=65534 --clear-groups $LAB vm new z$s --image bb; echo \$?" \
		"lab vm: needs root (namespaces, mounts, cgroups, netlink)
1
" "" ""
fi
testing "an image in use cannot be removed" "V image rm bb; echo \$?" \
	"lab vm: image bb is used by instance a$s
1
" "" ""
i=0
while [ $i -lt 260 ]; do
	inh env LAB_RUN_DIR="$work/run" "$LAB" net alloc addr lab0 "fill$i" >/dev/null 2>&1 || break
	i=$((i + 1))
done
testing "out of addresses: one line, exit 1, nothing left" \
	"V new o$s --image bb; echo \$?; ls '$work/store/vm' | grep -c o$s; ls /sys/fs/cgroup/memory/lab | grep -c o$s" \
	"lab vm: o$s: lab0: all 253 guest addresses are leased
1
0
0
" "" ""
i=0
while [ $i -lt 260 ]; do
	inh env LAB_RUN_DIR="$work/run" "$LAB" net alloc release lab0 "fill$i" >/dev/null 2>&1 || break
	i=$((i + 1))
done
testing "a backend that cannot fork: one line, exit 1" \
	"LAB_VM_BACKEND=reflink V image import rl '$work/root'; echo \$?" \
	"lab vm: $work/store/images: the file system cannot reflink (FICLONE)
1
" "" ""

# rm leaves nothing behind
VETH=$(V ls --json >/dev/null; sed -n 's/^veth=//p' "$work/run/vm/b$s/state")
check "rm --force a running instance" V rm --force "b$s"
testing "after rm: no veth, cgroup, lease, DNS record, state or directory" \
	"ip -n ${NS_PREFIX}h -br link | grep -c '$VETH'; ls -d /sys/fs/cgroup/*/lab/b$s 2>/dev/null | wc -l; grep -c 'b$s' '$work/run/ip/lab0.leases'; inh dig +short @127.0.0.1 b$s.lab0.labt.home.arpa A | wc -l; inh dig +short @127.0.0.1 -x $A2 | wc -l; ls '$work/run/vm' '$work/store/vm' | grep -c b$s; grep -c 'vm/b$s' /proc/self/mountinfo" \
	"0
0
0
0
0
0
0
" "" ""
V rm --force "a$s"
check "image rm" V image rm bbtar

# ---- copy-on-write backends on loop devices ----
LOOPS=""
loopfs() {	# loopfs NAME MKFS...: a 300M file system mounted on $work/NAME
	name=$1
	shift
	truncate -s 300M "$work/$name.img" &&
		"$@" "$work/$name.img" >/dev/null 2>&1 &&
		l=$(losetup -f --show "$work/$name.img") && LOOPS="$LOOPS $l" &&
		mkdir -p "$work/$name" && mount "$l" "$work/$name"
}
if have mkfs.btrfs && have btrfs && loopfs btrfs mkfs.btrfs -q; then
	B() { LAB_VM_ROOT="$work/btrfs" LAB_RUN_DIR="$work/btrfs/run" nsenter --net="$H" "$LAB" vm "$@"; }
	testing "btrfs: the backend is detected" "B info --json | jq -r .backend" "btrfs
" "" ""
	check "btrfs: image import" B image import bb "$work/root"
	testing "btrfs: the image is a read-only subvolume" \
		"stat -c %i '$work/btrfs/images/bb/rootfs'; btrfs property get -ts '$work/btrfs/images/bb/rootfs' ro" \
		"256
ro=true
" "" ""
	check "btrfs: new" B new "s$s" --image bb --net none
	testing "btrfs: the instance is a snapshot of the image" \
		"u=\$(btrfs subvolume show '$work/btrfs/images/bb/rootfs' | sed -n 's/^[[:space:]]*UUID:[[:space:]]*//p'); btrfs subvolume show '$work/btrfs/vm/s$s/rootfs' | grep -c \"Parent UUID:[[:space:]]*\$u\"" \
		"1
" "" ""
	B exec "s$s" sh -c 'echo mine > /etc/motd'
	testing "btrfs: writes stay in the instance" \
		"cat '$work/btrfs/vm/s$s/rootfs/etc/motd'; ls '$work/btrfs/images/bb/rootfs/etc/motd' 2>&1 | grep -c 'No such'" \
		"mine
1
" "" ""
	check "btrfs: new --userns" B new "u$s" --image bb --net none --userns
	testing "btrfs: its ids are mapped, its files still root's" \
		"B exec u$s sh -c 'cat /proc/self/uid_map | tr -s \" \"; id -u; stat -c %u /bin/busybox; touch /made'; stat -c %u '$work/btrfs/vm/u$s/rootfs/made'" \
		" 0 131072 65536
0
0
0
" "" ""
	check "btrfs: rm" B rm --force "s$s"
	B rm --force "u$s"
	testing "btrfs: the snapshots are gone" \
		"btrfs subvolume list '$work/btrfs' | grep -c 'vm/'" "0
" "" ""
else
	skip "vm btrfs backend" "needs btrfs-progs and loop devices"
fi
if have mkfs.xfs && have filefrag && loopfs xfs mkfs.xfs -q -m reflink=1; then
	X() { LAB_VM_ROOT="$work/xfs" LAB_RUN_DIR="$work/xfs/run" nsenter --net="$H" "$LAB" vm "$@"; }
	testing "xfs: the reflink backend is detected" "X info --json | jq -r .backend" "reflink
" "" ""
	check "xfs: image import" X image import bb "$work/root"
	check "xfs: new" X new "x$s" --image bb --net none
	testing "xfs: the instance's files share the image's extents" \
		"filefrag -v '$work/xfs/vm/x$s/rootfs/bin/busybox' | grep -c shared" "1
" "" ""
	X rm --force "x$s"
else
	skip "vm reflink backend" "needs xfsprogs with reflink and loop devices"
fi
