#!/bin/sh
# lab vpn openvpn against the real openvpn (Debian's 2.6, OpenSSL 3) in two
# namespaces: lab makes the CA, the tls-crypt-v2 keys and the
# configurations and supervises the server; openvpn clients connect over
# UDP and TCP with lab's .ovpn files and reach the server's tunnel
# addresses; openssl agrees about the certificates and the CRL; a revoked
# client is refused by the running server while others still connect; a
# client whose tls-crypt-v2 key comes from another server gets no answer;
# a dead openvpn is restarted; SIGTERM stops everything.
#
#   [srv] v0 10.99.0.1/24 ---veth--- v0 10.99.0.2/24 [cli]
#   srv: lab vpn openvpn run: udp 1194 (10.8.0.1/24), tcp 1194 (10.8.1.1/24)
#   cli: openvpn --config NAME.ovpn
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn_openvpn" "needs root"; exit 0; }
for t in openvpn openssl ip busybox timeout; do
	have $t || { skip "vpn_openvpn" "needs $t"; exit 0; }
done
[ -c /dev/net/tun ] || { skip "vpn_openvpn" "needs /dev/net/tun"; exit 0; }
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
D=$work/ovpn
ns_add srv && ns_add cli || { fail "vpn_openvpn: namespaces"; exit 0; }
"$LAB" net --netns "${NS_PREFIX}srv" link add v0 type veth peer v0 netns "${NS_PREFIX}cli" up
"$LAB" net --netns "${NS_PREFIX}srv" addr add 10.99.0.1/24 dev v0
"$LAB" net --netns "${NS_PREFIX}cli" addr add 10.99.0.2/24 dev v0
"$LAB" net --netns "${NS_PREFIX}cli" link set v0 up

# wait_for FILE PATTERN SECONDS: until PATTERN is in FILE (bounded)
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# connect NAME OVPN: an openvpn client in cli, its log in $work/NAME.log
connect() {
	: >"$work/$1.log"
	# ip netns exec execs openvpn: $! is openvpn's pid
	ip netns exec "${NS_PREFIX}cli" openvpn --config "$2" --hand-window 8 --connect-retry-max 1 \
		--suppress-timestamps >"$work/$1.log" 2>&1 &
	eval "pid_$1=\$!"
}
disconnect() {
	eval "kill \$pid_$1" 2>/dev/null
	eval "wait \$pid_$1" 2>/dev/null
}

check "init: CA, server certificate, keys, configurations" \
	"$LAB" vpn openvpn init --dir "$D" --remote 10.99.0.1 --route 192.168.77.0/24
testing "client alice (udp), carol (tcp), bob: where each .ovpn went" \
	"\"\$LAB\" vpn openvpn client alice --proto udp --dir $D; \"\$LAB\" vpn openvpn client carol --proto tcp --dir $D; \"\$LAB\" vpn openvpn client bob --proto udp --dir $D" \
	"$D/clients/alice.ovpn
$D/clients/carol.ovpn
$D/clients/bob.ovpn
" "" ""
testing "private keys and .ovpn files are 0600" \
	"stat -c '%a %n' $D/ca.key $D/server.key $D/tc2-server.key $D/clients/alice.key $D/clients/alice.ovpn | sed 's|$D/||'" \
	"600 ca.key
600 server.key
600 tc2-server.key
600 clients/alice.key
600 clients/alice.ovpn
" "" ""

# ---- openssl agrees with lab's CA ----
testing "openssl verify: server and alice verify against ca.crt with the CRL" \
	"openssl verify -CAfile $D/ca.crt -crl_check -CRLfile $D/crl.pem $D/server.crt $D/clients/alice.crt | sed 's|$D/||'" \
	"server.crt: OK
clients/alice.crt: OK
" "" ""
testing "openssl: the server certificate is for TLS servers, alice's for clients" \
	"openssl x509 -in $D/server.crt -noout -purpose | grep -E '^SSL (server|client) :'; openssl x509 -in $D/clients/alice.crt -noout -purpose | grep -E '^SSL (server|client) :'" \
	"SSL client : No
