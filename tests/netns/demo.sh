#!/bin/sh
# lab demo, the end-to-end test: the whole home cloud (router, alpha, beta
# as namespaces labdemo-*, each with OpenSSH's sshd; lab deploy, lab dns,
# lab net fw, lab vm, lab vpn, lab snap) built from the embedded demo
# inventory. Three runs:
#   --json --keep   every step's evidence from the report, then real peers
#                   look for themselves (dig, nft, ssh, wget), then --down
#   --json          a plain run, which removes everything at its end
#   SIGINT          in the middle of a step (the deploy): everything
#                   removed, exit 130
# After each, the machine must be as it was found: namespaces, host links,
# firewall tables, mounts, loop devices, processes, cgroups, files.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "demo" "needs root"; exit 0; }
for t in ip jq nft dig ssh ssh-keygen mkfs.btrfs losetup; do
	have $t || { skip "demo" "needs $t"; exit 0; }
done
[ -x /usr/sbin/sshd ] || { skip "demo" "needs sshd (openssh-server)"; exit 0; }
bb=$(command -v busybox) && file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
	{ skip "demo" "needs a static busybox (busybox-static)"; exit 0; }
DIR=/var/tmp/lab-demo
if [ -e $DIR ] || ip netns | grep -q '^labdemo-'; then
	skip "demo" "a demo is running here (lab demo --down)"
	exit 0
fi
work=$(mktemp -d)
on_exit "\"$LAB\" demo --down >/dev/null 2>&1; rm -rf $work"

# What the machine looks like; anything the demo could leave, but filtered
# so that other tests' namespaces and mounts do not count.
state() {
	echo "## netns"; ip netns | grep '^labdemo-'
	echo "## host links"; ip -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	echo "## host nft tables"; nft list tables | sort
	echo "## mounts"; grep -E 'lab-demo|labdemo' /proc/self/mountinfo
	echo "## loop devices"; losetup -a | grep lab-demo
	echo "## processes"; ps -eo args | grep -E 'lab-demo|labdemo|wgdemo' | grep -v grep
	echo "## cgroups"; find /sys/fs/cgroup -maxdepth 3 \( -path '*/lab/web' -o -name lab \) 2>/dev/null | sort
	echo "## files"; ls -d $DIR 2>/dev/null
}
as_found() {
	state >"$work/after"
	if cmp -s "$work/before" "$work/after"; then pass "$1"; else
		fail "$1" "$(diff "$work/before" "$work/after")"; fi
}
state >"$work/before"

# step N FILTER EXPECTED: the report's step N, through a jq filter
step() { jq -r ".steps[$(($1 - 1))] | $2" "$work/report.json"; }
check_step() {
	name=$1 n=$2 filter=$3 want=$4
	got=$(step "$n" "$filter")
	if [ "$got" = "$want" ]; then pass "$name"; else
		fail "$name" "want: $want; got: $got; step: $(step "$n" .)"; fi
}

# ---- 1: --keep, every step from the report, then real peers ----
"$LAB" demo --json --keep >"$work/report.json" 2>"$work/progress"
rc=$?
if [ $rc = 0 ] && [ "$(jq -r '.ok, (.steps | length)' "$work/report.json" | tr '\n' ' ')" = "true 9 " ]; then
	pass "demo: nine steps ok"
else
	fail "demo: nine steps ok" "exit $rc; $(cat "$work/progress")"
fi
check_step "step 1: three sshd answer (OpenSSH)" 1 \
	'[.details.router, .details.alpha, .details.beta] | map(test("SSH-2.0-OpenSSH")) | all' true
check_step "step 2: deploy sent files to all three" 2 \
	'.ok and (.details.sent > 0) and (.details.alpha | test("generation 1"))' true
check_step "step 3: the router delegates alpha" 3 '.details.delegation' \
	'router -> alpha: motd.alpha.home.arpa TXT "hello from alpha"'
check_step "step 4: the firewall is in the router's kernel" 4 '.ok' true
check_step "step 5: web has its address and its name" 5 '.details.address + " " + .details.name' \
	'192.168.0.2 web.lab0.alpha.home.arpa A 192.168.0.2'
check_step "step 6: beta resolves web and gets its page" 6 '(.details.resolved | test("A 192.168.0.2")), .details.body' \
	'true
web on alpha: version 1'
check_step "step 6: the router's port forward from its uplink side" 6 '.details.forwarded' \
	'web on alpha: version 1'
check_step "step 7: the page through lab vpn" 7 '(.details.received > 0), .details.route, .details.body' \
	'true
beta: 192.168.0.0/24 dev wgdemo
web on alpha: version 1'
check_step "step 8: the deployed policy took an hourly snapshot" 8 '.details.snapshot | test("^alpha:/var/lib/lab/vm/web/.snapshots/rootfs/.*-hourly$")' true
check_step "step 8: changed, then rolled back" 8 '(.details.changed | rtrimstr("\n")), .details.body' \
	'web on alpha: changed after the snapshot
