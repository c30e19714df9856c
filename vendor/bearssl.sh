# Recipe: BearSSL as a static archive (lab's TLS and primitives).
set -eu
make -j"$JOBS" lib CC="$CC" CFLAGS="$CFLAGS -W -Wall" AR=ar DLL=no TOOLS=no TESTS=no
cp build/libbearssl.a "$SYSROOT/lib/"
cp inc/*.h "$SYSROOT/include/"
