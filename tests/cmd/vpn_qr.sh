#!/bin/sh
# lab vpn qr against real decoders and encoders: PNGs of many inputs
# (short text, a WireGuard client configuration, binary bytes, every ECC
# level, versions 1 to 40) decoded by zbarimg (zbar-tools) byte for byte;
# the module matrix compared with qrencode's for the same data, version and
# level (one of the eight masks gives exactly qrencode's symbol).
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

testcmd "vpn qr: a bad level" "vpn qr --ecc X </dev/null 2>&1; echo \$?" \
	"lab vpn: qr: --ecc X: L, M, Q or H (see 'lab vpn -h')
2
" "" ""
head -c 2954 /dev/zero | tr '\0' x >"$work/big"
testcmd "vpn qr: too much for any version" "vpn qr --ecc L <$work/big 2>&1; echo \$?" \
	"lab vpn: qr: 2954 bytes do not fit a QR code at level L
1
" "" ""
testcmd "vpn qr: too much for the version asked for" "vpn qr --version 1 2>&1; echo \$?" \
	"lab vpn: qr: 17 bytes do not fit version 1 at level M
1
" "" "seventeen bytes.."
testcmd "vpn qr --info: version, level, mask, mode" "vpn qr --info --mask 5 --ecc Q 2>&1 >/dev/null" \
	"version 1 (21x21), level Q, mask 5, alphanumeric mode
" "" "HELLO WORLD"

if ! have zbarimg; then
	skip "vpn qr: decoded by zbarimg" "needs zbarimg (zbar-tools)"
else
	# zbarimg: -Sbinary keeps the bytes as they are (no charset guessing,
	# no newline added)
	decodes() {	# FILE ECC [lab options]: PASS when zbarimg gives FILE back
		f=$1 e=$2
		shift 2
		"$LAB" vpn qr --ecc "$e" --png "$work/q.png" "$@" <"$f" &&
			zbarimg --raw -q -Sbinary "$work/q.png" >"$work/out" 2>/dev/null &&
			cmp -s "$f" "$work/out"
	}
	# a client configuration as lab vpn peer add writes it, about 1 KB with comments
	{
		printf '[Interface]\nPrivateKey = %s\nAddress = 10.66.0.7/24, fd00:66::7/64\nDNS = 10.66.0.1\n' \
			"$("$LAB" vpn genkey)"
		printf '\n[Peer]\nPublicKey = %s\nPresharedKey = %s\n' "$("$LAB" vpn genkey)" "$("$LAB" vpn genpsk)"
		printf 'Endpoint = gateway.example.org:51820\nAllowedIPs = 10.66.0.0/24, fd00:66::/64, 192.168.1.0/24\n'
		printf 'PersistentKeepalive = 25\n'
		i=0
		while [ $i -lt 9 ]; do printf '# a comment line to make it longer: %d .........................\n' $i; i=$((i + 1)); done
	} >"$work/wg.conf"
	printf 'a' >"$work/one"
	printf 'https://example.org/Lab?x=1&y=%%20' >"$work/url"
	printf '0123456789012345678901234567890123456789' >"$work/digits"
	printf 'HELLO WORLD $%%*+-./: 123' >"$work/alnum"
	head -c 700 /dev/urandom >"$work/bin700"
	head -c 1273 /dev/urandom >"$work/binH40"
	head -c 2953 /dev/urandom >"$work/binL40"
	printf '\000\001\002\377\376\n\r\000' >"$work/nul"
	bad=""
	n=0
	for e in L M Q H; do
		for f in one url digits alnum wg.conf nul; do
			n=$((n + 1))
			decodes "$work/$f" $e || bad="$bad $f/$e"
		done
	done
	decodes "$work/bin700" M || bad="$bad bin700/M"
	decodes "$work/binH40" H || bad="$bad binH40/H"
	decodes "$work/binL40" L --scale 4 || bad="$bad binL40/L"
	for m in 0 1 2 3 4 5 6 7; do
		decodes "$work/url" Q --mask $m || bad="$bad url/Q/mask$m"
	done
	for v in 2 6 7 14 21 28 32 35 40; do
		decodes "$work/one" M --version $v --scale 3 || bad="$bad one/M/v$v"
	done
	if [ -z "$bad" ]; then pass "vpn qr: $((n + 20)) symbols decoded by zbarimg byte for byte"; else fail "vpn qr: zbarimg" "$bad"; fi
	"$LAB" vpn qr --ecc H --png "$work/wg.png" <"$work/wg.conf"
	testing "vpn qr: a 1 KB WireGuard configuration at level H is version 20 or more" \
		"\"\$LAB\" vpn qr --ecc H --info <$work/wg.conf 2>&1 >/dev/null | awk '{ print (\$2 >= 20) }'" "1
" "" ""
fi

if ! have qrencode; then
	skip "vpn qr: the same matrix as qrencode" "needs qrencode"
else
	# qrencode -8: byte mode; its version is the smallest that fits, as ours
	bad=""
	agree=0
	for spec in "one L" "url M" "wg.conf Q" "wg.conf H" "bin700 L" "bin700 Q" "binH40 H" "binL40 L"; do
		set -- $spec
		[ -f "$work/$1" ] || head -c 100 /dev/urandom >"$work/$1"
		qrencode -8 -t ASCII -m 0 -l $2 <"$work/$1" | sed 's/ *$//' >"$work/theirs"
		found=""
		for m in 0 1 2 3 4 5 6 7; do
			"$LAB" vpn qr --8bit --ascii --mask $m --ecc $2 <"$work/$1" | sed 's/ *$//' >"$work/mine"
			cmp -s "$work/mine" "$work/theirs" && found=$m
		done
		[ -n "$found" ] || bad="$bad $1/$2"
	done
	if [ -z "$bad" ]; then pass "vpn qr: module for module qrencode's symbol (8 inputs, versions 1-40)"; else fail "vpn qr: qrencode" "differ:$bad"; fi
	# every version (function patterns, alignment positions, version
	# information), the levels in turn
	bad=""
	v=1
	for e in L M Q H L M Q H L M Q H L M Q H L M Q H L M Q H L M Q H L M Q H L M Q H L M Q H; do
		qrencode -8 -v $v -t ASCII -m 0 -l $e <"$work/one" | sed 's/ *$//' >"$work/theirs"
		found=""
		for m in 0 1 2 3 4 5 6 7; do
			"$LAB" vpn qr --8bit --ascii --version $v --mask $m --ecc $e <"$work/one" | sed 's/ *$//' >"$work/mine"
			cmp -s "$work/mine" "$work/theirs" && { found=$m; break; }
		done
		[ -n "$found" ] || bad="$bad $v-$e"
		v=$((v + 1))
	done
	if [ -z "$bad" ]; then pass "vpn qr: qrencode's symbol in each of the 40 versions"; else fail "vpn qr: qrencode, versions" "differ:$bad"; fi
fi
