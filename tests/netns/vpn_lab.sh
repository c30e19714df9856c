#!/bin/sh
# lab vpn up/down/show as daemons, lab <-> lab and wireguard-go -> lab:
# PostUp/PostDown, an endpoint given by name, a TCP stream byte for byte,
# a stream that outlives several rekeys (the timers shortened), a peer
# that roams to another address, a handshake flood answered with cookie
# replies while the tunnels still come up (lab's and wireguard-go's
# initiations carry the cookie back as mac2).
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn_lab" "needs root"; exit 0; }
for t in ip busybox socat; do
	have $t || { skip "vpn_lab" "needs $t"; exit 0; }
done
umask 077
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
ns_add a && ns_add b && ns_add c || { fail "vpn_lab: namespaces"; exit 0; }
A=wa$$ B=wb$$ C=wc$$
A=$(echo "$A" | cut -c1-15) B=$(echo "$B" | cut -c1-15) C=$(echo "$C" | cut -c1-15)
on_exit "n a \"$LAB\" vpn down $work/$A.conf 2>/dev/null; n b \"$LAB\" vpn down $work/$B.conf 2>/dev/null; rm -rf /etc/netns/${NS_PREFIX}b; rm -f /run/lab/vpn/$A.log /run/lab/vpn/$B.log"
"$LAB" net --netns "${NS_PREFIX}a" link add v0 type veth peer v0 netns "${NS_PREFIX}b" up
"$LAB" net --netns "${NS_PREFIX}a" link add v1 type veth peer v1 netns "${NS_PREFIX}c" up
"$LAB" net --netns "${NS_PREFIX}a" addr add 10.97.0.1/24 dev v0
"$LAB" net --netns "${NS_PREFIX}a" addr add 10.96.0.1/24 dev v1
"$LAB" net --netns "${NS_PREFIX}b" addr add 10.97.0.2/24 dev v0
"$LAB" net --netns "${NS_PREFIX}b" link set v0 up
"$LAB" net --netns "${NS_PREFIX}c" addr add 10.96.0.3/24 dev v1
"$LAB" net --netns "${NS_PREFIX}c" link set v1 up
# ip netns exec binds /etc/netns/NS/hosts over /etc/hosts: a name for b only
mkdir -p "/etc/netns/${NS_PREFIX}b"
printf '127.0.0.1 localhost\n10.97.0.1 gw.vpn.test\n' >"/etc/netns/${NS_PREFIX}b/hosts"
for k in a b c stranger; do "$LAB" vpn genkey >"$work/$k.key"; done
for k in a b c; do "$LAB" vpn pubkey <"$work/$k.key" >"$work/$k.pub"; done
"$LAB" vpn genpsk >"$work/psk"
cat >"$work/$A.conf" <<C
[Interface]
PrivateKey = $(cat "$work/a.key")
ListenPort = 51830
Address = 10.6.0.1/24
PostUp = echo up %i >$work/postup
PostDown = echo down %i >$work/postdown

[Peer]
PublicKey = $(cat "$work/b.pub")
PresharedKey = $(cat "$work/psk")
AllowedIPs = 10.6.0.2/32

[Peer]
PublicKey = $(cat "$work/c.pub")
AllowedIPs = 10.6.0.3/32
C
cat >"$work/$B.conf" <<C
[Interface]
PrivateKey = $(cat "$work/b.key")
ListenPort = 51831
Address = 10.6.0.2/24

[Peer]
PublicKey = $(cat "$work/a.pub")
PresharedKey = $(cat "$work/psk")
AllowedIPs = 10.6.0.0/24
Endpoint = gw.vpn.test:51830
C
# rekey every 3 s (reject after 4.5 s): a stream of 10 s crosses several
export LAB_VPN_REKEY_AFTER=3
# a's crypto on two threads (the default from 3 cores on), b's in one: the
# streams below go through both ways of doing it

testing "up: a daemon, PostUp run with %i" \
	"n a env LAB_VPN_THREADS=2 \"$LAB\" vpn up $work/$A.conf 2>/dev/null | sed 's/pid [0-9]*/pid P/'; cat $work/postup" \
	"$A: up, 2 peers (pid P, log /run/lab/vpn/$A.log)
up $A
" "" ""
testing "up twice: refused, the first one stays" \
	"n a \"$LAB\" vpn up $work/$A.conf 2>&1 | sed 's/pid [0-9]*/pid P/'" \
	"lab vpn: $A: already up (pid P); lab vpn down $A first
" "" ""
n b "$LAB" vpn up "$work/$B.conf" >/dev/null
testing "show: the endpoint given by name, resolved" \
	"n b \"$LAB\" vpn show $B | grep -E '^(interface|  endpoint|  allowed)'" \
	"interface: $B
  endpoint: 10.97.0.1:51830
  allowed ips: 10.6.0.0/24
" "" ""
testing "lab <-> lab: b pings a (b initiates)" \
	"n b busybox ping -c 3 -W 3 -q 10.6.0.1 | grep -o '3 packets received'" "3 packets received
