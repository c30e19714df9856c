/*
 * ChaCha20 (RFC 8439) eight blocks at a time with AVX2, in the form of
 * BearSSL's br_chacha20_run so that its Poly1305 AEAD drives it. BearSSL's
 * fastest ChaCha20 (SSE2) does one block at a time; WireGuard's data path
 * spends most of its CPU there.
 */
#ifndef LAB_CHACHA_AVX2_H
#define LAB_CHACHA_AVX2_H

#include <stddef.h>
#include <stdint.h>

/* Whether this CPU and kernel run AVX2 code (cpuid and xgetbv). */
int chacha20_avx2_usable(void);
/* XOR len bytes of data with the key stream from block counter cc; the
 * next counter is returned (partial blocks count). Short runs go to
 * BearSSL's SSE2 code. Only when chacha20_avx2_usable(). */
uint32_t chacha20_avx2_run(const void *key, const void *iv, uint32_t cc, void *data, size_t len);

#endif
