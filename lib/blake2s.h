/*
 * BLAKE2s (RFC 7693): 32-bit words, 64-byte blocks, digests of 1 to 32
 * bytes, optionally keyed with up to 32 bytes. WireGuard's hash, MAC and
 * (through HMAC) key derivation.
 */
#ifndef LAB_BLAKE2S_H
#define LAB_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK 64
#define BLAKE2S_OUT 32

struct blake2s {
	uint32_t h[8], t[2];
	uint8_t buf[BLAKE2S_BLOCK];
	size_t n;		/* bytes in buf */
	size_t outlen;
};

/* outlen 1..32, keylen 0..32: -1 otherwise. */
int blake2s_init(struct blake2s *s, size_t outlen, const void *key, size_t keylen);
void blake2s_update(struct blake2s *s, const void *p, size_t n);
void blake2s_final(struct blake2s *s, uint8_t *out);
int blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *p, size_t n);

/* HMAC (RFC 2104) over BLAKE2s-256, as WireGuard's KDF uses it. */
void hmac_blake2s(uint8_t out[BLAKE2S_OUT], const void *key, size_t keylen, const void *p,
		  size_t n);

#endif
