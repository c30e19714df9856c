#!/bin/sh
# lab vpn bastion without privilege: rules and keys in normal form (-n),
# and one clear line with exit 2 for each bad option.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
# three key types, as ssh-keygen writes them, and lines the bastion skips
if have ssh-keygen; then
	ssh-keygen -q -t ed25519 -N '' -f "$w/ed" -C alice@laptop
	ssh-keygen -q -t ecdsa -N '' -f "$w/ec" -C bob
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$w/rsa" -C carol
else
	skip "vpn bastion: keys" "needs ssh-keygen"
	exit 0
fi
{
	echo "# the lab's admins"
	cat "$w/ed.pub"
	echo
	cat "$w/ec.pub" "$w/rsa.pub"
	echo "restrict,port-forwarding $(cat "$w/ed.pub")"
	echo "ssh-dss AAAAB3NzaC1kc3MAAACBAP= old"
	echo "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ= liar"
} >"$w/ak"
fp() { ssh-keygen -lf "$1" | awk '{ print $2 }'; }
B() { "$LAB" vpn bastion --authorized-keys "$w/ak" "$@"; }

testing "vpn bastion -n: rules in normal form, the keys it takes, the lines it skips" \
	"B -n --allow 10.0.0.0/8 --allow '*.home.arpa:22,443' --allow 'host:*' --allow '[fd00::/8]:22,8000-8099' --allow '!10.1.0.0/16:*' --allow .lan --allow ROUTER.Lan. --allow 10.2.3.4 --allow fd00::1 2>&1" \
	"lab vpn: $w/ak:6: key options are not supported (the key is not accepted): line ignored
lab vpn: $w/ak:7: unsupported key type (ed25519, ecdsa, rsa): line ignored
lab vpn: $w/ak:8: the key does not hold a ssh-ed25519 key: line ignored
allow 10.0.0.0/8:22
allow *.home.arpa:22,443
allow host:*
allow [fd00::/8]:22,8000-8099
allow !10.1.0.0/16:*
allow *.lan:22
allow router.lan:22
allow 10.2.3.4:22
allow [fd00::1]:22
key ssh-ed25519 $(fp "$w/ed.pub") alice@laptop
key ecdsa-sha2-nistp256 $(fp "$w/ec.pub") bob
key ssh-rsa $(fp "$w/rsa.pub") carol
" "" ""

# bad options: one line, exit 2
testing "a missing authorized_keys file" \
	"\"\$LAB\" vpn bastion --authorized-keys $w/nope --allow 10.0.0.0/8 2>&1; echo \$?" \
	"lab vpn: --authorized-keys $w/nope: No such file or directory
2
" "" ""
grep -e restrict -e ssh-dss "$w/ak" >"$w/ak-none"
testing "an authorized_keys file without a usable key" \
	"{ \"\$LAB\" vpn bastion --authorized-keys $w/ak-none --allow 10.0.0.0/8 2>&1; echo \$?; } | tail -2" \
	"lab vpn: --authorized-keys $w/ak-none: no key it could use
2
" "" ""
testcmd "without --authorized-keys" "vpn bastion --allow 10.0.0.0/8 2>&1; echo \$?" \
	"lab vpn: bastion: --authorized-keys FILE is required (see 'lab vpn -h')
2
" "" ""
testing "without --allow" "B 2>&1; echo \$?" \
	"lab vpn: bastion: at least one --allow RULE is required (see 'lab vpn -h')
2
" "" ""
for r in "10.0.0.1/8|host bits set (the network is 10.0.0.0/8)" \
	"10.0.0.0/33|not an address or a network" \
	"10.0.0.300|not an address, a network, a host name or *.suffix" \
	"host:0|ports: numbers 1-65535, ranges low-high" \
	"host:22-21|ports: numbers 1-65535, ranges low-high" \
	"host:22,,80|ports: *, or a list such as 22,443,8000-8099" \
	"!router.lan|a deny rule (!) takes an address or network, not a name" \
	"[10.0.0.1]:22|brackets are for IPv6 addresses" \
	"[fd00::1|an opening [ without its ]" \
	"*.|not a DNS suffix (*.example.lan or .example.lan)" \
	"bad_name!|not an address, a network, a host name or *.suffix" \
	":22|no host, address or name" \
	"router.lan:|ports: *, or a list such as 22,443,8000-8099"; do
	rule=${r%%|*}
	testing "a bad rule: $rule" "B --allow '$rule' 2>&1; echo \$?" "lab vpn: --allow $rule: ${r#*|}
