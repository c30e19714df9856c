# Sourced by tests/setup.sh and scripts/demo-deps.sh: which Debian packages
# a list of command:package pairs lacks, and installing them without
# letting a package start its service on this machine.

# apt_missing "cmd:pkg ...": the packages whose command (or path) is not
# here, one line; a static busybox counts as busybox-static.
apt_missing() {
	_m=""
	for _p in $1; do
		_c=${_p%%:*}
		case $_c in
		/*) [ -e "$_c" ] || _m="$_m ${_p##*:}" ;;
		*) command -v "$_c" >/dev/null 2>&1 || _m="$_m ${_p##*:}" ;;
		esac
	done
	# the busybox of lab vm's roots and the demo's guest must be static
	# (busybox-static replaces busybox)
	file -L "$(command -v busybox 2>/dev/null || echo /nonexistent)" 2>/dev/null |
		grep -q 'statically linked' || _m="$_m busybox-static"
	echo "$_m"
}

# apt_install WHO PKG...: apt-get install with a policy-rc.d that refuses
# service starts (lab's tests and demo run their own sshd and other
# daemons in namespaces) for the time of the install; 1 if it failed.
apt_install() {
	_who=$1
	shift
	echo "$_who: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null 2>&1 || echo "$_who: apt-get update failed" >&2
	_rcd=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && _rcd=1
	fi
	_rc=0
	apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
		{ echo "$_who: apt-get install $* failed" >&2; _rc=1; }
	[ -z "$_rcd" ] || rm -f /usr/sbin/policy-rc.d
	return $_rc
}
