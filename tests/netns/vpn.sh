#!/bin/sh
# lab's WireGuard handshake and data messages against wireguard-go (the
# Debian package) in a namespace: lab vpn probe makes the handshake from a
# UDP socket and pings the peer's tunnel address through it; wg show on
# the wireguard-go side sees the handshake and the bytes. A key the peer
# does not know, and a wrong preshared key, get no answer.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn" "needs root"; exit 0; }
for t in wireguard-go wg ip busybox; do
	have $t || { skip "vpn" "needs $t"; exit 0; }
done
umask 077	# keys
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
ns_add me && ns_add peer || { fail "vpn: namespaces"; exit 0; }
"$LAB" net --netns "${NS_PREFIX}me" link add v0 type veth peer v0 netns "${NS_PREFIX}peer" up
"$LAB" net --netns "${NS_PREFIX}me" addr add 10.99.0.1/24 dev v0
"$LAB" net --netns "${NS_PREFIX}peer" addr add 10.99.0.2/24 dev v0
"$LAB" net --netns "${NS_PREFIX}peer" link set v0 up
wg genkey >"$work/peer.key"
"$LAB" vpn genkey >"$work/lab.key"
"$LAB" vpn genkey >"$work/stranger.key"
wg genpsk >"$work/psk"
"$LAB" vpn genpsk >"$work/wrongpsk"
PEERPUB=$(wg pubkey <"$work/peer.key")
LABPUB=$("$LAB" vpn pubkey <"$work/lab.key")
# wireguard-go in the foreground, in the background of this shell
n peer env WG_PROCESS_FOREGROUND=1 wireguard-go wg0 >"$work/wg-go.log" 2>&1 &
i=0
until n peer ip link show wg0 >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
n peer wg set wg0 private-key "$work/peer.key" listen-port 51820 \
	peer "$LABPUB" allowed-ips 10.9.0.1/32
n peer ip addr add 10.9.0.2/24 dev wg0
n peer ip link set wg0 up
P() { n me "$LAB" vpn probe --peer "$PEERPUB" --endpoint 10.99.0.2:51820 --timeout 3 "$@"; }

testing "handshake with wireguard-go, and a ping through the tunnel" \
	"P --key $work/lab.key --ping 10.9.0.2 --from 10.9.0.1 | sed 's/: [0-9.]* ms/: T ms/'" \
	"handshake with 10.99.0.2:51820: T ms
echo reply from 10.9.0.2 through the tunnel: T ms
" "" ""
testing "wg show on the wireguard-go side: a handshake, bytes both ways" \
	"n peer wg show wg0 latest-handshakes | awk '{ print (\$2 > 0) }'; n peer wg show wg0 transfer | awk '{ print (\$2 > 0), (\$3 > 0) }'" \
	"1
1 1
" "" ""
testing "a key wireguard-go does not know gets no answer" \
	"P --key $work/stranger.key 2>&1; echo \$?" \
	"lab vpn: 10.99.0.2:51820: no handshake response (a wrong key or preshared key, or nothing there)
1
" "" ""
n peer wg set wg0 peer "$LABPUB" preshared-key "$work/psk"
testing "with the peer's preshared key" \
	"P --key $work/lab.key --psk $work/psk --ping 10.9.0.2 --from 10.9.0.1 | sed 's/: [0-9.]* ms/: T ms/'" \
	"handshake with 10.99.0.2:51820: T ms
echo reply from 10.9.0.2 through the tunnel: T ms
" "" ""
testing "a wrong preshared key gets no session" \
	"P --key $work/lab.key --psk $work/wrongpsk 2>&1; echo \$?" \
	"lab vpn: 10.99.0.2:51820: no handshake response (a wrong key or preshared key, or nothing there)
1
" "" ""
testing "a source address the peer does not allow gets no reply" \
	"P --key $work/lab.key --psk $work/psk --ping 10.9.0.2 --from 10.9.0.7 2>&1 | sed 's/: [0-9.]* ms/: T ms/'; echo \$?" \
	"handshake with 10.99.0.2:51820: T ms
lab vpn: 10.99.0.2:51820: no echo reply from 10.9.0.2 through the tunnel
0
" "" ""

# ---- lab vpn run: an interface of lab's own against wireguard-go ----
cat >"$work/lab0.conf" <<C
[Interface]
PrivateKey = $(cat "$work/lab.key")
ListenPort = 51821
Address = 10.9.0.1/24

[Peer]
PublicKey = $PEERPUB
PresharedKey = $(cat "$work/psk")
AllowedIPs = 10.9.0.2/32
Endpoint = 10.99.0.2:51820
C
n me "$LAB" vpn run "$work/lab0.conf" 2>"$work/lab0.log" &
i=0
until n me ip link show lab0 2>/dev/null | grep -q UP || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
testing "lab vpn run: the interface is up with its address and a route per allowed prefix" \
	"n me ip -4 -o addr show dev lab0 | awk '{ print \$4 }'; n me ip route show 10.9.0.2 | awk '{ print \$1, \$2, \$3 }'" \
	"10.9.0.1/24
10.9.0.2 dev lab0
" "" ""
testing "lab vpn run: ping wireguard-go through lab's interface" \
	"n me busybox ping -c 3 -W 3 -q 10.9.0.2 | grep -o '3 packets received'" "3 packets received
" "" ""
testing "lab vpn run: and wireguard-go's side pings back" \
	"n peer busybox ping -c 3 -W 3 -q 10.9.0.1 | grep -o '3 packets received'" "3 packets received
" "" ""
if have socat; then
	head -c 4M /dev/urandom >"$work/stream"
	n peer socat -u TCP-LISTEN:7000,bind=10.9.0.2,reuseaddr OPEN:"$work/got",creat,trunc &
	sleep 0.3
	n me socat -u OPEN:"$work/stream" TCP:10.9.0.2:7000
	sleep 0.5
	testing "lab vpn run: a 4 MiB TCP stream arrives byte for byte" \
		"cmp $work/stream $work/got && echo same" "same
" "" ""
fi
testing "wg show reads lab's interface (the userspace API socket)" \
	"n me wg show lab0 public-key; n me wg show lab0 peers; n me wg show lab0 endpoints; n me wg show lab0 latest-handshakes | awk '{ print (\$2 > 0) }'; n me wg show lab0 transfer | awk '{ print (\$2 > 0), (\$3 > 0) }'" \
	"$LABPUB
$PEERPUB
$PEERPUB	10.99.0.2:51820
1
1 1
" "" ""
testing "wg set changes it" \
	"n me wg set lab0 peer $PEERPUB persistent-keepalive 7 allowed-ips 10.9.0.2/32,10.8.0.0/16 && n me wg show lab0 persistent-keepalive; n me wg show lab0 allowed-ips" \
	"$PEERPUB	7
$PEERPUB	10.9.0.2/32 10.8.0.0/16
" "" ""
testing "wg showconf: what wg-quick would write" \
	"n me wg showconf lab0 | grep -E '^(ListenPort|PublicKey|PersistentKeepalive|Endpoint) '" \
	"ListenPort = 51821
PublicKey = $PEERPUB
Endpoint = 10.99.0.2:51820
PersistentKeepalive = 7
" "" ""
testing "wg set: a peer removed is gone" \
	"n me wg set lab0 peer $PEERPUB remove && n me wg show lab0 peers | wc -l" "0
" "" ""
