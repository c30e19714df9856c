/* X25519 through BearSSL. */
#include "x25519.h"

#include <bearssl_ec.h>
#include <string.h>

#include "hash.h"

int
x25519(uint8_t out[X25519_LEN], const uint8_t scalar[X25519_LEN], const uint8_t point[X25519_LEN])
{
	static const uint8_t zero[X25519_LEN];
	uint8_t g[X25519_LEN];

	memcpy(g, point, X25519_LEN);
	/* BearSSL clamps the scalar and ignores the point's top bit, as
	 * RFC 7748 section 5 says */
	if (!br_ec_c25519_m31.mul(g, X25519_LEN, scalar, X25519_LEN, BR_EC_curve25519))
		return -1;
	memcpy(out, g, X25519_LEN);
	return memcmp(g, zero, X25519_LEN) ? 0 : -1;
}

int
x25519_public(uint8_t out[X25519_LEN], const uint8_t scalar[X25519_LEN])
{
	static const uint8_t nine[X25519_LEN] = { 9 };

	return x25519(out, scalar, nine);
}

int
x25519_generate(uint8_t out[X25519_LEN])
{
	if (rand_bytes(out, X25519_LEN) < 0)
		return -1;
	out[0] &= 248;
	out[31] = (uint8_t)((out[31] & 127) | 64);
	return 0;
}
