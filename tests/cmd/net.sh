#!/bin/sh
# lab net without privilege: every encoder against golden text (-n), usage
# and input errors, the allocator (known ULA values, leases, 50 parallel
# allocations), and firewall configuration errors with file:line.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
G=$here/net.golden

golden() {
	name=$1
	shift
	if out=$(cd "$here" && "$LAB" net "$@" 2>&1) && [ "$out" = "$(cat "$G/$name")" ]; then
		pass "net -n golden: $name"
	else
		fail "net -n golden: $name" "$(printf '%s\n' "$out" | diff "$G/$name" - | head -20)"
	fi
}

golden link-add-bridge -n link add br0 type bridge mtu 9000 up
golden link-add-veth -n link add v0 type veth peer v1 master lo
golden link-add-macvlan -n link add mv0 type macvlan link lo mode bridge
golden link-add-macvtap -n link add mt0 type macvtap link lo
golden link-add-tap -n link add tap0 type tap
golden link-set -n link set lo down mtu 1400 nomaster
golden link-del -n link del br0
golden addr-add -n addr add 10.0.0.1/24 dev lo
golden addr-del -n addr del fd00::1/64 dev lo
golden route-add-default -n route add default via 10.0.0.254
golden route-add-table -n route add 10.9.0.0/16 dev lo table 1000 metric 5
golden route-del6 -n route del fd00:9::/48 via fd00::1
golden fw-apply -n fw apply fw-test.conf
golden fw-flush -n fw flush
golden fw-set-add -n fw set add internal_ifs br2 br3
golden fw-set-del-prefix -n fw set del masq_v4 192.168.0.0/16
golden fw-fwd-add -n fw fwd add udp 53 10.1.2.4
golden fw-check fw check fw-test.conf
testcmd "options may follow the object" 'net link add br0 type bridge -n | head -n 1' \
	"RTM_NEWLINK REQUEST|ACK|EXCL|CREATE seq=1
" "" ""

# Errors: one line naming the thing, exit 2 for usage, 1 otherwise.
testcmd "bad CIDR" 'net -n addr add 10.0.0.300/24 dev lo; echo $?' \
	"lab net: 10.0.0.300/24: not an address (expected 10.0.0.1/24 or fd00::1/64)
1
" "" ""
testcmd "prefix longer than the address" 'net -n addr add 10.0.0.1/33 dev lo; echo $?' \
	"lab net: 10.0.0.1/33: not an address (expected 10.0.0.1/24 or fd00::1/64)
1
" "" ""
testcmd "unknown interface" 'net -n addr add 10.0.0.1/24 dev nosuch0; echo $?' \
	"lab net: nosuch0: no such interface
1
" "" ""
testcmd "route with host bits" 'net -n route add 10.1.2.3/16 dev lo; echo $?' \
	"lab net: 10.1.2.3/16: host bits set (the prefix is 10.1.0.0/16)
1
" "" ""
testcmd "link add without type" 'net -n link add x0 2>&1 >/dev/null; echo $?' \
	"lab net: link add x0: needs a type (see 'lab net -h')
2
" "" ""
testcmd "unknown link type" 'net -n link add x0 type frob; echo $?' \
	"lab net: link add x0: unknown type \"frob\" (bridge, veth, macvlan, macvtap, tap, tun, dummy) (see 'lab net -h')
2
" "" ""
testcmd "veth without peer" 'net -n link add x0 type veth; echo $?' \
	"lab net: link add x0 type veth: needs peer NAME (see 'lab net -h')
2
" "" ""
testcmd "interface name too long" 'net -n link add abcdefghijklmnopq type bridge; echo $?' \
	"lab net: abcdefghijklmnopq: interface names are 1 to 15 bytes
1
" "" ""
testcmd "bad mtu" 'net -n link set lo mtu huge; echo $?' \
	"lab net: mtu: expected a number up to 65535, not \"huge\" (see 'lab net -h')
