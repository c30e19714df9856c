# Recipe: zlib as a static archive. Run by build.sh inside the unpacked
# source with CC, CFLAGS, SYSROOT and JOBS set.
set -eu
CC="$CC" CFLAGS="$CFLAGS" ./configure --static --prefix="$SYSROOT" >configure.out
make -j"$JOBS" libz.a
cp libz.a "$SYSROOT/lib/"
cp zlib.h zconf.h "$SYSROOT/include/"