2
" "" ""
done
for l in "10.0.0.1|expected ADDRESS:PORT ([ADDRESS]:PORT for IPv6)" \
	"10.0.0.1:99999|expected ADDRESS:PORT ([ADDRESS]:PORT for IPv6)" \
	"localhost:22|localhost is not an IP address" \
	"[::1:22|expected ADDRESS:PORT ([ADDRESS]:PORT for IPv6)"; do
	a=${l%%|*}
	testing "a bad listen address: $a" "B --allow 10.0.0.0/8 --listen '$a' 2>&1; echo \$?" \
		"lab vpn: --listen $a: ${l#*|}
2
" "" ""
done
testing "a bad --max-auth-fail" "B --allow 10.0.0.0/8 --max-auth-fail many 2>&1; echo \$?" \
	"lab vpn: --max-auth-fail many: a number (0: no limit)
2
" "" ""
testing "a bad --ban" "B --allow 10.0.0.0/8 --ban 10x 2>&1; echo \$?" \
	"lab vpn: --ban 10x: a duration of a second or more (30s, 10m, 1h)
2
" "" ""
grep -v -e restrict -e dss -e liar "$w/ak" >"$w/ak-ok"
cp "$w/ed" "$w/hostkey"
chmod 644 "$w/hostkey"
testing "a host key others can read is refused" \
	"\"\$LAB\" vpn bastion -d --authorized-keys $w/ak-ok --allow 10.0.0.0/8 --host-key $w/hostkey --listen 127.0.0.1:1 2>&1; echo \$?" \
	"lab vpn: host key $w/hostkey: readable by others (mode 644): chmod 600 it
1
" "" ""
testing "a listen address that is not this machine's" \
	"\"\$LAB\" vpn bastion -d --authorized-keys $w/ak-ok --allow 10.0.0.0/8 --host-key $w/new/key --listen 192.0.2.1:2200 2>&1; echo \$?; stat -c %a $w/new/key" \
	"lab vpn: listen on 192.0.2.1 port 2200: Address not available
1
600
" "" ""
sum=$(sha256sum <"$w/new/key")
testing "the host key made on the first start is used again after" \
	"\"\$LAB\" vpn bastion -d --authorized-keys $w/ak-ok --allow 10.0.0.0/8 --host-key $w/new/key --listen 192.0.2.1:2200 2>/dev/null; sha256sum <$w/new/key" \
	"$sum
" "" ""
testing "its public half lies beside it, as ssh-keygen would write it" \
	"{ cut -d' ' -f1,2 $w/new/key.pub; ssh-keygen -y -f $w/new/key | cut -d' ' -f1,2; } | uniq | cut -c1-12" \
	"ssh-ed25519 
" "" ""

# --conf: the same settings in a file (lib/conf), the command line after it
cat >"$w/bastion.conf" <<C
# the lab's bastion
listen = 10.0.0.1:2200
authorized-keys = $w/ak-ok
allow = 10.0.0.0/8
allow = *.lan:22,443   # the lan
max-auth-fail = 3
C
testcmd "vpn bastion --conf: settings from a file, options added after it" \
	"vpn bastion -n --conf $w/bastion.conf --allow '192.168.0.0/16:*'" \
	"allow 10.0.0.0/8:22
allow *.lan:22,443
allow 192.168.0.0/16:*
key ssh-ed25519 $(fp "$w/ed.pub") alice@laptop
key ecdsa-sha2-nistp256 $(fp "$w/ec.pub") bob
key ssh-rsa $(fp "$w/rsa.pub") carol
" "" ""
printf 'authorized-keys = %s\nallow = 10.0.0.0/8\nallow = 10.0.0.1/8\n' "$w/ak-ok" >"$w/bad1.conf"
testcmd "a bad rule in --conf names the file and line" "vpn bastion -n --conf $w/bad1.conf 2>&1; echo \$?" \
	"lab vpn: $w/bad1.conf:3: allow 10.0.0.1/8: host bits set (the network is 10.0.0.0/8)
2
" "" ""
printf 'authorized-keys = %s\nallow = 10.0.0.0/8\nlisten-on = 1.2.3.4:22\n' "$w/ak-ok" >"$w/bad2.conf"
testcmd "an unknown key in --conf" "vpn bastion -n --conf $w/bad2.conf 2>&1; echo \$?" \
	"lab vpn: $w/bad2.conf:3: unknown key \"listen-on\"
2
" "" ""
testcmd "a missing --conf file" "vpn bastion -n --conf $w/none.conf 2>&1; echo \$?" \
	"lab vpn: --conf $w/none.conf: No such file or directory
2
" "" ""