2
" "" ""
testcmd "unknown option" 'net --frob show; echo $?' \
	"lab net: unknown option \"--frob\" (see 'lab net -h')
2
" "" ""
testcmd "unknown object" 'net frob; echo $?' \
	"lab net: unknown object \"frob\" (see 'lab net -h')
2
" "" ""
testcmd "invalid namespace name" 'net ns add "a/b"; echo $?' \
	"lab net: a/b: invalid namespace name (letters, digits, '.', '_', '-')
1
" "" ""
testcmd "ns add dry run" 'net -n ns add t1' "mkdir /run/netns (shared mount)
create /run/netns/t1
unshare CLONE_NEWNET; bind /proc/self/ns/net on /run/netns/t1
" "" ""

# Firewall configuration errors name file and line; nothing is sent.
fwerr() {
	testing "fw config error: $1" "printf '$2' > fw.conf; \"\$LAB\" net -n fw apply fw.conf; echo \$?" "$3
1
" "" ""
}
fwerr "unknown zone" '[zone dmz]\ninterface = x\n' "lab net: fw.conf:1: [zone dmz]: zones are internal or external"
fwerr "bad port" '[ports]\nopen = tcp 70000\n' \
	"lab net: fw.conf:2: open tcp 70000: expected PROTO PORT (tcp, udp, sctp, dccp; 1-65535)"
fwerr "repeated port" '[ports]\nopen = tcp 22\nopen = tcp/22\n' "lab net: fw.conf:3: open tcp 22: already open (line 2)"
fwerr "bad forward" '[forward]\nforward = tcp 80 fd00::1\n' \
	"lab net: fw.conf:2: forward tcp 80 fd00::1: expected PROTO PORT IPV4[:PORT]"
fwerr "interface in two zones" '[zone internal]\ninterface = br0\n[zone external]\ninterface = br0\n' \
	"lab net: fw.conf:4: interface br0: already in zone internal (line 2)"
fwerr "bad policy" '[policy]\ninput = maybe\n' "lab net: fw.conf:2: input: expected accept, drop or reject, not \"maybe\""
fwerr "masquerade host bits" '[zone internal]\nmasquerade = 10.1.2.3/16\n' \
	"lab net: fw.conf:2: masquerade 10.1.2.3/16: host bits set"
fwerr "masquerade in the external zone" '[zone external]\nmasquerade = 10.0.0.0/8\n' \
	"lab net: fw.conf:2: masquerade: belongs to [zone internal]"
fwerr "unknown key" '[ports]\nclose = tcp 22\n' "lab net: fw.conf:2: unknown key \"close\" in [ports]"
testcmd "fw set: unknown set" 'net -n fw set add nope x; echo $?' \
	"lab net: nope: not a set lab net fw changes (internal_ifs, external_ifs, open_ports, redirect_ports, masq_v4, masq_v6, fwd_v4)
1
" "" ""
testcmd "fw: missing file" 'net fw apply /nonexistent/fw.conf; echo $?' \
	"lab net: /nonexistent/fw.conf: No such file or directory
1
" "" ""

