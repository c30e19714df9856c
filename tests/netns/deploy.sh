#!/bin/sh
# lab deploy against real OpenSSH sshd targets, each in its own namespace
# with its own root directory, all on one bridge in a client namespace:
#
#   cl 10.77.0.1          runs lab deploy (the inventory lives in $work/inv)
#   t1..t10 10.77.0.11..  sshd on port 22, root $work/tN/root
#
# First deploy (lab installs itself), no-op, one-file change, removal, mode
# change, symlinks and "!" names, template errors with file:line, unknown
# and changed host keys refused, an unreachable machine failing alone,
# rollback restoring the tree byte for byte, a failing hook with
# --rollback-on-failure, ten machines at once, and a receiver fed broken
# frames that must not touch a file.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "deploy" "needs root"; exit 0; }
SSHD=/usr/sbin/sshd
for t in ip jq ssh-keygen; do
	have $t || { skip "deploy" "needs $t"; exit 0; }
done
[ -x $SSHD ] || { skip "deploy" "needs sshd (openssh-server)"; exit 0; }
work=$(mktemp -d)
on_exit "rm -rf $work"
N=10
inv=$work/inv

ns_add cl || { fail "namespace cl"; exit 0; }
C() { "$LAB" net --netns "${NS_PREFIX}cl" "$@"; }
C link add br0 type bridge up
C addr add 10.77.0.1/24 dev br0
mkdir -p /run/sshd	# sshd's privilege separation directory
mkdir -p "$work/home"	# an empty home for root: no profile runs on the targets
# client keys of each kind libssh takes: ed25519 (most machines), rsa (m6),
# ecdsa (m7), and the ed25519 one again through ssh-agent (m8)
ssh-keygen -q -t ed25519 -N '' -f "$work/id" -C lab-test
ssh-keygen -q -t rsa -b 3072 -N '' -f "$work/id_rsa" -C lab-test-rsa
ssh-keygen -q -t ecdsa -N '' -f "$work/id_ecdsa" -C lab-test-ecdsa
cat "$work/id.pub" "$work/id_rsa.pub" "$work/id_ecdsa.pub" >"$work/authorized_keys"
eval "$(ssh-agent -s)" >/dev/null
on_exit "kill $SSH_AGENT_PID"
ssh-add -q "$work/id" 2>/dev/null

# start_sshd I: (re)start target I's sshd in its namespace
start_sshd() {
	d=$work/t$1
	[ ! -f "$d/sshd.pid" ] || { kill "$(cat "$d/sshd.pid")" 2>/dev/null; sleep 0.1; }
	n "t$1" unshare -m sh -c "mount --bind '$work/home' /root && exec $SSHD -f '$d/sshd_config' -E '$d/sshd.log'"
}
i=1
while [ $i -le $N ]; do
	ns_add "t$i" || { fail "namespace t$i"; exit 0; }
	C link add "p$i" type veth peer eth0 netns "${NS_PREFIX}t$i" master br0 up
	"$LAB" net --netns "${NS_PREFIX}t$i" addr add "10.77.0.$((10 + i))/24" dev eth0
	"$LAB" net --netns "${NS_PREFIX}t$i" link set eth0 up
	d=$work/t$i
	mkdir -p "$d/root"
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	cat >"$d/sshd_config" <<EOF
ListenAddress 10.77.0.$((10 + i))
HostKey $d/hostkey
PidFile $d/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
EOF
	start_sshd $i
	i=$((i + 1))
done
# wait for the last one to listen
i=0
until n cl bash -c "exec 3<>/dev/tcp/10.77.0.$((10 + N))/22" 2>/dev/null || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

