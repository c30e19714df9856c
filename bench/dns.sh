#!/bin/sh
# bench/dns.sh: dnsperf against lab dns, Knot DNS and dnsmasq serving the
# same 1000-name zone, one at a time, in a network namespace of our own;
# then the resident memory of each with 100k records.
# Prints queries per second, ratios (lab / peer: above 1, lab is faster) and
# RSS. Root; DURATION=10 seconds per run by default.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/dns.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
DURATION=${DURATION:-10}
for t in dnsperf knotd dnsmasq; do
	command -v $t >/dev/null || { echo "bench/dns.sh: needs $t (apt-get install dnsperf knot dnsmasq-base)" >&2; exit 1; }
done
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	exec env LAB_BENCH_INNER=1 LAB="$LAB" DURATION="$DURATION" unshare -n sh "$0" "$@"
fi
ip link set lo up
w=$(mktemp -d)
chmod 755 "$w"	# lab dns runs as nobody once bound
trap 'kill $(jobs -p) 2>/dev/null; rm -rf $w' EXIT

zone() {	# count file hostsfile
	{
		echo '$TTL 3600'
		echo '@ SOA ns hostmaster 1 3600 600 604800 60'
		echo '  NS ns'
		echo 'ns A 10.0.0.1'
	} >"$2"
	: >"$3"
	awk -v n="$1" -v z="$2" -v h="$3" 'BEGIN {
		for (i = 0; i < n; i++) {
			ip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
			printf "host%d A %s\n", i, ip >> z
			printf "%s host%d.bench.test\n", ip, i >> h
		}
	}'
}
zone 1000 "$w/z1k" "$w/h1k"
zone 100000 "$w/z100k" "$w/h100k"
awk 'BEGIN { srand(7); for (i = 0; i < 100000; i++) printf "host%d.bench.test A\n", int(rand() * 1000) }' >"$w/queries"

start_lab() {	# zonefile port
	cat >"$w/lab.conf" <<C
[server]
listen = 127.0.0.1:$2
host = bench
recurse = no
state = $w/labstate
[zone bench.test]
file = $1
C
	"$LAB" dns serve -c "$w/lab.conf" -d >/dev/null 2>&1 &
	echo $!
}
start_knot() {
	mkdir -p "$w/knot"
	cp "$1" "$w/knot/bench.test.zone"
	cat >"$w/knot.conf" <<C
server:
    listen: 127.0.0.1@$2
    rundir: $w/knot
    user: root
database:
    storage: $w/knot
zone:
  - domain: bench.test
    file: $w/knot/bench.test.zone
    storage: $w/knot
C
	knotd -c "$w/knot.conf" >/dev/null 2>&1 &
	echo $!
}
start_dnsmasq() {	# hostsfile port
	dnsmasq -k --no-resolv --no-hosts --addn-hosts="$1" --port="$2" --listen-address=127.0.0.1 \
		--bind-interfaces --cache-size=150000 --local=/bench.test/ -u root >/dev/null 2>&1 &
	echo $!
}
wait_up() {	# port
	i=0
	while [ $i -lt 100 ]; do
		dig +short +time=1 +tries=1 -p "$1" @127.0.0.1 host1.bench.test A 2>/dev/null | grep -q 10.0.0.1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "bench: server on port $1 did not come up" >&2
	exit 1
}
qps() {	# port
	dnsperf -s 127.0.0.1 -p "$1" -d "$w/queries" -l "$DURATION" -c 4 -q 500 2>/dev/null |
		awk '/Queries per second/ {print int($4)}'
}
rss() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }

pid=$(start_lab "$w/z1k" 5310); wait_up 5310; lab_q=$(qps 5310); kill $pid; wait $pid 2>/dev/null || true
pid=$(start_knot "$w/z1k" 5311); wait_up 5311; knot_q=$(qps 5311); kill $pid; wait $pid 2>/dev/null || true
pid=$(start_dnsmasq "$w/h1k" 5312); wait_up 5312; masq_q=$(qps 5312); kill $pid; wait $pid 2>/dev/null || true

pid=$(start_lab "$w/z100k" 5320); wait_up 5320; lab_m=$(rss $pid); kill $pid; wait $pid 2>/dev/null || true
pid=$(start_knot "$w/z100k" 5321); wait_up 5321; knot_m=$(rss $pid); kill $pid; wait $pid 2>/dev/null || true
pid=$(start_dnsmasq "$w/h100k" 5322); wait_up 5322; masq_m=$(rss $pid); kill $pid; wait $pid 2>/dev/null || true

printf 'machine: %s, %s cores, kernel %s; dnsperf %ss, 4 clients, 500 in flight, UDP, same machine\n' \
	"$(uname -m)" "$(nproc)" "$(uname -r)" "$DURATION"
printf '%-28s %12s %12s\n' "server (1000-name zone)" "queries/s" "lab/peer"
printf '%-28s %12s %12s\n' "lab dns" "$lab_q" "-"
printf '%-28s %12s %12s\n' "Knot DNS $(knotd -V 2>&1 | awk '{print $NF; exit}')" "$knot_q" "$(awk -v a="$lab_q" -v b="$knot_q" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-28s %12s %12s\n' "dnsmasq $(dnsmasq -v | awk '{print $3; exit}')" "$masq_q" "$(awk -v a="$lab_q" -v b="$masq_q" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-28s %12s\n' "resident memory, 100k names" "KiB"
printf '%-28s %12s\n' "lab dns" "$lab_m"
printf '%-28s %12s\n' "Knot DNS" "$knot_m"
printf '%-28s %12s\n' "dnsmasq" "$masq_m"