" "" ""
testing "lab <-> lab: a pings b back" \
	"n a busybox ping -c 3 -W 3 -q 10.6.0.2 | grep -o '3 packets received'" "3 packets received
" "" ""
testing "show --json and wg show agree on the peer" \
	"n a \"$LAB\" vpn show $A --json | grep -c '\"public_key\": \"$(cat "$work/b.pub")\"'; n a wg show $A allowed-ips 2>/dev/null | grep -c '10.6.0.2/32' || echo nowg" \
	"1
1
" "" ""
head -c 4M /dev/urandom >"$work/stream"
n a socat -u TCP-LISTEN:7000,bind=10.6.0.1,reuseaddr OPEN:"$work/got",creat,trunc &
sleep 0.3
n b socat -u OPEN:"$work/stream" TCP:10.6.0.1:7000
sleep 0.5
testing "lab <-> lab: a 4 MiB TCP stream arrives byte for byte" \
	"cmp $work/stream $work/got && echo same" "same
" "" ""
testing "a's daemon runs its crypto on two threads, b's on one" \
	"ls /proc/\$(cat /run/lab/vpn/$A.pid)/task | wc -l; ls /proc/\$(cat /run/lab/vpn/$B.pid)/task | wc -l" "2
1
" "" ""
hs0=$(n b "$LAB" vpn show $B --json | awk -F': ' '/latest_handshake/ { gsub(/,/, "", $2); print $2 }')
n a socat -u TCP-LISTEN:7001,bind=10.6.0.1,reuseaddr OPEN:"$work/got2",creat,trunc &
sleep 0.3
i=0
(while [ $i -lt 40 ]; do dd if="$work/stream" bs=64k skip=$i count=1 2>/dev/null; sleep 0.25; i=$((i + 1)); done) |
	n b socat -u STDIN TCP:10.6.0.1:7001
sleep 0.5
hs1=$(n b "$LAB" vpn show $B --json | awk -F': ' '/latest_handshake/ { gsub(/,/, "", $2); print $2 }')
head -c 2560k "$work/stream" >"$work/want2"
testing "rekey every 3 s: a 10 s stream arrives whole, over newer handshakes" \
	"cmp $work/want2 $work/got2 && echo same; [ \$(( $hs1 - $hs0 )) -ge 6 ] && echo rekeyed || echo 'handshakes at $hs0 and $hs1'" \
	"same
rekeyed
" "" ""
# b moves to another address: a answers where b is now (the new address
# stays when the old one goes)
n b sysctl -qw net.ipv4.conf.v0.promote_secondaries=1
n b ip addr add 10.97.0.3/24 dev v0
n b ip addr del 10.97.0.2/24 dev v0
testing "roaming: b's new address is followed" \
	"n b busybox ping -c 2 -W 3 -q 10.6.0.1 | grep -o '2 packets received'; n a \"$LAB\" vpn show $A | grep -c 'endpoint: 10.97.0.3:51831'" \
	"2 packets received
1
" "" ""
testing "a key a does not know gets nothing" \
	"n b \"$LAB\" vpn probe --key $work/stranger.key --peer $(cat "$work/a.pub") --endpoint 10.97.0.1:51830 --timeout 2 2>&1; echo \$?" \
	"lab vpn: 10.97.0.1:51830: no handshake response (a wrong key or preshared key, or nothing there)
1
" "" ""
# A flood of initiations from c's address: a answers with cookies, and the
# tunnels that start meanwhile still come up (after a retry with mac2).
n c "$LAB" vpn probe --key "$work/stranger.key" --peer "$(cat "$work/a.pub")" \
	--endpoint 10.96.0.1:51830 --flood 14 >"$work/flood" &
flood=$!
sleep 1
n b "$LAB" vpn down "$work/$B.conf"
n b "$LAB" vpn up "$work/$B.conf" >/dev/null
t0=$(date +%s%N)
testing "under a flood: lab's initiation gets a cookie, retries with it, the tunnel comes up" \
	"n b busybox ping -c 1 -W 12 -q 10.6.0.1 | grep -o '1 packets received'" "1 packets received
" "" ""
echo "    (b's tunnel came up after $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
if have wireguard-go && have wg; then
	n c env WG_PROCESS_FOREGROUND=1 wireguard-go "$C" >"$work/wg-go.log" 2>&1 &
	i=0
	until n c ip link show "$C" >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
	n c wg set "$C" private-key "$work/c.key" peer "$(cat "$work/a.pub")" allowed-ips 10.6.0.0/24 \
		endpoint 10.96.0.1:51830
	n c ip addr add 10.6.0.3/24 dev "$C"
	n c ip link set "$C" up
	testing "under a flood: wireguard-go's initiation gets a cookie it accepts, and comes up" \
		"n c busybox ping -c 1 -W 12 -q 10.6.0.1 | grep -o '1 packets received'" "1 packets received
