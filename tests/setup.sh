#!/bin/sh
# Install the real peers the tests talk to, from Debian packages, so that a
# fresh Debian 12 machine passes `make test` with no hand steps. As
# non-root it only reports what is missing (those tests then SKIP).
set -u
# command:package pairs; a command may be a path.
need="ip:iproute2 file:file clang:clang chroot:coreutils timeout:coreutils
nft:nftables jq:jq socat:socat dig:bind9-dnsutils nsupdate:bind9-dnsutils
kdig:knot-dnsutils unbound:unbound rdisc6:ndisc6
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev
nsenter:util-linux setpriv:util-linux losetup:mount script:bsdutils filefrag:e2fsprogs
tar:tar gzip:gzip mkfs.btrfs:btrfs-progs btrfs:btrfs-progs mkfs.xfs:xfsprogs
debootstrap:debootstrap bwrap:bubblewrap systemd-nspawn:systemd-container
systemd-analyze:systemd patch:patch /usr/sbin/sshd:openssh-server ssh:openssh-client
ssh-keygen:openssh-client rsync:rsync setfattr:attr getfattr:attr
/usr/lib/postgresql/15/bin/pgbench:postgresql-15 wg:wireguard-tools wireguard-go:wireguard-go
zbarimg:zbar-tools qrencode:qrencode openvpn:openvpn openssl:openssl curl:curl
ss:iproute2 nginx:nginx-light"
missing=""
for p in $need; do
	c=${p%%:*}
	case $c in
	/*) [ -e "$c" ] || missing="$missing ${p##*:}" ;;
	*) command -v "$c" >/dev/null 2>&1 || missing="$missing ${p##*:}" ;;
	esac
done
# lab vm's test roots need a static busybox (busybox-static replaces busybox)
file -L "$(command -v busybox 2>/dev/null || echo /nonexistent)" 2>/dev/null |
	grep -q 'statically linked' || missing="$missing busybox-static"
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "setup: not root; missing test peers:$missing (their tests will be skipped)" >&2
	exit 0
fi
echo "setup: installing test peers:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "setup: apt-get update failed" >&2
# the tests run their own sshd (and other daemons) in namespaces: packages
# must not start services on this machine (policy-rc.d, 101: not allowed)
rcd=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && rcd=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ echo "setup: apt-get install$missing failed" >&2; rc=1; }
[ -z "$rcd" ] || rm -f /usr/sbin/policy-rc.d
exit $rc
