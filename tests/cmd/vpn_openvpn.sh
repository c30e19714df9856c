#!/bin/sh
# lab vpn openvpn without a network: what init, client, revoke and ls
# write and refuse. Every refusal is one line and a non-zero exit (2 for
# usage, 1 for failures), and leaves the directory as it was. openssl
# reads what lab writes. (tests/netns/vpn_openvpn.sh runs openvpn.)
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
D=$work/a
# a directory's state: names, modes and contents
state() { (cd "$1" && find . -type f | sort | xargs sha256sum; find . | sort | xargs stat -c '%a %n') 2>&1; }

testcmd "openvpn init: what it made" "vpn openvpn init --dir $D --remote vpn.example.org --route 192.168.1.0/24" \
	"$D: CA, server certificate, tls-crypt-v2 key, CRL, server-udp.conf (udp 1194, 10.8.0.0/24), server-tcp.conf (tcp 1194, 10.8.1.0/24)
" "" ""
testing "openvpn init: the files and their modes" "cd $D && stat -c '%a %n' * | sort -k2" \
	"644 ca.crt
600 ca.key
700 clients
644 crl.pem
644 crlnumber
644 index
644 server-tcp.conf
644 server-udp.conf
644 server.crt
600 server.key
644 settings
600 tc2-server.key
" "" ""
before=$(state "$D")
testcmd "openvpn init twice: refused (init never overwrites a CA)" "vpn openvpn init --dir $D 2>&1; echo \$?" \
	"lab vpn: $D: already holds a CA (ca.crt); remove it or use another --dir
1
" "" ""
testing "init twice: the directory is as it was" "[ \"\$(state $D)\" = \"$(echo "$before" | sed 's/[$`"\\]/\\&/g')\" ] && echo same" "same
" "" ""
mkdir "$work/full" && echo x >"$work/full/something"
testcmd "openvpn init into a directory holding other things: refused" \
	"vpn openvpn init --dir $work/full 2>&1; echo \$?; ls -a $work/full | tr '\n' ' '; ls $work | grep -c init-" \
	"lab vpn: $work/full: not empty, and not a lab openvpn directory; use another --dir
1
. .. something 0
" "" ""
mkdir "$work/empty"
testcmd "openvpn init into an empty directory: fine" "vpn openvpn init --dir $work/empty --proto udp >/dev/null; echo \$?; ls $work/empty | wc -l" \
	"0
11
" "" ""
testcmd "init --subnet with host bits: a usage error, nothing made" \
	"vpn openvpn init --dir $work/b --subnet 10.8.0.1/24 2>&1; echo \$?; ls $work | grep -c '^b'" \
	"lab vpn: --subnet 10.8.0.1/24: host bits set (the network is not 10.8.0.1/24) (see 'lab vpn -h')
2
0
" "" ""
testcmd "init with overlapping subnets" "vpn openvpn init --dir $work/b --subnet 10.8.0.0/16 --tcp-subnet 10.8.1.0/24 2>&1; echo \$?" \
	"lab vpn: --subnet 10.8.0.0/16 and --tcp-subnet 10.8.1.0/24 overlap (see 'lab vpn -h')
2
" "" ""
testcmd "init --proto other" "vpn openvpn init --dir $work/b --proto sctp 2>&1; echo \$?" \
	"lab vpn: --proto sctp: udp, tcp or both (see 'lab vpn -h')
2
" "" ""
testcmd "init with a relative --dir" "vpn openvpn init --dir rel 2>&1; echo \$?" \
	"lab vpn: rel: an absolute path without spaces, quotes, # or ; (openvpn's configuration names its files by it) (see 'lab vpn -h')
2
" "" ""
testcmd "init with a --dir openvpn could not read back" "vpn openvpn init --dir '$work/a b' 2>&1; echo \$?; ls $work | grep -c ' '" \
	"lab vpn: $work/a b: an absolute path without spaces, quotes, # or ; (openvpn's configuration names its files by it) (see 'lab vpn -h')
2
0
" "" ""
testcmd "openvpn client -h: the usage" "vpn openvpn client -h | grep -c 'lab vpn openvpn client NAME'" "1
" "" ""

testcmd "init --proto tcp: one server configuration, as openvpn reads it" \
	"vpn openvpn init --dir $work/t --proto tcp --tcp-port 443 --tcp-subnet 10.9.0.0/24 --route 192.168.1.0/24 --route 10.0.0.0/8 >/dev/null; ls $work/t | grep conf; sed 's|$work/t|DIR|' $work/t/server-tcp.conf" \
	"server-tcp.conf
