#!/bin/sh
# lab net against the kernel, read back with the real ip: every link type,
# addresses, routes, namespaces shared with ip netns, errors that leave
# nothing behind.
#
#   [host] --- lab-t-PID-a: br0, v0 (in br0) --- v1 (in lab-t-PID-b)
SUITE=netns
. "$(dirname "$0")/../lib.sh"

have ip && have jq || { skip "net links" "needs ip and jq"; exit 0; }
A=${NS_PREFIX}a
B=${NS_PREFIX}b

# Namespaces made by lab are ip netns namespaces, and the other way round.
if "$LAB" net ns add "${NS_PREFIX#lab-t-}a" 2>/dev/null; then :; fi
"$LAB" net ns del "${NS_PREFIX#lab-t-}a" 2>/dev/null
check "ns add makes /run/netns/NAME" "$LAB" net ns add "$A"
NS_LIST="$NS_LIST a"
check "ip netns sees it" sh -c "ip netns list | grep -qw '$A'"
check "ip netns exec runs in it" ip netns exec "$A" ip link show lo
ip netns add "$B" && NS_LIST="$NS_LIST b"
check "lab net ns exec runs in a namespace ip made" "$LAB" net ns exec "$B" ip link show lo
check "ns ls lists both" sh -c "\"\$LAB\" net ns ls | grep -qx '$A' && \"\$LAB\" net ns ls --json | jq -e 'index(\"$B\") != null' >/dev/null"
testing "ns exec passes the exit status" "\"\$LAB\" net ns exec $A sh -c 'exit 7'; echo \$?" "7
" "" ""
testing "ns add of an existing name fails" "\"\$LAB\" net ns add $A; echo \$?" "lab net: netns $A: File exists
1
" "" ""

L() { "$LAB" net --netns "$A" "$@"; }
ipj() { ip -n "$A" -j "$@"; }

check "bridge" L link add br0 type bridge mtu 1400 up
check "veth with its peer in another namespace" L link add v0 type veth peer v1 netns "$B" master br0 mtu 1400 up
check "macvlan" L link add mv0 type macvlan link br0 mode bridge
check "macvtap" L link add mt0 type macvtap link br0 mode vepa
check "tap" L link add tp0 type tap
check "tun" L link add tn0 type tun
check "addresses" sh -c "\"\$LAB\" net --netns $A addr add 10.50.0.1/24 dev br0 && \"\$LAB\" net --netns $A addr add fd00:50::1/64 dev br0"
check "routes" sh -c "\"\$LAB\" net --netns $A route add 10.60.0.0/16 via 10.50.0.2 && \"\$LAB\" net --netns $A route add 10.70.0.0/16 dev br0 table 100 metric 7"

jqcheck() {
	name=$1 json=$2 expr=$3
	if printf '%s' "$json" | jq -e "$expr" >/dev/null 2>&1; then pass "$name"; else fail "$name" "$expr"; fi
}
links=$(ipj -d link show)
jqcheck "ip: br0 is a bridge, mtu 1400, up" "$links" \
	'.[] | select(.ifname=="br0") | .linkinfo.info_kind=="bridge" and .mtu==1400 and (.flags|index("UP"))'
jqcheck "ip: v0 is a veth in br0" "$links" \
	'.[] | select(.ifname=="v0") | .linkinfo.info_kind=="veth" and .master=="br0" and .link_netnsid!=null'
jqcheck "ip: macvlan on br0 in bridge mode" "$links" \
	'.[] | select(.ifname=="mv0") | .linkinfo.info_kind=="macvlan" and .linkinfo.info_data.mode=="bridge" and .link=="br0"'
jqcheck "ip: macvtap in vepa mode" "$links" \
	'.[] | select(.ifname=="mt0") | .linkinfo.info_kind=="macvtap" and .linkinfo.info_data.mode=="vepa"'
jqcheck "ip: tap is a persistent tap" "$links" \
	'.[] | select(.ifname=="tp0") | .linkinfo.info_kind=="tun" and .linkinfo.info_data.type=="tap"'
jqcheck "ip: tun is a persistent tun" "$links" \
	'.[] | select(.ifname=="tn0") | .linkinfo.info_kind=="tun" and .linkinfo.info_data.type=="tun"'
jqcheck "ip: v1 arrived in the other namespace" "$(ip -n "$B" -j -d link show v1)" \
	'.[0].linkinfo.info_kind=="veth"'
