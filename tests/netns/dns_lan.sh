#!/bin/sh
# lab dns on a LAN: DHCPv4 with real clients (busybox udhcpc), router
# advertisements (a namespace forms its address by SLAAC; rdisc6 reads
# RDNSS and DNSSL), mDNS with two responders claiming one name, and the
# daemon running as nobody after binding.
#
#   srv: hub0 192.168.80.1/24 fd00:80::1/64   lab dns [dhcp hub0] [ra hub0] [mdns hub0]
#   c1, c2, c3 on hub0                         clients
#   m2 on hub0 192.168.80.2                    a second mDNS responder
SUITE=netns
. "$(dirname "$0")/../lib.sh"

for t in ip dig busybox; do
	have $t || { skip "dns lan" "needs $t"; exit 0; }
done
work=$(mktemp -d)
chmod 755 "$work"
on_exit "rm -rf $work"
KEY="hmac-sha256:labtest:$(head -c 32 /dev/urandom | base64)"
for n in srv c1 c2 c3 m2; do ns_add $n || { fail "namespace $n"; exit 0; }; done
S() { "$LAB" net --netns "${NS_PREFIX}srv" "$@"; }
S link add hub0 type bridge up
S addr add 192.168.80.1/24 dev hub0
S addr add fd00:80::1/64 dev hub0
for n in c1 c2 c3 m2; do
	S link add "p$n" type veth peer eth0 netns "$NS_PREFIX$n" master hub0 up
	"$LAB" net --netns "$NS_PREFIX$n" link set eth0 up
done
ip -n "${NS_PREFIX}c3" link set eth0 address 02:00:00:00:00:07
"$LAB" net --netns "${NS_PREFIX}m2" addr add 192.168.80.2/24 dev eth0
sleep 2	# IPv6 DAD on the bridge

cat >"$work/srv.conf" <<C
[server]
listen = 192.168.80.1
listen = 127.0.0.1
host = alpha
recurse = no
key = $KEY
state = $work/state
user = nobody

[dhcp hub0]
lease = 10m
route = 10.99.0.0/16 192.168.80.254
static = 02:00:00:00:00:07 192.168.80.7 printer

[ra hub0]
interval = 5s

[mdns hub0]
service = web _http._tcp 80 path=/
C
cat >"$work/m2.conf" <<C
[server]
listen = 127.0.0.1
host = alpha
recurse = no
state = $work/m2
[mdns eth0]
C
ip netns exec "${NS_PREFIX}srv" "$LAB" dns serve -c "$work/srv.conf" -d 2>"$work/srv.log" &
srvpid=$!
sleep 1.5

cat >"$work/script" <<'E'
#!/bin/sh
case "$1" in
bound|renew) echo "$1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain lease=$lease routes=$staticroutes" >>"$EVENTS"
	ip addr add "$ip/$mask" dev "$interface" ;;
deconfig) ip -4 addr flush dev "$interface" ;;
esac
E
chmod +x "$work/script"
dhcp() {	# ns hostname [extra udhcpc args]
	n=$1 h=$2
	shift 2
	EVENTS="$work/$n.events" ip netns exec "$NS_PREFIX$n" busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 \
		-s "$work/script" -x "hostname:$h" "$@" >/dev/null 2>&1
	tail -n 1 "$work/$n.events" 2>/dev/null
}
q() { n srv dig +short +time=2 +tries=1 @127.0.0.1 "$@"; }

testing "udhcpc gets a lease with router, DNS, domain, lease time, classless routes" "dhcp c1 guest1" \
	"bound ip=192.168.80.100 mask=24 router=192.168.80.1 dns=192.168.80.1 domain=hub0.alpha.home.arpa lease=600 routes=10.99.0.0/16 192.168.80.254 0.0.0.0/0 192.168.80.1
" "" ""
testing "its host name resolves in the interface zone" "q guest1.hub0.alpha.home.arpa A" "192.168.80.100
" "" ""
testing "with the PTR" "q -x 192.168.80.100" "guest1.hub0.alpha.home.arpa.
" "" ""
testing "a second client gets the next address" "dhcp c2 guest2 | cut -d' ' -f2" "ip=192.168.80.101
" "" ""
testing "a static lease by MAC, with its configured name" "dhcp c3 whatever | cut -d' ' -f2; q printer.hub0.alpha.home.arpa A" \
	"ip=192.168.80.7