# written by lab vpn openvpn init; lab vpn openvpn run starts it
port 443
proto tcp-server
dev tun
topology subnet
server 10.9.0.0 255.255.255.0
ca DIR/ca.crt
cert DIR/server.crt
key DIR/server.key
dh none
tls-crypt-v2 DIR/tc2-server.key
crl-verify DIR/crl.pem
remote-cert-tls client
tls-version-min 1.2
data-ciphers AES-256-GCM:CHACHA20-POLY1305
keepalive 10 60
persist-key
persist-tun
status DIR/status-tcp.log 5
status-version 2
management DIR/mgmt-tcp.sock unix
push \"route 192.168.1.0 255.255.255.0\"
push \"route 10.0.0.0 255.0.0.0\"
verb 3
" "" ""
testcmd "client on a tcp-only server: its .ovpn, everything inline" \
	"vpn openvpn client dave --dir $work/t --remote 192.0.2.7 | sed 's|$work/t|DIR|'; sed '/^-----BEGIN/,/^-----END/d' $work/t/clients/dave.ovpn" \
	"DIR/clients/dave.ovpn
# dave: lab vpn openvpn client dave
client
dev tun
nobind
remote 192.0.2.7 443 tcp-client
remote-cert-tls server
tls-version-min 1.2
data-ciphers AES-256-GCM:CHACHA20-POLY1305
persist-key
persist-tun
verb 3
<ca>
</ca>
<cert>
</cert>
<key>
</key>
<tls-crypt-v2>
</tls-crypt-v2>
" "" ""
testcmd "client --proto udp on a tcp-only server" "vpn openvpn client erin --dir $work/t --remote h --proto udp 2>&1; echo \$?" \
	"lab vpn: --proto udp: this server has no udp instance (see 'lab vpn -h')
2
" "" ""
testcmd "client without --remote, when init had none" "vpn openvpn client erin --dir $work/t 2>&1; echo \$?" \
	"lab vpn: no --remote HOST[:PORT] given, and init was given none either (see 'lab vpn -h')
2
" "" ""

testcmd "client alice: where it went" "vpn openvpn client alice --dir $D" "$D/clients/alice.ovpn
" "" ""
testing "alice.ovpn: init's --remote, both protocols" "grep ^remote $D/clients/alice.ovpn" \
	"remote vpn.example.org 1194 udp
remote vpn.example.org 1194 tcp-client
remote-cert-tls server
" "" ""
testcmd "client --remote HOST:PORT and [IPv6]:PORT" \
	"vpn openvpn client bob --dir $D --remote 198.51.100.1:1200 >/dev/null; grep '^remote ' $D/clients/bob.ovpn; vpn_v6=\$(\"\$LAB\" vpn openvpn client carol --dir $D --remote '[2001:db8::1]:443' --proto udp) && grep '^remote ' \$vpn_v6" \
	"remote 198.51.100.1 1200 udp
remote 198.51.100.1 1200 tcp-client
remote 2001:db8::1 443 udp
" "" ""
before=$(state "$D")
testcmd "client with a bad name: one line, exit 2" "vpn openvpn client ../evil --dir $D 2>&1; echo \$?" \
	"lab vpn: ../evil: not a client name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -, not \"server\") (see 'lab vpn -h')
2
" "" ""
testcmd "client named server: refused" "vpn openvpn client server --dir $D 2>&1 >/dev/null; echo \$?" \
	"lab vpn: server: not a client name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -, not \"server\") (see 'lab vpn -h')
2
" "" ""
testcmd "client --remote with a space" "vpn openvpn client zed --dir $D --remote 'a b' 2>&1; echo \$?" \
	"lab vpn: --remote a b: expected HOST, HOST:PORT or [IPV6]:PORT (see 'lab vpn -h')
2
" "" ""
testcmd "client alice again: refused while her certificate is valid" \
	"vpn openvpn client alice --dir $D >$work/out 2>&1; echo \$?; sed 's/serial [0-9a-f]*/serial S/' $work/out" \
	"1
lab vpn: alice: already has a certificate (serial S); revoke it first
" "" ""
testcmd "revoke of an unknown name: one line, exit 1" "vpn openvpn revoke nobody --dir $D 2>&1; echo \$?" \
	"lab vpn: nobody: no such client