# IP allocation. Known values: the ULA /48 of host "alpha" is fd followed by
# the first 5 bytes of SHA-256("alpha"), computed here with coreutils.
h=$(printf alpha | sha256sum | cut -c1-10)
want48=$(printf 'fd%s:%s:%s::/48' "$(echo "$h" | cut -c1-2)" "$(echo "$h" | cut -c3-6)" "$(echo "$h" | cut -c7-10)" | sed 's/:0*\([0-9a-f]\)/:\1/g')
testcmd "alloc ula: /48 of a host is fd + H(host)[0..4]" 'net alloc ula --host alpha' "$want48
" "" ""
s=$(printf br0.alpha | sha256sum | cut -c1-4)
want64=$(printf '%s:%s::/64' "${want48%::/48}" "$s" | sed 's/:0*\([0-9a-f]\)/:\1/g')
testcmd "alloc ula: /64 of an interface adds H(iface.host)[0..1]" 'net alloc ula --host alpha br0' "$want64
" "" ""
iid=$(printf web.alpha | sha256sum | cut -c1-16)
wantaddr=$(printf '%s:%s:%s:%s:%s/64' "${want64%::/64}" "$(echo "$iid" | cut -c1-4)" "$(echo "$iid" | cut -c5-8)" "$(echo "$iid" | cut -c9-12)" "$(echo "$iid" | cut -c13-16)" | sed 's/:0*\([0-9a-f]\)/:\1/g')
testcmd "alloc ula: address of a name adds H(name.host)[0..7]" 'net alloc ula --host ALPHA br0 web' "$wantaddr
" "" ""
testcmd "alloc ula: known value for beta" 'net alloc ula --host beta' "$(printf 'fd%s' "$(printf beta | sha256sum | cut -c1-10 | sed 's/\(..\)\(....\)\(....\)/\1:\2:\3::\/48/; s/:0*\([0-9a-f]\)/:\1/g')")
" "" ""

st=$(mktemp -d)
export LAB_RUN_DIR=$st
printf '# lab test\n192.168.0.0/17\n172.16.0.0/24 # also this\n' >"$st/reserved"
testcmd "alloc subnet: first free /24 after reservations" \
	"net alloc subnet br0 --host alpha --reserved $st/reserved | cut -d' ' -f1-2" "br0 192.168.128.0/24
" "" ""
testcmd "alloc subnet: the same name gets the same subnet" \
	"net alloc subnet br0 --host alpha --reserved $st/reserved --json | grep -c '\"new\": false'" "1
" "" ""
testing "alloc subnet: recorded as env and JSON" "cat $st/ip/br0.env | head -n 3" "LAB_NET_NAME=br0
LAB_NET_SUBNET=192.168.128.0/24
LAB_NET_GATEWAY=192.168.128.1
" "" ""
testcmd "alloc addr: guests get .2, .3, ..." \
	"net alloc addr br0 web --host alpha | cut -d' ' -f1-2; \"\$LAB\" net alloc addr br0 db --host alpha | cut -d' ' -f1-2" \
	"web 192.168.128.2/24
db 192.168.128.3/24
" "" ""
testcmd "alloc addr: stable for the same guest, v6 derived" "net alloc addr br0 web --host alpha" \
	"web 192.168.128.2/24 $(echo "$wantaddr")
" "" ""
testcmd "alloc release: a freed address is reused" \
	"net alloc release br0 web && \"\$LAB\" net alloc addr br0 cache --host alpha | cut -d' ' -f1-2" \
	"cache 192.168.128.2/24
" "" ""
testcmd "alloc: unknown subnet" 'net alloc addr nope web; echo $?' \
	"lab net: nope: no such subnet (lab net alloc subnet nope)
1
" "" ""
testcmd "alloc: bad reservation names its line" "net alloc subnet x --reserved $here/net.golden/fw-check; echo \$?" \
	"lab net: $here/net.golden/fw-check:1: \"[policy]\" is not a prefix
1
" "" ""
testcmd "alloc -n: decides, records nothing" "net -n alloc subnet tmp0 --reserved $st/reserved | cut -d' ' -f1-2; ls $st/ip | grep -c tmp0" \
	"tmp0 192.168.129.0/24
0
" "" ""
rm -rf "$st/ip"
i=0
while [ $i -lt 50 ]; do
	"$LAB" net alloc subnet "par$i" --reserved /dev/null >"$st/out.$i" 2>&1 &
	i=$((i + 1))
done
wait
n=$(cat "$st"/out.* | awk '{print $2}' | sort -u | grep -c /24)
if [ "$n" = 50 ]; then
	pass "alloc: 50 parallel allocations get 50 distinct subnets"
else
	fail "alloc: 50 parallel allocations get 50 distinct subnets" "$(cat "$st"/out.* | sort | head)"
fi
rm -rf "$st"
unset LAB_RUN_DIR
