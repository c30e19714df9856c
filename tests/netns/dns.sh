#!/bin/sh
# lab dns against real clients, in namespaces on one bridge:
#
#   up 10.53.1.100     a fake upstream (lab dns serving example.com), the
#                      only "outside"
#   router 10.53.1.1   home.arpa: delegates alpha and beta; resolves
#   alpha 10.53.1.2    alpha.home.arpa, br0.alpha.home.arpa, its reverse zone
#   beta 10.53.1.3     beta.home.arpa; parent = router
#
# dig/kdig for record types, TCP, truncation; nsupdate with TSIG; unbound
# with a stub zone two delegations down; any machine resolves any home
# name; persistence across a restart; SIGHUP with a bad file keeps serving.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

for t in ip dig nsupdate; do
	have $t || { skip "dns" "needs $t"; exit 0; }
done
work=$(mktemp -d)
chmod 755 "$work"	# the servers run as nobody
on_exit "rm -rf $work"
KEY="hmac-sha256:labtest:$(head -c 32 /dev/urandom | base64)"

for n in up router alpha beta; do
	ns_add $n || { fail "namespace $n"; exit 0; }
done
R() { "$LAB" net --netns "${NS_PREFIX}router" "$@"; }
R link add hub type bridge up
i=0
for n in router up alpha beta; do
	if [ $n = router ]; then addr=10.53.1.1; else i=$((i + 1)); addr=10.53.1.$([ $n = up ] && echo 100 || echo $i); fi
	if [ $n = router ]; then
		R link add rtr type veth peer eth0 netns "${NS_PREFIX}router" 2>/dev/null || true
	fi
done
# router's own port on the hub
ip -n "${NS_PREFIX}router" addr add 10.53.1.1/24 dev hub
for n in up alpha beta; do
	case $n in up) a=10.53.1.100 ;; alpha) a=10.53.1.2 ;; beta) a=10.53.1.3 ;; esac
	R link add "p$n" type veth peer eth0 netns "$NS_PREFIX$n" master hub up
	"$LAB" net --netns "$NS_PREFIX$n" addr add $a/24 dev eth0
	"$LAB" net --netns "$NS_PREFIX$n" link set eth0 up
done

cat >"$work/example.zone" <<'Z'
$TTL 100
@ SOA ns hostmaster 1 3600 600 604800 30
  NS ns
ns A 10.53.1.100
www A 198.51.100.7
Z
cat >"$work/up.conf" <<C
[server]
listen = 10.53.1.100
host = up
recurse = no
state = $work/up
[zone example.com]
file = $work/example.zone
C
cat >"$work/router.conf" <<C
[server]
listen = 10.53.1.1
listen = 127.0.0.1
host = router
address = 10.53.1.1
upstream = 10.53.1.100
key = $KEY
state = $work/router
[delegate alpha]
address = 10.53.1.2
[delegate beta]
address = 10.53.1.3
C
cat >"$work/alpha.zone" <<'Z'
$ORIGIN alpha.home.arpa.
$TTL 300
@	SOA ns hostmaster 2026112500 3600 600 604800 60
	NS ns
ns	A 10.53.1.2
www	A 192.168.50.10
	AAAA fd00:50::10
mail	MX 10 www
alias	CNAME www
txt	TXT "hello world" "semi;colon"
_http._tcp SRV 0 5 80 www
caa	CAA 0 issue "letsencrypt.org"
*.wild	A 192.168.50.99
deep.ent A 192.168.50.11
leak	A 8.8.8.8
Z
i=0
while [ $i -lt 60 ]; do echo "big TXT \"record number $i with some padding to make it long\"" >>"$work/alpha.zone"; i=$((i + 1)); done
cat >"$work/alpha.conf" <<C
[server]
listen = 10.53.1.2
listen = 127.0.0.1
listen = [::1]:53
host = alpha
address = 10.53.1.2
parent = 10.53.1.1
upstream = 10.53.1.1
key = $KEY
state = $work/alpha
tcp-idle = 1s
[zone alpha.home.arpa]
file = $work/alpha.zone
dynamic = yes
[interface br0]
subnet = 192.168.50.0/24
C
cat >"$work/beta.conf" <<C
[server]
listen = 10.53.1.3
host = beta
address = 10.53.1.3
parent = 10.53.1.1
upstream = 10.53.1.1
key = $KEY
state = $work/beta
C
start() {	# name   (its pid in $work/NAME.pid)
	ip netns exec "$NS_PREFIX$1" "$LAB" dns serve -c "$work/$1.conf" -d 2>>"$work/$1.log" &
	echo $! >"$work/$1.pid"
}
for s in up router alpha beta; do start $s; done
sleep 0.5

