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
. "$(dirname "$0")/../scripts/apt-need.sh"
missing=$(apt_missing "$need")
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "setup: not root; missing test peers:$missing (their tests will be skipped)" >&2
	exit 0
fi
# shellcheck disable=SC2086
apt_install setup $missing
