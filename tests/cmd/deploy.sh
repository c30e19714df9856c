#!/bin/sh
# lab deploy without SSH: init, build (incremental, templates, errors), and
# machines with host = local applied into directories; usage errors.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inv=$work/inv
D() { "$LAB" deploy -C "$inv" "$@"; }

testcmd "deploy init" "deploy init $work/inv >/dev/null && ls $work/inv" \
	"facts
inventory
layers
machines
" "" ""
testcmd "deploy init refuses an inventory" "deploy init $work/inv 2>&1; echo \$?" \
	"lab deploy: $work/inv: an inventory is there already
1
" "" ""
# the embedded example: one machine over SSH; make it local, into a directory
cat >"$inv/inventory" <<EOF
[machine example]
host = local
root = $work/t1
[machine two]
host = local
root = $work/t2
EOF
mkdir -p "$inv/machines/two"
printf '# only the base layer\n' >"$inv/machines/two/layers"

testing "deploy build renders templates" \
	"\"\$LAB\" deploy -C $inv build -m example >/dev/null && grep -c 'echo \"hello from example' $inv/.lab/build/example/tree/usr/local/opt/hello/run" \
	"1
" "" ""
testing "deploy build: a second build rebuilds nothing" \
	"\"\$LAB\" deploy -C $inv build -m example | sed 's/, manifest.*//'" \
	"example: 17 entries, 0 rebuilt
" "" ""
testing "deploy build: one changed input, one rebuilt" \
	"echo x >>$inv/layers/hello/etc/systemd/system/hello.service && \"\$LAB\" deploy -C $inv build -m example | sed 's/, manifest.*//'" \
	"example: 17 entries, 1 rebuilt
" "" ""
testing "deploy: undefined fact names file and line" \
	"printf 'a\n\n{{ nope }}\n' >$inv/layers/_/usr/local/etc/bad.tpl; \"\$LAB\" deploy -C $inv build -m two 2>&1; echo \$?; rm $inv/layers/_/usr/local/etc/bad.tpl" \
	"lab deploy: two: layers/_/usr/local/etc/bad.tpl:3: undefined fact nope
1
" "" ""

# host = local: the receiver is this binary, the target a directory
D >/dev/null 2>&1
testing "deploy local: both machines applied" \
	"cat $work/t1/usr/local/etc/lab/deployed | head -1; ls $work/t2/usr/local/etc/lab; ls $work/t1/var/lib/lab/deploy/gens" \
	"$(sed -n 1p "$inv/.lab/build/example/tree/usr/local/etc/lab/deployed" 2>/dev/null)
deployed
1.manifest
" "" ""
testing "deploy local: a no-op" \
	"\"\$LAB\" deploy -C $inv --json 2>/dev/null | jq -c '[.[] | .noop, .sent]'" \
	'[true,0,true,0]
' "" ""
testing "deploy local: a removal, then rollback" \
	"rm $inv/layers/hello/usr/local/opt/hello/run.tpl && \"\$LAB\" deploy -C $inv -m example >/dev/null 2>&1 && test ! -e $work/t1/usr/local/opt/hello/run && \"\$LAB\" deploy -C $inv -m example --rollback >/dev/null 2>&1 && grep -c 'hello from example' $work/t1/usr/local/opt/hello/run" \
	"1
" "" ""

# usage errors: one line, non-zero
testcmd "deploy unknown machine" "deploy -C $inv -m nosuch 2>&1; echo \$?" \
	"lab deploy: nosuch: no such machine in $inv/inventory
1
" "" ""
printf '[machine a]\nhots = x\n' >"$work/bad-inventory"
mkdir -p "$work/bad" && cp "$work/bad-inventory" "$work/bad/inventory"
testcmd "deploy inventory error with file:line" "deploy -C $work/bad 2>&1; echo \$?" \
	"lab deploy: $work/bad/inventory:2: unknown key \"hots\" in [machine]
1
" "" ""
testcmd "deploy no inventory" "deploy -C $work/none 2>&1; echo \$?" \
	"lab deploy: $work/none/inventory: No such file or directory
1
" "" ""
testcmd "deploy receive needs an absolute root" "deploy --receive --root rel 2>&1; echo \$?" \
	"lab deploy: --root rel: not an absolute path (see 'lab deploy -h')
2
" "" ""
testcmd "deploy exec needs a command" "deploy -C $inv --exec 2>&1 | head -1; echo \$?" \
	"lab deploy: --exec -- CMD [ARGS...] (see 'lab deploy -h')
0
" "" ""
