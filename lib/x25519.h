/*
 * X25519 (RFC 7748) on BearSSL's constant-time Curve25519 code: keys as
 * WireGuard and `wg` use them (32 bytes, little-endian, base64 in text).
 */
#ifndef LAB_X25519_H
#define LAB_X25519_H

#include <stdint.h>

#define X25519_LEN 32

/* out = scalar * point; -1 when the result is all zero (a low-order point). */
int x25519(uint8_t out[X25519_LEN], const uint8_t scalar[X25519_LEN],
	   const uint8_t point[X25519_LEN]);
/* out = scalar * 9, the public key of a private one. */
int x25519_public(uint8_t out[X25519_LEN], const uint8_t scalar[X25519_LEN]);
/* A new private key: random, clamped as RFC 7748 decodes scalars. */
int x25519_generate(uint8_t out[X25519_LEN]);

#endif
