#!/bin/sh
# bench/net.sh: lab net against ip and nft, in one run on this machine.
#   1. link set-up: bridge + veth pair with one end moved into a namespace
#      + an address on each side + up, as separate commands (lab: 5, ip: 7)
#      and as one batch (lab -b: 1 process; ip -batch: 2, one per namespace)
#   2. firewall: a 200-entry ruleset applied as one transaction, lab fw apply
#      versus nft -f of the same table (as nft lists it), and versus nft -f
#      of 200 plain rules; each apply from a quiet kernel (50 ms apart)
# Prints medians (ms) and ratios peer/lab (> 1: lab is faster). Root only;
# runs in namespaces of its own. ITER=50 by default.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/net.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
ITER=${ITER:-50}
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	# A network namespace of our own is the "host" for every step.
	exec env LAB_BENCH_INNER=1 LAB="$LAB" ITER="$ITER" unshare -n sh "$0" "$@"
fi
P=lab-b-$$-peer
tmp=$(mktemp -d)
trap 'ip netns del $P 2>/dev/null; rm -rf $tmp' EXIT
ip link set lo up

now() { date +%s%N; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'; }
teardown() {
	ip link del br0 2>/dev/null || true
	ip link del v0 2>/dev/null || true
	ip netns del $P 2>/dev/null || true
}

lab_cmds() {
	"$LAB" net link add br0 type bridge up
	"$LAB" net link add v0 type veth peer v1 netns $P master br0 up
	"$LAB" net addr add 10.9.0.1/24 dev br0
	"$LAB" net --netns $P addr add 10.9.0.2/24 dev v1
	"$LAB" net --netns $P link set v1 up
}
ip_cmds() {
	ip link add br0 type bridge
	ip link set br0 up
	ip link add v0 type veth peer name v1 netns $P
	ip link set v0 master br0 up
	ip addr add 10.9.0.1/24 dev br0
	ip -n $P addr add 10.9.0.2/24 dev v1
	ip -n $P link set v1 up
}
cat >"$tmp/lab.batch" <<B
link add br0 type bridge up
link add v0 type veth peer v1 netns $P master br0 up
addr add 10.9.0.1/24 dev br0
--netns $P addr add 10.9.0.2/24 dev v1
--netns $P link set v1 up
B
printf 'link add br0 type bridge\nlink set br0 up\nlink add v0 type veth peer name v1 netns %s\nlink set v0 master br0 up\naddr add 10.9.0.1/24 dev br0\n' $P >"$tmp/ip.batch"
printf 'addr add 10.9.0.2/24 dev v1\nlink set v1 up\n' >"$tmp/ip-peer.batch"
lab_batch() { "$LAB" net -b "$tmp/lab.batch"; }
ip_batch() { ip -batch "$tmp/ip.batch" && ip -n $P -batch "$tmp/ip-peer.batch"; }

run() {	# name function
	: >"$tmp/$1"
	i=0
	while [ $i -lt "$ITER" ]; do
		ip netns add $P
		t0=$(now)
		$2
		t1=$(now)
		echo $((t1 - t0)) >>"$tmp/$1"
		# Checked every time: the set-up really happened.
		ip -n $P -4 -o addr show dev v1 | grep -q 10.9.0.2 || { echo "bench: $1 did not set up" >&2; exit 1; }
		teardown
		i=$((i + 1))
	done
}
run lab_cmds lab_cmds
run ip_cmds ip_cmds
run lab_batch lab_batch
run ip_batch ip_batch

# Firewall: 100 open ports and 100 port forwards.
conf=$tmp/fw.conf
{
	printf '[zone internal]\ninterface = br0\nmasquerade = 192.168.0.0/16\n[zone external]\ninterface = eth0\n[ports]\n'
	i=0; while [ $i -lt 100 ]; do echo "open = tcp $((2000 + i))"; i=$((i + 1)); done
	printf '[forward]\n'
	i=0; while [ $i -lt 100 ]; do echo "forward = tcp $((3000 + i)) 192.168.1.$((i + 2)):80"; i=$((i + 1)); done
} >"$conf"
"$LAB" net fw apply "$conf"
{ echo "table inet lab"; echo "delete table inet lab"; nft list table inet lab; } >"$tmp/same.nft"
{
	echo "table inet lab"; echo "delete table inet lab"
	echo "table inet lab {"; echo " chain input { type filter hook input priority 0; policy drop;"
	i=0; while [ $i -lt 200 ]; do echo "  tcp dport $((2000 + i)) accept"; i=$((i + 1)); done
	echo " }"; echo "}"
} >"$tmp/rules.nft"
fw_run() {	# name command...   (QUIET=0: back to back)
	name=$1; shift
	: >"$tmp/$name"
	i=0
	while [ $i -lt "$ITER" ]; do
		# From a quiet kernel: the previous transaction's RCU cleanup
		# (10-20 ms here) is not part of the next apply's latency.
		[ "${QUIET:-1}" = 0 ] || sleep 0.05
		t0=$(now); "$@" >/dev/null; t1=$(now)
		echo $((t1 - t0)) >>"$tmp/$name"
		i=$((i + 1))
	done
}
fw_run lab_fw "$LAB" net fw apply "$conf"
n=$(nft -j list table inet lab | jq '[.nftables[] | .set? // .map? | select(.) | .elem // [] | length] | add')
fw_run nft_same nft -f "$tmp/same.nft"
fw_run nft_rules nft -f "$tmp/rules.nft"
QUIET=0 fw_run lab_fw_b2b "$LAB" net fw apply "$conf"
QUIET=0 fw_run nft_same_b2b nft -f "$tmp/same.nft"

printf 'machine: %s, %s cores, kernel %s; %s iterations, medians\n' \
	"$(uname -m)" "$(nproc)" "$(uname -r)" "$ITER"
printf '%-52s %9s %9s %7s\n' "step" "lab ms" "peer ms" "ratio"
row() {
	l=$(median "$tmp/$2"); p=$(median "$tmp/$3")
	printf '%-52s %9s %9s %7s\n' "$1" "$l" "$p" "$(awk -v a="$l" -v b="$p" 'BEGIN {printf "%.2fx", b / a}')"
}
row "link set-up, separate commands (lab 5, ip 7)" lab_cmds ip_cmds
row "link set-up, batch (lab -b 1 proc, ip -batch 2)" lab_batch ip_batch
row "fw 200 entries ($n elements): lab vs nft -f same" lab_fw nft_same
row "fw 200 entries: lab vs nft -f 200 plain rules" lab_fw nft_rules
row "fw 200 entries, back to back (kernel RCU bound)" lab_fw_b2b nft_same_b2b
