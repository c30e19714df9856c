#!/bin/sh
# lab net fw end to end, in namespaces built with lab net itself:
#
#   wan 10.0.0.2 ---- eth0 10.0.0.1 [router] br0 192.168.1.1 ---- lan1 192.168.1.2
#                                            br1 192.168.2.1 ---- lan2 192.168.2.2
#
# The router masquerades the lans, forwards wan:8080 to lan1:80, rejects
# closed ports, isolates lan1 from lan2; set changes act at once. nft
# reads back what lab wrote.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

for t in ip jq nft socat; do
	have $t || { skip "net fw" "needs $t"; exit 0; }
done
for n in wan router lan1 lan2; do
	"$LAB" net ns add "$NS_PREFIX$n" || { fail "ns add $n"; exit 0; }
	NS_LIST="$NS_LIST $n"
done
R() { "$LAB" net --netns "${NS_PREFIX}router" "$@"; }
in_ns() { n=$1; shift; "$LAB" net --netns "$NS_PREFIX$n" "$@"; }

setup() {
	R link set lo up &&
	R link add eth0 type veth peer eth0 netns "${NS_PREFIX}wan" up &&
	R addr add 10.0.0.1/24 dev eth0 &&
	in_ns wan link set eth0 up && in_ns wan link set lo up &&
	in_ns wan addr add 10.0.0.2/24 dev eth0 &&
	for i in 1 2; do
		R link add br$((i - 1)) type bridge up &&
		R addr add 192.168.$i.1/24 dev br$((i - 1)) &&
		R link add p$i type veth peer eth0 netns "${NS_PREFIX}lan$i" master br$((i - 1)) up &&
		in_ns lan$i link set eth0 up && in_ns lan$i link set lo up &&
		in_ns lan$i addr add 192.168.$i.2/24 dev eth0 &&
		in_ns lan$i route add default via 192.168.$i.1 || return 1
	done
	n router sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
}
check "topology built with lab net" setup

conf=$(mktemp)
on_exit "rm -f $conf $conf.bad"
cat >"$conf" <<'CONF'
[policy]
input = reject
forward = drop

[zone internal]
interface = br0
interface = br1
masquerade = 192.168.0.0/16
isolate = yes

[zone external]
interface = eth0

[ports]
open = tcp 22

[forward]
forward = tcp 8080 192.168.1.2:80
CONF
n router nft add table ip other	# someone else's table: left alone
check "fw apply" R fw apply "$conf"

# Servers that answer with who they are and whom they see.
for who in wan lan1 lan2; do
	n $who socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $who saw \$SOCAT_PEERADDR" 2>/dev/null &
done
sleep 0.3
get() { n "$1" socat -T2 - "TCP:$2,connect-timeout=2" 2>&1 </dev/null; }

testing "lan1 reaches wan; wan sees the router (masquerade)" "get lan1 10.0.0.2:80" "wan saw 10.0.0.1
" "" ""
testing "wan:8080 on the router reaches lan1:80 (port forward)" "get wan 10.0.0.1:8080" "lan1 saw 10.0.0.2
" "" ""
testing "a closed port is refused" "get wan 10.0.0.1:9999 | grep -o 'Connection refused'" "Connection refused
" "" ""
testing "lan1 cannot reach lan2 (isolation)" "get lan1 192.168.2.2:80 | grep -c 'lan2 saw'" "0
" "" ""
testing "lan2 reaches wan" "get lan2 10.0.0.2:80" "wan saw 10.0.0.1
" "" ""

# nft agrees with what lab wrote.
j=$(n router nft -j list table inet lab)
jqc() {
	if printf '%s' "$j" | jq -e "$2" >/dev/null 2>&1; then pass "nft: $1"; else fail "nft: $1" "$2"; fi
}
jqc "five base chains with hooks and policies" '[.nftables[] | .chain? | select(.) | "\(.name) \(.hook) \(.policy)"] | sort ==
	["forward forward drop", "input input drop", "output output accept", "postrouting postrouting accept", "prerouting prerouting accept"]'
