#!/bin/sh
# lab vpn mux's options: what they resolve to (-n), and each mistake named
# on one line with exit status 2.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

# what the options below and the same in a file resolve to
resolved="listen *:4000 = 0.0.0.0:4000
listen *:4000 = [::]:4000
listen [::1]:4001 = [::1]:4001
ssh 127.0.0.1:22 = 127.0.0.1:22
tls 127.0.0.1:443 = 127.0.0.1:443
default 127.0.0.1:7 = 127.0.0.1:7
tls-sni *.example [::1]:443 = [::1]:443
tls-sni a.test 127.0.0.1:4441 = 127.0.0.1:4441
timeout 2000 ms
connect-timeout 5000 ms
max-conns 100
user nobody
"
testcmd "vpn mux -n: listen and backends as resolved" \
	"vpn mux --listen '*:4000' --listen '[::1]:4001' --ssh 127.0.0.1:22 --tls-sni '*.Example=[::1]:443' --tls-sni a.test=127.0.0.1:4441 --tls 127.0.0.1:443 --default 127.0.0.1:7 --timeout 2s --max-conns 100 -n" \
	"$resolved" "" ""
testcmd "vpn mux -n: a backend with a PROXY header" \
	"vpn mux --listen 127.0.0.1:1 --http 127.0.0.1:80,proxy-v2 -n | grep http" \
	"http 127.0.0.1:80,proxy-v2 = 127.0.0.1:80
" "" ""
testcmd "vpn mux -n: a bare --timeout is milliseconds" \
	"vpn mux --listen 127.0.0.1:1 --http 127.0.0.1:80 --timeout 250 --connect-timeout 1s -n | grep timeout" \
	"timeout 250 ms
connect-timeout 1000 ms
" "" ""

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/mux.conf" <<'EOF'
# the same keys as the options
[mux]
listen = *:4000
listen = [::1]:4001
ssh = 127.0.0.1:22
tls-sni = *.Example=[::1]:443
tls-sni = a.test=127.0.0.1:4441
tls = 127.0.0.1:443
default = 127.0.0.1:7
timeout = 2s
max-conns = 100
EOF
testing "vpn mux -c FILE: the same as the options" \
	"\"\$LAB\" vpn mux -c $work/mux.conf -n" \
	"$resolved" "" ""
printf 'listen = 127.0.0.1:1\nssh = 127.0.0.1:22\nhttp = 127.0.0.1:99999\n' >"$work/b1.conf"
printf 'listen = 127.0.0.1:1\nsssh = 127.0.0.1:22\n' >"$work/b2.conf"
printf '[server]\nlisten = 127.0.0.1:1\n' >"$work/b3.conf"
printf 'listen = 127.0.0.1:1\nssh = 127.0.0.1:22\n' >"$work/b4.conf"
testcmd "vpn mux -c: a bad value names the file and line" "vpn mux -c $work/b1.conf 2>&1; echo \$?" \
	"lab vpn: $work/b1.conf:3: http 127.0.0.1:99999: expected HOST:PORT (PORT 1-65535) (see 'lab vpn -h')
2
" "" ""
testcmd "vpn mux -c: an unknown key" "vpn mux -c $work/b2.conf 2>&1; echo \$?" \
	"lab vpn: $work/b2.conf:2: unknown key \"sssh\" (see 'lab vpn -h')
2
" "" ""
testcmd "vpn mux -c: an unknown section" "vpn mux -c $work/b3.conf 2>&1; echo \$?" \
	"lab vpn: $work/b3.conf:1: unknown section [server] (keys go before any, or in [mux]) (see 'lab vpn -h')
2
" "" ""
testcmd "vpn mux -c and an option for the same key" \
	"vpn mux -c $work/b4.conf --ssh 127.0.0.1:23 2>&1; echo \$?" \
	"lab vpn: --ssh 127.0.0.1:23: given twice (see 'lab vpn -h')
