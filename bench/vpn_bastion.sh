#!/bin/sh
# bench/vpn_bastion.sh: lab vpn bastion against OpenSSH's sshd as the jump
# host (ssh -J), on loopback in a network namespace of our own: a stream of
# SIZE_MB MiB from the target (ssh -J JUMP target cat) and to it, with the
# default cipher and with aes128-gcm. Prints the median wall time and the
# jump host's CPU time (lab: the process; sshd: its reaped children).
# Root. REPS=3 runs per figure.
set -eu
[ "$(id -u)" = 0 ] || { echo "bench/vpn_bastion.sh: needs root" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB:-$top/lab}
REPS=${REPS:-3}
SIZE_MB=${SIZE_MB:-128}
for t in /usr/sbin/sshd ssh ssh-keygen; do
	command -v $t >/dev/null || { echo "bench/vpn_bastion.sh: needs $t (openssh-server)" >&2; exit 1; }
done
if [ -z "${LAB_BENCH_INNER:-}" ]; then
	exec env LAB_BENCH_INNER=1 LAB="$LAB" REPS="$REPS" SIZE_MB="$SIZE_MB" unshare -n -m sh "$0" "$@"
fi
ip link set lo up
mount --make-rprivate /
w=$(mktemp -d)
trap 'for p in $w/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$w"' EXIT
mkdir -p "$w/home" /run/sshd
mount --bind "$w/home" /root
ssh-keygen -q -t ed25519 -N '' -f "$w/id"
cp "$w/id.pub" "$w/ak"
for s in target jump; do
	ssh-keygen -q -t ed25519 -N '' -f "$w/$s.key"
	port=22
	[ $s = jump ] && port=2201
	cat >"$w/$s.conf" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $w/$s.key
PidFile $w/$s.pid
AuthorizedKeysFile $w/ak
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
EOF
	/usr/sbin/sshd -f "$w/$s.conf"
done
"$LAB" vpn bastion -d --listen 127.0.0.1:2200 --authorized-keys "$w/ak" --host-key "$w/lab/key" \
	--allow 127.0.0.1:22 2>"$w/lab.log" &
echo $! >"$w/lab.pid"
sleep 0.5
{
	printf '[127.0.0.1]:2200 %s\n' "$(cut -d' ' -f1,2 "$w/lab/key.pub")"
	printf '[127.0.0.1]:2201 %s\n' "$(cut -d' ' -f1,2 "$w/jump.key.pub")"
	printf '127.0.0.1 %s\n' "$(cut -d' ' -f1,2 "$w/target.key.pub")"
} >"$w/kh"
cat >"$w/ssh_config" <<EOF
Host lab
	HostName 127.0.0.1
	Port 2200
Host sshd
	HostName 127.0.0.1
	Port 2201
Host *
	User root
	IdentityFile $w/id
	IdentitiesOnly yes
	UserKnownHostsFile $w/kh
	StrictHostKeyChecking yes
	BatchMode yes
	LogLevel ERROR
EOF
cp "$w/ssh_config" "$w/ssh_config_gcm"
printf '\tCiphers aes128-gcm@openssh.com\n' >>"$w/ssh_config_gcm"
head -c "${SIZE_MB}M" /dev/urandom >"$w/home/blob"

# cpu_of JUMP: the jump host's CPU seconds so far
cpu_of() {
	if [ "$1" = lab ]; then
		awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$(cat "$w/lab.pid")/stat"
	else
		awk '{ printf "%.2f\n", ($16 + $17) / 100 }' "/proc/$(cat "$w/jump.pid")/stat"
	fi
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() {	# run CONFIG JUMP DIRECTION: "wall cpu" of one transfer
	c0=$(cpu_of "$2")
	t0=$(date +%s.%N)
	if [ "$3" = down ]; then
		ssh -F "$w/$1" -J "$2" 127.0.0.1 'cat blob' >/dev/null
	else
		ssh -F "$w/$1" -J "$2" 127.0.0.1 'cat >/dev/null' <"$w/home/blob"
	fi
	t1=$(date +%s.%N)
	sleep 0.3	# sshd reaps its child
	echo "$t0 $t1 $c0 $(cpu_of "$2")" | awk '{ printf "%.3f %.2f\n", $2 - $1, $4 - $3 }'
}
echo "machine: $(uname -m), $(nproc) cores, kernel $(uname -r); $SIZE_MB MiB, $REPS runs, medians"
printf '%-34s %10s %10s %10s %10s\n' "stream" "lab s" "lab cpu s" "sshd s" "sshd cpu s"
for cfg in ssh_config ssh_config_gcm; do
	for dir in down up; do
		for j in lab sshd; do
			: >"$w/r.$j"
			k=0
			while [ $k -lt "$REPS" ]; do
				run $cfg $j $dir >>"$w/r.$j"
				k=$((k + 1))
			done
		done
		name="$dir, $([ $cfg = ssh_config ] && echo default cipher || echo aes128-gcm)"
		printf '%-34s %10s %10s %10s %10s\n' "$name" \
			"$(cut -d' ' -f1 "$w/r.lab" | median)" "$(cut -d' ' -f2 "$w/r.lab" | median)" \
			"$(cut -d' ' -f1 "$w/r.sshd" | median)" "$(cut -d' ' -f2 "$w/r.sshd" | median)"
	done
done