jqc "internal_ifs holds br0 and br1" '.nftables[] | .set? | select(.name=="internal_ifs") | .elem == ["br0","br1"]'
jqc "external_ifs holds eth0" '.nftables[] | .set? | select(.name=="external_ifs") | .elem == ["eth0"]'
jqc "open_ports is proto . port" '.nftables[] | .set? | select(.name=="open_ports") | .type == ["inet_proto","inet_service"] and .elem == [{"concat":["tcp",22]}]'
jqc "masq_v4 holds the lan prefix" '.nftables[] | .set? | select(.name=="masq_v4") | .elem == [{"prefix":{"addr":"192.168.0.0","len":16}}]'
jqc "fwd_v4 maps tcp . 8080 to lan1:80" '.nftables[] | .map? | select(.name=="fwd_v4") | .elem == [[{"concat":["tcp",8080]},{"concat":["192.168.1.2",80]}]]'
jqc "postrouting masquerades" '[.nftables[] | .rule? | select(.chain=="postrouting") | .expr[] | select(.masquerade != null or has("masquerade"))] | length == 2'
jqc "prerouting has the dnat" '[.nftables[] | .rule? | select(.chain=="prerouting") | .expr[] | select(has("dnat"))] | length == 1'
testing "nft text shows the forward rule" "n router nft list chain inet lab prerouting | grep -c 'dnat ip to meta l4proto . th dport map @fwd_v4'" "1
" "" ""
testing "lab's own read-back shows the same rule" "R fw show | grep -c 'dnat ip to meta l4proto . th dport map @fwd_v4'" "1
" "" ""
testing "fw show --json lists the sets" "R fw show --json | jq -c '[.sets[] | select(.name==\"internal_ifs\") | .elements[]]'" '["br0","br1"]
' "" ""
testing "the other table is untouched" "n router nft list tables | grep -c 'table ip other'" "1
" "" ""

# Run-time changes, no reload.
check "set del internal_ifs br0" R fw set del internal_ifs br0
testing "lan1 is cut off at once" "get lan1 10.0.0.2:80 | grep -c 'wan saw'" "0
" "" ""
check "set add internal_ifs br0" R fw set add internal_ifs br0
testing "and back at once" "get lan1 10.0.0.2:80" "wan saw 10.0.0.1
" "" ""
check "fwd del tcp 8080" R fw fwd del tcp 8080
testing "the forward is gone" "get wan 10.0.0.1:8080 | grep -o 'Connection refused'" "Connection refused
" "" ""
check "fwd add tcp 8081 to lan2" R fw fwd add tcp 8081 192.168.2.2:80
testing "a new forward works at once" "get wan 10.0.0.1:8081" "lan2 saw 10.0.0.2
" "" ""
check "set add open_ports tcp 9999" R fw set add open_ports tcp 9999
testing "a newly opened port passes the firewall (nothing listens: refused by the stack)" \
	"n router nft list set inet lab open_ports | grep -c 'tcp . 9999'" "1
" "" ""

# A batch the kernel refuses changes nothing, and the error names the line.
sed 's|^masquerade = 192.168.0.0/16|masquerade = 192.168.0.0/16\nmasquerade = 192.168.1.0/24|' "$conf" >"$conf.bad"
before=$(n router nft -j list table inet lab | jq -c '[.nftables[] | .set? // .map? // .chain? | select(.) | {name, elem}]')
testing "overlapping prefixes: the kernel refuses, the line is named" \
	"R fw apply $conf.bad; echo \$?" "lab net: $conf.bad:9: File exists (overlaps or repeats an element already given)
1
" "" ""
after=$(n router nft -j list table inet lab | jq -c '[.nftables[] | .set? // .map? // .chain? | select(.) | {name, elem}]')
if [ -n "$before" ] && [ "$before" = "$after" ]; then pass "the failed apply left the ruleset as it was"; else fail "the failed apply left the ruleset as it was"; fi

sed 's/^isolate = yes/isolate = no/' "$conf" >"$conf.bad"
check "apply again with isolation off" R fw apply "$conf.bad"
testing "lan1 reaches lan2 now" "get lan1 192.168.2.2:80" "lan2 saw 192.168.1.2
" "" ""
sed 's/^input = reject/input = accept/; s/^isolate = yes/redirect-dns = yes/' "$conf" >"$conf.bad"
check "apply again with input = accept and the DNS redirect" R fw apply "$conf.bad"
n router socat TCP-LISTEN:53,fork,reuseaddr SYSTEM:"echo router saw \$SOCAT_PEERADDR" 2>/dev/null &
sleep 0.2
testing "lan1's DNS to anywhere lands on the router (redirect)" "get lan1 10.0.0.2:53" "router saw 192.168.1.2
" "" ""
testing "the chain's policy changed in place, the reject rules went" \
	"n router nft list chain inet lab input | grep -c -e 'policy accept' -e reject" "1
" "" ""
check "fw flush" R fw flush
testing "table inet lab is gone, the other stays" "n router nft list tables" "table ip other
" "" ""
testing "fw show without the table" "R fw show; echo \$?" "lab net: table inet lab: not there (lab net fw apply FILE makes it)
1
" "" ""
