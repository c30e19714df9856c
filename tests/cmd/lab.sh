#!/bin/sh
# The dispatcher: lab <cmd>, lab-<cmd>, --list, --version, help, errors and
# exit codes; the binary itself (static, runs alone in an empty chroot);
# make install.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

testcmd "no arguments: usage, exit 2" '>/dev/null 2>&1; echo $?' "2
" "" ""
testcmd "unknown command: one line, exit 127" 'frobnicate; echo $?' "lab: unknown command 'frobnicate' (see 'lab --list')
127
" "" ""
testcmd "unknown option: exit 2" '--frob; echo $?' "lab: unknown option '--frob' (see 'lab -h')
2
" "" ""
testcmd "help: usage on stdout" 'help | head -n 1' "usage: lab <command> [args...]     (or lab-<command> [args...])
" "" ""
testcmd "help for an unknown command: 127" 'help frobnicate; echo $?' "lab: unknown command 'frobnicate' (see 'lab --list')
127
" "" ""
testcmd "--version names lab and every library" \
	'--version | sed -n "1s/ .*//p; s/^  \([A-Za-z]*\) .*/\1/p"' "lab
musl
BearSSL
mbed
libssh
zlib
netlink
" "" ""
testing "--version reports the pinned Debian sources" \
	'"$LAB" --version | grep -c "Debian"' "5
" "" ""

# Every listed command answers -h, by name and through its lab-<cmd> link.
cmds=$("$LAB" --list | awk '{print $1}')
links=$(mktemp -d)
for c in $cmds; do
	ln -s "$LAB" "$links/lab-$c"
	testing "lab-$c -h equals lab help $c" \
		"\"$links/lab-$c\" -h >a; \"\$LAB\" help $c >b; \"\$LAB\" $c --help >c; cmp a b && cmp a c && test -s a && echo same" \
		"same
" "" ""
done
ln -s "$LAB" "$links/lab-frobnicate"
testing "lab-<unknown> link: 127" "\"$links/lab-frobnicate\"; echo \$?" \
	"lab: unknown command 'frobnicate' (called as lab-frobnicate; see 'lab --list')
127
" "" ""
rm -rf "$links"

if have file; then
	testing "the binary is statically linked" 'file "$LAB" | grep -o "statically linked"' \
		"statically linked
" "" ""
else
	skip "the binary is statically linked" "file not installed"
fi

size=$(stat -c %s "$LAB")
if [ "$size" -lt $((4 * 1024 * 1024)) ]; then
	pass "stripped size under 4 MiB ($size bytes)"
else
	fail "stripped size under 4 MiB" "$size bytes"
fi

if is_root && have chroot; then
	root=$(mktemp -d)
	cp "$LAB" "$root/lab"
	testing "runs alone in an empty chroot" "chroot \"$root\" /lab --version | head -c 4" "lab " "" ""
	rm -rf "$root"
else
	skip "runs alone in an empty chroot" "needs root"
fi

dest=$(mktemp -d)
if out=$(make -s -C "$TOP" install DESTDIR="$dest" PREFIX=/usr 2>&1); then
	n=$(echo "$cmds" | grep -c .)
	got=$(find "$dest/usr/bin" -name 'lab-*' -type l | wc -l)
	if [ -x "$dest/usr/bin/lab" ] && [ "$got" -eq "$n" ]; then
		pass "make install: lab and $n lab-<cmd> links"
	else
		fail "make install: lab and $n lab-<cmd> links" "found $got links"
	fi
else
	fail "make install" "$out"
fi
rm -rf "$dest"

grep -q '^    make test$' "$TOP/README.md" && grep -q 'make test' "$TOP/.ci/run" &&
	pass "README and .ci/run give the same test command" ||
	fail "README and .ci/run give the same test command"
