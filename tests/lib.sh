# Shared by the shell tests (sourced): result lines and the toybox-style
# harness.
#
#   testing NAME "COMMAND" "EXPECTED" "INFILE" "STDIN"
#	runs COMMAND with sh (eval) in a scratch directory holding INFILE
#	as ./input, STDIN on standard input; PASS when stdout is EXPECTED.
#   testcmd NAME "ARGS" "EXPECTED" "INFILE" "STDIN"
#	the same with "$LAB " in front of ARGS.
#   pass NAME / fail NAME [why] / skip NAME why
#
# Every result is one line: "PASS: suite/NAME", "FAIL: ...", "SKIP: ... (why)".
# SUITE names the file's group (cmd, netns, ...).

: "${SUITE:=test}"
: "${LAB:=$(cd "$(dirname "$0")/../.." && pwd)/lab}"
TOP=$(cd "$(dirname "$LAB")" && pwd)
export LAB TOP

pass() { printf 'PASS: %s/%s\n' "$SUITE" "$1"; }
fail() {
	printf 'FAIL: %s/%s\n' "$SUITE" "$1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/    /'
}
skip() { printf 'SKIP: %s/%s (%s)\n' "$SUITE" "$1" "$2"; }

# check NAME COMMAND...: PASS when the command succeeds.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

testing() {
	name=$1 cmd=$2 want=$3 infile=$4 stdin=$5
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/lab-t.XXXXXX")
	printf '%s' "$infile" >"$scratch/input"
	got=$(cd "$scratch" && printf '%s' "$stdin" | eval "$cmd" 2>&1; echo x)
	got=${got%x}
	rm -rf "$scratch"
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "$(printf -- '--- want\n%s\n--- got\n%s' "$want" "$got")"
	fi
}

testcmd() {
	testing "$1" "\"\$LAB\" $2" "$3" "$4" "$5"
}

is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# Network namespaces for privileged tests, wireguard netns.sh style: names
# end in the test's pid, everything made is removed on exit.
#   ns_add NAME         make lab-t-$$-NAME
#   n NAME CMD...       run CMD inside it
#   on_exit "CMD"       run CMD at exit (after the namespaces go)
NS_PREFIX="lab-t-$$-"
NS_LIST=""
EXIT_CMDS=""
ns_add() {
	ip netns add "$NS_PREFIX$1" || return 1
	NS_LIST="$NS_LIST $1"
	ip -n "$NS_PREFIX$1" link set lo up
}
n() {
	name=$1
	shift
	ip netns exec "$NS_PREFIX$name" "$@"
}
on_exit() { EXIT_CMDS="$EXIT_CMDS
$1"; }
# on_exit_last "CMD": after everything else (removing a scratch directory)
LAST_CMDS=""
on_exit_last() { LAST_CMDS="$LAST_CMDS
$1"; }
# loopfs DIR SIZE MKFS...: a file system made by MKFS on a loop device over
# a sparse DIR.img, mounted on DIR; unmounted and released at exit, after
# the on_exit commands (which may stop what uses it), before the last ones.
LOOP_EXIT=""
loopfs() {
	_d=$1 _s=$2
	shift 2
	truncate -s "$_s" "$_d.img" && _l=$(losetup -f --show "$_d.img") || return 1
	LOOP_EXIT="mountpoint -q '$_d' && umount -l '$_d'; losetup -d '$_l' 2>/dev/null
$LOOP_EXIT"
	"$@" "$_l" >/dev/null 2>&1 && mkdir -p "$_d" && mount "$_l" "$_d"
}
cleanup() {
	for name in $NS_LIST; do
		ip netns pids "$NS_PREFIX$name" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$NS_PREFIX$name" 2>/dev/null
	done
	eval "$EXIT_CMDS"
	eval "$LOOP_EXIT"
	eval "$LAST_CMDS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# busybox_root DIR: a minimal root for lab vm tests and benchmarks, from
# the static busybox of the busybox-static package: every applet linked,
# an inittab that says it booted, passwd and group.
busybox_root() {
	bb=$(command -v busybox) || return 1
	file -L "$bb" 2>/dev/null | grep -q 'statically linked' || return 1
	mkdir -p "$1/bin" "$1/sbin" "$1/usr/bin" "$1/usr/sbin" "$1/etc" "$1/root" \
		"$1/tmp" "$1/proc" "$1/sys" "$1/dev" "$1/run" "$1/var/tmp" || return 1
	cp "$bb" "$1/bin/busybox" || return 1
	for a in $("$bb" --list-full); do
		[ "$a" = bin/busybox ] || ln -sf /bin/busybox "$1/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$1/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$1/etc/group"
	printf '::sysinit:/bin/echo lab-test booted\n' >"$1/etc/inittab"
	chmod 1777 "$1/tmp" "$1/var/tmp"
}