1
" "" ""
testing "the refusals changed nothing" "[ \"\$(state $D)\" = \"$(echo "$before" | sed 's/[$`"\\]/\\&/g')\" ] && echo same" "same
" "" ""
testcmd "missing directory: one line, exit 1, nothing made" \
	"vpn openvpn client alice --dir $work/none 2>&1; echo \$?; \"\$LAB\" vpn openvpn revoke alice --dir $work/none 2>&1; \"\$LAB\" vpn openvpn ls --dir $work/none 2>&1; \"\$LAB\" vpn openvpn run --dir $work/none 2>&1; ls $work | grep -c none" \
	"lab vpn: $work/none: No such file or directory (run lab vpn openvpn init first)
1
lab vpn: $work/none: No such file or directory (run lab vpn openvpn init first)
lab vpn: $work/none/index: no such file (not made by lab vpn openvpn init?)
lab vpn: $work/none/settings: no such file (not made by lab vpn openvpn init?)
0
" "" ""
testcmd "revoke bob" "vpn openvpn revoke bob --dir $D" \
	"bob: revoked; crl.pem re-signed (openvpn reads it for every new connection)
" "" ""
testcmd "revoke bob again" "vpn openvpn revoke bob --dir $D 2>&1; echo \$?" \
	"lab vpn: bob: already revoked
1
" "" ""
testcmd "ls" "vpn openvpn ls --dir $D | awk '{ print \$1, \$2, \$5, length(\$6) }'" \
	"NAME STATE ADDRESS 6
alice valid - 32
bob revoked - 32
carol valid - 32
" "" ""
testcmd "ls --json" "vpn openvpn ls --dir $D --json | sed 's/\"serial\":\"[0-9a-f]*\"/S/g; s/[0-9]\\{9,\\}/T/g'" \
	"[{\"name\":\"alice\",\"state\":\"valid\",S,\"not_before\":T,\"not_after\":T,\"revoked_at\":null,\"address\":null},{\"name\":\"bob\",\"state\":\"revoked\",S,\"not_before\":T,\"not_after\":T,\"revoked_at\":T,\"address\":null},{\"name\":\"carol\",\"state\":\"valid\",S,\"not_before\":T,\"not_after\":T,\"revoked_at\":null,\"address\":null}]
" "" ""
printf 'TITLE,OpenVPN 2.6\nHEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address\nCLIENT_LIST,carol,192.0.2.9:5000,10.8.0.6,,\nEND\n' >"$D/status-udp.log"
testcmd "ls: a client in openvpn's status file is connected" "vpn openvpn ls --dir $D | awk '\$1 == \"carol\" { print \$2, \$5 }'" \
	"connected 10.8.0.6
" "" ""
touch -d '-1 minute' "$D/status-udp.log"
testcmd "ls: a status file a minute old is from an openvpn that is gone" "vpn openvpn ls --dir $D | awk '\$1 == \"carol\" { print \$2, \$5 }'" \
	"valid -
" "" ""
rm "$D/status-udp.log"
testcmd "a revoked name can be issued again (a new serial)" \
	"vpn openvpn client bob --dir $D >/dev/null && awk '\$1 == \"bob\" { print \$2 }' $D/index | sort -u | wc -l" "2
" "" ""
testcmd "run with an openvpn that is not there" "vpn openvpn run --dir $D --openvpn /nonexistent/openvpn 2>&1; echo \$?" \
	"lab vpn: /nonexistent/openvpn: not found (apt-get install openvpn, or --openvpn PATH)
1
" "" ""
if have openssl; then
	serial=$(awk '$1 == "bob" && $5 != 0 { print toupper($2) }' "$D/index")
	testing "openssl crl: the CRL lists bob's first serial, and only it" \
		"openssl crl -in $D/crl.pem -noout -text | grep -c 'Serial Number:'; openssl crl -in $D/crl.pem -noout -text | grep -c 'Serial Number: $serial'" "1
1
" "" ""
	testing "openssl crl -CAfile: the CRL's signature verifies" \
		"openssl crl -in $D/crl.pem -CAfile $D/ca.crt -noout 2>&1" "verify OK
" "" ""
	testing "openssl verify -crl_check: bob's first certificate revoked, alice's good" \
		"openssl verify -CAfile $D/ca.crt -crl_check -CRLfile $D/crl.pem $D/clients/alice.crt | sed 's|$D/||'" \
		"clients/alice.crt: OK
" "" ""
	testing "openssl: keys are P-256" "openssl pkey -in $D/clients/alice.key -noout -text | grep -o 'NIST CURVE: P-256'" \
		"NIST CURVE: P-256
" "" ""
fi
