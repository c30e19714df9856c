#!/bin/sh
# lab vpn peer on gateway files in a scratch directory (no interface runs:
# the names are unique, so no UAPI socket answers): the sections and the
# client files it writes, keys that match (checked with wg when there is
# one), addresses derived from the name as documented (SHA-256 computed by
# sha256sum), stable and distinct until a /28 is full, the QR code of the
# client file decoded by zbarimg, and errors that leave the file as it was.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LAB_DNS_CONF="$work/no-dns.conf"	# no lab dns here: names are skipped
unset LAB_DNS_KEY LAB_DNS_SERVER
I=$(printf 'wgc%s' $$ | cut -c1-15)	# the interface's name: no socket of that name runs
G="$work/$I.conf"

gateway() {	# FILE ADDRESSES [extra lines]: a fresh gateway file
	{
		printf '# the gateway\n[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = %s\n' \
			"$("$LAB" vpn genkey)" "$2"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
	} >"$1"
}
gateway "$G" "10.66.0.1/24, fd00:66::1/64" "# Endpoint = vpn.example.org:51820"
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.66.0.200/32\n' "$("$LAB" vpn genkey | "$LAB" vpn pubkey)" >>"$G"
cp "$G" "$work/before"
P() { "$LAB" vpn peer "$@" --conf "$G"; }

# name's IPv4 offset in a subnet with 2^bits addresses, as lib/wg_peer.h
# documents it: the first 4 bytes of SHA-256(name), modulo the size
v4off() { echo $((0x$(printf '%s' "$1" | sha256sum | cut -c1-8) % (1 << $2))); }

P add phone --no-qr >"$work/out" 2>"$work/err"
echo $? >"$work/rc"
C="$work/clients/$I-phone.conf"
V6=$(sed -n 's/^Address = [^,]*, \(.*\)\/128$/\1/p' "$C")
testing "peer add: the client's file on standard output, a note on standard error" \
	"cat $work/rc $work/err" \
	"0
phone: 10.66.0.$(v4off phone 8), $V6 on $I; client configuration in $C
" "" ""
testing "peer add: stdout is the client file, mode 0600, like the gateway's" \
	"cmp $work/out $C && stat -c %a $C $G" "600
600
" "" ""
testing "peer add: the address is SHA-256 of the name in the subnet" \
	"sed -n 's/^Address = \\([^,]*\\),.*/\\1/p' $C" "10.66.0.$(v4off phone 8)/32
" "" ""
testing "peer add: the client file's shape" \
	"sed -e 's/= [A-Za-z0-9+/]\\{43\\}=\$/= KEY/' -e 's/fd00:66::[0-9a-f][0-9a-f:]*\\//fd00:66::X\\//' $C" \
	"[Interface]
PrivateKey = KEY
Address = 10.66.0.$(v4off phone 8)/32, fd00:66::X/128

[Peer]
PublicKey = KEY
PresharedKey = KEY
Endpoint = vpn.example.org:51820
AllowedIPs = 10.66.0.0/24, fd00:66::/64$(
	# the machine's own connected prefixes follow; compared separately
	sed -n 's/^AllowedIPs = 10.66.0.0\/24, fd00:66::\/64//p' "$C")
PersistentKeepalive = 25
" "" ""
testing "peer add: the gateway's new section" \
	"diff $work/before $G | sed -e 's/= [A-Za-z0-9+/]\\{43\\}=\$/= KEY/' -e 's/fd00:66::[0-9a-f][0-9a-f:]*\\//fd00:66::X\\//'" \
	"10a11,16
> 
> [Peer]
> # Name = phone
> PublicKey = KEY
> PresharedKey = KEY
> AllowedIPs = 10.66.0.$(v4off phone 8)/32, fd00:66::X/128
" "" ""
key() { sed -n "s/^$1 = //p" "$2" | head -n "${3:-1}" | tail -n 1; }
testing "peer add: the keys match on both sides" \
	"[ \"\$(key PrivateKey $C | \"\$LAB\" vpn pubkey)\" = \"\$(key PublicKey $G 2)\" ] && [ \"\$(key PresharedKey $C)\" = \"\$(key PresharedKey $G)\" ] && [ \"\$(key PrivateKey $G | \"\$LAB\" vpn pubkey)\" = \"\$(key PublicKey $C)\" ] && echo match" \
	"match
" "" ""
if have wg; then
	testing "peer add: wg pubkey agrees on the client's key" \
		"[ \"\$(key PrivateKey $C | wg pubkey)\" = \"\$(key PublicKey $G 2)\" ] && echo same" "same
" "" ""
fi
testing "peer add: the gateway's AllowedIPs are the client's Address" \
	"[ \"\$(key AllowedIPs $G 2)\" = \"\$(key Address $C)\" ] && echo same" "same
" "" ""
testing "peer ls" \
	"P ls | awk '{ print \$1, \$3 }'" "NAME ADDRESSES
