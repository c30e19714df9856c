#!/bin/sh
# What `lab demo` needs from Debian packages, installed by `make demo` when
# missing: OpenSSH's sshd for the demo machines (and ssh-keygen for their
# keys), a static busybox for the guest image, btrfs-progs for alpha's
# copy-on-write store, mount for its loop device. The demo runs its own
# sshds in namespaces: installing openssh-server must not start one on this
# machine, hence a policy-rc.d for the time of the install (as tests/setup.sh).
set -u
need="/usr/sbin/sshd:openssh-server ssh-keygen:openssh-client mkfs.btrfs:btrfs-progs mount:mount"
. "$(dirname "$0")/apt-need.sh"
missing=$(apt_missing "$need")
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it makes namespaces and mounts); missing:$missing" >&2
	exit 1
fi
command -v file >/dev/null 2>&1 || missing="$missing file"
# shellcheck disable=SC2086
apt_install demo $missing