"$LAB" deploy init "$inv" >/dev/null || { fail "init"; exit 0; }
{
	printf '[defaults]\nknown-hosts = %s\n' "$work/known_hosts"
	i=1
	while [ $i -le $N ]; do
		printf '[machine m%d]\nhost = 10.77.0.%d\nroot = %s\n' $i $((10 + i)) "$work/t$i/root"
		case $i in
		6) echo "identity = $work/id_rsa" ;;
		7) echo "identity = $work/id_ecdsa" ;;
		8) ;;	# the agent
		*) echo "identity = $work/id" ;;
		esac
		mkdir -p "$inv/machines/m$i"
		printf 'hello\nextra\n' >"$inv/machines/m$i/layers"
		i=$((i + 1))
	done
} >"$inv/inventory"
rm -rf "$inv/machines/example" "$inv/facts/example.json"
# a layer of our own: a symlink that stays one, a "!" symlink dereferenced,
# a link from a links manifest, a template that uses probed facts
mkdir -p "$inv/layers/extra/usr/local/etc/extra" "$work/outside"
echo "from outside the inventory" >"$work/outside/motd"
ln -s ../hello "$inv/layers/extra/usr/local/etc/extra/rel-link"
ln -s "$work/outside/motd" "$inv/layers/extra/usr/local/etc/extra/!motd"
printf 'n={{ nproc }} m={{ machine }}\n{{#each peers}}peer {{ . }}\n{{/each}}' \
	>"$inv/layers/extra/usr/local/etc/extra/info.tpl.txt"
mkdir -p "$inv/layers/extra/.lab"
printf '{ "peers": ["a", "b"] }\n' >"$inv/layers/extra/.lab/facts.json"
printf 'usr/local/etc/extra/null /dev/null\n' >"$inv/layers/extra/.lab/links"
echo one >"$inv/layers/extra/usr/local/etc/extra/plain"

D() { n cl "$LAB" deploy -C "$inv" "$@"; }
J() { D --json "$@" 2>"$work/err"; }
# refused NAME PATTERN NOTMADE ARGS...: the deploy fails, its message
# matches PATTERN, and NOTMADE was not made
refused() {
	name=$1 pat=$2 notmade=$3
	shift 3
	if out=$(D "$@" 2>&1); then
		fail "$name" "$out"
	elif echo "$out" | grep -q -- "$pat" && [ ! -e "$notmade" ]; then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}
root1=$work/t1/root

# ---- host keys ----
refused "unknown host key refused" "host key" "$root1/usr" -m m1

# ---- first deploy to ten machines at once ----
J --accept-new >"$work/first.json"
ok=$(jq '[.[] | select(.ok and (.sent > 0) and .generation == 1)] | length' "$work/first.json")
if [ "$ok" = $N ]; then pass "first deploy to $N machines"; else
	fail "first deploy to $N machines" "$(cat "$work/first.json" "$work/err")"; fi
[ "$(jq -r '[.[] | select(.machine == "m6" or .machine == "m7" or .machine == "m8") | .ok] | all' "$work/first.json")" = true ] &&
	pass "rsa, ecdsa and agent authentication" || fail "rsa, ecdsa and agent authentication"
[ "$(wc -l <"$work/known_hosts")" = $N ] && pass "known_hosts recorded" ||
	fail "known_hosts recorded" "$(cat "$work/known_hosts")"
cmp -s "$root1/usr/local/libexec/lab" "$LAB" && pass "lab installed itself" ||
	fail "lab installed itself"
