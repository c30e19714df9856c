#!/bin/sh
# lab vpn bastion between the OpenSSH client and a real OpenSSH sshd:
#
#   cl 10.77.1.2 (.3, .4) ---- 10.77.1.1 bas 10.77.2.1 ---- 10.77.2.2 tg (.3)
#      fd77:1::2               fd77:1::1     fd77:2::1        fd77:2::2
#      ssh, ssh -J             lab vpn bastion [::]:2200       sshd :22, :2222
#                                                              socat :2223, :2224
#
# cl has no route to tg, and bas does not route: only the bastion's
# forwarding reaches the target. Names are the bastion's own (its
# /etc/netns hosts file). Checked: ssh -J runs a command on the target; an
# 8 MiB stream each way arrives intact; EOF crosses in each direction on
# its own (half-close); a port, an address and names the rules refuse are
# refused and logged; a key not in authorized_keys, a shell, an exec and
# remote forwarding are refused; after three failed connections from one
# address its next connection is closed at once while another address
# still gets in; a client that stalls holds up no one; each session ends
# with one log line naming the key, the destination and the bytes.
SUITE=netns
. "$(dirname "$0")/../lib.sh"

is_root || { skip "vpn_bastion" "needs root"; exit 0; }
SSHD=/usr/sbin/sshd
for t in ip ssh ssh-keygen socat sha256sum; do
	have $t || { skip "vpn_bastion" "needs $t"; exit 0; }
done
[ -x $SSHD ] || { skip "vpn_bastion" "needs sshd (openssh-server)"; exit 0; }
work=$(mktemp -d)
on_exit_last 'rm -rf "$work"'
ns_add cl && ns_add bas && ns_add tg || { fail "vpn_bastion: namespaces"; exit 0; }
B() { "$LAB" net --netns "${NS_PREFIX}bas" "$@"; }
B link add c0 type veth peer eth0 netns "${NS_PREFIX}cl" up
B link add t0 type veth peer eth0 netns "${NS_PREFIX}tg" up
B addr add 10.77.1.1/24 dev c0
B addr add 10.77.2.1/24 dev t0
for a in 2 3 4; do "$LAB" net --netns "${NS_PREFIX}cl" addr add 10.77.1.$a/24 dev eth0; done
"$LAB" net --netns "${NS_PREFIX}cl" link set eth0 up
"$LAB" net --netns "${NS_PREFIX}tg" addr add 10.77.2.2/24 dev eth0
"$LAB" net --netns "${NS_PREFIX}tg" addr add 10.77.2.3/24 dev eth0
"$LAB" net --netns "${NS_PREFIX}tg" link set eth0 up
# and IPv6 on the same links (nodad: usable at once)
ip -n "${NS_PREFIX}bas" addr add fd77:1::1/64 dev c0 nodad
ip -n "${NS_PREFIX}bas" addr add fd77:2::1/64 dev t0 nodad
ip -n "${NS_PREFIX}cl" addr add fd77:1::2/64 dev eth0 nodad
ip -n "${NS_PREFIX}tg" addr add fd77:2::2/64 dev eth0 nodad
# the bastion's resolver: ip netns exec mounts these over /etc
mkdir -p "/etc/netns/${NS_PREFIX}bas"
on_exit "rm -rf '/etc/netns/${NS_PREFIX}bas'"
cat >"/etc/netns/${NS_PREFIX}bas/hosts" <<EOF
127.0.0.1 localhost
10.77.2.2 target.lab.home.arpa plain.example
10.77.2.3 other.lab.home.arpa
127.0.0.1 evil.lab.home.arpa
10.77.2.1 own.lab.home.arpa
EOF
echo "nameserver 127.0.0.1" >"/etc/netns/${NS_PREFIX}bas/resolv.conf"