SSL server : Yes
SSL client : Yes
SSL server : No
" "" ""
testing "openssl: the CA is a CA that signs certificates and CRLs" \
	"openssl x509 -in $D/ca.crt -noout -ext basicConstraints,keyUsage | sed 's/^ *//'" \
	"X509v3 Basic Constraints: critical
CA:TRUE, pathlen:0
X509v3 Key Usage: critical
Certificate Sign, CRL Sign
" "" ""
testing "openvpn --genkey takes lab's tls-crypt-v2 server key (and checks a client key it wraps with it)" \
	"openvpn --tls-crypt-v2 $D/tc2-server.key --genkey tls-crypt-v2-client $work/ovpn-made.key >/dev/null 2>&1; echo \$?" \
	"0
" "" ""

# ---- the server, supervised ----
ip netns exec "${NS_PREFIX}srv" "$LAB" vpn openvpn run --dir "$D" 2>"$work/run.log" &
runpid=$!
on_exit "kill $runpid 2>/dev/null"
if wait_for "$work/run.log" "udp: Initialization Sequence Completed" 20 &&
	wait_for "$work/run.log" "tcp: Initialization Sequence Completed" 20; then
	pass "run: both openvpn instances up"
else
	fail "run: both openvpn instances up" "$(cat "$work/run.log")"
fi

connect alice "$D/clients/alice.ovpn"
if wait_for "$work/alice.log" "Initialization Sequence Completed" 30; then
	pass "alice connects over UDP with lab's .ovpn"
else
	fail "alice connects over UDP with lab's .ovpn" "$(tail -20 "$work/alice.log")"
fi
testing "alice reaches the server's UDP tunnel address" \
	"n cli busybox ping -c 2 -W 3 -q 10.8.0.1 | grep -o '2 packets received'" "2 packets received
" "" ""
testing "alice got the pushed route" \
	"n cli ip -4 route show 192.168.77.0/24 | grep -c 'dev tun'" "1
" "" ""
connect carol "$D/clients/carol.ovpn"
if wait_for "$work/carol.log" "Initialization Sequence Completed" 30; then
	pass "carol connects over TCP"
else
	fail "carol connects over TCP" "$(tail -20 "$work/carol.log")"
fi
testing "carol reaches the server's TCP tunnel address" \
	"n cli busybox ping -c 2 -W 3 -q 10.8.1.1 | grep -o '2 packets received'" "2 packets received
