#!/bin/sh
# lab vm without privilege: usage errors (exit 2, one line), read-only
# commands on an empty store, refusals that need root.
SUITE=cmd
. "$(dirname "$0")/../lib.sh"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
export LAB_VM_ROOT="$w/store" LAB_RUN_DIR="$w/run"
testcmd "vm: no command" 'vm; echo $?' "lab vm: missing command (see 'lab vm -h')
2
" "" ""
testcmd "vm new without a name" 'vm new; echo $?' "lab vm: new needs NAME --image IMG (see 'lab vm -h')
2
" "" ""
testcmd "vm new without an image" 'vm new web; echo $?' "lab vm: new web: --image IMG is required (see 'lab vm -h')
2
" "" ""
testcmd "vm new with a bad --cpus" 'vm new a --image i --cpus x; echo $?' \
	"lab vm: --cpus x: expected a number of CPUs (0.5, 2) (see 'lab vm -h')
2
" "" ""
testcmd "vm new with a bad --memory" 'vm new a --image i --memory 1k; echo $?' \
	"lab vm: --memory 1k: expected a size of at least 4M (256M, 2G) (see 'lab vm -h')
2
" "" ""
testcmd "vm new with a bad --net" 'vm new a --image i --net foo; echo $?' \
	"lab vm: --net foo: expected bridge[:BR], macvlan:IF or none (see 'lab vm -h')
2
" "" ""
testcmd "vm new with a bad --bind" 'vm new a --image i --bind /x; echo $?' \
	"lab vm: --bind /x: expected SRC:DST[:ro] with absolute paths (see 'lab vm -h')
2
" "" ""
testcmd "vm new with an unknown capability" 'vm new a --image i --cap-add sys_magic; echo $?' \
	"lab vm: --cap-add sys_magic: not a capability (net_admin, sys_ptrace, ...) (see 'lab vm -h')
2
" "" ""
testcmd "vm new with an unterminated --cmd" "vm new a --image i --cmd \"sh -c 'x\"; echo \$?" \
	"lab vm: --cmd: unterminated quote
1
" "" ""
testcmd "vm new with an invalid name" 'vm new Bad_Name --image i; echo $?' \
	"lab vm: Bad_Name: invalid name: a DNS label (a-z, 0-9, '-', at most 63)
1
" "" ""
testcmd "vm run without --rm" 'vm run img; echo $?' \
	"lab vm: run makes one-shot instances: run --rm IMG -- CMD (new makes lasting ones) (see 'lab vm -h')
2
" "" ""
testcmd "vm: unknown command" 'vm bogus; echo $?' "lab vm: unknown command \"bogus\" (see 'lab vm -h')
2
" "" ""
testcmd "vm ls on an empty store" 'vm ls --json' "[]
" "" ""
testcmd "vm image ls on an empty store" 'vm image ls --json' "[]
" "" ""
testcmd "vm logs of an unknown instance" 'vm logs nope; echo $?' "lab vm: nope: no such instance
1
" "" ""
if is_root && have setpriv; then
	testing "vm new needs root" \
		"setpriv --reuid=65534 --regid=65534 --clear-groups \"\$LAB\" vm new web --image i; echo \$?" \
		"lab vm: needs root (namespaces, mounts, cgroups, netlink)
1
" "" ""
fi
