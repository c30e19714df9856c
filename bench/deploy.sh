#!/bin/sh
# bench/deploy.sh: lab deploy against rsync -a --delete over ssh and
# ansible-playbook (copy module), all to OpenSSH sshd targets on loopback
# in a network and mount namespace of our own, on inventories of 200 and
# 2000 files: first deploy, no-op, one-file change (ansible: a smaller set); then 1 against 10
# targets, the incremental build, and --watch from save to applied.
# Prints medians in ms and ratios (peer / lab: above 1, lab is faster).
# Root. REPS=5 runs per figure. ansible-playbook's copy module takes about
# a second per file on a small machine, so it runs on its own smaller set
# (ANSIBLE_FILES=20) that lab is measured on too.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/deploy.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
REPS=${REPS:-5}
ANSIBLE_FILES=${ANSIBLE_FILES:-20}
for t in /usr/sbin/sshd ssh ssh-keygen rsync ansible-playbook; do
	command -v $t >/dev/null ||
		{ echo "bench/deploy.sh: needs $t (apt-get install openssh-server rsync ansible-core)" >&2; exit 1; }
done
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	exec env LAB_BENCH_INNER=1 LAB="$LAB" REPS="$REPS" ANSIBLE_FILES="$ANSIBLE_FILES" unshare -n -m sh "$0" "$@"
fi
ip link set lo up
mount --make-rprivate /
w=$(mktemp -d)
trap 'for p in $w/t*/sshd.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$w"' EXIT
trap 'exit 1' INT TERM
# an empty home for root, as on a fresh machine: no profile runs per login
mkdir -p "$w/home" /run/sshd
mount --bind "$w/home" /root
unset SSH_AUTH_SOCK
ssh-keygen -q -t ed25519 -N '' -f "$w/id"
cp "$w/id.pub" "$w/authorized_keys"

for i in 1 2 3 4 5 6 7 8 9 10; do
	d=$w/t$i
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1:$((2200 + i))
HostKey $d/hostkey
PidFile $d/sshd.pid
AuthorizedKeysFile $w/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
MaxStartups 100
EOF
	/usr/sbin/sshd -f "$d/sshd_config"
	ssh-keyscan -p $((2200 + i)) -t ed25519 127.0.0.1 2>/dev/null >>"$w/known_hosts"
done
SSH="ssh -i $w/id -o UserKnownHostsFile=$w/known_hosts -o BatchMode=yes"

# a file set: COUNT files of 1-4 KiB in directories of 50
mkset() {	# dir count
	awk -v d="$1" -v n="$2" 'BEGIN {
		srand(42)
		for (i = 0; i < n; i++) {
			dir = sprintf("%s/usr/local/share/bench/d%03d", d, int(i / 50))
			if (i % 50 == 0) system("mkdir -p " dir)
			f = sprintf("%s/f%04d.conf", dir, i)
			len = 1024 + int(rand() * 3072)
			s = ""
			while (length(s) < len) s = s sprintf("key%d = %d\n", length(s), int(rand() * 1e9))
			printf "%s", s > f
			close(f)
		}
	}'
}

