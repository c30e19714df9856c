#!/bin/sh
# bench/vpn.sh: lab vpn against wireguard-go (Debian's package) between two
# network namespaces over a veth pair: iperf3 TCP throughput and ping
# latency through lab <-> lab, wireguard-go <-> wireguard-go, and the bare
# veth as the ceiling (and lab with a crypto thread per core per side);
# the time of one handshake against lab's responder. Prints Mbit/s, ms and
# the ratio lab / wireguard-go (above 1, lab is faster). Root.
# SECONDS_EACH=10 per iperf3 run.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/vpn.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
T=${SECONDS_EACH:-10}
for t in iperf3 wireguard-go wg busybox; do
	command -v $t >/dev/null || { echo "bench/vpn.sh: needs $t (apt-get install iperf3 wireguard-go wireguard-tools busybox)" >&2; exit 1; }
done
w=$(mktemp -d)
A=vba$$ B=vbb$$
cleanup() {
	ip netns pids $A 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns pids $B 2>/dev/null | xargs -r kill 2>/dev/null || true
	sleep 0.3
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
	rm -f /run/lab/vpn/la$$.pid /run/lab/vpn/lb$$.pid /run/lab/vpn/la$$.log /run/lab/vpn/lb$$.log
	rm -rf "$w"
}
trap cleanup EXIT
umask 077
ip netns add $A
ip netns add $B
ip -n $A link set lo up
ip -n $B link set lo up
ip -n $A link add v0 type veth peer v0 netns $B
ip -n $A addr add 10.91.0.1/24 dev v0
ip -n $B addr add 10.91.0.2/24 dev v0
ip -n $A link set v0 up
ip -n $B link set v0 up
for k in a b; do "$LAB" vpn genkey >"$w/$k.key"; "$LAB" vpn pubkey <"$w/$k.key" >"$w/$k.pub"; done

row() { printf '%-46s %12s %s\n' "$1" "$2" "${3:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# iperf3 from B to A's address: Mbit/s received
tput() {
	ip netns exec $A iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
	sleep 0.5
	ip netns exec $B iperf3 -c "$1" -t "$T" -J 2>/dev/null |
		awk -F: '/"sum_received"/ { r = 1 } r && /"bits_per_second"/ { gsub(/[ ,]/, "", $2); printf "%.0f", $2 / 1e6; exit }'
	wait
}
rtt() {
	ip netns exec $B busybox ping -c 20 -i 0.05 -q "$1" | awk -F'[/ ]' '/round-trip/ { print $(NF-2) }'
}

echo "lab vpn bench, $(uname -r), $(nproc) cores, $(wireguard-go --version 2>&1 | head -1); iperf3 ${T}s, TCP, one stream"
veth=$(tput 10.91.0.1)
veth_rtt=$(rtt 10.91.0.1)
row "veth, no tunnel (the ceiling)" "$veth Mbit/s" "rtt $veth_rtt ms"

# ---- lab <-> lab ----
cat >"$w/la$$.conf" <<C
[Interface]
PrivateKey = $(cat "$w/a.key")
ListenPort = 51850
Address = 10.5.0.1/24
[Peer]
PublicKey = $(cat "$w/b.pub")
AllowedIPs = 10.5.0.2/32
C
cat >"$w/lb$$.conf" <<C
[Interface]
PrivateKey = $(cat "$w/b.key")
Address = 10.5.0.2/24
[Peer]
PublicKey = $(cat "$w/a.pub")
AllowedIPs = 10.5.0.0/24
Endpoint = 10.91.0.1:51850
C
ip netns exec $A "$LAB" vpn up "$w/la$$.conf" >/dev/null
ip netns exec $B "$LAB" vpn up "$w/lb$$.conf" >/dev/null
ip netns exec $B busybox ping -c 1 -W 5 10.5.0.1 >/dev/null
lab=$(tput 10.5.0.1)
lab_rtt=$(rtt 10.5.0.1)
ip netns exec $A "$LAB" vpn down "$w/la$$.conf"
ip netns exec $B "$LAB" vpn down "$w/lb$$.conf"
# the same with a crypto thread per core on each side (the default from 3
# cores on; one thread below)
LAB_VPN_THREADS=$(nproc) ip netns exec $A "$LAB" vpn up "$w/la$$.conf" >/dev/null
LAB_VPN_THREADS=$(nproc) ip netns exec $B "$LAB" vpn up "$w/lb$$.conf" >/dev/null
ip netns exec $B busybox ping -c 1 -W 5 10.5.0.1 >/dev/null
lab1=$(tput 10.5.0.1)
lab1_rtt=$(rtt 10.5.0.1)
ip netns exec $A "$LAB" vpn down "$w/la$$.conf"
ip netns exec $B "$LAB" vpn down "$w/lb$$.conf"

# ---- wireguard-go <-> wireguard-go ----
ip netns exec $A env WG_PROCESS_FOREGROUND=1 wireguard-go ga$$ >/dev/null 2>&1 &
ip netns exec $B env WG_PROCESS_FOREGROUND=1 wireguard-go gb$$ >/dev/null 2>&1 &
sleep 1
ip netns exec $A wg set ga$$ private-key "$w/a.key" listen-port 51851 peer "$(cat "$w/b.pub")" allowed-ips 10.4.0.2/32
ip netns exec $B wg set gb$$ private-key "$w/b.key" peer "$(cat "$w/a.pub")" allowed-ips 10.4.0.0/24 endpoint 10.91.0.1:51851
ip -n $A addr add 10.4.0.1/24 dev ga$$
ip -n $B addr add 10.4.0.2/24 dev gb$$
ip -n $A link set ga$$ mtu 1420 up
ip -n $B link set gb$$ mtu 1420 up
ip netns exec $B busybox ping -c 1 -W 5 10.4.0.1 >/dev/null
go=$(tput 10.4.0.1)
go_rtt=$(rtt 10.4.0.1)
row "wireguard-go <-> wireguard-go" "$go Mbit/s" "rtt $go_rtt ms"
row "lab <-> lab" "$lab Mbit/s" "rtt $lab_rtt ms"
row "lab <-> lab, a crypto thread per core" "$lab1 Mbit/s" "rtt $lab1_rtt ms"
row "throughput lab / wireguard-go" "$(ratio "$lab" "$go")x" "(goal 3x)"
row "throughput lab / veth" "$(ratio "$lab" "$veth")"

# ---- one handshake, as the initiator sees it: lab's responder ----
ip netns exec $A "$LAB" vpn up "$w/la$$.conf" >/dev/null
n=0
while [ $n -lt 21 ]; do
	# 20 ms apart: initiations in one 16.7 ms timestamp step would be replays
	sleep 0.02
	ip netns exec $B "$LAB" vpn probe --key "$w/b.key" --peer "$(cat "$w/a.pub")" --endpoint 10.91.0.1:51850 |
		awk '{ print $(NF-1) }'
	n=$((n + 1))
done | sort -n | awk '{ v[NR] = $1 } END { printf "%-46s %9.2f ms %s\n", "handshake (initiation to response), median", v[(NR + 1) / 2], "(both sides lab, 21 runs)" }'
ip netns exec $A "$LAB" vpn down "$w/la$$.conf"