web on alpha: version 1'
check_step "step 9: one file sent, one service reloaded" 9 '.details.sent, .details.reloaded, .details.served' \
	'1
alpha:lab-dns
motd.alpha.home.arpa TXT "changed by lab demo step 9"'

# real peers see the same cloud
B() { ip netns exec labdemo-beta "$@"; }
testing "dig from beta: web by name" \
	"ip netns exec labdemo-beta dig +short +time=2 +tries=2 @10.70.2.2 web.lab0.alpha.home.arpa A" \
	"192.168.0.2
" "" ""
testing "dig: the zone served after the redeploy" \
	"ip netns exec labdemo-beta dig +short +time=2 +tries=2 @10.70.1.2 motd.alpha.home.arpa TXT" \
	"\"changed by lab demo step 9\"
" "" ""
if have curl; then
	testing "curl from the uplink side: the router's port 8080" \
		"ip netns exec labdemo-wan curl -s --max-time 3 http://198.51.100.1:8080/" \
		"web on alpha: version 1
" "" ""
	testing "curl from beta: the page" \
		"ip netns exec labdemo-beta curl -s --max-time 3 http://192.168.0.2/" \
		"web on alpha: version 1
" "" ""
else
	skip "curl: the page from the uplink side and from beta" "needs curl"
fi
testing "nft: the router's forward to web" \
	"ip netns exec labdemo-router nft list map inet lab fwd_v4 | grep -o 'tcp . 8080 : 192.168.0.2 . 80'" \
	"tcp . 8080 : 192.168.0.2 . 80
" "" ""
testing "ssh (OpenSSH client) into alpha: the deployed lab" \
	"ip netns exec labdemo-router ssh -i $DIR/ssh/id -o UserKnownHostsFile=$DIR/ssh/known_hosts -o BatchMode=yes root@10.70.1.2 'cmp /usr/local/libexec/lab $LAB && echo same'" \
	"same
" "" ""
testing "lab demo exec: alpha's guest" \
	"\"$LAB\" demo exec alpha /usr/local/libexec/lab vm ls --json | jq -r '.[].name + \" \" + .[].state'" \
	"web running
" "" ""
testing "a second demo is refused while one runs" "\"$LAB\" demo 2>&1; echo \$?" \
	"lab demo: $DIR exists: a demo is running or was left (lab demo --down first)
1
" "" ""
"$LAB" demo --down >"$work/down" 2>&1 || fail "demo --down" "$(cat "$work/down")"
as_found "after --down: the machine as it was found"

# ---- 2: a plain run cleans up after itself ----
"$LAB" demo --json >"$work/report.json" 2>"$work/progress"
rc=$?
[ $rc = 0 ] && [ "$(jq -r '.ok, .kept' "$work/report.json" | tr '\n' ' ')" = "true false " ] &&
	pass "demo without --keep: ok" || fail "demo without --keep: ok" "exit $rc; $(cat "$work/progress")"
as_found "after a run: the machine as it was found"

# ---- 3: SIGINT in the middle ----
rm -f "$work/progress"	# not the last run's lines
"$LAB" demo --json >"$work/report.json" 2>"$work/progress" &
pid=$!
i=0
# right after step 1: lab deploy is running (over SSH, hooks starting
# daemons in the machines) when the signal comes
until grep -q '^ 1 machines' "$work/progress" 2>/dev/null || [ $i -gt 3000 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -INT $pid
wait $pid
rc=$?
if [ $rc = 130 ] && [ "$(jq -r '.ok, (.steps[-1].error | startswith("interrupted"))' "$work/report.json" | tr '\n' ' ')" = "false true " ]; then
	pass "SIGINT: exit 130, the report says not ok"
else
	fail "SIGINT: exit 130, the report says not ok" "exit $rc; $(cat "$work/progress")"
fi
as_found "after SIGINT: the machine as it was found"

# ---- 4: Ctrl-C at a terminal: SIGINT to the whole process group, while
# the guest is being made or used ----
rm -f "$work/progress"
setsid sh -c "exec \"$LAB\" demo --json >\"$work/report.json\" 2>\"$work/progress\"" &
i=0
until grep -q '^ 4 firewall' "$work/progress" 2>/dev/null || [ $i -gt 3000 ]; do
	sleep 0.005
	i=$((i + 1))
done
pid=$(pgrep -n -f "$LAB demo --json")
[ -n "$pid" ] && kill -INT "-$pid"
wait
if [ "$(jq -r '.ok' "$work/report.json")" = false ] &&
	[ "$(jq -r '.steps[-1].error | startswith("interrupted")' "$work/report.json")" = true ]; then
	pass "Ctrl-C to the process group: the report says interrupted"
elif [ "$(jq -r '.ok' "$work/report.json")" = true ]; then
	skip "Ctrl-C to the process group" "the demo finished before the signal"
else
	fail "Ctrl-C to the process group: the report says interrupted" "$(cat "$work/progress" "$work/report.json")"
fi
as_found "after Ctrl-C to the process group: the machine as it was found"