ms() { date +%s%N; }
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# timed CMD...: REPS runs, the median in ms; PREP (a function) runs before each, untimed
PREP=:
timed() {
	k=0
	while [ $k -lt "$REPS" ]; do
		$PREP
		a=$(ms)
		"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		b=$(ms)
		echo $(((b - a) / 1000))
		k=$((k + 1))
	done | median | awk '{ printf "%.1f", $1 / 1000 }'
}
row() { printf '%-52s %9s %s\n' "$1" "$2" "${3:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

inventory() {	# dir nmachines
	mkdir -p "$1/layers" "$1/machines"
	{
		printf '[defaults]\nidentity = %s\nknown-hosts = %s\n' "$w/id" "$w/known_hosts"
		i=1
		while [ $i -le "$2" ]; do
			printf '[machine m%d]\nhost = 127.0.0.1\nport = %d\nroot = %s/t%d/lab\n' $i $((2200 + i)) "$w" $i
			mkdir -p "$1/machines/m$i"
			echo bench >"$1/machines/m$i/layers"
			i=$((i + 1))
		done
	} >"$1/inventory"
}

cat >"$w/play.yml" <<EOF
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        src: "{{ src }}/"
        dest: "{{ dest }}/"
EOF
printf 'bench ansible_host=127.0.0.1 ansible_port=2201 ansible_user=root ansible_ssh_private_key_file=%s ansible_python_interpreter=/usr/bin/python3\n' "$w/id" >"$w/hosts"
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=$w/known_hosts" \
	ANSIBLE_PIPELINING=True ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=$w/ansible-tmp

echo "lab deploy bench, $(uname -r), $(nproc) cores; medians of $REPS in ms"
for N in $ANSIBLE_FILES 200 2000; do
	inv=$w/inv$N
	inventory "$inv" 10
	mkset "$inv/layers/bench" $N
	src=$inv/layers/bench
	one=$src/usr/local/share/bench/d000/f0000.conf
	L() { "$LAB" deploy -C "$inv" "$@"; }
	# first deploys start from an empty target; lab's includes copying itself there
	wipe_lab() { rm -rf "$w/t1/lab" "$inv/.lab/state"; }
	wipe_lab_keep_bin() {
		[ -f "$w/t1/lab/usr/local/libexec/lab" ] && cp "$w/t1/lab/usr/local/libexec/lab" "$w/lab.bin"
		rm -rf "$w/t1/lab" "$inv/.lab/state"
		mkdir -p "$w/t1/lab/usr/local/libexec"
		cp "$w/lab.bin" "$w/t1/lab/usr/local/libexec/lab"
	}
	wipe_rs() { rm -rf "$w/t1/rs"; }
	wipe_an() { rm -rf "$w/t1/an"; }
	RS() { rsync -a --delete -e "$SSH -p 2201" "$src/" "root@127.0.0.1:$w/t1/rs/"; }
	AN() { ansible-playbook -i "$w/hosts" "$w/play.yml" -e "src=$src dest=$w/t1/an"; }
	L build -m m1 >/dev/null
	PREP=wipe_lab; lf=$(timed L -m m1)
	PREP=wipe_lab_keep_bin; lfb=$(timed L -m m1)
	PREP=wipe_rs; rf=$(timed RS)
	PREP=:
	ln=$(timed L -m m1)
	rn=$(timed RS)
	bump() { echo "x=$(ms)" >>"$one"; }
	PREP=bump; lo=$(timed L -m m1); ro=$(timed RS)
	PREP=:
	if [ $N = "$ANSIBLE_FILES" ]; then
		# ansible's copy module costs about a second per file here: a
		# small set, one run each
		R=$REPS
		REPS=1
		PREP=wipe_an; af=$(timed AN)
		PREP=:; an=$(timed AN)
		PREP=bump; ao=$(timed AN)
		PREP=:
		REPS=$R
		row "$N files: first deploy, lab (already installed)" "$lfb"
		row "$N files: first deploy, ansible-playbook copy (1 run)" "$af" "ansible/lab $(ratio "$af" "$lfb")"
		row "$N files: no-op, lab" "$ln"
		row "$N files: no-op, ansible-playbook copy (1 run)" "$an" "ansible/lab $(ratio "$an" "$ln")"
		row "$N files: one file changed, lab" "$lo"
		row "$N files: one file changed, ansible-playbook copy (1 run)" "$ao" "ansible/lab $(ratio "$ao" "$lo")"
		continue
	fi
	row "$N files: first deploy, lab (installing itself)" "$lf"
	row "$N files: first deploy, lab (already installed)" "$lfb"
	row "$N files: first deploy, rsync -a --delete over ssh" "$rf" "rsync/lab $(ratio "$rf" "$lfb")"
	row "$N files: no-op, lab" "$ln"
	row "$N files: no-op, rsync" "$rn" "rsync/lab $(ratio "$rn" "$ln")"
	row "$N files: one file changed, lab" "$lo"
	row "$N files: one file changed, rsync" "$ro" "rsync/lab $(ratio "$ro" "$lo")"
	# one machine against ten, in parallel
	L >/dev/null 2>&1
	l10n=$(timed L)
	PREP=bump; l10o=$(timed L); PREP=:
	R10() {
		for i in 1 2 3 4 5 6 7 8 9 10; do
			rsync -a --delete -e "$SSH -p $((2200 + i))" "$src/" "root@127.0.0.1:$w/t$i/rs/" &
		done
		wait
	}
	R10
	r10n=$(timed R10)
	row "$N files: no-op, 10 machines, lab" "$l10n" "10/1 $(ratio "$l10n" "$ln")"
	row "$N files: one file changed, 10 machines, lab" "$l10o" "10/1 $(ratio "$l10o" "$lo")"
	row "$N files: no-op, 10 machines, rsync (10 in parallel)" "$r10n" "rsync/lab $(ratio "$r10n" "$l10n")"
	# the incremental build alone
	PREP=bump; b1=$(timed L build -m m1); PREP=:
	row "$N files: build after a one-file change" "$b1"
done

# --watch: from a save to the file on the target (one machine, 2000 files)
inv=$w/inv2000
one=$inv/layers/bench/usr/local/share/bench/d000/f0000.conf
dst=$w/t1/lab/usr/local/share/bench/d000/f0000.conf
"$LAB" deploy -C "$inv" -m m1 --watch >/dev/null 2>"$w/watch.log" &
wp=$!
i=0
until grep -q watching "$w/watch.log" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
k=0
while [ $k -lt "$REPS" ]; do
	sleep 0.3
	tag="saved=$(ms)"
	a=$(ms)
	echo "$tag" >>"$one"
	until tail -c 40 "$dst" | grep -q "$tag"; do :; done
	b=$(ms)
	echo $(((b - a) / 1000))
	k=$((k + 1))
done | median | awk '{ printf "%-52s %9.1f\n", "2000 files: --watch, save to applied on the target", $1 / 1000 }'
kill $wp 2>/dev/null
wait $wp 2>/dev/null || true