2
" "" ""
testcmd "vpn mux -c: a file that is not there" "vpn mux -c $work/none.conf 2>&1; echo \$?" \
	"lab vpn: $work/none.conf: No such file or directory (see 'lab vpn -h')
2
" "" ""

# bad NAME "ARGS" "MESSAGE": one line on stderr, exit 2
bad() {
	testcmd "vpn mux: $1" "vpn mux $2 2>&1 >/dev/null; echo \$?" "lab vpn: $3 (see 'lab vpn -h')
2
" "" ""
}
bad "no --listen" "--ssh 127.0.0.1:22" "mux: listen ADDR:PORT is needed"
bad "no backend" "--listen 127.0.0.1:4000" \
	"mux: a backend is needed: ssh, tls, tls-sni, http, openvpn or default"
bad "IPv6 without brackets" "--listen ::1:22 --ssh 127.0.0.1:22" \
	"--listen ::1:22: an IPv6 address goes in brackets: [ADDR]:PORT"
bad "port 0" "--listen 127.0.0.1:0 --ssh 127.0.0.1:22" \
	"--listen 127.0.0.1:0: expected HOST:PORT (PORT 1-65535)"
bad "port past 65535" "--listen 127.0.0.1:1 --ssh 127.0.0.1:65536" \
	"--ssh 127.0.0.1:65536: expected HOST:PORT (PORT 1-65535)"
bad "no port" "--listen 127.0.0.1 --ssh 127.0.0.1:22" \
	"--listen 127.0.0.1: expected HOST:PORT (PORT 1-65535)"
bad "an unclosed bracket" "--listen '[::1:1' --ssh 127.0.0.1:22" \
	"--listen [::1:1: expected HOST:PORT (PORT 1-65535)"
bad "a backend without HOST" "--listen 127.0.0.1:1 --ssh :22" \
	"--ssh :22: expected HOST:PORT (PORT 1-65535)"
bad "an option without its value" "--listen 127.0.0.1:1 --ssh" "--ssh needs a value"
bad "a backend twice" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 --ssh 127.0.0.1:23" "--ssh 127.0.0.1:23: given twice"
bad "--tls-sni without =" "--listen 127.0.0.1:1 --tls-sni a.test" \
	"--tls-sni a.test: expected NAME=HOST:PORT (NAME may be *.SUFFIX)"
bad "--tls-sni with a name that is not one" "--listen 127.0.0.1:1 --tls-sni a/b=127.0.0.1:1" \
	"--tls-sni a/b=127.0.0.1:1: \"a/b\" is not a host name or *.SUFFIX"
bad "--tls-sni of one name twice" \
	"--listen 127.0.0.1:1 --tls-sni a.test=127.0.0.1:1 --tls-sni A.TEST=127.0.0.1:2" \
	"--tls-sni A.TEST=127.0.0.1:2: a.test given twice"
bad "--timeout not a number" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 --timeout abc" \
	"--timeout abc: expected milliseconds (or 2s, 500ms), at most an hour"
bad "--connect-timeout 0" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 --connect-timeout 0" \
	"--connect-timeout 0: more than 0"
bad "--max-conns 0" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 --max-conns 0" \
	"--max-conns 0: expected 1-1000000"
bad "a PROXY protocol version that is not one" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22,proxy-v3" \
	"--ssh 127.0.0.1:22,proxy-v3: after the comma, proxy-v1 or proxy-v2"
bad "an unknown option" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 --frob" "mux: unknown option --frob"
bad "a stray argument" "--listen 127.0.0.1:1 --ssh 127.0.0.1:22 extra" \
	"mux: unexpected argument \"extra\""
testcmd "vpn mux: an address that is not this machine's: exit 1, named" \
	"vpn mux --listen 192.0.2.1:443 --ssh 127.0.0.1:22 2>&1; echo \$?" \
	"lab vpn: listen 192.0.2.1:443: Address not available
1
" "" ""
testcmd "vpn mux: in the usage" "vpn -h | grep -c 'lab vpn mux --listen'" "1
" "" ""