" "" ""
else
	skip "wireguard-go under a flood" "needs wireguard-go and wg"
fi
wait $flood
testing "the flood was answered with cookie replies" \
	"awk '{ print (\$7 > 0) }' $work/flood" "1
" "" ""
# The name of b's endpoint moves to another address of a: b resolves it
# again once the peer has been silent (both shortened to 2 s here).
n b "$LAB" vpn down "$work/$B.conf"
LAB_VPN_RERESOLVE=2 n b "$LAB" vpn up "$work/$B.conf" >/dev/null
n b busybox ping -c 1 -W 5 -q 10.6.0.1 >/dev/null
n a ip addr add 10.97.0.5/24 dev v0
printf '127.0.0.1 localhost\n10.97.0.5 gw.vpn.test\n' >"/etc/netns/${NS_PREFIX}b/hosts"
i=0
until n b "$LAB" vpn show $B | grep -q 'endpoint: 10.97.0.5:51830' || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
testing "an endpoint by name is resolved again when the peer is silent" \
	"n b \"$LAB\" vpn show $B | grep 'endpoint:'; n b busybox ping -c 1 -W 3 -q 10.6.0.1 | grep -o '1 packets received'" \
	"  endpoint: 10.97.0.5:51830
1 packets received
" "" ""
testing "a answers from the address b reached (10.97.0.5, not its first), so b's endpoint stays" \
	"n b busybox ping -c 2 -W 3 -q 10.6.0.1 | grep -o '2 packets received'; n b \"$LAB\" vpn show $B | grep 'endpoint:'" \
	"2 packets received
  endpoint: 10.97.0.5:51830
" "" ""
if have wg; then
	# wg syncconf: a file's peers become the interface's (one added, one gone)
	n a wg showconf "$A" >"$work/sync.conf"
	"$LAB" vpn genkey | "$LAB" vpn pubkey >"$work/d.pub"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.6.0.9/32\n' "$(cat "$work/d.pub")" >>"$work/sync.conf"
	awk -v c="$(cat "$work/c.pub")" '/^\[Peer\]/ { keep = 1; buf = $0; next } keep && /^PublicKey/ { drop = ($3 == c) }
		/^$/ && keep { if (!drop) print buf; buf = ""; keep = 0; drop = 0 } { if (keep) buf = buf "\n" $0; else print }
		END { if (keep && !drop) print buf }' "$work/sync.conf" >"$work/sync2.conf"
	testing "wg syncconf: a peer added, a peer removed, traffic to the rest unharmed" \
		"n a wg syncconf $A $work/sync2.conf && n a \"$LAB\" vpn show $A | grep -c '^peer: '; n a \"$LAB\" vpn show $A | grep -c 'allowed ips: 10.6.0.9/32'; n a \"$LAB\" vpn show $A | grep -c \"$(cat "$work/c.pub")\"; n b busybox ping -c 1 -W 3 -q 10.6.0.1 | grep -o '1 packets received'" \
		"2
1
0
1 packets received
" "" ""
fi
# A full tunnel (AllowedIPs 0.0.0.0/0) on b: as wg-quick, the default route
# in table 51820, rules that keep the tunnel's own packets out of it
n b "$LAB" vpn down "$work/$B.conf"
sed 's|^AllowedIPs = 10.6.0.0/24|AllowedIPs = 0.0.0.0/0|' "$work/$B.conf" >"$work/full.conf"
mv "$work/full.conf" "$work/$B.conf"
n b "$LAB" vpn up "$work/$B.conf" >/dev/null
testing "a full tunnel: a's other address is reached through it, the endpoint around it" \
	"n b ip -4 rule show | grep -c -e 'not from all fwmark 0xca6c lookup 51820' -e 'lookup main suppress_prefixlength 0'; n b ip -4 route get 10.96.0.1 | grep -o 'dev $B'; n b ip -4 route get 10.97.0.5 mark 51820 | grep -o 'dev v0'; n b busybox ping -c 1 -W 3 -q 10.96.0.1 | grep -o '1 packets received'" \
	"2
dev $B
dev v0
1 packets received
" "" ""
n b "$LAB" vpn down "$work/$B.conf"
testing "down: the full tunnel's rules are gone with it" "n b ip -4 rule show | grep -c 51820" "0
" "" ""
testing "down: PostDown run, the interface and its pid file gone, the cookies counted in its log" \
	"n a \"$LAB\" vpn down $work/$A.conf; cat $work/postdown; n a ip link show $A 2>&1 | grep -c 'does not exist'; ls /run/lab/vpn/$A.pid 2>&1 | grep -c 'No such'; grep -c 'cookie replies sent while under load' /run/lab/vpn/$A.log" \
	"down $A
1
1
1
" "" ""
testing "down again: not up" \
	"n a \"$LAB\" vpn down $work/$A.conf 2>&1; echo \$?" \
	"lab vpn: $A: not up (no live process in /run/lab/vpn/$A.pid)
1
" "" ""
