#!/bin/sh
# lab vpn keys against wireguard-tools: the same formats both ways.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

testing "vpn genkey: 44 characters of base64, a clamped key" \
	"\"\$LAB\" vpn genkey | tee $work/k | grep -c '^[A-Za-z0-9+/]\\{43\\}=\$'; base64 -d $work/k | od -An -tu1 -j0 -N1 | awk '{ print \$1 % 8 }'; base64 -d $work/k | od -An -tu1 -j31 -N1 | awk '{ print int(\$1 / 64) }'" \
	"1
0
1
" "" ""
testing "vpn genpsk: 32 bytes of base64" "\"\$LAB\" vpn genpsk | base64 -d | wc -c" "32
" "" ""
testing "vpn genkey twice: two keys" "[ \"\$(\"\$LAB\" vpn genkey)\" != \"\$(\"\$LAB\" vpn genkey)\" ] && echo differ" \
	"differ
" "" ""
# RFC 7748 6.1's Alice, in base64
testcmd "vpn pubkey of a known key" "vpn pubkey" "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=
" "" "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=
"
testcmd "vpn pubkey refuses what is not a key" "vpn pubkey 2>&1; echo \$?" \
	"lab vpn: pubkey: standard input is not a WireGuard key (44 characters of base64)
1
" "" "not a key
"
testcmd "vpn without a subcommand: they are named" "vpn 2>&1 | grep -o 'a subcommand: genkey, genpsk, pubkey, probe, run, up, down, show, '; echo \$?" \
	"a subcommand: genkey, genpsk, pubkey, probe, run, up, down, show, 
0
" "" ""
if have wg; then
	k=$("$LAB" vpn genkey)
	testing "wg pubkey agrees with lab vpn pubkey on lab's key" \
		"[ \"\$(echo $k | wg pubkey)\" = \"\$(echo $k | \"\$LAB\" vpn pubkey)\" ] && echo same" "same
" "" ""
	k=$(wg genkey)
	testing "lab vpn pubkey agrees with wg pubkey on wg's key" \
		"[ \"\$(echo $k | wg pubkey)\" = \"\$(echo $k | \"\$LAB\" vpn pubkey)\" ] && echo same" "same
" "" ""
else
	skip "vpn keys against wg" "needs wg (wireguard-tools)"
fi
printf '[Interface]\nPrivateKey = %s\nListenPort = 70000\n' "$("$LAB" vpn genkey)" >"$work/a.conf"
testcmd "vpn run: a bad value names the file and line" "vpn run $work/a.conf 2>&1; echo \$?" \
	"lab vpn: $work/a.conf:3: ListenPort: 0-65535
1
" "" ""
printf '[Interface]\nPrivateKey = nope\n' >"$work/b.conf"
testcmd "vpn run: a key that is not one" "vpn run $work/b.conf 2>&1; echo \$?" \
	"lab vpn: $work/b.conf:2: PrivateKey: not a WireGuard key
1
" "" ""
printf '[Interface]\nPrivateKey = %s\nSaveConfig = true\n' "$("$LAB" vpn genkey)" >"$work/c.conf"
testcmd "vpn run: SaveConfig = true is refused, saying why" "vpn run $work/c.conf 2>&1; echo \$?" \
	"lab vpn: $work/c.conf:3: SaveConfig: lab vpn does not write the file back (use wg showconf)
1
" "" ""
testcmd "vpn up: a missing file is named" "vpn up $work/none.conf 2>&1; echo \$?" \
	"lab vpn: $work/none.conf:0: No such file or directory
1
" "" ""
testcmd "vpn up: not an interface name" "vpn up 'bad name!' 2>&1; echo \$?" \
	"lab vpn: bad name!: an interface name is 1-15 letters, digits, _=+.- (see 'lab vpn -h')
2
" "" ""
printf '[Interface]\nPrivateKey = %s\nTable = sideways\n' "$("$LAB" vpn genkey)" >"$work/t.conf"
testcmd "vpn up: a bad Table" "vpn up $work/t.conf 2>&1; echo \$?" \
	"lab vpn: $work/t.conf:3: Table sideways: off, auto, main or a table number
1
" "" ""
printf '[Interface]\nPrivateKey = %s\nListen = 1\n' "$("$LAB" vpn genkey)" >"$work/u.conf"
testcmd "vpn up: an unknown key" "vpn up $work/u.conf 2>&1; echo \$?" \
	"lab vpn: $work/u.conf:3: Listen: not a key of [Interface]
1
" "" ""
testcmd "vpn down: an interface that is not up" "vpn down nosuch0 2>&1; echo \$?" \
	"lab vpn: nosuch0: not up (no live process in /run/lab/vpn/nosuch0.pid)
1
" "" ""
testcmd "vpn probe --flood: seconds" "vpn probe --flood x 2>&1; echo \$?" \
	"lab vpn: --flood x: seconds, 1 or more (see 'lab vpn -h')
2
" "" ""
