#!/bin/sh
# build.sh: fetch the pinned dependency sources (Debian source packages),
# check them against vendor/SHA256SUMS, build them with musl into a private
# sysroot, then build lab.
#
#   ./build.sh          dependencies (if needed), then `make`
#   ./build.sh deps     dependencies only (what the Makefile calls)
#   ./build.sh clean    remove downloaded sources and the sysroot
#
# Everything it makes lives under .deps/ (git-ignored). A run with nothing
# changed checks stamps and exits: no apt-get, no download, no compiler.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
deps="$top/.deps"
dl="$deps/dl"
srcdir="$deps/src"
SYSROOT="$deps/sysroot"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export SYSROOT JOBS

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Commands the build needs, and the Debian package that provides each.
prereqs="musl-gcc:musl-tools cmake:cmake pkg-config:pkg-config make:make
dpkg-source:dpkg-dev xz:xz-utils bzip2:bzip2 gcc:gcc patch:patch"

ensure_prereqs() {
	missing=""
	for p in $prereqs; do
		command -v "${p%%:*}" >/dev/null 2>&1 || missing="$missing ${p#*:}"
	done
	arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	[ -d "/usr/include/$arch/asm" ] || [ -d /usr/include/asm ] ||
		missing="$missing linux-libc-dev"
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing build tools:$missing (install them as root, or run as root)"
	say "installing build tools:$missing"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		die "apt-get install$missing failed"
}

apt_updated=""
apt_update_once() {
	[ -n "$apt_updated" ] && return 0
	apt-get update -q >/dev/null || die "apt-get update failed"
	apt_updated=1
}

# apt-get source needs deb-src lines; add bookworm's if the machine has none.
ensure_deb_src() {
	if apt-cache showsrc zlib 2>/dev/null | grep -q '^Version:'; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "no deb-src entries in apt sources; add them or run as root"
	say "adding deb-src entries for bookworm (/etc/apt/sources.list.d/lab-src.sources)"
	cat >/etc/apt/sources.list.d/lab-src.sources <<-SRC
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb-src
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SRC
	apt_updated=""
	apt_update_once
}

# Files of one dependency, as listed in vendor/SHA256SUMS.
dep_files() {
	awk -v p="$1_" 'index($2, p) == 1 { print $2 }' "$top/vendor/SHA256SUMS"
}

dep_verified() {
	files=$(dep_files "$1")
	[ -n "$files" ] || die "$1: no checksums in vendor/SHA256SUMS"
	for f in $files; do [ -f "$dl/$f" ] || return 1; done
	(cd "$dl" && grep -F "$(printf '%s\n' $files | sed 's/^/  /')" "$top/vendor/SHA256SUMS" |
		sha256sum -c --quiet --strict -) >/dev/null 2>&1
}

fetch() {
	name=$1 pkg=$2 ver=$3
	dep_verified "$pkg" && return 0
	ensure_deb_src
	mkdir -p "$dl"
	say "$name: apt-get source --download-only $pkg=$ver"
	(cd "$dl" && apt-get source -q --download-only "$pkg=$ver" >/dev/null 2>"$dl/$pkg.err") ||
		die "$name: cannot download source package $pkg=$ver (see $dl/$pkg.err)"
	dep_verified "$pkg" || die "$name: sha256 of the downloaded $pkg files does not match vendor/SHA256SUMS"
}

# The stamp of a dependency: what its build depends on. When it is
# unchanged, the installed archive is current.
stamp_of() {
	{
		printf '%s %s %s\n' "$1" "$2" "$3"
		grep -F " $2_" "$top/vendor/SHA256SUMS"
		cat "$top/vendor/$1.sh"
		printf '%s\n' "$CFLAGS"
		musl-gcc -dumpfullversion 2>/dev/null || true
	} | sha256sum | cut -d' ' -f1
}

build_dep() {
	name=$1 pkg=$2 ver=$3
	want=$(stamp_of "$name" "$pkg" "$ver")
	if [ -f "$SYSROOT/stamp/$name" ] && [ "$(cat "$SYSROOT/stamp/$name")" = "$want" ]; then
		return 0
	fi
	fetch "$name" "$pkg" "$ver"
	say "$name: unpacking and building $pkg $ver"
	rm -rf "${srcdir:?}/$name"
	mkdir -p "$srcdir"
	dsc=$(dep_files "$pkg" | grep '\.dsc$')
	dpkg-source --no-check -x "$dl/$dsc" "$srcdir/$name" >/dev/null 2>&1 ||
		die "$name: dpkg-source -x $dsc failed"
	log="$srcdir/$name.log"
	(cd "$srcdir/$name" && sh "$top/vendor/$name.sh") >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "$name: build failed (full log: $log)"; }
	echo "$want" >"$SYSROOT/stamp/$name"
	changed=1
}

# musl ships no kernel headers: give musl-gcc the system's linux/, asm/ and
# asm-generic/ through a folder of their own, not glibc's include path.
kernel_headers() {
	arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	asm=/usr/include/$arch/asm
	[ -d "$asm" ] || asm=/usr/include/asm
	want=$(printf '%s\n' "$arch" "$(dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null)" | sha256sum | cut -d' ' -f1)
	if [ -f "$SYSROOT/stamp/kinc" ] && [ "$(cat "$SYSROOT/stamp/kinc")" = "$want" ]; then
		return 0
	fi
	rm -rf "$SYSROOT/kinc"
	mkdir -p "$SYSROOT/kinc"
	cp -r /usr/include/linux /usr/include/asm-generic "$SYSROOT/kinc/"
	cp -r "$asm" "$SYSROOT/kinc/asm"
	echo "$want" >"$SYSROOT/stamp/kinc"
}

# The compiler every dependency and lab itself are built with.
write_cc() {
	cc="$SYSROOT/bin/lab-cc"
	body=$(printf '#!/bin/sh\nexec musl-gcc -isystem "%s/include" -isystem "%s/kinc" "$@"\n' "$SYSROOT" "$SYSROOT")
	[ -f "$cc" ] && [ "$(cat "$cc")" = "$body" ] && return 0
	printf '%s\n' "$body" >"$cc"
	chmod 755 "$cc"
}

deps_build() {
	ensure_prereqs
	mkdir -p "$SYSROOT/lib" "$SYSROOT/include" "$SYSROOT/bin" "$SYSROOT/stamp"
	kernel_headers
	write_cc
	CC="$SYSROOT/bin/lab-cc"
	CFLAGS="-Os -ffunction-sections -fdata-sections -fno-pie"
	export CC CFLAGS
	changed=0
	grep -v '^#' "$top/vendor/deps.lock" | while read -r name pkg ver; do
		[ -n "$name" ] || continue
		build_dep "$name" "$pkg" "$ver"
	done
}

case "${1:-all}" in
deps) deps_build ;;
all) deps_build; exec make -C "$top" ;;
clean) rm -rf "$deps" ;;
*) echo "usage: build.sh [deps|clean]" >&2; exit 2 ;;
esac