192.168.80.7
" "" ""
testing "leases are on disk" "cut -d' ' -f2,4,5 $work/state/dhcp-hub0.leases | sort" \
	"192.168.80.100 bound guest1
192.168.80.101 bound guest2
192.168.80.7 bound printer
" "" ""
testing "the same client gets the same address again" "ip -n ${NS_PREFIX}c1 -4 addr flush dev eth0; dhcp c1 guest1 | cut -d' ' -f2" \
	"ip=192.168.80.100
" "" ""
# Release: udhcpc sends RELEASE on SIGUSR2 (with -q it exits before being bound).
ip -n "${NS_PREFIX}c2" -4 addr flush dev eth0
EVENTS="$work/c2b.events" ip netns exec "${NS_PREFIX}c2" busybox udhcpc -i eth0 -f -t 4 -T 1 \
	-s "$work/script" -x hostname:guest2 >/dev/null 2>&1 &
upid=$!
i=0
while [ $i -lt 30 ] && ! grep -q bound "$work/c2b.events" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
testing "a renewed lease keeps its name" "q guest2.hub0.alpha.home.arpa A" "192.168.80.101
" "" ""
kill -USR2 $upid
sleep 0.5
kill $upid
testing "a release takes the name out of DNS" \
	"n srv dig +time=2 +tries=1 @127.0.0.1 guest2.hub0.alpha.home.arpa | grep -o 'status: [A-Z]*'; grep -c 'guest2' $work/state/dhcp-hub0.leases" \
	"status: NXDOMAIN
0
" "" ""

# Router advertisements
if n c1 sh -c 'for i in 1 2 3 4 5 6 7 8; do ip -6 addr show dev eth0 | grep -q "inet6 fd00:80:" && exit 0; sleep 1; done; exit 1'; then
	pass "a client forms an address from the advertised prefix (SLAAC)"
else
	fail "a client forms an address from the advertised prefix (SLAAC)" "$(ip -n ${NS_PREFIX}c1 -6 addr)"
fi
if have rdisc6; then
	testing "rdisc6 sees RDNSS and DNSSL" \
		"n c2 rdisc6 -1 eth0 | grep -E 'Recursive DNS server|DNS search list  *:' | tr -s ' '" \
		" Recursive DNS server : fd00:80::1
 DNS search list : hub0.alpha.home.arpa home.arpa 
" "" ""
else
	skip "rdisc6 sees RDNSS and DNSSL" "ndisc6 not installed"
fi

# mDNS: m2 starts later and wants the same name.
ip netns exec "${NS_PREFIX}m2" "$LAB" dns serve -c "$work/m2.conf" -d 2>"$work/m2.log" &
sleep 3
M() { n c1 dig +short +time=2 +tries=1 -p 5353 "$@"; }
testing "mDNS: the host answers NAME.local" "M @192.168.80.1 alpha.local A" "192.168.80.1
" "" ""
testing "mDNS: the second responder renamed itself" "grep -o 'now alpha-2.local' $work/m2.log; M @192.168.80.2 alpha-2.local A" \
	"now alpha-2.local
192.168.80.2
" "" ""
testing "mDNS: a DHCP client's name as NAME.local" "M @192.168.80.1 guest1.local A" "192.168.80.100
" "" ""
testing "DNS-SD: service types" "M @192.168.80.1 _services._dns-sd._udp.local PTR" "_http._tcp.local.
" "" ""
testing "DNS-SD: instances, SRV, TXT" \
	"M @192.168.80.1 _http._tcp.local PTR; M @192.168.80.1 web._http._tcp.local SRV; M @192.168.80.1 web._http._tcp.local TXT" \
	"web._http._tcp.local.
0 0 80 alpha.local.
\"path=/\"
" "" ""

# The daemon dropped root after binding, and still writes what it must.
uid=$(awk '/^Uid:/ {print $2}' /proc/$srvpid/status)
if [ -n "$uid" ] && [ "$uid" != 0 ]; then pass "the daemon runs as nobody (uid $uid)"; else fail "the daemon runs as nobody" "uid $uid"; fi
testing "as nobody it still takes signed updates (journal writable)" \
	"printf 'server 127.0.0.1\nzone alpha.home.arpa\nupdate add late.alpha.home.arpa 60 A 192.168.80.60\nsend\n' | n srv nsupdate -y '$KEY'; q late.alpha.home.arpa A; grep -c late $work/state/alpha.home.arpa.journal" \
	"192.168.80.60
1
" "" ""