jqcheck "ip: both addresses on br0" "$(ipj addr show dev br0)" \
	'[.[0].addr_info[] | .local + "/" + (.prefixlen|tostring)] | index("10.50.0.1/24") != null and index("fd00:50::1/64") != null'
jqcheck "ip: the route via a gateway" "$(ipj route show 10.60.0.0/16)" \
	'.[0].gateway=="10.50.0.2" and .[0].dev=="br0"'
jqcheck "ip: the route in table 100 with its metric" "$(ipj route show table 100)" \
	'.[0].dst=="10.70.0.0/16" and .[0].metric==7'

testing "route show table 100" "\"\$LAB\" net --netns $A route show table 100" "10.70.0.0/16 dev br0 proto boot scope link metric 7 table 100
" "" ""

# lab's own view agrees with ip's.
mine=$(L show --json)
theirs=$(ipj link show)
for dev in br0 v0 mv0 mt0 tp0 tn0 lo; do
	a=$(printf '%s' "$mine" | jq -c ".[] | select(.name==\"$dev\") | [.index, .mtu, .mac, .up, .master]")
	b=$(printf '%s' "$theirs" | jq -c ".[] | select(.ifname==\"$dev\") | [.ifindex, .mtu, (.address // \"\"), (.flags|index(\"UP\")!=null), .master]")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "show --json agrees with ip for $dev"; else fail "show --json agrees with ip for $dev" "lab $a ip $b"; fi
done
testing "show names the peer namespace" "\"\$LAB\" net --netns $A show v0 | grep -o 'link-netnsid [0-9]*' | cut -d' ' -f1" "link-netnsid
" "" ""

# The allocator skips what the host already uses.
st=$(mktemp -d)
on_exit "rm -rf $st"
L addr add 192.168.0.1/24 dev br0
L route add 192.168.1.0/24 via 10.50.0.2
testing "alloc subnet skips the host's addresses and routes" \
	"\"\$LAB\" net --netns $A alloc subnet br9 --state $st --reserved /dev/null | cut -d' ' -f2" "192.168.2.0/24
" "" ""
L route del 192.168.1.0/24 via 10.50.0.2
L addr del 192.168.0.1/24 dev br0

check "link set down, mtu, nomaster in one message" L link set v0 down mtu 1300 nomaster
jqcheck "ip: v0 changed" "$(ipj link show v0)" '.[0].mtu==1300 and .[0].master==null and (.[0].flags|index("UP"))==null'
check "link set netns moves a link" L link set mv0 netns "$B"
check "ip: mv0 is in the other namespace" ip -n "$B" link show mv0
check "route del" L route del 10.60.0.0/16 via 10.50.0.2
testing "ip: route gone" "ip -n $A route show 10.60.0.0/16 | wc -l" "0
" "" ""
check "addr del" L addr del 10.50.0.1/24 dev br0
testing "ip: address gone" "ip -n $A -4 -o addr show dev br0 | wc -l" "0
" "" ""

# Errors: the kernel's reason, exit 1, nothing left half-made.
testing "existing name" "\"\$LAB\" net --netns $A link add br0 type bridge; echo \$?" "lab net: br0: File exists
1
" "" ""
testing "a failed veth leaves no stray end" \
	"\"\$LAB\" net --netns $A link add vx type veth peer br0 2>/dev/null; echo \$?; ip -n $A link show vx 2>&1 | grep -c 'does not exist'" "1
1
" "" ""
testing "unknown link to delete" "\"\$LAB\" net --netns $A link del nosuch0; echo \$?" "lab net: nosuch0: No such device
1
" "" ""
testing "address already there: the kernel's extended message" \
	"\"\$LAB\" net --netns $A addr add fd00:50::1/64 dev br0 2>&1 | grep -c 'File exists'" "1
" "" ""
check "link del" L link del tp0
testing "ip: tp0 gone" "ip -n $A link show tp0 2>&1 | grep -c 'does not exist'" "1
" "" ""
testing "ns del" "\"\$LAB\" net ns del $A; echo \$?; ip netns list | grep -cw $A" "0
0
" "" ""
testing "ns del of a missing one" "\"\$LAB\" net ns del $A; echo \$?" "lab net: netns $A: No such file or directory
1
" "" ""