# the target: sshd with its own host key, root's home an empty folder
mkdir -p /run/sshd "$work/home"
ssh-keygen -q -t ed25519 -N '' -f "$work/id" -C lab-test
ssh-keygen -q -t ed25519 -N '' -f "$work/id_other" -C stranger
ssh-keygen -q -t ed25519 -N '' -f "$work/tg_hostkey"
ssh-keygen -q -t rsa -b 3072 -N '' -f "$work/id_rsa" -C lab-test-rsa
ssh-keygen -q -t ecdsa -N '' -f "$work/id_ecdsa" -C lab-test-ecdsa
cat "$work/id.pub" "$work/id_rsa.pub" "$work/id_ecdsa.pub" >"$work/authorized_keys"
cat >"$work/sshd_config" <<EOF
ListenAddress 10.77.2.2:22
ListenAddress 10.77.2.2:2222
ListenAddress 10.77.2.3:22
ListenAddress [fd77:2::2]:22
HostKey $work/tg_hostkey
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
EOF
n tg unshare -m sh -c "mount --bind '$work/home' /root && exec $SSHD -f '$work/sshd_config' -E '$work/sshd.log'"
# a service that answers only once its input has ended: half-close
n tg socat TCP-LISTEN:2223,bind=10.77.2.2,reuseaddr,fork SYSTEM:sha256sum 2>/dev/null &
# one that greets, then echoes
n tg socat TCP-LISTEN:2224,bind=10.77.2.2,reuseaddr,fork SYSTEM:'echo ready; exec cat' 2>/dev/null &

# the bastion, in the foreground of a background job, as nobody once
# listening (so authorized_keys must be readable for SIGHUP)
chmod 755 "$work"
chmod 644 "$work/authorized_keys"
# (not through n: $! must be the bastion's own pid, for SIGHUP)
ip netns exec "${NS_PREFIX}bas" "$LAB" vpn bastion -d --listen '[::]:2200' --authorized-keys "$work/authorized_keys" \
	--host-key "$work/bastion/hostkey" --max-auth-fail 3 --max-pending 10 --user nobody \
	--allow 10.77.2.2:22,2223,2224,2225 --allow '*.lab.home.arpa' --allow '!10.77.2.3' --allow '[fd77:2::/64]' 2>"$work/bastion.log" &
BPID=$!
i=0
until grep -q listening "$work/bastion.log" 2>/dev/null || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
i=0
until n tg sh -c 'exec 3<>/dev/tcp/10.77.2.2/22' 2>/dev/null || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done

{
	printf '[10.77.1.1]:2200 %s\n' "$(cut -d' ' -f1,2 "$work/bastion/hostkey.pub")"
	printf '[fd77:1::1]:2200 %s\n' "$(cut -d' ' -f1,2 "$work/bastion/hostkey.pub")"
	printf '10.77.2.2,10.77.2.3,fd77:2::2,target.lab.home.arpa,plain.example %s\n' "$(cut -d' ' -f1,2 "$work/tg_hostkey.pub")"
} >"$work/known_hosts"
cat >"$work/ssh_config" <<EOF
Host bastion
	HostName 10.77.1.1
	Port 2200
	# new keys every 4 MiB: the 8 MiB streams cross re-keying
	RekeyLimit 4M
Host target
	HostName 10.77.2.2
	ProxyJump bastion
Host bastion6
	HostName fd77:1::1
	Port 2200
Host target6
	HostName fd77:2::2
	ProxyJump bastion6
Host *
	User root
	IdentityFile $work/id
	IdentitiesOnly yes
	UserKnownHostsFile $work/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	LogLevel ERROR
	ConnectTimeout 10
