/* BLAKE2s, written from RFC 7693. */
#include "blake2s.h"

#include <string.h>

static const uint32_t iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const uint8_t sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t
rotr(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static uint32_t
load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* the mixing function G on v[a], v[b], v[c], v[d] with words x and y */
#define G(a, b, c, d, x, y)                          \
	do {                                         \
		v[a] = v[a] + v[b] + (x);            \
		v[d] = rotr(v[d] ^ v[a], 16);        \
		v[c] = v[c] + v[d];                  \
		v[b] = rotr(v[b] ^ v[c], 12);        \
		v[a] = v[a] + v[b] + (y);            \
		v[d] = rotr(v[d] ^ v[a], 8);         \
		v[c] = v[c] + v[d];                  \
		v[b] = rotr(v[b] ^ v[c], 7);         \
	} while (0)

static void
compress(struct blake2s *s, const uint8_t *block, int last)
{
	uint32_t v[16], m[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (r = 0; r < 10; r++) {
		const uint8_t *z = sigma[r];

		G(0, 4, 8, 12, m[z[0]], m[z[1]]);
		G(1, 5, 9, 13, m[z[2]], m[z[3]]);
		G(2, 6, 10, 14, m[z[4]], m[z[5]]);
		G(3, 7, 11, 15, m[z[6]], m[z[7]]);
		G(0, 5, 10, 15, m[z[8]], m[z[9]]);
		G(1, 6, 11, 12, m[z[10]], m[z[11]]);
		G(2, 7, 8, 13, m[z[12]], m[z[13]]);
		G(3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

static void
count(struct blake2s *s, size_t n)
{
	s->t[0] += (uint32_t)n;
	if (s->t[0] < (uint32_t)n)
		s->t[1]++;
}

int
blake2s_init(struct blake2s *s, size_t outlen, const void *key, size_t keylen)
{
	if (!outlen || outlen > BLAKE2S_OUT || keylen > 32)
		return -1;
	memset(s, 0, sizeof(*s));
	memcpy(s->h, iv, sizeof(iv));
	/* the parameter block: digest length, key length, fanout 1, depth 1 */
	s->h[0] ^= 0x01010000u ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		memcpy(s->buf, key, keylen);	/* the key is the first block, padded */
		s->n = BLAKE2S_BLOCK;
	}
	return 0;
}

void
blake2s_update(struct blake2s *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t k;

		/* the last block is kept back until final() flags it */
		if (s->n == BLAKE2S_BLOCK) {
			count(s, BLAKE2S_BLOCK);
			compress(s, s->buf, 0);
			s->n = 0;
		}
		k = BLAKE2S_BLOCK - s->n;
		if (k > n)
			k = n;
		memcpy(s->buf + s->n, b, k);
		s->n += k;
		b += k;
		n -= k;
	}
}

void
blake2s_final(struct blake2s *s, uint8_t *out)
{
	uint8_t full[BLAKE2S_OUT];
	int i;

	count(s, s->n);
	memset(s->buf + s->n, 0, BLAKE2S_BLOCK - s->n);
	compress(s, s->buf, 1);
	for (i = 0; i < 8; i++) {
		full[4 * i] = (uint8_t)s->h[i];
		full[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
		full[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
		full[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
	}
	memcpy(out, full, s->outlen);
	memset(s, 0, sizeof(*s));
}

int
blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *p, size_t n)
{
	struct blake2s s;

	if (blake2s_init(&s, outlen, key, keylen) < 0)
		return -1;
	blake2s_update(&s, p, n);
	blake2s_final(&s, out);
	return 0;
}

void
hmac_blake2s(uint8_t out[BLAKE2S_OUT], const void *key, size_t keylen, const void *p, size_t n)
{
	uint8_t k[BLAKE2S_BLOCK], pad[BLAKE2S_BLOCK], inner[BLAKE2S_OUT];
	struct blake2s s;
	int i;

	memset(k, 0, sizeof(k));
	if (keylen > BLAKE2S_BLOCK)
		blake2s(k, BLAKE2S_OUT, NULL, 0, key, keylen);
	else
		memcpy(k, key, keylen);
	for (i = 0; i < BLAKE2S_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	blake2s_init(&s, BLAKE2S_OUT, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, p, n);
	blake2s_final(&s, inner);
	for (i = 0; i < BLAKE2S_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	blake2s_init(&s, BLAKE2S_OUT, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out);
	memset(k, 0, sizeof(k));
	memset(pad, 0, sizeof(pad));
}