- 10.66.0.200/32
phone 10.66.0.$(v4off phone 8)/32,
" "" ""
testing "peer ls --json" \
	"P ls --json | tr -d ' \\n' | sed 's/\"public_key\":\"[^\"]*\"/K/g; s/fd00:66::[0-9a-f:]*/X/'" \
	"[{\"name\":null,K,\"addresses\":[\"10.66.0.200/32\"],\"running\":false,\"in_file\":true},{\"name\":\"phone\",K,\"addresses\":[\"10.66.0.$(v4off phone 8)/32\",\"X/128\"],\"running\":false,\"in_file\":true}]" "" ""

# ---- errors leave everything as it was ----
cp "$G" "$work/snap"
for bad in bad_name café x- "a.b" "$(printf 'a%.0s' $(seq 64))" ""; do
	testing "peer add \"$bad\": not a DNS label, exit 2, file untouched" \
		"P add '$bad' 2>&1; echo \$?; cmp $G $work/snap && echo untouched" \
		"lab vpn: peer add: \"$bad\": not a DNS label (letters, digits and '-', 63 at most) (see 'lab vpn -h')
2
untouched
" "" ""
done
testing "peer add: a name already there, exit 1, file untouched" \
	"P add PHONE 2>&1; echo \$?; cmp $G $work/snap && echo untouched" \
	"lab vpn: peer add: phone: already a peer of $I ($G:12)
1
untouched
" "" ""
testing "peer add: a missing interface file" \
	"\"\$LAB\" vpn peer add tablet --conf $work/nope.conf 2>&1; echo \$?; ls $work/clients" \
	"lab vpn: $work/nope.conf: No such file or directory
1
$I-phone.conf
" "" ""
testcmd "peer add: the default interface file is /etc/wireguard/IFACE.conf" \
	"vpn peer add tablet --if nowg$$ 2>&1; echo \$?" \
	"lab vpn: /etc/wireguard/nowg$$.conf: No such file or directory
1
" "" ""
printf '[Interface]\nPrivateKey = %s\nAddress = 10.1.0.1/24\n[Peer]\nAllowedIPs = nonsense\n' "$("$LAB" vpn genkey)" >"$work/broken.conf"
testcmd "peer add: a file that does not parse: file:line, exit 2" \
	"vpn peer add tablet --conf $work/broken.conf --endpoint 192.0.2.1 2>&1; echo \$?" \
	"lab vpn: $work/broken.conf:5: AllowedIPs nonsense: prefixes
2
" "" ""
gateway "$work/noep.conf" 10.2.0.1/24
testcmd "peer add: no endpoint known" "vpn peer add tablet --conf $work/noep.conf --clients $work/c2 2>&1; echo \$?; ls $work/c2 2>&1 | wc -l" \
	"lab vpn: peer add: no endpoint known for noep: give --endpoint HOST[:PORT] (where clients reach this gateway), or put \"# Endpoint = HOST:PORT\" in [Interface] of $work/noep.conf (see 'lab vpn -h')
2
1
" "" ""
testing "peer rm: an unknown name, exit 1, untouched" \
	"P rm tablet 2>&1; echo \$?; cmp $G $work/snap && echo untouched" \
	"lab vpn: peer rm: tablet: no peer of that name in $G
1
untouched
" "" ""

testing "peer add -n: what would be written and sent; nothing changes" \
	"P add tablet -n --endpoint 192.0.2.7 | sed -e 's/= [A-Za-z0-9+/]\\{43\\}=\$/= KEY/' -e 's/fd00:66::[0-9a-f][0-9a-f:]*\\//fd00:66::X\\//' -e '/^AllowedIPs = 10.66.0.0/s/64, .*/64, .../'; cmp $G $work/snap && ls $work/clients" \
	"--- $G: appended
[Peer]
# Name = tablet
PublicKey = KEY
PresharedKey = KEY
AllowedIPs = 10.66.0.$(v4off tablet 8)/32, fd00:66::X/128
--- $work/clients/$I-tablet.conf (0600)
[Interface]
PrivateKey = KEY
Address = 10.66.0.$(v4off tablet 8)/32, fd00:66::X/128

[Peer]
PublicKey = KEY
PresharedKey = KEY
Endpoint = 192.0.2.7:51820
AllowedIPs = 10.66.0.0/24, fd00:66::/64, ...
PersistentKeepalive = 25
--- /var/run/wireguard/$I.sock: not running, nothing sent
$I-phone.conf
" "" ""
testing "peer rm -n: the lines that would go; nothing changes" \
	"P rm phone -n | sed -n '1p;3p;\$p'; cmp $G $work/snap && ls $work/clients" \
	"--- $G: lines 12-16 go
# Name = phone
--- /var/run/wireguard/$I.sock: not running, nothing sent
$I-phone.conf
" "" ""

gateway "$work/save.conf" 10.3.0.1/24 "SaveConfig = true"
testcmd "peer add: SaveConfig = true is worth a warning" \
	"vpn peer add a --conf $work/save.conf --endpoint 192.0.2.1 --clients $work/c3 2>&1 >/dev/null | head -n 1" \
	"lab vpn: $work/save.conf: SaveConfig = true: wg-quick down will write this file over from the running interface, without the \"# Name\" lines
