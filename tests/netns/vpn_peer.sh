#!/bin/sh
# lab vpn peer against running gateways: wireguard-go (Debian's) and lab's
# own lab vpn run, both driven through the userspace API socket; clients
# made from the files peer add writes, run by lab vpn run, reach the
# gateway and the network behind it; wg show on the gateway sees peers come
# and go; lab dns (in the gateway's namespace) gets the peers' names.
#
#   gw: v0 10.99.0.1/24 ---- cl: v0 10.99.0.2/24
#       $I (wireguard-go) 10.88.0.1/24 fd00:88::1/64   c$$ (lab vpn run, phone)
#       $J (lab vpn run)  10.87.0.1/24                 d$$ (lab vpn run, laptop)
#       home0 (veth) 192.168.77.1/24: a "home" network behind the gateway
#       lab dns on 127.0.0.1, zone wg.labt.home.arpa
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn peer" "needs root"; exit 0; }
for t in wireguard-go wg ip busybox; do
	have $t || { skip "vpn peer" "needs $t"; exit 0; }
done
umask 077
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
# /var/run/wireguard is shared by every test on this machine: unique names
I=$(printf 'wgp%s' $$ | cut -c1-15)
J=$(printf 'wgq%s' $$ | cut -c1-15)
ns_add gw && ns_add cl || { fail "vpn peer: namespaces"; exit 0; }
ip -n "${NS_PREFIX}gw" link add v0 type veth peer v0 netns "${NS_PREFIX}cl"
ip -n "${NS_PREFIX}gw" addr add 10.99.0.1/24 dev v0
ip -n "${NS_PREFIX}cl" addr add 10.99.0.2/24 dev v0
ip -n "${NS_PREFIX}gw" link set v0 up
ip -n "${NS_PREFIX}cl" link set v0 up
ip -n "${NS_PREFIX}gw" link add home0 type veth peer home1
ip -n "${NS_PREFIX}gw" link set home1 up
ip -n "${NS_PREFIX}gw" addr add 192.168.77.1/24 dev home0
ip -n "${NS_PREFIX}gw" link set home0 up
export LAB_DNS_CONF="$work/dns.conf"
unset LAB_DNS_KEY LAB_DNS_SERVER

# ---- lab dns in the gateway's namespace, when dig can check it ----
DNS=""
if have dig; then
	KEY="hmac-sha256:labtest:$(head -c 32 /dev/urandom | base64)"
	cat >"$work/dns.conf" <<C
[server]
listen = 127.0.0.1
host = labt
recurse = no
key = $KEY
state = $work/dnsstate
user = root

[interface $I]
subnet = 10.88.0.0/24
C
	n gw "$LAB" dns serve -d -c "$work/dns.conf" 2>"$work/dns.log" &
	for i in 1 2 3 4 5 6 7 8 9 10; do
		n gw dig +short +time=1 +tries=1 @127.0.0.1 labt.home.arpa SOA 2>/dev/null | grep -q . && { DNS=1; break; }
		sleep 0.3
	done
	[ -n "$DNS" ] || fail "vpn peer: lab dns did not start" "$(cat "$work/dns.log")"
fi

# ---- the wireguard-go gateway ----
wg genkey >"$work/gw.key"
cat >"$work/$I.conf" <<C
[Interface]
PrivateKey = $(cat "$work/gw.key")
ListenPort = 51820
Address = 10.88.0.1/24, fd00:88::1/64
C
cp "$work/$I.conf" "$work/$I.orig"
n gw env WG_PROCESS_FOREGROUND=1 wireguard-go "$I" >"$work/wg-go.log" 2>&1 &
i=0
until n gw ip link show "$I" >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
n gw wg set "$I" private-key "$work/gw.key" listen-port 51820
n gw ip addr add 10.88.0.1/24 dev "$I"
n gw ip addr add fd00:88::1/64 dev "$I" nodad
n gw ip link set "$I" up

PA() { n gw "$LAB" vpn peer "$@" --conf "$work/$I.conf"; }
testing "peer add phone on a running wireguard-go gateway" \
	"PA add phone --endpoint 10.99.0.1 --no-qr -v >$work/phone.out 2>$work/phone.err; echo \$?; grep -c 'added to the running' $work/phone.err" \
	"0
1
" "" ""
C="$work/clients/$I-phone.conf"
PUB=$(sed -n 's/^PrivateKey = //p' "$C" | wg pubkey)
ADDRS=$(sed -n 's/^Address = //p' "$C" | sed 's/, / /')
testing "wg show on the gateway: the new peer, its addresses, its preshared key" \
	"n gw wg show $I allowed-ips; n gw wg show $I preshared-keys | cut -f2" \
	"$PUB	$ADDRS
$(sed -n 's/^PresharedKey = //p' "$C")
" "" ""
testing "the client's AllowedIPs: the VPN's subnets and the home network, not the way to the endpoint" \
	"sed -n 's/^AllowedIPs = //p' $C" "10.88.0.0/24, fd00:88::/64, 192.168.77.0/24
" "" ""

# the client: lab vpn run on the file peer add wrote (renamed: a short interface name)
sed '/^DNS = /d' "$C" >"$work/c$$.conf"
n cl "$LAB" vpn run "$work/c$$.conf" 2>"$work/c.log" &
i=0
until n cl ip link show "c$$" 2>/dev/null | grep -q UP || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
testing "the client reaches the gateway through the tunnel" \
	"n cl busybox ping -c 3 -W 3 -q 10.88.0.1 | grep -o '3 packets received'" "3 packets received
