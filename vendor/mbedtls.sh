# Recipe: mbedTLS 2.28 as static archives, with the threading layer on
# (libssh's random generator is shared between threads). config.h is
# edited in the unpacked copy so that every consumer sees the same layout.
set -eu
cfg=include/mbedtls/config.h
for opt in MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD; do
	sed -i "s|^//#define $opt\$|#define $opt|" "$cfg"
	grep -q "^#define $opt\$" "$cfg" || { echo "mbedtls: cannot enable $opt" >&2; exit 1; }
done
make -j"$JOBS" -C library CC="$CC" CFLAGS="$CFLAGS" AR=ar \
	libmbedcrypto.a libmbedx509.a libmbedtls.a
cp library/libmbedcrypto.a library/libmbedx509.a library/libmbedtls.a "$SYSROOT/lib/"
rm -rf "$SYSROOT/include/mbedtls" "$SYSROOT/include/psa"
cp -r include/mbedtls include/psa "$SYSROOT/include/"