EOF
sed "s|IdentityFile .*|IdentityFile $work/id_other|" "$work/ssh_config" >"$work/ssh_config_other"
S() { n cl ssh -F "$work/ssh_config" "$@"; }
# the same with the key the bastion does not know
SO() { n cl ssh -F "$work/ssh_config_other" "$@"; }
# wait_log PATTERN: the bastion logs a session's line when it has ended
wait_log() {
	i=0
	until grep -q "$1" "$work/bastion.log" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# the log line of a refusal, with the client's port taken out
refusals() { grep "$1" "$work/bastion.log" | sed 's/ port [0-9]*/ port P/; s/^[^:]*: //'; }

testing "the client cannot reach the target by itself" \
	"S -o ProxyJump=none target true 2>&1 | grep -c 'Network is unreachable'" "1
" "" ""
testing "host key: made on first start, 0600, an ed25519 key ssh-keygen reads, its fingerprint logged" \
	"stat -c %a $work/bastion/hostkey; ssh-keygen -lf $work/bastion/hostkey | awk '{ print \$4 }'; grep -c \"host key \$(ssh-keygen -lf $work/bastion/hostkey | awk '{ print \$2 }')\" $work/bastion.log" \
	"600
(ED25519)
1
" "" ""
testing "the bastion runs as nobody" \
	"awk '/^Uid:/ { print \$2, \$3 }' /proc/$BPID/status; grep -c 'running as nobody' $work/bastion.log" "65534 65534
1
" "" ""
testing "ssh -J runs a command on the target" \
	"S target 'echo hello from; ip -o -4 addr show dev eth0 | awk \"{ print \\\$4 }\" | head -1'" \
	"hello from
10.77.2.2/24
" "" ""
wait_log "session from 10.77.1.2"
testing "the session's log line: user, key, destination, bytes" \
	"grep 'session from 10.77.1.2' $work/bastion.log | head -1 | sed 's/ port [0-9]*/ port P/; s/; [0-9]* bytes to the destination, [0-9]* from it;/; N bytes to the destination, N from it;/; s/, [0-9.]* s\$/, T s/; s/^[^:]*: //'" \
	"session from 10.77.1.2 port P user root key ssh-ed25519 $(ssh-keygen -lf "$work/id.pub" | awk '{ print $2 }') (lab-test): to 10.77.2.2:22; N bytes to the destination, N from it; 1 channel, T s
" "" ""
testing "the session's bytes are counted both ways" \
	"grep 'session from 10.77.1.2' $work/bastion.log | head -1 | sed 's/.*; \\([0-9]*\\) bytes to the destination, \\([0-9]*\\) from it;.*/\\1 \\2/' | awk '{ print (\$1 > 1000), (\$2 > 1000) }'" \
	"1 1
" "" ""
testing "over IPv6: to the bastion, and from it to an IPv6 network a rule admits" \
	"S target6 'ip -o -6 addr show dev eth0 scope global' | awk '{ print \$4 }'" "fd77:2::2/64
" "" ""
wait_log "session from fd77:1::2"
testing "the IPv6 session's log line" \
	"grep -c 'session from fd77:1::2 port [0-9]* user root key ssh-ed25519 .*: to \[fd77:2::2\]:22;' $work/bastion.log" "1
" "" ""
for t in rsa ecdsa; do
	testing "an $t key authenticates too" \
		"S -o IdentityFile=$work/id_$t -W 10.77.2.2:2224 bastion </dev/null" "ready
" "" ""
done
wait_log "key ecdsa-sha2-nistp256"
testing "and the session lines name those keys" \
	"grep -o 'key ssh-rsa [^ ]* (lab-test-rsa)' $work/bastion.log; grep -o 'key ecdsa-sha2-nistp256 [^ ]* (lab-test-ecdsa)' $work/bastion.log" \
	"key ssh-rsa $(ssh-keygen -lf "$work/id_rsa.pub" | awk '{ print $2 }') (lab-test-rsa)
key ecdsa-sha2-nistp256 $(ssh-keygen -lf "$work/id_ecdsa.pub" | awk '{ print $2 }') (lab-test-ecdsa)
" "" ""

head -c 8M /dev/urandom >"$work/big"
SUM=$(sha256sum <"$work/big" | cut -d' ' -f1)
cp "$work/big" "$work/home/big"
testing "8 MiB from the target through the bastion, byte for byte" \
	"S target 'cat big' | sha256sum | cut -d' ' -f1" "$SUM
" "" ""
testing "8 MiB to the target through the bastion, byte for byte" \
	"S target sha256sum <$work/big | cut -d' ' -f1" "$SUM
" "" ""
wait_log "from 10.77.1.2 .*from it; 1 channel.*" 
testing "the download's session line counts at least its 8 MiB from the destination" \
	"grep 'session from 10.77.1.2' $work/bastion.log | sed 's/.*, \\([0-9]*\\) from it;.*/\\1/' | awk '\$1 > 8388608 { n++ } END { print n }'" "1
" "" ""
testing "half-close: the client's EOF reaches the destination, its answer comes back, then its EOF" \
	"S -W 10.77.2.2:2223 bastion <$work/big | cut -d' ' -f1" "$SUM
" "" ""

testing "ssh -J to a name under an allowed suffix, resolved by the bastion" \
	"S -J bastion target.lab.home.arpa hostname >/dev/null && echo ok" "ok
" "" ""
testing "a name no name rule admits, whose address an address rule admits" \
	"S -J bastion plain.example true && echo ok" "ok
" "" ""
testing "a port the rules do not list is refused, and logged" \
	"S -o LogLevel=INFO -W 10.77.2.2:2222 bastion </dev/null 2>&1 | grep -o 'open failed: administratively prohibited'; refusals 'to 10.77.2.2:2222'" \
	"open failed: administratively prohibited
refused 10.77.1.2 port P user root: direct-tcpip to 10.77.2.2:2222: no rule allows it
" "" ""
testing "an allowed destination with nothing listening: the channel fails, the log says why" \
	"S -W 10.77.2.2:2225 bastion </dev/null >/dev/null 2>&1; echo \$?; grep 'to 10.77.2.2:2225' $work/bastion.log | sed 's/ port [0-9]*/ port P/; s/^[^:]*: //'" \
	"255
10.77.1.2 port P user root: direct-tcpip to 10.77.2.2:2225: connect: Connection refused
" "" ""
testing "an address a deny rule covers is refused" \
	"S -W 10.77.2.3:22 bastion </dev/null >/dev/null 2>&1; echo \$?; refusals 'to 10.77.2.3:22'" \
	"255
refused 10.77.1.2 port P user root: direct-tcpip to 10.77.2.3:22: refused by rule !10.77.2.3:22
" "" ""
testing "a name under an allowed suffix cannot smuggle a denied address" \
	"S -W other.lab.home.arpa:22 bastion </dev/null >/dev/null 2>&1; echo \$?; refusals 'to other'" \
	"255
refused 10.77.1.2 port P user root: direct-tcpip to other.lab.home.arpa:22 (10.77.2.3): refused by rule !10.77.2.3:22
" "" ""
testing "nor loopback, nor the bastion's own address" \
	"S -W evil.lab.home.arpa:22 bastion </dev/null >/dev/null 2>&1; S -W own.lab.home.arpa:22 bastion </dev/null >/dev/null 2>&1; refusals 'to evil'; refusals 'to own'" \
	"refused 10.77.1.2 port P user root: direct-tcpip to evil.lab.home.arpa:22 (127.0.0.1): a special-purpose address, which only an address rule admits
refused 10.77.1.2 port P user root: direct-tcpip to own.lab.home.arpa:22 (10.77.2.1): one of the bastion's own addresses, which only an address rule admits
" "" ""
testing "a shell is refused" \
	"S -o LogLevel=INFO bastion </dev/null 2>&1 | grep -o 'open failed: administratively prohibited'" \
	"open failed: administratively prohibited
" "" ""
testing "an exec is refused, and the log says why" \
	"S -o LogLevel=INFO bastion id </dev/null 2>&1 | grep -o 'open failed: administratively prohibited'; refusals 'a session channel' | sort -u" \
	"open failed: administratively prohibited
refused 10.77.1.2 port P user root: a session channel (shell, exec, subsystem): this bastion only forwards
" "" ""
if have sftp; then
	testing "a subsystem (sftp) is refused" \
		"n cl sftp -F $work/ssh_config -b /dev/null bastion >/dev/null 2>&1; echo \$?" "255
" "" ""
fi
testing "only public keys are offered to the client" \
	"S -v -o PreferredAuthentications=none bastion true 2>&1 | grep -o 'Authentications that can continue: .*' | tr -d '\\r' | sort -u" \
	"Authentications that can continue: publickey
" "" ""
testing "remote forwarding (ssh -R) is refused" \
	"S -N -o ExitOnForwardFailure=yes -R 10.77.1.1:9000:10.77.2.2:22 bastion </dev/null 2>&1 | grep -c 'remote port forwarding failed'; refusals 'remote forwarding'" \
	"1
refused 10.77.1.2 port P user root: remote forwarding (tcpip-forward) of 10.77.1.1:9000
" "" ""
OTHERFP=$(ssh-keygen -lf "$work/id_other.pub" | awk '{ print $2 }')
testing "a key not in authorized_keys is refused" \
	"SO bastion true 2>&1 | grep -o 'Permission denied (publickey)'; refusals 'is not in' | head -1" \
	"Permission denied (publickey)
refused 10.77.1.2 port P user root: authentication: key ssh-ed25519 $OTHERFP is not in authorized_keys
" "" ""

# ssh -L: one session, a channel per connection to the local port
ip netns exec "${NS_PREFIX}cl" ssh -F "$work/ssh_config" -N -o ExitOnForwardFailure=yes \
	-L 10.77.1.2:3000:10.77.2.2:2224 -L 10.77.1.2:3001:10.77.2.2:2222 bastion &
lpid=$!
i=0
until n cl ss -Hltn '( sport = :3000 )' | grep -q 3000 || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
testing "ssh -L: two connections at once through one session" \
	"(sleep 1; echo one) | n cl socat - TCP:10.77.1.2:3000 >$work/l1 & echo two | n cl socat - TCP:10.77.1.2:3000; wait \$!; cat $work/l1" \
	"ready
two
ready
one
" "" ""
testing "ssh -L to a port the rules refuse: the connection closes, the log says why" \
	"n cl socat -u TCP:10.77.1.2:3001 - </dev/null | wc -c; refusals 'to 10.77.2.2:2222' | sort -u" \
	"0
refused 10.77.1.2 port P user root: direct-tcpip to 10.77.2.2:2222: no rule allows it
" "" ""
kill $lpid
wait_log "2 channels"
testing "its session's line: both destinations' bytes, two channels" \
	"grep '2 channels' $work/bastion.log | sed 's/.*: to //; s/, [0-9.]* s\$//'" \
	"10.77.2.2:2224; 8 bytes to the destinations, 20 from them; 2 channels
" "" ""

# a stalled client (connected, silent) and a session held open with a
# forward in flight: neither holds up a new session
ip netns exec "${NS_PREFIX}cl" socat -u TCP:10.77.1.1:2200 EXEC:'sleep 20' &
stall1=$!
(n cl sleep 20 | S -W 10.77.2.2:2223 bastion) >/dev/null 2>&1 &
stall2=$!
sleep 0.5
testing "a stalled client and an open forward hold up no one" \
	"S target echo still served" "still served
" "" ""
kill $stall1 $stall2 2>/dev/null

# ten sessions at once, each through to the target and back
k=0
par=""
while [ $k -lt 10 ]; do
	(S target "echo session $k" >"$work/par.$k" 2>&1) &
	par="$par $!"
	k=$((k + 1))
done
for p in $par; do wait $p; done
testing "ten sessions at once, each gets its own answer" \
	"cat $work/par.* | sort | uniq | wc -l; cat $work/par.* | grep -c '^session [0-9]\$'" "10
10
" "" ""

# three failed connections from 10.77.1.4 ban it; 10.77.1.3 still gets in
for k in 1 2 3; do
	SO -o BindAddress=10.77.1.4 bastion true >/dev/null 2>&1
done
testing "after 3 failed authentications from one address, its good key is turned away at once" \
	"S -o BindAddress=10.77.1.4 -W 10.77.2.2:2223 bastion </dev/null >/dev/null 2>&1; echo \$?; grep -c '10.77.1.4: 3 failed authentications within 600 s: its connections are refused for 600 s' $work/bastion.log; refusals 'refused 10.77.1.4 port [0-9]*: too many' | sed 's/([0-9]* s/(N s/'" \
	"255
1
refused 10.77.1.4 port P: too many failed authentications from there (N s of the ban left)
" "" ""
testing "and a good key from another address still works" \
	"S -o BindAddress=10.77.1.3 -W 10.77.2.2:2223 bastion | cut -d' ' -f1" "$(echo hi | sha256sum | cut -d' ' -f1)
" "" "hi
"
wait_log "closed before authentication"
testing "a failed connection ends with its own log line" \
	"grep 'connection from 10.77.1.4' $work/bastion.log | head -1 | sed 's/ port [0-9]*/ port P/; s/, [0-9.]* s\$/, T s/; s/^[^:]*: //'" \
	"connection from 10.77.1.4 port P user root closed before authentication: the client left, T s
" "" ""

# SIGHUP: a new authorized_keys without the key of a session in progress
(n cl sleep 30 | S -W 10.77.2.2:2224 bastion >"$work/held.out" 2>&1) >/dev/null 2>&1 &
i=0
until grep -q ready "$work/held.out" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
cp "$work/id_other.pub" "$work/authorized_keys"
kill -HUP $BPID
i=0
until grep -q closed "$work/held.out" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
testing "SIGHUP: a key taken out of authorized_keys ends its session in progress" \
	"tr -d '\\r' <$work/held.out; grep -c 'reloaded: 1 authorized key, 4 rules; sessions of keys taken away ended' $work/bastion.log; grep -c 'to 10.77.2.2:2224;.*; its key left authorized_keys' $work/bastion.log" \
	"ready
Connection to 10.77.1.1 closed by remote host.
1
1
" "" ""
testing "SIGHUP: the key taken away is refused, the key added is taken" \
	"S bastion true 2>&1 | grep -o 'Permission denied (publickey)'; echo hi | SO -W 10.77.2.2:2224 bastion" \
	"Permission denied (publickey)
ready
hi
" "" ""
echo "ssh-ed25519 AAAAnotakey" >"$work/authorized_keys"
kill -HUP $BPID
wait_log "reload: "
testing "SIGHUP: an authorized_keys without a usable key leaves the running keys" \
	"grep 'reload: ' $work/bastion.log | sed 's/^[^:]*: //'; echo hi | SO -W 10.77.2.2:2224 bastion" \
	"reload: --authorized-keys $work/authorized_keys: no key it could use: the running rules and keys stay
ready
hi
" "" ""
# ten silent connections from one address: the eleventh is turned away
silent=""
for k in 1 2 3 4 5 6 7 8 9 10; do
	ip netns exec "${NS_PREFIX}cl" socat -u TCP:10.77.1.1:2200,bind=10.77.1.3 EXEC:'sleep 20' 2>/dev/null &
	silent="$silent $!"
done
i=0
until [ "$(n bas ss -Htn state established '( sport = :2200 )' | grep -c '10.77.1.3')" -ge 10 ] || [ $i -gt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
testing "ten (--max-pending) connections still authenticating from one address: the next one from there is closed at once" \
	"S -o BindAddress=10.77.1.3 -W 10.77.2.2:2224 bastion </dev/null >/dev/null 2>&1; echo \$?; refusals 'still authenticating'" \
	"255
refused 10.77.1.3 port P: 10 connections from there are still authenticating
" "" ""
testing "while another address gets in" \
	"echo hi | SO -W 10.77.2.2:2224 bastion" "ready
hi
" "" ""
kill $silent 2>/dev/null
# SIGTERM: sessions in progress end, each with its line
(n cl sleep 30 | SO -W 10.77.2.2:2224 bastion >"$work/held2.out" 2>&1) >/dev/null 2>&1 &
i=0
until grep -q ready "$work/held2.out" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $BPID
i=0
while kill -0 $BPID 2>/dev/null && [ $i -le 100 ]; do sleep 0.1; i=$((i + 1)); done
testing "SIGTERM: the bastion ends its sessions, logs them, and exits" \
	"kill -0 $BPID 2>/dev/null || echo gone; grep -c 'stopping (signal 15)' $work/bastion.log; grep -c 'to 10.77.2.2:2224;.*; the bastion stops' $work/bastion.log" \
	"gone
1
1
" "" ""
# without -d: it returns once listening, logs beside its host key, and
# still hears its signals
n bas "$LAB" vpn bastion --listen 10.77.1.1:2201 --authorized-keys "$work/id.pub" \
	--host-key "$work/bg/hostkey" --allow 10.77.2.2:2224 2>"$work/bg.err"
testing "without -d: in the background, its log beside the host key" \
	"cat $work/bg.err; sed 's/^[^ ]* //; s/key SHA256:[^,]*/key K/' $work/bg/bastion.log" \
	"lab vpn: listening with host key K, 1 authorized key, 1 rule (10.77.2.2:2224)
" "" ""
bgpid=$(n bas ss -Hltnp '( sport = :2201 )' | grep -o 'pid=[0-9]*' | cut -d= -f2)
kill -HUP "$bgpid"
wait_bg() { i=0; until grep -q "$1" "$work/bg/bastion.log" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done; }
wait_bg reloaded
kill -TERM "$bgpid"
wait_bg stopping
testing "without -d: SIGHUP and SIGTERM reach it" \
	"sed 's/^[^ ]* //' $work/bg/bastion.log | tail -2" \
	"lab vpn: reloaded: 1 authorized key, 1 rule
lab vpn: stopping (signal 15)
" "" ""
testing "no unexpected warnings in the bastion's log" \
	"grep -v -e 'refused ' -e 'session from' -e 'connection from' -e 'listening' -e 'failed authentications within' -e 'reload' -e 'still authenticating' -e 'running as nobody' -e 'stopping (signal 15)' -e 'connect: Connection refused' -e 'authorized_keys:1: the key' $work/bastion.log" "" "" ""