D() { n "$1" dig +time=2 +tries=1 "@$2" "$@"; }
q() {	# ns server name type -> answers (+short)
	n "$1" dig +time=2 +tries=1 +short "@$2" "$3" "$4" 2>&1
}
st() {	# ns server name type -> status
	n "$1" dig +time=2 +tries=1 "@$2" "$3" "$4" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

A=10.53.1.2
testing "A" "q alpha $A www.alpha.home.arpa A" "192.168.50.10
" "" ""
testing "AAAA" "q alpha $A www.alpha.home.arpa AAAA" "fd00:50::10
" "" ""
testing "over IPv6, UDP and TCP" "q alpha ::1 www.alpha.home.arpa A; n alpha dig +tcp +short @::1 www.alpha.home.arpa A" "192.168.50.10
192.168.50.10
" "" ""
testing "CNAME chased inside the zone" "q alpha $A alias.alpha.home.arpa A" "www.alpha.home.arpa.
192.168.50.10
" "" ""
testing "MX" "q alpha $A mail.alpha.home.arpa MX" "10 www.alpha.home.arpa.
" "" ""
testing "MX brings the target's addresses as additional" \
	"n alpha dig +norec @$A mail.alpha.home.arpa MX | grep -c '^www.alpha.home.arpa.*IN'" "2
" "" ""
testing "TXT with two strings" "q alpha $A txt.alpha.home.arpa TXT" '"hello world" "semi;colon"
' "" ""
testing "SRV" "q alpha $A _http._tcp.alpha.home.arpa SRV" "0 5 80 www.alpha.home.arpa.
" "" ""
testing "CAA" "q alpha $A caa.alpha.home.arpa CAA" '0 issue "letsencrypt.org"
' "" ""
testing "NS" "q alpha $A alpha.home.arpa NS" "ns.alpha.home.arpa.
" "" ""
testing "SOA" "q alpha $A alpha.home.arpa SOA | cut -d' ' -f1-3" "ns.alpha.home.arpa. hostmaster.alpha.home.arpa. 2026112500
" "" ""
testing "PTR made from the A record" "q alpha $A 10.50.168.192.in-addr.arpa PTR" "www.alpha.home.arpa.
" "" ""
testing "wildcard" "q alpha $A anything.wild.alpha.home.arpa A" "192.168.50.99
" "" ""
testing "NXDOMAIN with the SOA" \
	"n alpha dig +norec @$A nope.alpha.home.arpa | grep -Ec 'status: NXDOMAIN|IN.SOA'" "2
" "" ""
testing "NODATA: NOERROR, no answer, the SOA" \
	"n alpha dig +norec @$A www.alpha.home.arpa MX | grep -Ec 'status: NOERROR|ANSWER: 0|IN.SOA'" "3
" "" ""
testing "empty non-terminal is NODATA, not NXDOMAIN" "st alpha $A ent.alpha.home.arpa A" "NOERROR
" "" ""
testing "ANY answered minimally (one RRset)" \
	"n alpha dig +norec @$A www.alpha.home.arpa ANY | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'" "1
" "" ""
testing "UDP without EDNS truncates a big answer" \
	"n alpha dig +norec +noedns +ignore @$A big.alpha.home.arpa TXT | grep -c 'flags: qr aa tc'" "1
" "" ""
testing "and TCP brings all of it" \
	"n alpha dig +norec +tcp @$A big.alpha.home.arpa TXT | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'" "60
" "" ""
if have kdig; then
	testing "kdig over TCP" "n alpha kdig +tcp +short @$A www.alpha.home.arpa A" "192.168.50.10
" "" ""
	testing "kdig: EDNS buffer advertised" "n alpha kdig +edns +norec @$A www.alpha.home.arpa | grep -c 'UDP size: 1232'" "1
" "" ""
else
	skip "kdig" "knot-dnsutils not installed"
fi
testing "TCP pipelining: two queries in one write, two answers" \
	"printf '\000\045\000\001\001\000\000\001\000\000\000\000\000\000\003www\005alpha\004home\004arpa\000\000\001\000\001\000\045\000\002\001\000\000\001\000\000\000\000\000\000\003www\005alpha\004home\004arpa\000\000\034\000\001' | n alpha socat -t2 - TCP:$A:53 | od -An -tx1 | tr -d ' \n' | grep -o 'c00c00' | wc -l" "2
" "" ""

testing "an idle TCP connection is closed" \
	"n alpha timeout 5 socat -u TCP:$A:53 - >/dev/null 2>&1; echo \$?" "0
" "" ""

# Dynamic updates: nsupdate and lab dns add, signed; PTR follows.
testing "nsupdate adds with TSIG" \
	"printf 'server $A\nzone alpha.home.arpa\nupdate add new.alpha.home.arpa 60 A 192.168.50.50\nsend\n' | n alpha nsupdate -y '$KEY'; echo \$?" "0
" "" ""
testing "the record is served" "q alpha $A new.alpha.home.arpa A" "192.168.50.50
" "" ""
testing "and its PTR" "q alpha $A 50.50.168.192.in-addr.arpa PTR" "new.alpha.home.arpa.
" "" ""
testing "the serial moved" "q alpha $A alpha.home.arpa SOA | cut -d' ' -f3" "2026112501
" "" ""
testing "a prerequisite that fails changes nothing" \
	"printf 'server $A\nzone alpha.home.arpa\nprereq nxdomain new.alpha.home.arpa\nupdate add new.alpha.home.arpa 60 A 192.168.50.51\nsend\n' | n alpha nsupdate -y '$KEY' 2>&1 | grep -o YXDOMAIN; q alpha $A new.alpha.home.arpa A" \
	"YXDOMAIN
192.168.50.50
" "" ""
testing "a wrong key is refused" \
	"printf 'server $A\nzone alpha.home.arpa\nupdate add x.alpha.home.arpa 60 A 192.168.50.52\nsend\n' | n alpha nsupdate -y 'hmac-sha256:labtest:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' 2>&1 | grep -c BADSIG; q alpha $A x.alpha.home.arpa A" "1
" "" ""
testing "lab dns add registers a guest in the interface zone" \
	"n alpha \"\$LAB\" dns add web.br0.alpha.home.arpa A 192.168.50.77 --server $A --key '$KEY'; q alpha $A web.br0.alpha.home.arpa A" "192.168.50.77
" "" ""
testing "lab dns rm removes one record" \
	"n alpha \"\$LAB\" dns rm new.alpha.home.arpa A 192.168.50.50 --server $A --key '$KEY'; st alpha $A new.alpha.home.arpa A; st alpha $A 50.50.168.192.in-addr.arpa PTR" "NXDOMAIN
NXDOMAIN
" "" ""
testing "lab dns ls lists the zone" "n alpha \"\$LAB\" dns ls br0.alpha.home.arpa --server 127.0.0.1 | grep -c 'web.br0.alpha.home.arpa. 3600 IN A 192.168.50.77'" "1
" "" ""
testing "lab dns without a key says so" "n alpha env LAB_DNS_KEY= \"\$LAB\" dns add a.alpha.home.arpa A 1.2.3.4 --server $A --key-file /nonexistent; echo \$?" \
	"lab dns: /nonexistent: No such file or directory
1
" "" ""

# Any machine resolves any home name; other names go upstream.
testing "beta resolves a name on alpha through the router's delegation" \
	"q beta 10.53.1.3 web.br0.alpha.home.arpa A" "192.168.50.77
" "" ""
testing "the router resolves it too" "q router 10.53.1.1 www.alpha.home.arpa A" "192.168.50.10
" "" ""
testing "alpha resolves beta's own name" "q alpha $A ns.beta.home.arpa A" "10.53.1.3
" "" ""
testing "other names go upstream" "q beta 10.53.1.3 www.example.com A" "198.51.100.7
" "" ""
testing "negative answers from upstream pass through" "st beta 10.53.1.3 nope.example.com A" "NXDOMAIN
" "" ""
testing "a home name pointing at a public address is dropped" "st beta 10.53.1.3 leak.alpha.home.arpa A" "SERVFAIL
" "" ""
t1=$(n beta dig +short +ttlid @10.53.1.3 www.example.com A | awk '{print $2}')
sleep 1.1
t2=$(n beta dig +noall +answer @10.53.1.3 www.example.com A | awk '{print $2}')
if [ -n "$t2" ] && [ "$t2" -lt 100 ]; then pass "cached answers count their TTL down ($t2)"; else fail "cached answers count their TTL down" "ttl $t2"; fi

# Many clients, one new name: one question upstream (cache or coalescing).
bpid=$(cat "$work/beta.pid")
upstream() {
	kill -USR1 "$bpid"
	sleep 0.2
	grep 'stats:' "$work/beta.log" | tail -n 1 | sed 's/.*upstream \([0-9]*\).*/\1/'
}
u0=$(upstream)
pids=""
i=0
while [ $i -lt 20 ]; do
	n beta dig +short @10.53.1.3 fresh.example.com A >/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
u1=$(upstream)
if [ -n "$u0" ] && [ $((u1 - u0)) = 1 ]; then
	pass "20 clients asking one new name: one upstream query"
else
	fail "20 clients asking one new name: one upstream query" "upstream before $u0, after $u1"
fi

if have unbound; then
	cat >"$work/unbound.conf" <<U
server:
  interface: 127.0.0.1
  port: 53
  do-not-query-localhost: no
  module-config: "iterator"
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: ""
  use-syslog: no
  logfile: "$work/unbound.log"
  domain-insecure: "home.arpa"
  local-zone: "home.arpa." nodefault
remote-control:
  control-enable: no
stub-zone:
  name: "home.arpa"
  stub-addr: 10.53.1.1
U
	n up unbound -d -c "$work/unbound.conf" 2>>"$work/unbound.log" &
	sleep 0.5
	testing "unbound with a stub zone resolves two delegations down" \
		"q up 127.0.0.1 web.br0.alpha.home.arpa A" "192.168.50.77
" "" ""
	testing "unbound: a name on beta" "q up 127.0.0.1 ns.beta.home.arpa A" "10.53.1.3
" "" ""
else
	skip "unbound stub zone" "unbound not installed"
fi

# Persistence and reload.
kill "$(cat "$work/alpha.pid")"
sleep 0.3
start alpha
sleep 0.4
testing "a restart loses nothing" "q alpha $A web.br0.alpha.home.arpa A; q alpha $A 77.50.168.192.in-addr.arpa PTR" "192.168.50.77
web.br0.alpha.home.arpa.
" "" ""
pid=$(cat "$work/alpha.pid")
cp "$work/alpha.conf" "$work/alpha.good"
echo "bogus line" >>"$work/alpha.conf"
kill -HUP $pid
sleep 0.3
testing "a bad reload keeps the old configuration serving" "q alpha $A www.alpha.home.arpa A; grep -c 'keeping the running configuration' $work/alpha.log" "192.168.50.10
1
" "" ""
cp "$work/alpha.good" "$work/alpha.conf"
echo "added A 192.168.50.12" >>"$work/alpha.zone"
kill -HUP $pid
sleep 0.3
testing "a good reload takes the new zone file" "q alpha $A added.alpha.home.arpa A" "192.168.50.12
" "" ""
testing "the config check prints it normalised" \
	"\"\$LAB\" dns serve -n -c $work/beta.conf | head -n 3" "[server]
listen = 10.53.1.3:53
domain = home.arpa.
" "" ""
printf '[server]\nlisten = 10.53.1.9:99999\n' >"$work/bad.conf"
testing "a bad config names file and line" "\"\$LAB\" dns serve -n -c $work/bad.conf; echo \$?" \
	"lab dns: $work/bad.conf:2: listen 10.53.1.9:99999: expected ADDRESS[:PORT] or [IPV6]:PORT
1
" "" ""
# In the background (no -d) it still stops on SIGTERM.
sed 's/^listen = 10.53.1.3$/listen = 10.53.1.3:5353/; s|^state = .*|state = '"$work"'/beta2|' "$work/beta.conf" >"$work/beta2.conf"
n beta "$LAB" dns serve -c "$work/beta2.conf"
sleep 0.5
bpid=$(ps -eo pid,args | grep -F "$work/beta2.conf" | grep -v grep | awk '{ print $1 }')
[ -n "$bpid" ] && kill -TERM $bpid
sleep 0.5
testing "in the background, SIGTERM stops it" "ps -eo args | grep -F '$work/beta2.conf' | grep -vc grep" "0
" "" ""
