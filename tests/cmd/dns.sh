#!/bin/sh
# lab dns without privilege: configuration check and its errors, zone-file
# errors with file:line, client argument errors.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

w=$(mktemp -d)
printf '$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 10.0.0.1\nwww A 10.0.0.2\n' >"$w/ok.zone"
printf '$TTL 60\n@ SOA ns h 1 2 3 4 5\nwww A 10.0.0.300\n' >"$w/bad.zone"
cat >"$w/ok.conf" <<C
[server]
listen = 127.0.0.1:5300
listen = [::1]:5300
host = alpha
upstream = 10.0.0.53
state = $w/state
udp-workers = 1
[zone lab.test]
file = $w/ok.zone
[interface br0]
subnet = 192.168.7.0/24
C
testcmd "dns: no action" 'dns; echo $?' "lab dns: needs serve, add, rm or ls (see 'lab dns -h')
2
" "" ""
testcmd "dns serve -n prints the configuration with its defaults" "dns serve -n -c $w/ok.conf" "[server]
listen = 127.0.0.1:5300
listen = [::1]:5300
domain = home.arpa.
host = alpha
recurse = yes
upstream = 10.0.0.53:53
state = $w/state
user = nobody
edns-size = 1232
cache-size = 10000
tcp-idle = 10000ms
tcp-clients = 128
udp-workers = 1

[zone lab.test]
file = $w/ok.zone

[interface br0]
subnet = 192.168.7.0/24
" "" ""
err() {	# name config-lines expected-message
	printf "$2" >"$w/t.conf"
	testcmd "dns config error: $1" "dns serve -n -c $w/t.conf; echo \$?" "lab dns: $w/t.conf:$3
1
" "" ""
}
err "unknown key" '[server]\ncolour = blue\n' '2: unknown key "colour" in [server]'
err "bad listen" '[server]\nlisten = 10.0.0.1:0\n' '2: listen 10.0.0.1:0: expected ADDRESS[:PORT] or [IPV6]:PORT'
err "bad key" '[server]\nkey = nonsense\n' '2: key: expected hmac-sha256:NAME:BASE64SECRET (at most 8 keys)'
err "edns-size out of range" '[server]\nedns-size = 100\n' '2: edns-size: expected a number from 512 to 65535, not "100"'
err "bad subnet" '[interface br0]\nsubnet = 192.168.7.0/20\n' '2: subnet 192.168.7.0/20: a prefix on an octet (v4) or nibble (v6) boundary'
err "dhcp on a dotted name" '[dhcp a.b]\n' '1: [dhcp a.b]: not an interface name'
printf '[zone lab.test]\nfile = %s\n' "$w/bad.zone" >"$w/t.conf"
testcmd "a zone-file error names the zone file and line" "dns serve -n -c $w/t.conf; echo \$?" \
	"lab dns: $w/bad.zone:3: A: bad data \"10.0.0.300\"
1
" "" ""
testcmd "missing configuration" "dns serve -n -c $w/none.conf; echo \$?" "lab dns: $w/none.conf: No such file or directory
1
" "" ""
testcmd "add: unknown type" "dns add x.lab.test FROB 1 --key hmac-sha256:k:aGVsbG8=; echo \$?" \
	"lab dns: FROB: unknown record type
1
" "" ""
testcmd "add: bad data" "dns add x.lab.test A 1.2.3 --key hmac-sha256:k:aGVsbG8=; echo \$?" \
	"lab dns: A: bad data \"1.2.3\"
1
" "" ""
testcmd "add: too few arguments" "dns add x.lab.test A; echo \$?" \
	"lab dns: add needs NAME TYPE DATA (see 'lab dns -h')
2
" "" ""
rm -rf "$w"
