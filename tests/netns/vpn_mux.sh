#!/bin/sh
# lab vpn mux: one port, the real client and server of each protocol.
#
#   cl (client)  10.88.0.2, fd88::2 --veth-- 10.88.0.1, fd88::1  mx (mux)
#                                                port 443: lab vpn mux
#   in mx, on loopback: sshd :2222, busybox httpd :8080 (v4 and v6),
#   openssl s_server :4441 (a.test) :4442 (b.test) :4443 (no name),
#   openvpn (TLS mode, tcp-server) :1194, a server that speaks first :7000
#
# Through 10.88.0.1:443 alone: ssh runs commands on sshd; curl fetches
# files from httpd (8 MiB by sha256, over IPv6 too); openssl s_client and
# curl reach the TLS server their server name picks (exact, *.wild.test,
# none) and check its certificate; an openvpn client finishes its
# initialisation and pings the server through the tunnel; a silent client
# gets the default server's banner, and one that went quiet after two bytes
# has them delivered first; an unknown protocol reaches the
# default server byte for byte (at a name whose first address refuses); a
# backend that is down, or silent, closes the client and the log says so; --max-conns refuses the connection past it; nginx
# reads the PROXY protocol headers (v1, v2; IPv4, IPv6) the mux sends;
# SIGHUP reloads a -c file, keeping connections in flight and a good
# configuration over a bad one.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn_mux" "needs root"; exit 0; }
for t in ip ss socat busybox openssl curl bash sha256sum; do
	have $t || { skip "vpn_mux" "needs $t"; exit 0; }
done
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || on_exit_last 'rm -rf "$work"'
ns_add cl && ns_add mx || { fail "vpn_mux: namespaces"; exit 0; }
"$LAB" net --netns "${NS_PREFIX}cl" link add v0 type veth peer v0 netns "${NS_PREFIX}mx" up
"$LAB" net --netns "${NS_PREFIX}mx" link set v0 up
"$LAB" net --netns "${NS_PREFIX}cl" addr add 10.88.0.2/24 dev v0
"$LAB" net --netns "${NS_PREFIX}mx" addr add 10.88.0.1/24 dev v0
n cl ip addr add fd88::2/64 dev v0 nodad
n mx ip addr add fd88::1/64 dev v0 nodad