" "" ""
testing "and the home network behind it (a split tunnel)" \
	"n cl busybox ping -c 2 -W 3 -q 192.168.77.1 | grep -o '2 packets received'" "2 packets received
" "" ""
V6=$(sed -n 's/^Address = [^,]*, \(.*\)\/128$/\1/p' "$C")
testing "over IPv6 too" \
	"n cl busybox ping -6 -c 2 -W 3 -q fd00:88::1 | grep -o '2 packets received'" "2 packets received
" "" ""
testing "the gateway pings the client at its allocated address" \
	"n gw busybox ping -c 2 -W 3 -q ${ADDRS%%/*} | grep -o '2 packets received'" "2 packets received
" "" ""
testing "peer ls: the handshake and bytes from the running gateway" \
	"PA ls --json | tr -d ' \\n' | grep -o '\"running\":true,\"in_file\":true,\"endpoint\":\"10.99.0.2:[0-9]*\",\"latest_handshake\":[1-9][0-9]*,\"rx_bytes\":[1-9][0-9]*,\"tx_bytes\":[1-9]' | wc -l" "1
" "" ""
testing "peer ls: a table with the name and 'ago'" \
	"PA ls | awk 'NR > 1 { print \$1, (\$0 ~ /s ago/) }'" "phone 1
" "" ""
STRANGER=$(wg genkey | wg pubkey)
n gw wg set "$I" peer "$STRANGER" allowed-ips 10.88.0.250/32
testing "peer ls: a peer the running interface has and the file does not" \
	"PA ls | grep -c '^(not in file) *$STRANGER *10.88.0.250/32 *never'; PA ls --json | tr -d ' \\n' | grep -c '{\"name\":null,\"public_key\":\"$STRANGER\",\"addresses\":\\[\"10.88.0.250/32\"\\],\"running\":true,\"in_file\":false}'" \
	"1
1
" "" ""
n gw wg set "$I" peer "$STRANGER" remove
if have zbarimg; then
	PA add tablet --endpoint 10.99.0.1 --png "$work/tablet.png" >/dev/null 2>&1
	testing "the QR code of a client file decodes to exactly that file" \
		"zbarimg --raw -q -Sbinary $work/tablet.png 2>/dev/null | cmp - $work/clients/$I-tablet.conf && echo same" \
		"same
" "" ""
	PA rm tablet
fi

# ---- names in lab dns ----
if [ -n "$DNS" ]; then
	testing "lab dns: phone.wg.labt.home.arpa, A and AAAA" \
		"n gw dig +short @127.0.0.1 phone.wg.labt.home.arpa A; n gw dig +short @127.0.0.1 phone.wg.labt.home.arpa AAAA" \
		"${ADDRS%%/*}
$V6
" "" ""
	testing "lab dns: and the address back to the name" \
		"n gw dig +short @127.0.0.1 -x ${ADDRS%%/*}" "phone.wg.labt.home.arpa.
" "" ""
else
	skip "vpn peer: names in lab dns" "needs dig and lab dns"
fi

# ---- rm ----
testing "peer rm phone: gone from the running gateway, its file and the client files" \
	"PA rm phone && n gw wg show $I peers | wc -l && cmp $work/$I.conf $work/$I.orig && ls $work/clients | wc -l" \
	"0
0
" "" ""
testing "the client no longer gets through" \
	"n cl busybox ping -c 1 -W 2 -q 10.88.0.1 >/dev/null 2>&1; echo \$?" "1
" "" ""
if [ -n "$DNS" ]; then
	testing "lab dns: the name is gone" \
		"n gw dig +short @127.0.0.1 phone.wg.labt.home.arpa A | wc -l" "0
" "" ""
fi
testing "peer add after rm: the same name gets the same addresses" \
	"PA add phone --endpoint 10.99.0.1 --no-qr 2>/dev/null | sed -n 's/^Address = //p'" \
	"$(sed -n 's/^Address = //p' "$work/c$$.conf")
" "" ""
# ---- lab vpn run as the gateway ----
"$LAB" vpn genkey >"$work/j.key"
cat >"$work/$J.conf" <<C
[Interface]
PrivateKey = $(cat "$work/j.key")
ListenPort = 51821
Address = 10.87.0.1/24
C
n gw "$LAB" vpn run "$work/$J.conf" 2>"$work/j.log" &
i=0
until n gw ip link show "$J" 2>/dev/null | grep -q UP || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
n gw "$LAB" vpn peer add laptop --conf "$work/$J.conf" --endpoint 10.99.0.1 --no-qr >/dev/null 2>"$work/laptop.err"
D="$work/clients/$J-laptop.conf"
testing "peer add on a lab vpn run gateway: wg show sees it" \
	"n gw wg show $J allowed-ips | cut -f2" "$(sed -n 's/^Address = //p' "$D")
" "" ""
testing "its client file says where the gateway listens" \
	"sed -n 's/^Endpoint = //p' $D" "10.99.0.1:51821
" "" ""
cp "$D" "$work/d$$.conf"
n cl "$LAB" vpn run "$work/d$$.conf" 2>"$work/d.log" &
i=0
until n cl ip link show "d$$" 2>/dev/null | grep -q UP || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
testing "a lab client reaches a lab gateway" \
	"n cl busybox ping -c 3 -W 3 -q 10.87.0.1 | grep -o '3 packets received'" "3 packets received
" "" ""
testing "peer rm on the lab vpn run gateway: gone from wg show" \
	"n gw \"\$LAB\" vpn peer rm laptop --conf $work/$J.conf && n gw wg show $J peers | wc -l" "0
" "" ""