[ "$(cat "$root1/usr/local/etc/extra/info.txt")" = "n=$(nproc) m=m1
peer a
peer b" ] && pass "template with probed facts" ||
	fail "template with probed facts" "$(cat "$root1/usr/local/etc/extra/info.txt")"
[ "$(readlink "$root1/usr/local/etc/extra/rel-link")" = ../hello ] &&
	pass "symlink stays a symlink" || fail "symlink stays a symlink"
[ ! -L "$root1/usr/local/etc/extra/motd" ] &&
	[ "$(cat "$root1/usr/local/etc/extra/motd")" = "from outside the inventory" ] &&
	[ ! -e "$root1/usr/local/etc/extra/!motd" ] &&
	pass "! symlink dereferenced" || fail "! symlink dereferenced" "$(ls -la "$root1/usr/local/etc/extra")"
[ "$(readlink "$root1/usr/local/etc/extra/null")" = /dev/null ] &&
	[ "$(readlink "$root1/etc/systemd/system/multi-user.target.wants/hello.service")" = ../hello.service ] &&
	pass "links manifests" || fail "links manifests"
grep -q "hello from m7" "$work/t7/root/usr/local/opt/hello/run" &&
	pass "facts referring to facts" || fail "facts referring to facts"

# ---- no-op ----
J >"$work/noop.json"
ok=$(jq '[.[] | select(.ok and .noop and .sent == 0 and .written == 0 and .generation == 1)] | length' "$work/noop.json")
[ "$ok" = $N ] && pass "no-op deploy sends nothing" ||
	fail "no-op deploy sends nothing" "$(cat "$work/noop.json")"

# snapshot of m1's managed tree, for the rollback check
tree_sum() {
	(cd "$1" && find usr etc -printf '%y %m %p %l\n' | sort &&
		find usr etc -type f -print0 | sort -z | xargs -0 sha256sum)
}
tree_sum "$root1" >"$work/gen1.sum"

# ---- one-file change on one machine ----
mkdir -p "$inv/machines/m1/root/usr/local/etc/extra"
echo changed >"$inv/machines/m1/root/usr/local/etc/extra/plain"
J >"$work/one.json"
if [ "$(jq -c '[.[] | select(.machine == "m1") | .sent, .written, .generation][]' "$work/one.json" | tr '\n' ' ')" = "1 1 2 " ] &&
	[ "$(jq '[.[] | select(.noop)] | length' "$work/one.json")" = $((N - 1)) ] &&
	[ "$(cat "$root1/usr/local/etc/extra/plain")" = changed ]; then
	pass "one-file change"
else
	fail "one-file change" "$(cat "$work/one.json")"
fi

# ---- --diff and --dry-run change nothing ----
echo "changed again" >"$inv/machines/m1/root/usr/local/etc/extra/plain"
out=$(D -m m1 --diff 2>&1)
echo "$out" | grep -q '^-changed$' && echo "$out" | grep -q '^+changed again$' &&
	[ "$(cat "$root1/usr/local/etc/extra/plain")" = changed ] &&
	pass "--diff shows a unified diff, changes nothing" || fail "--diff shows a unified diff, changes nothing" "$out"
out=$(D -m m1 -n 2>&1)
echo "$out" | grep -q 'usr/local/etc/extra/plain' && [ "$(cat "$root1/usr/local/etc/extra/plain")" = changed ] &&
	pass "--dry-run lists, changes nothing" || fail "--dry-run lists, changes nothing" "$out"
echo changed >"$inv/machines/m1/root/usr/local/etc/extra/plain"

# ---- removal and mode change ----
rm "$inv/layers/extra/usr/local/etc/extra/rel-link"
chmod 0700 "$inv/layers/extra/usr/local/etc/extra/plain"	# m1 has its own plain
mkdir -p "$inv/layers/extra/usr/local/bin"
printf '#!/bin/sh\necho tool\n' >"$inv/layers/extra/usr/local/bin/tool"
chmod 0750 "$inv/layers/extra/usr/local/bin/tool"
J -m m1 -m m2 >"$work/rm.json"
[ "$(jq '[.[] | select(.ok and .removed == 1)] | length' "$work/rm.json")" = 2 ] &&
	[ ! -e "$root1/usr/local/etc/extra/rel-link" ] && [ ! -L "$root1/usr/local/etc/extra/rel-link" ] &&
	pass "a file that left the tree is removed" || fail "a file that left the tree is removed" "$(cat "$work/rm.json" "$work/err")"
[ "$(stat -c %a "$work/t2/root/usr/local/etc/extra/plain")" = 700 ] &&
	[ "$(stat -c %a "$root1/usr/local/bin/tool")" = 750 ] &&
	[ "$(stat -c %a "$root1/usr/local/etc/extra/plain")" = 644 ] &&
	pass "modes" || fail "modes" "$(ls -l "$work/t2/root/usr/local/etc/extra" "$root1/usr/local/bin")"

# ---- rollback: exactly the previous generation, removals included ----
D -m m1 --rollback 2 >/dev/null 2>"$work/err"
echo changed >"$work/expect"
[ ! -e "$root1/usr/local/bin/tool" ] && [ -L "$root1/usr/local/etc/extra/rel-link" ] &&
	cmp -s "$root1/usr/local/etc/extra/plain" "$work/expect" &&
	pass "rollback to generation 2" || fail "rollback to generation 2" "$(cat "$work/err")"
D -m m1 --rollback 1 >/dev/null 2>"$work/err"
tree_sum "$root1" >"$work/back.sum"
cmp -s "$work/gen1.sum" "$work/back.sum" && pass "rollback restores generation 1 byte for byte" ||
	fail "rollback restores generation 1 byte for byte" "$(diff "$work/gen1.sum" "$work/back.sum"; cat "$work/err")"

# ---- template errors name the file and line; nothing is sent ----
printf 'ok line\n{{ no_such_fact }}\n' >"$inv/layers/extra/usr/local/etc/extra/bad.tpl"
refused "template error with file:line" 'layers/extra/usr/local/etc/extra/bad.tpl:2:.*no_such_fact' \
	"$work/t3/root/usr/local/bin/tool" -m m3
rm "$inv/layers/extra/usr/local/etc/extra/bad.tpl"

# ---- a changed host key is refused ----
rm -f "$work/t2/hostkey" "$work/t2/hostkey.pub"
ssh-keygen -q -t ed25519 -N '' -f "$work/t2/hostkey"
start_sshd 2
sleep 0.2
echo new >"$inv/layers/extra/usr/local/etc/extra/after-rekey"
refused "changed host key refused" "[Cc]hanged" "$work/t2/root/usr/local/etc/extra/after-rekey" -m m2 --accept-new

# ---- an unreachable machine fails alone ----
printf '[machine gone]\nhost = 10.77.0.250\nroot = %s\nidentity = %s\n' "$work/gone" "$work/id" >>"$inv/inventory"
mkdir -p "$inv/machines/gone" && echo hello >"$inv/machines/gone/layers"
if J -m m3 -m m4 -m gone >"$work/gone.json"; then
	fail "unreachable machine fails, the others succeed" "exit 0"
elif [ "$(jq -c '[.[] | select(.ok) | .machine]' "$work/gone.json")" = '["m3","m4"]' ] &&
	[ "$(jq -r '.[] | select(.machine == "gone") | .error' "$work/gone.json")" != "" ] &&
	[ -e "$work/t3/root/usr/local/bin/tool" ]; then
	pass "unreachable machine fails, the others succeed"
else
	fail "unreachable machine fails, the others succeed" "$(cat "$work/gone.json")"
fi

# ---- a key the target does not authorize ----
ssh-keygen -q -t ed25519 -N '' -f "$work/id_other"
printf '[machine stranger]\nhost = 10.77.0.19\nroot = %s\nidentity = %s\n' "$work/stranger" "$work/id_other" >>"$inv/inventory"
mkdir -p "$inv/machines/stranger" && echo hello >"$inv/machines/stranger/layers"
refused "a key the target refuses" "authentication failed for root (key refused)" "$work/stranger" -m stranger

# ---- a failing hook: the machine fails; --rollback-on-failure goes back ----
mkdir -p "$inv/layers/extra/.lab/hooks"
printf '#!/bin/sh\necho "hook ran in $LAB_DEPLOY_ROOT" >&2\nexit 3\n' >"$inv/layers/extra/.lab/hooks/post-apply"
chmod 755 "$inv/layers/extra/.lab/hooks/post-apply"
echo v5 >"$inv/layers/extra/usr/local/etc/extra/version"
if D -m m5 --rollback-on-failure >"$work/hook.out" 2>&1; then
	fail "failed hook rolls back" "$(cat "$work/hook.out")"
elif [ ! -e "$work/t5/root/usr/local/etc/extra/version" ] &&
	grep -q "hooks/02-extra: exit 3: hook ran in $work/t5/root" "$work/hook.out" &&
	grep -q "rolled back" "$work/hook.out"; then
	pass "failed hook rolls back"
else
	fail "failed hook rolls back" "$(cat "$work/hook.out"; ls "$work/t5/root/usr/local/etc/extra")"
fi
rm -rf "$inv/layers/extra/.lab/hooks"
J -m m5 >"$work/after.json"
[ "$(jq -r '.[0].ok' "$work/after.json")" = true ] && [ -e "$work/t5/root/usr/local/etc/extra/version" ] &&
	pass "deploy after a rolled back failure" || fail "deploy after a rolled back failure" "$(cat "$work/after.json" "$work/err")"

# ---- no systemd: the hooks are told which units a change concerns ----
mkdir -p "$inv/layers/extra/.lab/hooks" "$inv/layers/extra/usr/local/share"
printf '#!/bin/sh\nprintf "[%%s]\\n" "$LAB_DEPLOY_RESTART" >"$LAB_DEPLOY_ROOT/restart-list"\n' \
	>"$inv/layers/extra/.lab/hooks/post-apply"
chmod 755 "$inv/layers/extra/.lab/hooks/post-apply"
echo 'svc.service usr/local/etc/extra/*' >"$inv/layers/extra/.lab/restart-on"
echo v6 >"$inv/layers/extra/usr/local/etc/extra/version"
J -m m5 >"$work/svc.json"
[ "$(jq -r '.[0].units' "$work/svc.json")" = svc.service ] &&
	[ "$(cat "$work/t5/root/restart-list")" = "[svc.service]" ] &&
	pass "no systemd: LAB_DEPLOY_RESTART, reported as units" ||
	fail "no systemd: LAB_DEPLOY_RESTART, reported as units" "$(cat "$work/svc.json" "$work/t5/root/restart-list")"
echo note >"$inv/layers/extra/usr/local/share/note"
J -m m5 >"$work/svc.json"
[ "$(jq -r '.[0].units' "$work/svc.json")" = "" ] && [ "$(cat "$work/t5/root/restart-list")" = "[]" ] &&
	pass "no systemd: a change no unit cares about restarts nothing" ||
	fail "no systemd: a change no unit cares about restarts nothing" "$(cat "$work/svc.json" "$work/t5/root/restart-list")"
rm -rf "$inv/layers/extra/.lab/hooks" "$inv/layers/extra/.lab/restart-on" "$inv/layers/extra/usr/local/share"

# ---- --exec runs on every machine, in its root ----
out=$(D -m m6 -m m7 --exec -- sh -c 'cat usr/local/etc/extra/plain; hostname >/dev/null' 2>&1)
[ "$(echo "$out" | grep -c '^one$')" = 2 ] && pass "--exec" || fail "--exec" "$out"

# ---- the receiver refuses broken frames and touches nothing ----
# frames: a type byte and a 3-byte big-endian length
tree_sum "$work/t8/root" >"$work/t8.sum"
R="$work/t8/root"
frames() { printf "$1" | timeout 10 "$LAB" deploy --receive --root "$R" >/dev/null 2>&1; }
bad=0
frames 'A\000\000\020abc' && bad=1                          # truncated apply
frames 'C\000\000\000' && bad=1                              # commit with nothing staged
frames 'B\000\000\003xyzD\000\000\002hiE\000\000\000' && bad=1	# blob without a header
frames 'Z\377\377\377' && bad=1                              # an absurd length
frames 'A\000\000\005f a bC\000\000\000' && bad=1            # an apply that is not a manifest
head -c 4096 /dev/urandom >"$work/noise"
timeout 10 "$LAB" deploy --receive --root "$R" <"$work/noise" >/dev/null 2>&1 && bad=1
tree_sum "$work/t8/root" >"$work/t8.after"
[ $bad = 0 ] && cmp -s "$work/t8.sum" "$work/t8.after" &&
	[ "$(ls "$R/var/lib/lab/deploy/gens" | wc -l)" = 1 ] &&
	pass "broken frames refused, nothing touched" ||
	fail "broken frames refused, nothing touched" "bad=$bad $(diff "$work/t8.sum" "$work/t8.after")"

# ---- the client refuses a receiver that speaks nonsense ----
printf '#!/bin/sh\nprintf "H\\377\\377\\377garbage"\n' >"$work/t9/root/usr/local/libexec/lab"
if out=$(D -m m9 2>&1); then
	fail "client refuses a broken receiver" "$out"
else
	pass "client refuses a broken receiver"
fi

# ---- an older lab on the target is replaced and takes over ----
echo x >>"$work/t10/root/usr/local/libexec/lab"
J -m m10 >"$work/up.json"
[ "$(jq -r '.[0].ok' "$work/up.json")" = true ] && cmp -s "$work/t10/root/usr/local/libexec/lab" "$LAB" &&
	pass "another lab on the target is upgraded" || fail "another lab on the target is upgraded" "$(cat "$work/up.json" "$work/err")"