# wait_tcp NS HOST PORT: until something listens there (bounded)
wait_tcp() {
	i=0
	until n "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || [ $i -gt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# wait_log FILE TEXT: until TEXT is in FILE (bounded: 20 s)
wait_log() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null || [ $i -gt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# ---- the backends ----
SSHD=/usr/sbin/sshd
have_ssh=0
if [ -x $SSHD ] && have ssh && have ssh-keygen; then
	have_ssh=1
	mkdir -p /run/sshd "$work/home"
	ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$work/id"
	cat >"$work/sshd_config" <<EOF
ListenAddress 127.0.0.1:2222
HostKey $work/hostkey
PidFile $work/sshd.pid
AuthorizedKeysFile $work/id.pub
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
EOF
	printf '[10.88.0.1]:443 %s\n' "$(cut -d' ' -f1,2 "$work/hostkey.pub")" >"$work/known_hosts"
	n mx unshare -m sh -c "mount --bind '$work/home' /root && exec $SSHD -f '$work/sshd_config' -E '$work/sshd.log'"
fi

mkdir -p "$work/www"
printf 'hello through the mux\n' >"$work/www/index.txt"
head -c 8M /dev/urandom >"$work/www/big.bin"
n mx busybox httpd -f -p 8080 -h "$work/www" 2>/dev/null &

# TLS servers: self-signed certificates for a.test, b.test, and one for
# clients without a server name
for s in a b default; do
	san=DNS:$s.test
	[ $s != b ] || san="$san,DNS:*.wild.test"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$work/$s.key" -out "$work/$s.crt" -subj "/CN=$s.test" \
		-addext "subjectAltName=$san" 2>/dev/null
done
n mx openssl s_server -quiet -www -accept 127.0.0.1:4441 -cert "$work/a.crt" -key "$work/a.key" >/dev/null 2>&1 </dev/null &
n mx openssl s_server -quiet -www -accept 127.0.0.1:4442 -cert "$work/b.crt" -key "$work/b.key" >/dev/null 2>&1 </dev/null &
n mx openssl s_server -quiet -www -accept 127.0.0.1:4443 -cert "$work/default.crt" -key "$work/default.key" >/dev/null 2>&1 </dev/null &

# a server that speaks first, then answers one line
n mx socat TCP-LISTEN:7000,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:'echo default-banner; read -r l; echo "default got: $l"' 2>/dev/null &

have_ovpn=0
if have openvpn && [ -c /dev/net/tun ]; then
	have_ovpn=1
	# a test PKI: a CA, the server's and the client's certificates
	p=$work/pki
	mkdir -p "$p"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$p/ca.key" -out "$p/ca.crt" -subj /CN=lab-test-ca 2>/dev/null
	for w in server client; do
		u=serverAuth
		[ $w = server ] || u=clientAuth
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/$w.key" \
			-out "$p/$w.csr" -subj "/CN=$w" 2>/dev/null
		printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' $u >"$p/$w.ext"
		openssl x509 -req -in "$p/$w.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
			-days 2 -out "$p/$w.crt" -extfile "$p/$w.ext" 2>/dev/null
	done
	n mx openvpn --tls-server --proto tcp-server --local 127.0.0.1 --lport 1194 --dev tun \
		--ifconfig 10.8.0.1 10.8.0.2 --ca "$p/ca.crt" --cert "$p/server.crt" --key "$p/server.key" \
		--dh none --disable-dco --verb 3 >"$work/ovpn-server.log" 2>&1 &
fi

wait_tcp mx 127.0.0.1 8080
wait_tcp mx 127.0.0.1 4441
wait_tcp mx 127.0.0.1 4442
wait_tcp mx 127.0.0.1 4443
wait_tcp mx 127.0.0.1 7000
[ $have_ssh = 0 ] || wait_tcp mx 127.0.0.1 2222
[ $have_ovpn = 0 ] || wait_log "$work/ovpn-server.log" "Listening for incoming TCP connection"

# ---- the mux ----
# A name with two addresses, for the mux's namespace only (ip netns exec
# puts /etc/netns/NS/hosts over /etc/hosts): ::1 is tried first (RFC 6724)
# and refused, 127.0.0.1 answers.
mkdir -p "/etc/netns/${NS_PREFIX}mx"
on_exit "rm -rf '/etc/netns/${NS_PREFIX}mx'"
{ cat /etc/hosts; printf '::1 two.test\n127.0.0.1 two.test\n'; } >"/etc/netns/${NS_PREFIX}mx/hosts"
testing "a backend name resolves to every address it has" \
	"n mx \"\$LAB\" vpn mux --listen 10.88.0.1:443 --default two.test:7000 -n | grep default" \
	"default two.test:7000 = [::1]:7000, 127.0.0.1:7000
" "" ""
n mx "$LAB" vpn mux --listen 10.88.0.1:443 --listen '[fd88::1]:443' \
	--ssh 127.0.0.1:2222 --http '[::1]:8080' --openvpn localhost:1194 \
	--tls 127.0.0.1:4443 --tls-sni a.test=127.0.0.1:4441 --tls-sni '*.wild.test=127.0.0.1:4442' \
	--tls-sni down.test=127.0.0.1:9 --tls-sni slow.test=10.88.0.99:443 \
	--default two.test:7000 --timeout 1000 --connect-timeout 1000 \
	2>"$work/mux.log" &
wait_log "$work/mux.log" "listening on \[fd88::1\]:443"
grep -q "listening on \[fd88::1\]:443" "$work/mux.log" ||
	{ fail "vpn_mux: the mux did not start" "$(cat "$work/mux.log")"; exit 0; }
M=10.88.0.1
testing "the mux gives up root once the port is bound" \
	"grep -c 'running as nobody' $work/mux.log" "1
" "" ""

if [ $have_ssh = 1 ]; then
	S() {
		n cl ssh -F /dev/null -i "$work/id" -o UserKnownHostsFile="$work/known_hosts" \
			-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 -p 443 root@$M "$@"
	}
	testing "ssh through the mux runs a command on sshd (its host key checked)" \
		"S 'echo ssh-ok; id -u'" "ssh-ok
0
" "" ""
	head -c 1M /dev/urandom >"$work/1m"
	testing "ssh: 1 MiB up and its sha256 back" \
		"S sha256sum <$work/1m | cut -d' ' -f1; sha256sum <$work/1m | cut -d' ' -f1" \
		"$(sha256sum <"$work/1m" | cut -d' ' -f1)
$(sha256sum <"$work/1m" | cut -d' ' -f1)
" "" ""
else
	skip "vpn_mux: ssh" "needs sshd and ssh (openssh-server, openssh-client)"
fi

testing "curl: a small file from busybox httpd (an IPv6 backend)" \
	"n cl curl -sS --max-time 20 http://$M:443/index.txt" "hello through the mux
" "" ""
testing "curl: 8 MiB byte for byte (splice)" \
	"n cl curl -sS --max-time 60 http://$M:443/big.bin | sha256sum | cut -d' ' -f1" \
	"$(sha256sum <"$work/www/big.bin" | cut -d' ' -f1)
" "" ""
testing "curl to the mux's IPv6 address" \
	"n cl curl -sS --max-time 20 'http://[fd88::1]:443/index.txt'" "hello through the mux
" "" ""
testing "HTTP/1.0 from socat, which half-closes after the request: the answer still comes" \
	"printf 'GET /index.txt HTTP/1.0\r\n\r\n' | n cl socat -t 10 - TCP:$M:443 | tail -n 1" \
	"hello through the mux
" "" ""
testing "and 8 MiB after the client half-closed: the body is the last 8 MiB, byte for byte" \
	"printf 'GET /big.bin HTTP/1.0\r\n\r\n' | n cl socat -t 30 - TCP:$M:443 | tail -c 8388608 | sha256sum | cut -d' ' -f1" \
	"$(sha256sum <"$work/www/big.bin" | cut -d' ' -f1)
" "" ""

# TLS: which certificate answered, by server name
subject() {
	n cl openssl s_client -connect $M:443 "$@" </dev/null 2>/dev/null | sed -n 's/^subject=//p' | tr -d ' '
}
testing "openssl s_client -servername a.test reaches a.test's server" \
	"subject -servername a.test" "CN=a.test
" "" ""
testing "-servername x.wild.test: the *.wild.test route" \
	"subject -servername x.wild.test" "CN=b.test
" "" ""
testing "-servername deep.x.wild.test: the same route" \
	"subject -servername deep.x.wild.test" "CN=b.test
" "" ""
testing "-servername other.test (no route for it): --tls" \
	"subject -servername other.test" "CN=default.test
" "" ""
testing "no server name: --tls" "subject -noservername" "CN=default.test
" "" ""
testing "curl https://a.test through the mux verifies a.test's certificate" \
	"n cl curl -sS --max-time 20 --cacert $work/a.crt --resolve a.test:443:$M https://a.test/ | grep -o '^<HTML>'" \
	"<HTML>
" "" ""
testing "curl https://b.wild.test gets b.test's certificate (for *.wild.test), not a.test's" \
	"n cl curl -sS --max-time 20 --cacert $work/b.crt --resolve b.wild.test:443:$M https://b.wild.test/ | grep -o '^<HTML>'; n cl curl -sS --max-time 20 --cacert $work/a.crt --resolve b.wild.test:443:$M https://b.wild.test/ >/dev/null 2>&1; echo \$?" \
	"<HTML>
60
" "" ""
# openssl's own ClientHello, captured, then sent in two TCP segments
n mx timeout 5 socat -u TCP-LISTEN:4999,bind=127.0.0.1,reuseaddr OPEN:"$work/hello",creat 2>/dev/null &
cap=$!
i=0
until [ -n "$(n mx ss -Hltn 'sport = :4999')" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
n mx timeout 3 openssl s_client -connect 127.0.0.1:4999 -servername split.wild.test </dev/null >/dev/null 2>&1
wait $cap
split_hello() {
	{ head -c 60 "$work/hello"; sleep 0.5; tail -c +61 "$work/hello"; } |
		n cl socat -t 3 - TCP:$M:443 2>/dev/null | head -c 1 | od -An -tx1 | tr -d ' '
	wait_log "$work/mux.log" "tls sni=split.wild.test -> 127.0.0.1:4442"
	grep -c "tls sni=split.wild.test -> 127.0.0.1:4442" "$work/mux.log"
}
testing "a ClientHello in two segments: routed by its name, a handshake record back" \
	"split_hello" "16
1
" "" ""

# a client that says nothing, then answers the banner
testing "a silent client gets the default server's banner, and then talks to it" \
	"n cl bash -c 'exec 3<>/dev/tcp/$M/443; read -r b <&3; echo \"\$b\"; echo hi >&3; read -r r <&3; echo \"\$r\"'" \
	"default-banner
default got: hi
" "" ""
testing "a client that sends \"GE\" and waits: after --timeout the default gets it, first" \
	"n cl bash -c 'exec 3<>/dev/tcp/$M/443; printf GE >&3; read -r b <&3; echo \"\$b\"; echo \"T more\" >&3; read -r r <&3; echo \"\$r\"'" \
	"default-banner
default got: GET more
" "" ""
testing "an unknown protocol goes to --default, its first bytes first" \
	"printf 'hello there\n' | n cl socat -t 10 - TCP:$M:443" "default-banner
default got: hello there
" "" ""
testing "a backend that is down: the client is closed, nothing comes" \
	"n cl openssl s_client -connect $M:443 -servername down.test </dev/null 2>/dev/null | grep -c BEGIN; grep -c 'tls sni=down.test -> 127.0.0.1:9: backend down (127.0.0.1:9: Connection refused)' $work/mux.log" \
	"0
1
" "" ""
# 10.88.0.99 is on the link but nobody: no answer to ARP, so no SYN-ACK
testing "a backend that does not answer: closed after --connect-timeout" \
	"n cl openssl s_client -connect $M:443 -servername slow.test </dev/null 2>/dev/null | grep -c BEGIN; grep -c 'tls sni=slow.test -> 10.88.0.99:443: backend down (10.88.0.99:443: no answer in 1000 ms)' $work/mux.log" \
	"0
1
" "" ""

if [ $have_ovpn = 1 ]; then
	n cl openvpn --tls-client --proto tcp-client --remote $M 443 --dev tun \
		--ifconfig 10.8.0.2 10.8.0.1 --ca "$p/ca.crt" --cert "$p/client.crt" --key "$p/client.key" \
		--remote-cert-tls server --disable-dco --connect-retry-max 3 --verb 3 \
		--writepid "$work/ovpn-client.pid" \
		>"$work/ovpn-client.log" 2>&1 &
	wait_log "$work/ovpn-client.log" "Initialization Sequence Completed"
	testing "openvpn (TLS mode over TCP) through the mux: Initialization Sequence Completed" \
		"grep -c 'Initialization Sequence Completed' $work/ovpn-client.log" "1
" "" ""
	# the server ends its side of the handshake a moment after the client
	wait_log "$work/ovpn-server.log" "Initialization Sequence Completed"
	testing "and pings through its tunnel are answered" \
		"n cl busybox ping -c 3 -W 5 -q 10.8.0.1 | awk '/packets received/ { print (\$4 > 0) ? \"answered\" : \"no answer\" }'" \
		"answered
" "" ""
else
	skip "vpn_mux: openvpn" "needs openvpn and /dev/net/tun"
fi

# --max-conns: one held, the next refused
n mx "$LAB" vpn mux --listen 127.0.0.1:444 --default 127.0.0.1:7000 --max-conns 1 --timeout 60000 \
	2>"$work/mux1.log" &
wait_log "$work/mux1.log" "listening on"
testing "--max-conns 1: a second client is closed at once while the first is held" \
	"n mx bash -c 'exec 3<>/dev/tcp/127.0.0.1/444; sleep 0.5; socat -T 10 - TCP:127.0.0.1:444 </dev/null; echo rc=\$?'; grep -c 'refused, 1 connections already' $work/mux1.log" \
	"rc=0
1
" "" ""

# PROXY protocol to a backend that reads it: nginx, which answers with
# the addresses the header carried
if have nginx; then
	g=$work/ngx
	mkdir -p "$g"
	cat >"$g/nginx.conf" <<EOF
daemon off;
master_process off;
pid $g/nginx.pid;
error_log $g/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $g/body;
	proxy_temp_path $g/proxy;
	fastcgi_temp_path $g/fastcgi;
	uwsgi_temp_path $g/uwsgi;
	scgi_temp_path $g/scgi;
	server {
		listen 127.0.0.1:8081 proxy_protocol;
		default_type text/plain;
		location / {
			return 200 "\$proxy_protocol_addr \$proxy_protocol_port \$proxy_protocol_server_addr \$proxy_protocol_server_port\n";
		}
	}
}
EOF
	n mx nginx -c "$g/nginx.conf" -p "$g" -e "$g/error.log" 2>/dev/null &
	n mx "$LAB" vpn mux --listen 10.88.0.1:445 --listen '[fd88::1]:445' \
		--http 127.0.0.1:8081,proxy-v1 2>"$work/mux-v1.log" &
	n mx "$LAB" vpn mux --listen 10.88.0.1:446 --listen '[fd88::1]:446' \
		--http 127.0.0.1:8081,proxy-v2 2>"$work/mux-v2.log" &
	wait_tcp mx 127.0.0.1 8081
	wait_log "$work/mux-v1.log" "listening on \[fd88::1\]:445"
	wait_log "$work/mux-v2.log" "listening on \[fd88::1\]:446"
	testing "PROXY v1 to nginx: the client's address and port, and the mux's" \
		"n cl curl -sS --max-time 20 --local-port 40123 http://$M:445/" \
		"10.88.0.2 40123 10.88.0.1 445
" "" ""
	testing "PROXY v1 over IPv6" \
		"n cl curl -sS --max-time 20 --local-port 40124 'http://[fd88::1]:445/'" \
		"fd88::2 40124 fd88::1 445
" "" ""
	testing "PROXY v2 to nginx" \
		"n cl curl -sS --max-time 20 --local-port 40125 http://$M:446/" \
		"10.88.0.2 40125 10.88.0.1 446
" "" ""
	testing "PROXY v2 over IPv6" \
		"n cl curl -sS --max-time 20 --local-port 40126 'http://[fd88::1]:446/'" \
		"fd88::2 40126 fd88::1 446
" "" ""
else
	skip "vpn_mux: PROXY protocol" "needs nginx (nginx-light)"
fi

# SIGHUP: a file read again; connections in flight keep their backends; a
# bad file or a new listen address leaves the running configuration
chmod 711 "$work"	# the mux reads the file again as nobody
printf 'listen = 10.88.0.1:447\ntls = 127.0.0.1:4443\ndefault = 127.0.0.1:7000\ntimeout = 500\n' \
	>"$work/reload.conf"
n mx "$LAB" vpn mux -c "$work/reload.conf" 2>"$work/mux-reload.log" &
wait_log "$work/mux-reload.log" "listening on"
rpid=""
for p in $(ip netns pids "${NS_PREFIX}mx"); do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "vpn mux -c $work/reload.conf" && rpid=$p
done
subject447() {
	n cl openssl s_client -connect $M:447 "$@" </dev/null 2>/dev/null | sed -n 's/^subject=//p' | tr -d ' '
}
testing "before a reload: a.test has no route of its own" "subject447 -servername a.test" "CN=default.test
" "" ""
printf 'tls-sni = a.test=127.0.0.1:4441\n' >>"$work/reload.conf"
testing "SIGHUP while a connection is in flight: it carries on" \
	"n cl bash -c 'exec 3<>/dev/tcp/$M/447; read -r b <&3; echo \"\$b\"; kill -HUP $rpid; sleep 0.5; echo hi >&3; read -r r <&3; echo \"\$r\"'" \
	"default-banner
default got: hi
" "" ""
wait_log "$work/mux-reload.log" "reloaded"
testing "after it: the new route" "subject447 -servername a.test" "CN=a.test
" "" ""
printf 'tls-sni = b.test=nowhere\n' >>"$work/reload.conf"
kill -HUP $rpid
wait_log "$work/mux-reload.log" "the running configuration stays"
testing "a bad file: the log names it, and what ran stays" \
	"grep -c 'reload: $work/reload.conf:6: tls-sni b.test=nowhere: expected HOST:PORT (PORT 1-65535); the running configuration stays' $work/mux-reload.log; subject447 -servername a.test" \
	"1
CN=a.test
" "" ""
printf 'listen = 10.88.0.1:448\ndefault = 127.0.0.1:7000\n' >"$work/reload.conf"
kill -HUP $rpid
wait_log "$work/mux-reload.log" "listen addresses changed"
testing "a new listen address needs a restart: refused, named" \
	"grep -c 'reload: the listen addresses changed (a restart changes them); the running configuration stays' $work/mux-reload.log; subject447 -servername a.test" \
	"1
CN=a.test
" "" ""

# one log line per connection, with what it carried
log_lines() {
	grep -cE "^lab vpn: 10\.88\.0\.2:[0-9]+ tls sni=a\.test -> 127\.0\.0\.1:4441: up [1-9][0-9]* down [1-9][0-9]*, [0-9.]+s\$" "$work/mux.log"
	grep -E "http -> \[::1\]:8080: up [0-9]+ down [0-9]+" "$work/mux.log" |
		sed 's/.* down \([0-9]*\),.*/\1/' | awk '$1 > 8388608 { n++ } END { print n + 0 }'
	[ $have_ovpn = 0 ] || grep -cE "openvpn -> localhost:1194: up [1-9][0-9]* down [1-9][0-9]*" "$work/mux.log"
	[ $have_ssh = 0 ] || grep -cE "ssh -> 127\.0\.0\.1:2222: up [1-9][0-9]{6,} down" "$work/mux.log"
}
[ $have_ovpn = 0 ] || want_ovpn="1
"
[ $have_ssh = 0 ] || want_ssh="1
"
# the openvpn client is still connected: it has no line yet
[ $have_ovpn = 0 ] || kill "$(cat "$work/ovpn-client.pid")" 2>/dev/null
[ $have_ovpn = 0 ] || wait_log "$work/mux.log" "openvpn -> localhost:1194"
testing "the log: client, protocol, name, backend, bytes each way, duration" "log_lines" "2
2
${want_ovpn:-}${want_ssh:-}" "" ""
