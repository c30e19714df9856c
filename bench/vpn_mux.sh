#!/bin/sh
# bench/vpn_mux.sh: lab vpn mux against sslh (sslh-select, and sslh's
# fork-per-connection server), in one run on this machine, in a network
# namespace of its own; busybox httpd behind each, curl in front.
#   1. bulk: one 1 GiB download (httpd sends it with sendfile), direct and
#      through each proxy; median time, MB/s, and the CPU time the proxy
#      itself used (utime + stime from /proc) per GiB
#   2. connections: 200 requests for a small file, one connection each
#      (sniff, connect to the backend, relay, close); median ms per request
# ITER=5 by default. Root only (for the namespace).
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/vpn_mux.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
ITER=${ITER:-5}
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	exec env LAB_BENCH_INNER=1 LAB="$LAB" ITER="$ITER" unshare -n sh "$0" "$@"
fi
for t in busybox curl sslh sslh-select; do
	command -v $t >/dev/null || { echo "bench/vpn_mux.sh: needs $t" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf $tmp' EXIT
ip link set lo up
truncate -s 1G "$tmp/big"
cat "$tmp/big" >/dev/null	# into the page cache
printf 'small\n' >"$tmp/small"
busybox httpd -f -p 127.0.0.1:9000 -h "$tmp" &
pids="$pids $!"
"$LAB" vpn mux --listen 127.0.0.1:9443 --http 127.0.0.1:9000 2>/dev/null &
lab_pid=$!
pids="$pids $lab_pid"
sslh-select -f -n -p 127.0.0.1:9444 --http 127.0.0.1:9000 >/dev/null 2>&1 &
select_pid=$!
pids="$pids $select_pid"
sslh -f -n -p 127.0.0.1:9445 --http 127.0.0.1:9000 >/dev/null 2>&1 &
pids="$pids $!"
for p in 9000 9443 9444 9445; do
	i=0
	until curl -s -o /dev/null http://127.0.0.1:$p/small || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
done

# CPU ticks of a process and its children that were reaped (sslh's forks)
ticks() { awk '{ print $14 + $15 + $16 + $17 }' /proc/$1/stat; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
hz=$(getconf CLK_TCK)

printf 'machine: %s, %s cores, kernel %s; %s iterations, medians\n' "$(uname -m)" "$(nproc)" "$(uname -r)" "$ITER"
printf '%-28s %10s %10s %16s %14s\n' "path" "1 GiB s" "MB/s" "proxy CPU s/GiB" "ms/connection"
# (sslh's forked children are not counted: it lets the kernel reap them)
for row in "direct:9000:" "lab vpn mux:9443:$lab_pid" "sslh-select:9444:$select_pid" "sslh (fork):9445:"; do
	name=${row%%:*}
	rest=${row#*:}
	port=${rest%%:*}
	pid=${rest#*:}
	t0=0
	[ -z "$pid" ] || t0=$(ticks "$pid")
	i=0
	: >"$tmp/t"
	while [ $i -lt "$ITER" ]; do
		curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:$port/big >>"$tmp/t"
		i=$((i + 1))
	done
	cpu=-
	[ -z "$pid" ] || cpu=$(awk -v a="$t0" -v b="$(ticks "$pid")" -v hz="$hz" -v n="$ITER" \
		'BEGIN { printf "%.3f", (b - a) / hz / n }')
	s=$(median <"$tmp/t")
	i=0
	: >"$tmp/c"
	while [ $i -lt "$ITER" ]; do
		t=$(date +%s%N)
		curl -s -o /dev/null "http://127.0.0.1:$port/small?[1-200]"
		echo $(( ($(date +%s%N) - t) / 200 )) >>"$tmp/c"
		i=$((i + 1))
	done
	c=$(median <"$tmp/c")
	printf '%-28s %10.3f %10.0f %16s %14.3f\n' "$name" "$s" "$(awk -v s="$s" 'BEGIN { print 1073.741824 / s }')" \
		"$cpu" "$(awk -v c="$c" 'BEGIN { print c / 1e6 }')"
done