" "" ""

# ---- options of the client file ----
testing "peer add --all: everything through the tunnel; --dns; a port from ListenPort" \
	"P add laptop --all --dns 10.66.0.1 --endpoint 192.0.2.7 --no-qr 2>/dev/null | grep -E '^(DNS|AllowedIPs|Endpoint) '" \
	"DNS = 10.66.0.1
Endpoint = 192.0.2.7:51820
AllowedIPs = 0.0.0.0/0, ::/0
" "" ""
testing "peer add --route: more prefixes home; an IPv6 endpoint" \
	"P add tv --route 192.168.50.0/24 --route fd12::/48 --endpoint fd00::1 --no-qr 2>/dev/null | grep -E '^(AllowedIPs|Endpoint) ' | sed 's/, 192.168.50.0/ ... 192.168.50.0/; s/^\\(AllowedIPs = [^ ]*, [^ ]*\\),.* \\.\\.\\./\\1 .../'" \
	"Endpoint = [fd00::1]:51820
AllowedIPs = 10.66.0.0/24, fd00:66::/64 ... 192.168.50.0/24, fd12::/48
" "" ""
testing "peer rm: the section and the client file go; the file is as before add" \
	"P rm tv && P rm laptop && P rm phone && cmp $G $work/before && ls $work/clients | wc -l" "0
" "" ""

# ---- addresses ----
gateway "$work/again.conf" "10.66.0.1/24, fd00:66::1/64" "# Endpoint = 192.0.2.1:51820"
testing "peer add: the same name, the same addresses in a fresh gateway" \
	"P add phone --no-qr >$work/a 2>/dev/null; \"\$LAB\" vpn peer add phone --conf $work/again.conf --no-qr >$work/b 2>/dev/null; [ \"\$(key Address $work/a)\" = \"\$(key Address $work/b)\" ] && echo same" \
	"same
" "" ""
gateway "$work/small.conf" "10.77.0.1/28" "# Endpoint = 192.0.2.1:51820"
i=1
while [ $i -le 13 ]; do
	"$LAB" vpn peer add "n$i" --conf "$work/small.conf" --no-qr >/dev/null 2>&1 || break
	i=$((i + 1))
done
testing "peer add: 13 peers fill a /28 (the gateway has the 14th address), all distinct" \
	"sed -n 's/^AllowedIPs = 10.77.0.\\([0-9]*\\)\\/32\$/\\1/p' $work/small.conf | sort -n | tr '\\n' ' '" \
	"2 3 4 5 6 7 8 9 10 11 12 13 14 " "" ""
cp "$work/small.conf" "$work/small.before"
testing "peer add: a full subnet: a clear error, the file untouched" \
	"\"\$LAB\" vpn peer add n14 --conf $work/small.conf 2>&1; echo \$?; cmp $work/small.conf $work/small.before && echo untouched" \
	"lab vpn: peer add: n14: no free address in 10.77.0.0/28 ($work/small.conf)
1
untouched
" "" ""
testing "peer add: after an rm, its address is free again" \
	"\"\$LAB\" vpn peer rm n5 --conf $work/small.conf && \"\$LAB\" vpn peer add n14 --conf $work/small.conf --no-qr 2>/dev/null | sed -n 's/^Address = //p'; grep -c '^\\[Peer\\]' $work/small.conf" \
	"$(sed -n '/# Name = n5$/,/^AllowedIPs/s/^AllowedIPs = //p' "$work/small.conf")
13
" "" ""

# ---- the QR code ----
if have zbarimg; then
	testing "peer add --png: the QR code decodes to exactly the client file" \
		"P add tablet --png $work/t.png >$work/t.out 2>/dev/null && zbarimg --raw -q -Sbinary $work/t.png 2>/dev/null >$work/t.dec; cmp $work/t.dec $work/clients/$I-tablet.conf && cmp $work/t.dec $work/t.out && echo same" \
		"same
" "" ""
else
	skip "peer add --png: decoded by zbarimg" "needs zbarimg (zbar-tools)"
fi
P add watch --qr >"$work/w.out" 2>/dev/null
W="$work/clients/$I-watch.conf"
n=$(wc -l <"$W")
size=$("$LAB" vpn qr --ecc L --info <"$W" 2>&1 >/dev/null | sed 's/^version [0-9]* (\([0-9]*\)x.*/\1/')
testing "peer add --qr: the client file, a blank line, then the QR code's half-block lines" \
	"head -n $n $work/w.out | cmp - $W && sed -n '$((n + 1))p' $work/w.out | wc -c; tail -n +$((n + 2)) $work/w.out | grep -c '^$(printf '\033')\\[[0-9;]*m$(printf '\342\226\200').*$(printf '\033')\\[0m\$'" \
	"1
$(((size + 2 * 4 + 1) / 2))
" "" ""
