#!/bin/sh
# What `lab demo` needs from Debian packages, installed by `make demo` when
# missing: OpenSSH's sshd for the demo machines (and ssh-keygen for their
# keys), a static busybox for the guest image, btrfs-progs for alpha's
# copy-on-write store, mount for its loop device. The demo runs its own
# sshds in namespaces: installing openssh-server must not start one on this
# machine, hence a policy-rc.d for the time of the install (as tests/setup.sh).
set -u
need="/usr/sbin/sshd:openssh-server ssh-keygen:openssh-client mkfs.btrfs:btrfs-progs mount:mount"
missing=""
for p in $need; do
	c=${p%%:*}
	case $c in
	/*) [ -e "$c" ] || missing="$missing ${p##*:}" ;;
	*) command -v "$c" >/dev/null 2>&1 || missing="$missing ${p##*:}" ;;
	esac
done
file -L "$(command -v busybox 2>/dev/null || echo /nonexistent)" 2>/dev/null |
	grep -q 'statically linked' || missing="$missing busybox-static"
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it makes namespaces and mounts); missing:$missing" >&2
	exit 1
fi
command -v file >/dev/null 2>&1 || missing="$missing file"
echo "demo: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "demo: apt-get update failed" >&2
rcd=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && rcd=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ echo "demo: apt-get install$missing failed" >&2; rc=1; }
[ -z "$rcd" ] || rm -f /usr/sbin/policy-rc.d
exit $rc