" "" ""
# openvpn rewrites its status file every 5 s
i=0
until [ "$("$LAB" vpn openvpn ls --dir "$D" | grep -c '^\(alice\|carol\) *connected')" = 2 ] || [ $i -gt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
testing "ls: alice and carol connected, with their tunnel addresses" \
	"\"\$LAB\" vpn openvpn ls --dir $D | awk '{ print \$1, \$2, \$5 }'" \
	"NAME STATE ADDRESS
alice connected 10.8.0.2
carol connected 10.8.1.2
bob valid -
" "" ""
disconnect alice
disconnect carol

# ---- revocation while the server runs ----
connect bob "$D/clients/bob.ovpn"
if wait_for "$work/bob.log" "Initialization Sequence Completed" 30; then
	pass "bob connects before revocation"
else
	fail "bob connects before revocation" "$(tail -20 "$work/bob.log")"
fi
testing "bob reaches the server through his tunnel" \
	"n cli busybox ping -c 1 -W 3 -q 10.8.0.1 | grep -o '1 packets received'" "1 packets received
" "" ""
bobserial=$(awk '$1 == "bob" { print toupper($2) }' "$D/index")
testing "revoke bob while he is connected: his live session is dropped" "\"\$LAB\" vpn openvpn revoke bob --dir $D" \
	"bob: revoked; crl.pem re-signed (openvpn reads it for every new connection)
bob: 1 live session dropped (udp)
" "" ""
testing "bob's tunnel no longer reaches the server" \
	"n cli busybox ping -c 2 -W 2 -q 10.8.0.1 | grep -o '0 packets received'" "0 packets received
" "" ""
disconnect bob
testing "openssl crl parses the CRL and lists bob's serial" \
	"openssl crl -in $D/crl.pem -noout -text | grep -c 'Serial Number: $bobserial'" "1
" "" ""
testing "openssl verify -crl_check: bob revoked, alice still good" \
	"openssl verify -CAfile $D/ca.crt -crl_check -CRLfile $D/crl.pem $D/clients/bob.crt 2>&1 | grep -o 'certificate revoked'; openssl verify -CAfile $D/ca.crt -crl_check -CRLfile $D/crl.pem $D/clients/alice.crt | sed 's|$D/||'" \
	"certificate revoked
clients/alice.crt: OK
" "" ""
connect bob "$D/clients/bob.ovpn"
wait $pid_bob 2>/dev/null
if grep -q "Initialization Sequence Completed" "$work/bob.log"; then
	fail "after revoke, the running server refuses bob" "$(tail -20 "$work/bob.log")"
elif grep -q "VERIFY ERROR.*certificate revoked.*CN=bob" "$work/run.log"; then
	pass "after revoke, the running server refuses bob"
else
	fail "after revoke, the running server refuses bob" "$(grep -i -e bob -e verify "$work/run.log" | tail -10)"
fi
connect alice "$D/clients/alice.ovpn"
if wait_for "$work/alice.log" "Initialization Sequence Completed" 30; then
	pass "alice still connects after bob's revocation"
else
	fail "alice still connects after bob's revocation" "$(tail -20 "$work/alice.log")"
fi
disconnect alice

# ---- a tls-crypt-v2 key from another server ----
"$LAB" vpn openvpn init --dir "$work/other" --proto udp >/dev/null &&
	"$LAB" vpn openvpn client mallory --dir "$work/other" --remote 10.99.0.1 >/dev/null
connect mallory "$work/other/clients/mallory.ovpn"
wait $pid_mallory 2>/dev/null
if grep -q "Initialization Sequence Completed\|Peer Connection Initiated" "$work/mallory.log"; then
	fail "a client with another server's tls-crypt-v2 key gets no answer" "$(tail -20 "$work/mallory.log")"
elif grep -q "TLS key negotiation failed" "$work/mallory.log" &&
	grep -q "Can not unwrap tls-crypt-v2 client key" "$work/run.log"; then
	pass "a client with another server's tls-crypt-v2 key gets no answer"
else
	fail "a client with another server's tls-crypt-v2 key gets no answer" "$(tail -8 "$work/mallory.log"; tail -8 "$work/run.log")"
fi

# ---- supervision ----
udppid=$(sed -n 's/.*udp: started openvpn (pid \([0-9]*\)).*/\1/p' "$work/run.log" | tail -1)
kill -9 "$udppid"
i=0
until [ "$(grep -c 'udp: started openvpn' "$work/run.log")" -ge 2 ] || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q "udp: openvpn was killed by signal 9" "$work/run.log" &&
	[ "$(grep -c 'udp: started openvpn' "$work/run.log")" -ge 2 ] &&
	! kill -0 "$udppid" 2>/dev/null; then
	pass "run: a killed openvpn is started again"
else
	fail "run: a killed openvpn is started again" "$(tail -10 "$work/run.log")"
fi
i=0
until [ "$(grep -c 'udp: Initialization Sequence Completed' "$work/run.log")" -ge 2 ] || [ $i -gt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
connect alice "$D/clients/alice.ovpn"
if wait_for "$work/alice.log" "Initialization Sequence Completed" 30; then
	pass "alice connects to the restarted instance"
else
	fail "alice connects to the restarted instance" "$(tail -20 "$work/alice.log")"
fi
disconnect alice
# SIGHUP: passed to both openvpns, which restart in place (same pids)
kill -HUP $runpid
i=0
until [ "$(grep -c 'SIGHUP\[hard,\] received, process restarting' "$work/run.log")" -ge 2 ] || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
testing "SIGHUP: both openvpns reload, none is restarted" \
	"grep -c 'SIGHUP: reloading' $work/run.log; grep -c 'SIGHUP\[hard,\] received, process restarting' $work/run.log; grep -c 'started openvpn' $work/run.log" \
	"2
2
3
" "" ""
kill -TERM $runpid
wait $runpid
rc=$?
testing "SIGTERM: run stops its openvpns and exits 0" \
	"echo $rc; ip netns pids ${NS_PREFIX}srv | wc -l" "0
0
" "" ""
