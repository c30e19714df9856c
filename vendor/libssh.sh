# Recipe: libssh 0.10 as a static archive, mbedTLS backend, zlib, server
# support on, GSSAPI off.
set -eu
rm -rf _build
mkdir _build
cd _build
cmake .. -DCMAKE_BUILD_TYPE=MinSizeRel \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
	-DCMAKE_C_FLAGS_MINSIZEREL="-Os" \
	-DCMAKE_INSTALL_PREFIX="$SYSROOT" -DCMAKE_PREFIX_PATH="$SYSROOT" \
	-DCMAKE_FIND_ROOT_PATH="$SYSROOT" \
	-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIB=ON \
	-DWITH_MBEDTLS=ON -DWITH_GCRYPT=OFF -DWITH_ZLIB=ON \
	-DWITH_SERVER=ON -DWITH_GSSAPI=OFF -DWITH_GEX=ON \
	-DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF -DCLIENT_TESTING=OFF \
	-DSERVER_TESTING=OFF -DWITH_PCAP=OFF -DWITH_SFTP=ON -DWITH_NACL=OFF \
	-DWITH_SYMBOL_VERSIONING=OFF -DWITH_ABI_BREAK=OFF \
	-DMBEDTLS_ROOT_DIR="$SYSROOT" -DZLIB_ROOT="$SYSROOT" \
	-DZLIB_LIBRARY="$SYSROOT/lib/libz.a" -DZLIB_INCLUDE_DIR="$SYSROOT/include" \
	-DMBEDTLS_INCLUDE_DIR="$SYSROOT/include" \
	-DMBEDTLS_SSL_LIBRARY="$SYSROOT/lib/libmbedtls.a" \
	-DMBEDTLS_CRYPTO_LIBRARY="$SYSROOT/lib/libmbedcrypto.a" \
	-DMBEDTLS_X509_LIBRARY="$SYSROOT/lib/libmbedx509.a" >cmake.log
make -j"$JOBS" ssh-static
cp src/libssh.a "$SYSROOT/lib/"
rm -rf "$SYSROOT/include/libssh"
mkdir -p "$SYSROOT/include/libssh"
cp ../include/libssh/libssh.h ../include/libssh/server.h ../include/libssh/sftp.h \
	../include/libssh/callbacks.h ../include/libssh/legacy.h \
	include/libssh/libssh_version.h "$SYSROOT/include/libssh/"
